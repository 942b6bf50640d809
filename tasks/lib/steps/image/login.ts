// The registry login of this machine before it pushes: names from the inventory, values from the environment,
// never in argv or output. Logs in only when docker has no login for the registry or the credentials differ
// from those used last (registry/login-mark.ts).
import type { Step } from '../../engine/types.ts';
import { login as dockerLogin, tail } from '../../image/docker.ts';
import { freshSalt, planLogin, type LoginPlan } from '../../registry/login-mark.ts';
import { localLoginFacts, writeLocalLoginMark } from '../../registry/local-login.ts';
import { registerSecret } from '../../secrets.ts';
import { change, fail, ok } from '../common.ts';
import { registryUpToDate, UP_TO_DATE } from './inputs.ts';
import type { ImageJob } from './job.ts';

export type LoginFacts =
  | { upToDate: true }
  | { upToDate: false; missing: string[]; due: LoginPlan };

function credentials(job: ImageJob): { user: string | undefined; pass: string | undefined } {
  const env = job.opts.env ?? process.env;
  const r = job.opts.registry;
  return { user: r.usernameEnv ? env[r.usernameEnv] : undefined, pass: r.passwordEnv ? env[r.passwordEnv] : undefined };
}

/** Only in a play whose inventory names credentials (usernameEnv or passwordEnv). */
export function imageRegistryLoginStep(job: ImageJob): Step<LoginFacts> {
  const r = job.opts.registry;
  return {
    name: 'registry login',
    async gather(ctx) {
      if (registryUpToDate(ctx)) return { upToDate: true };
      const env = job.opts.env ?? process.env;
      const { user, pass } = credentials(job);
      registerSecret(pass);
      const missing = [r.usernameEnv, r.passwordEnv].filter((n): n is string => !!n && !env[n]);
      const due = user && pass ? planLogin(await localLoginFacts(r.host, env, job.opts.loginMarkDir), { host: r.host, user, token: pass }, freshSalt()) : { login: false as const };
      return { upToDate: false, missing, due };
    },
    plan(facts) {
      if (facts.upToDate) return ok(UP_TO_DATE);
      if (facts.missing.length > 0) return fail(`registry ${r.host} needs credentials: set ${facts.missing.join(' and ')} in the environment`);
      const due = facts.due;
      if (!due.login) return ok(`${r.host}: logged in with these credentials`);
      return change({
        summary: `docker login ${r.host} as $${r.usernameEnv ?? ''} (${due.why})`,
        actions: [
          {
            kind: 'call',
            label: `docker login ${r.host}`,
            fn: async () => {
              const { user, pass } = credentials(job);
              if (!user || !pass) return { ok: false, msg: `registry ${r.host} needs credentials in the environment` };
              const l = await dockerLogin(r.host, user, pass);
              if (!l.ok) return { ok: false, msg: `failed: ${tail(l.stderr)}` };
              await writeLocalLoginMark(r.host, due.mark, job.opts.loginMarkDir);
              return { ok: true };
            },
          },
        ],
      });
    },
  };
}
