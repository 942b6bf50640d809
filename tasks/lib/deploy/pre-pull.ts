// Pulls the Flink image onto every node that may run Flink before the stack changes: with stop-first updates the
// swarm would otherwise pull only after the old containers stopped, and on a Pi that pull is job downtime. A
// pull that fails is also the cheapest proof that the deploy is doomed: stack-deploy then stops before
// `docker stack deploy`, naming the nodes and the registry's answer (pullStopMessage).
import type { Step } from '../engine/types.ts';
import type { HostSpec, Inventory } from '../inventory/types.ts';
import { shq } from '../transport/types.ts';

/**
 * Nodes the stack's placement lets the Flink image run on: every one the jobmanager may run on, every one
 * taskmanagers are not kept off, and the ZooKeeper servers' (the same image).
 */
export function flinkHosts(inv: Inventory): HostSpec[] {
  const f = inv.cluster.flink;
  const zookeeper = f.highAvailability.kind === 'zookeeper' ? f.highAvailability.zookeeperHosts : [];
  return inv.hosts.filter((h) => f.jobmanagerHosts.includes(h.name) || zookeeper.includes(h.name) || !f.taskmanagerExclude.includes(h.name));
}

const PULL_TIMEOUT_MS = 15 * 60_000;

/** What the pull play learnt, for the phase's verdict: each node's engine platform and each failed pull's answer. */
export interface PullLedger {
  platforms: Map<string, string | undefined>;
  failed: Map<string, string>;
}

export function pullLedger(): PullLedger {
  return { platforms: new Map(), failed: new Map() };
}

/** `docker info`'s OSType/Architecture (uname -m of the engine) as the OCI platform a plain pull asks for. */
export function enginePlatform(info: string): string | undefined {
  const [os, arch] = info.trim().split('/');
  if (!os || !arch) return undefined;
  const oci: Record<string, string> = { x86_64: 'amd64', amd64: 'amd64', aarch64: 'arm64', arm64: 'arm64', armv7l: 'arm/v7', armv6l: 'arm/v6', i686: '386', ppc64le: 'ppc64le', s390x: 's390x' };
  const a = oci[arch];
  return a ? `${os}/${a}` : undefined;
}

/** The registry's answer in a failed `docker pull`'s output: its last line, without the daemon's prefix. */
export function registryAnswer(stderr: string, stdout = ''): string {
  const lines = `${stderr}\n${stdout}`.split('\n').map((l) => l.trim()).filter(Boolean);
  const line = lines.find((l) => l.startsWith('Error response from daemon:')) ?? lines[lines.length - 1] ?? 'no output';
  return line.replace(/^Error response from daemon:\s*/, '');
}

/** The platform a pull asked for when the manifest list has no entry for it. */
export function missingPlatform(answer: string): string | undefined {
  return /no matching manifest for (\S+) in the manifest list entries/.exec(answer)?.[1];
}

export function imagePulledStep(inv: Inventory, imageRef: string, ledger: PullLedger = pullLedger()): Step<{ present: boolean; platform: string | undefined }> {
  const registry = inv.cluster.registry;
  return {
    name: 'image on the node',
    async gather({ transport, host }) {
      const r = await transport.exec(`docker image inspect --format '{{.Id}}' ${shq(imageRef)} >/dev/null 2>&1 && echo present; echo ---; docker info --format '{{.OSType}}/{{.Architecture}}' 2>/dev/null; true`, {
        sudo: true,
      });
      const [present = '', info = ''] = r.stdout.split('---');
      const platform = enginePlatform(info);
      ledger.platforms.set(host.name, platform);
      return { present: present.trim() === 'present', platform };
    },
    plan({ present }) {
      if (present) return { kind: 'ok', msg: imageRef };
      // Credentials live on the leader only (docker login there, --with-registry-auth for the swarm): a
      // worker could not pull a private image by itself, and spreading the token to every node is worse.
      if (registry.usernameEnv && registry.passwordEnv) return { kind: 'skip', msg: 'private registry: the swarm pulls with the leader\'s login' };
      const command = `docker pull -q ${shq(imageRef)}`;
      return {
        kind: 'change',
        changes: [
          {
            summary: `docker pull ${imageRef}`,
            actions: [
              {
                kind: 'call',
                label: `docker pull ${imageRef}`,
                fn: async (ctx) => {
                  const r = await ctx.transport.exec(command, { sudo: true, timeoutMs: PULL_TIMEOUT_MS });
                  if (r.code === 0) return { ok: true };
                  const answer = registryAnswer(r.stderr, r.stdout);
                  ledger.failed.set(ctx.host.name, answer);
                  return { ok: false, msg: answer };
                },
              },
            ],
          },
        ],
      };
    },
  };
}

function nodes(hosts: string[]): string {
  return `${hosts.length === 1 ? 'node' : 'nodes'} ${hosts.join(', ')}`;
}

/**
 * Why stack-deploy stops before `docker stack deploy` (pure), or undefined when every pull that ran worked.
 * `listed`: the platforms the image's manifest list has, when the leader could read it.
 */
export function pullStopMessage(imageRef: string, ledger: PullLedger, listed?: string[]): string | undefined {
  if (ledger.failed.size === 0) return undefined;
  const byAnswer = new Map<string, string[]>();
  for (const [host, answer] of ledger.failed) byAnswer.set(answer, [...(byAnswer.get(answer) ?? []), host]);
  const causes = [...byAnswer].map(([answer, hosts]) => {
    const platform = missingPlatform(answer);
    if (!platform) return `${nodes(hosts)}: the registry answered "${answer}"`;
    const has = listed?.length ? `; it has ${listed.join(', ')}` : '';
    return `${nodes(hosts)}: the image lacks their platform ${platform} ("${answer}")${has}`;
  });
  return `${imageRef} could not be pulled on ${causes.join('; ')}. docker stack deploy was not run: the running stack is untouched`;
}
