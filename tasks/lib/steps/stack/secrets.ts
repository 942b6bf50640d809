// Swarm secrets for the stack, from the environment: the value is masked everywhere and carried on stdin only.
import type { Step } from '../../engine/types.ts';
import { registerSecret } from '../../secrets.ts';
import type { GeneratedStack } from '../../stack/types.ts';
import { shq } from '../../transport/types.ts';

/** Swarm secrets the stack refers to as external, created from the environment variables the inventory names. */
export function stackSecretsStep(stack: GeneratedStack): Step<{ existing: string[] }> {
  return {
    name: 'stack secrets',
    async gather({ transport }) {
      if (stack.secrets.length === 0) return { existing: [] };
      const r = await transport.exec(`docker secret ls --format '{{.Name}}' 2>/dev/null`, { sudo: true });
      return { existing: r.code === 0 ? r.stdout.split('\n').filter(Boolean) : [] };
    },
    plan({ existing }) {
      const missing = stack.secrets.filter((s) => !existing.includes(s.name));
      if (missing.length === 0) return { kind: 'ok' };
      const unset = missing.filter((s) => !process.env[s.env]);
      if (unset.length) return { kind: 'fail', msg: `set ${unset.map((s) => s.env).join(', ')} in the environment: the stack needs swarm secret(s) ${unset.map((s) => s.name).join(', ')}` };
      return {
        kind: 'change',
        changes: missing.map((s) => {
          const value = process.env[s.env] ?? '';
          registerSecret(value);
          return { summary: `create swarm secret ${s.name} from $${s.env}`, actions: [{ kind: 'run' as const, command: `docker secret create ${shq(s.name)} -`, stdin: value, sudo: true }] };
        }),
      };
    },
  };
}
