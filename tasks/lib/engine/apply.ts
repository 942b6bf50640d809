// Applies one change's actions over a transport; the first failing action fails the step.
import { mask } from '../secrets.ts';
import type { Action, HostContext } from './types.ts';

export type ApplyOutcome = { ok: true } | { ok: false; msg: string };

function lastLines(text: string, n = 6): string {
  return text.trim().split('\n').slice(-n).join('\n');
}

export async function applyAction(action: Action, ctx: HostContext): Promise<ApplyOutcome> {
  switch (action.kind) {
    case 'run': {
      const r = await ctx.transport.exec(action.command, { sudo: action.sudo, stdin: action.stdin, timeoutMs: action.timeoutMs });
      if (r.code === 0) return { ok: true };
      const detail = lastLines(r.stderr) || lastLines(r.stdout);
      return { ok: false, msg: mask(`command failed (exit ${r.code}): ${action.command.split('\n')[0]}${detail ? `\n${detail}` : ''}`) };
    }
    case 'put':
      try {
        await ctx.transport.put(action.path, action.content, { mode: action.mode, sudo: action.sudo, owner: action.owner });
        return { ok: true };
      } catch (err) {
        if (err instanceof Error && err.name === 'UnreachableError') throw err;
        return { ok: false, msg: mask(err instanceof Error ? err.message : String(err)) };
      }
    case 'call': {
      const r = await action.fn(ctx);
      return r.ok ? { ok: true } : { ok: false, msg: mask(`${action.label}: ${r.msg}`) };
    }
  }
}
