// The leader's login to a private registry: docker stack deploy --with-registry-auth hands it to the nodes.
import type { Step } from '../../engine/types.ts';
import type { Inventory } from '../../inventory/types.ts';
import { freshSalt, markFileName, planLogin, type LoginFacts } from '../../registry/login-mark.ts';
import { registerSecret } from '../../secrets.ts';
import { shq } from '../../transport/types.ts';

/**
 * Logs the leader in to the registry when the inventory names credentials, so --with-registry-auth has some,
 * and again whenever they differ from the ones used last (a rotated token): a salted digest of what was used
 * is kept beside docker's config.json on the leader, readable by root only.
 */
export function registryLoginStep(inv: Inventory, env: Record<string, string | undefined> = process.env, salt: string = freshSalt()): Step<LoginFacts> {
  const r = inv.cluster.registry;
  const markPath = `"$HOME/.docker/"${shq(markFileName(r.pullHost))}`;
  return {
    name: 'registry login',
    async gather({ transport }) {
      if (!r.usernameEnv || !r.passwordEnv) return { mark: undefined, configHasHost: false };
      const res = await transport.exec(
        `cat ${markPath} 2>/dev/null; echo; echo ---; grep -qF ${shq(`"${r.pullHost}"`)} "$HOME/.docker/config.json" 2>/dev/null && echo logged-in; true`,
        { sudo: true },
      );
      const [mark = '', config = ''] = res.stdout.split('---\n');
      return { mark: mark.trim() || undefined, configHasHost: config.trim() === 'logged-in' };
    },
    plan(facts) {
      if (!r.usernameEnv || !r.passwordEnv) return { kind: 'skip', msg: 'no registry credentials named in the inventory (public or insecure registry)' };
      const user = env[r.usernameEnv];
      const token = env[r.passwordEnv];
      if (!user || !token) {
        if (facts.configHasHost) return { kind: 'ok', msg: `logged in to ${r.pullHost}; ${r.usernameEnv}/${r.passwordEnv} unset here, so not compared with the credentials used then` };
        return { kind: 'fail', msg: `registry credentials: set ${r.usernameEnv} and ${r.passwordEnv}` };
      }
      registerSecret(token);
      const decision = planLogin(facts, { host: r.pullHost, user, token }, salt);
      if (!decision.login) return { kind: 'ok', msg: `logged in to ${r.pullHost} with the credentials in $${r.usernameEnv}/$${r.passwordEnv}` };
      const command =
        `docker login -u ${shq(user)} --password-stdin ${shq(r.pullHost)} && ` +
        `mkdir -p "$HOME/.docker" && (umask 077 && printf '%s' ${shq(decision.mark)} > ${markPath})`;
      return {
        kind: 'change',
        changes: [{ summary: `docker login ${r.pullHost} as $${r.usernameEnv} (${decision.why})`, actions: [{ kind: 'run', command, stdin: token, sudo: true }] }],
      };
    },
  };
}
