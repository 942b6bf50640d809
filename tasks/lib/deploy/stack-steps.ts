// Steps that put the generated stack on the leader and deploy it only when what is deployed differs.
import { createHash } from 'node:crypto';
import path from 'node:path';
import type { Step } from '../engine/types.ts';
import type { Inventory } from '../inventory/types.ts';
import { freshSalt, markFileName, planLogin, type LoginFacts } from '../registry/login-mark.ts';
import { registerSecret } from '../secrets.ts';
import type { GeneratedStack } from '../stack/types.ts';
import { STACK_FILE } from '../stack/types.ts';
import { INVENTORY_REPLICAS_LABEL, keepScaledReplicas, parseLiveTaskmanagers, replicasOverride, type LiveTaskmanagers } from '../stack/replicas.ts';
import { shq } from '../transport/types.ts';
import { DEPLOYED_AT } from './converge.ts';
import { stackDir } from './endpoints.ts';

const DEPLOYED_MARK = '.deployed.sha256';

/** One digest over the stack file and the files its configs read: what "nothing changed" compares. */
export function stackDigest(stack: GeneratedStack): string {
  const h = createHash('sha256').update(stack.yaml);
  for (const name of Object.keys(stack.files).sort()) h.update(`\0${name}\0${stack.files[name] ?? ''}`);
  return h.digest('hex');
}

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

export interface DeployedFacts {
  deployedDigest: string | undefined;
  services: string[];
  taskmanagers: LiveTaskmanagers | undefined;
}

export function stackDeployStep(inv: Inventory, stack: GeneratedStack): Step<DeployedFacts> {
  const dir = stackDir(inv);
  const name = inv.cluster.stackName;
  const digest = stackDigest(stack);
  return {
    name: 'docker stack deploy',
    async gather({ transport }) {
      const tm = shq(`${name}_taskmanager`);
      const r = await transport.exec(
        `cat ${shq(`${dir}/${DEPLOYED_MARK}`)} 2>/dev/null; echo; echo ---; docker stack services ${shq(name)} --format '{{.Name}}' 2>/dev/null; echo ---; ` +
          `docker service inspect ${tm} --format '{{if .Spec.Mode.Replicated}}{{.Spec.Mode.Replicated.Replicas}}{{end}} {{index .Spec.Labels "${INVENTORY_REPLICAS_LABEL}"}}' 2>/dev/null`,
        { sudo: true },
      );
      const [mark = '', list = '', tms = ''] = r.stdout.split('---\n');
      return {
        deployedDigest: mark.trim() || undefined,
        services: list.split('\n').map((s) => s.trim()).filter(Boolean),
        taskmanagers: parseLiveTaskmanagers(tms),
      };
    },
    plan(facts) {
      const missing = stack.services.filter((s) => !facts.services.includes(`${name}_${s}`));
      const replicas = keepScaledReplicas(facts.taskmanagers, inv.cluster.flink.taskmanagerReplicas, stack.capacity.taskmanagers);
      if (facts.deployedDigest === digest && missing.length === 0) {
        const scaled = facts.taskmanagers && facts.taskmanagers.replicas !== inv.cluster.flink.taskmanagerReplicas ? ` (taskmanager scaled to ${facts.taskmanagers.replicas})` : '';
        return { kind: 'ok', msg: `stack ${name} is up to date${scaled}` };
      }
      const why = [facts.services.length === 0 ? 'not deployed' : missing.length ? `missing ${missing.join(', ')}` : 'stack file changed', replicas.why]
        .filter(Boolean)
        .join('; ');
      const files = replicas.keep ? `-c ${STACK_FILE} -c -` : `-c ${STACK_FILE}`;
      return {
        kind: 'change',
        changes: [
          {
            summary: `docker stack deploy ${name} (${why})`,
            actions: [
              {
                kind: 'run',
                command: `cd ${shq(dir)} && docker stack deploy --with-registry-auth --prune ${files} ${shq(name)}`,
                sudo: true,
                timeoutMs: 300_000,
                ...(replicas.keep ? { stdin: replicasOverride(replicas.replicas) } : {}),
              },
              { kind: 'put', path: `${dir}/${DEPLOYED_MARK}`, content: `${digest}\n`, sudo: true },
              {
                kind: 'call',
                label: 'note the deploy time',
                fn: async (ctx) => {
                  ctx.record(DEPLOYED_AT, Date.now());
                  return { ok: true };
                },
              },
            ],
          },
        ],
      };
    },
  };
}
