// The generated stack file and the files its configs read, put beside each other on the leader.
import path from 'node:path';
import { stackDir } from '../../deploy/endpoints.ts';
import type { Step } from '../../engine/types.ts';
import type { Inventory } from '../../inventory/types.ts';
import { STACK_FILE, type GeneratedStack } from '../../stack/types.ts';

export function stackFilesStep(inv: Inventory, stack: GeneratedStack): Step<Array<{ path: string; current: string | undefined; desired: string }>> {
  const dir = stackDir(inv);
  const wanted = { [STACK_FILE]: stack.yaml, ...stack.files };
  return {
    name: 'stack files',
    async gather({ transport }) {
      return Promise.all(
        Object.entries(wanted).map(async ([name, desired]) => {
          const p = path.posix.join(dir, name);
          return { path: p, desired, current: await transport.get(p, { sudo: true }) };
        }),
      );
    },
    plan(files) {
      const changes = files
        .filter((f) => f.current !== f.desired)
        .map((f) => ({
          summary: `${f.current === undefined ? 'create' : 'update'} ${f.path}`,
          actions: [{ kind: 'put' as const, path: f.path, content: f.desired, sudo: true, mode: 0o644 }],
          diff: { path: f.path, before: f.current ?? '', after: f.desired },
        }));
      return changes.length ? { kind: 'change', changes } : { kind: 'ok' };
    },
  };
}
