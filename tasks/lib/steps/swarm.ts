// Docker Swarm: init on the leader, join with tokens read from it, node roles and labels from the
// inventory, health as the seed checks it (docker node ls: all Ready/Active); leaving for reset.
import type { Change, HostContext, Plan, Step, WaitStep } from '../engine/types.ts';
import { gatherSwarm, parseNodesKv, parseSwarmFacts, NODES_SCRIPT, SWARM_SCRIPT, type SwarmFacts, type SwarmNode } from '../facts/swarm.ts';
import { probe } from '../facts/probe.ts';
import type { HostSpec } from '../inventory/types.ts';
import { shq } from '../transport/types.ts';
import { change, fail, ok, sh, skip, unmet, unmetThen } from './common.ts';

/** What the leader hands to joining nodes (tokens are registered secrets: never in a summary). */
export interface JoinInfo {
  clusterId: string;
  /** host:2377 of the leader. */
  managerAddr: string;
  workerToken: string;
  managerToken: string;
  nodeIds: string[];
  /** The leader's node list when the tokens were read. */
  nodes: SwarmNode[];
}

export function advertiseAddr(h: HostSpec): string {
  return h.staticIp ?? h.address;
}

function short(id: string): string {
  return id.slice(0, 12);
}

function dockerDown(): Plan {
  return unmet('docker is not running: run pi-setup first', 'docker is not running yet (check mode: pi-setup would start it)');
}

export const swarmInitStep: Step<SwarmFacts> = {
  name: 'swarm init',
  gather: (ctx) => gatherSwarm(ctx.transport),
  plan(f, ctx) {
    const addr = advertiseAddr(ctx.host);
    switch (f.state) {
      case 'absent':
        return dockerDown();
      case 'inactive':
        return change({ summary: `initialise the swarm on ${ctx.host.name} (advertise ${addr})`, actions: [sh(`docker swarm init --advertise-addr ${shq(addr)}`, { timeoutMs: 120_000 })] });
      case 'active':
        if (!f.control) return fail(`${ctx.host.name} is a worker in another swarm (managers ${f.remoteManagers.join(', ') || 'unknown'}): reset it or run docker swarm leave on it`);
        return ok(`manager of swarm ${short(f.clusterId)}${f.nodeAddr && f.nodeAddr !== addr ? ` (advertises ${f.nodeAddr}, the inventory says ${addr})` : ''}`);
      case 'pending':
      case 'error':
      case 'locked':
        return fail(`swarm state on ${ctx.host.name} is ${f.state}${f.error ? `: ${f.error}` : ''}`);
    }
  },
};

/** Read-only: what the leader knows (cluster id, tokens, node ids). Returns undefined before init. */
export async function readJoinInfo(ctx: { transport: HostContext['transport']; host: HostSpec }, register: (s: string) => void): Promise<JoinInfo | undefined> {
  const kv = await probe(
    ctx.transport,
    [SWARM_SCRIPT, `printf "%s\\n" "wt=$(docker swarm join-token -q worker 2>/dev/null)"`, `printf "%s\\n" "mt=$(docker swarm join-token -q manager 2>/dev/null)"`, NODES_SCRIPT].join('\n'),
    { sudo: true },
  );
  const wt = kv.get('wt') ?? '';
  const mt = kv.get('mt') ?? '';
  // Registered before the values go anywhere else.
  register(wt);
  register(mt);
  const f = parseSwarmFacts(kv);
  if (f.state !== 'active' || !f.control || !wt || !mt) return undefined;
  const nodes = parseNodesKv(kv);
  return { clusterId: f.clusterId, managerAddr: `${advertiseAddr(ctx.host)}:2377`, workerToken: wt, managerToken: mt, nodeIds: nodes.map((n) => n.id), nodes };
}

/** `join`: what the leader handed out (readJoinInfo); undefined when it could not be read. */
export const swarmJoinStep = (join: JoinInfo | undefined): Step<SwarmFacts> => ({
  name: 'swarm join',
  gather: (ctx) => gatherSwarm(ctx.transport),
  plan(f, ctx) {
    const role = ctx.host.role;
    switch (f.state) {
      case 'absent':
        return dockerDown();
      case 'active': {
        const ours = join !== undefined && (join.nodeIds.includes(f.nodeId) || (f.clusterId !== '' && f.clusterId === join.clusterId));
        if (ours) return ok(`in the swarm as ${f.control ? 'manager' : 'worker'}`);
        const where = f.clusterId ? `cluster ${short(f.clusterId)}` : `managers ${f.remoteManagers.join(', ') || 'unknown'}`;
        return fail(`${ctx.host.name} is already in another swarm (${where}): reset it (tasks/reset.mjs --limit ${ctx.host.name}) or run docker swarm leave --force on it`);
      }
      case 'inactive': {
        const summary = `join the swarm as ${role}`;
        if (!join) return unmetThen('no join token: the leader has no swarm (did swarm init fail?)', { summary, actions: [] });
        const token = role === 'manager' ? join.managerToken : join.workerToken;
        // The token travels on stdin, never in the command line that logs and errors show; lines before it
        // (sudo -S's password when sudo did not ask for it) are skipped.
        const cmd = `while read -r token; do case "$token" in SWMTKN-*) break ;; esac; done; docker swarm join --advertise-addr ${shq(advertiseAddr(ctx.host))} --token "$token" ${shq(join.managerAddr)}`;
        return change({ summary: `${summary} (${join.managerAddr})`, actions: [sh(cmd, { stdin: `${token}\n`, timeoutMs: 120_000 })] });
      }
      case 'pending':
      case 'error':
      case 'locked':
        return fail(`swarm state is ${f.state}${f.error ? `: ${f.error}` : ''}`);
    }
  },
});

/** Labels that differ or are missing, as `--label-add k=v` arguments. */
export function labelArgs(have: Record<string, string>, want: Record<string, string>): string[] {
  return Object.entries(want)
    .filter(([k, v]) => have[k] !== v)
    .map(([k, v]) => `--label-add ${shq(`${k}=${v}`)}`);
}

/** The node an inventory host is: the Ready one when a stale entry with the same hostname remains. */
export function nodeFor(nodes: SwarmNode[], h: HostSpec): SwarmNode | undefined {
  const mine = nodes.filter((n) => n.hostname === h.name);
  return mine.find((n) => n.state === 'ready') ?? mine[0];
}

export interface NodesPlanOptions {
  prune: boolean;
}

export interface NodesFacts {
  nodes: SwarmNode[];
  swarm: SwarmFacts;
}

/**
 * Raft adds one member per change: a second promotion while the first is still joining leaves that manager
 * failing with "can't initialize raft node" (seen on the virtual fridge). Each promotion waits until Raft reaches it.
 */
export function promoteCommand(id: string): string {
  const reached = `until [ "$(docker node inspect ${shq(id)} --format '{{if .ManagerStatus}}{{.ManagerStatus.Reachability}}{{end}}')" = reachable ]; do sleep 1; done`;
  return `${raftRetried(`docker node promote ${shq(id)}`)} && timeout 120 sh -c ${shq(reached)}`;
}

/**
 * A write to the swarm's Raft store, tried again a few times: right after a manager joined or left, Raft may answer
 * "context deadline exceeded" for a few seconds (seen on the virtual fridge) where a Pi's operator would just retry.
 */
export function raftRetried(command: string): string {
  return `(i=0; until ${command}; do i=$((i + 1)); [ "$i" -lt 4 ] || exit 1; sleep 3; done)`;
}

/** Node roles and labels from the inventory, applied from the leader; strangers reported, pruned on request. */
export function swarmNodesStep(opts: NodesPlanOptions): Step<NodesFacts> {
  return {
    name: 'swarm nodes',
    async gather(ctx) {
      const kv = await probe(ctx.transport, `${SWARM_SCRIPT}\n${NODES_SCRIPT}`, { sudo: true });
      return { nodes: parseNodesKv(kv), swarm: parseSwarmFacts(kv) };
    },
    plan(f, ctx) {
      if (f.swarm.state !== 'active' || !f.swarm.control) return unmet('the leader is not a swarm manager', 'no swarm yet (check mode)');
      const changes: Change[] = [];
      // Last: while Raft takes in a new manager (two of two must then agree) other writes may time out.
      const roles: Change[] = [];
      const notes: string[] = [];
      const names = new Set(ctx.inventory.hosts.map((h) => h.name));
      for (const h of ctx.inventory.hosts) {
        const node = nodeFor(f.nodes, h);
        if (!node) {
          notes.push(`${h.name} not in the swarm yet`);
          continue;
        }
        if (node.role !== h.role) {
          roles.push({ summary: `${h.role === 'manager' ? 'promote' : 'demote'} ${h.name} to ${h.role}`, actions: [sh(h.role === 'manager' ? promoteCommand(node.id) : raftRetried(`docker node demote ${shq(node.id)}`))] });
        }
        const args = labelArgs(node.labels, h.labels);
        if (args.length > 0) {
          const keys = Object.keys(h.labels).filter((k) => node.labels[k] !== h.labels[k]);
          changes.push({ summary: `label ${h.name}: ${keys.map((k) => `${k}=${h.labels[k]}`).join(', ')}`, actions: [sh(raftRetried(`docker node update ${args.join(' ')} ${shq(node.id)}`))] });
        }
        // A node that rejoined leaves its old entry behind, Down, under the same hostname.
        for (const stale of f.nodes.filter((n) => n.hostname === h.name && n.id !== node.id && n.state !== 'ready')) {
          changes.push({ summary: `remove stale node entry ${short(stale.id)} of ${h.name} (${stale.state})`, actions: [sh(`docker node rm --force ${shq(stale.id)}`)] });
        }
      }
      for (const n of f.nodes.filter((x) => !names.has(x.hostname))) {
        if (opts.prune) {
          const demote = n.role === 'manager' ? [sh(`docker node demote ${shq(n.id)}`)] : [];
          changes.push({ summary: `prune ${n.hostname} (${short(n.id)}): not in the inventory`, actions: [...demote, sh(`docker node rm --force ${shq(n.id)}`)] });
        } else {
          notes.push(`warning: node ${n.hostname} (${short(n.id)}, ${n.state}) is not in the inventory; --prune removes it`);
        }
      }
      changes.push(...roles);
      if (changes.length > 0) return change(...changes.map((c, i) => (i === 0 && notes.length > 0 ? { ...c, summary: `${c.summary} [${notes.join('; ')}]` } : c)));
      return ok([`${f.nodes.length} nodes, roles and labels as in the inventory`, ...notes].join('; '));
    },
  };
}

/** Strangers to the inventory, for the phase's warning. */
export function strangers(nodes: SwarmNode[], hosts: HostSpec[]): SwarmNode[] {
  const names = new Set(hosts.map((h) => h.name));
  return nodes.filter((n) => !names.has(n.hostname));
}

export interface HealthOptions {
  /** Hosts that must be Ready/Active (those still in the run). */
  expected: string[];
  /** How long to wait for nodes that just joined. */
  waitMs: number;
}

function unhealthy(nodes: SwarmNode[], expected: string[]): string[] {
  return expected.flatMap((name) => {
    const n = nodes.filter((x) => x.hostname === name).find((x) => x.state === 'ready') ?? nodes.find((x) => x.hostname === name);
    if (!n) return [`${name} missing`];
    if (n.state !== 'ready' || n.availability !== 'active') return [`${name} ${n.state}/${n.availability}`];
    // A manager just promoted is Ready before Raft has caught it up: a stack deploy then may time out in Raft.
    if (n.role === 'manager' && n.reachability !== undefined && n.reachability !== 'reachable') return [`${name} manager ${n.reachability}`];
    return [];
  });
}

/** What the nodes' health means (pure): after the wait, or check mode's single look. */
export function planHealth(f: NodesFacts, expected: string[]): Plan {
  if (f.swarm.state !== 'active') return unmet('the leader is not in a swarm', 'no swarm yet (check mode)');
  const bad = unhealthy(f.nodes, expected);
  if (bad.length > 0) return unmet(`not Ready/Active: ${bad.join(', ')}`, `not all nodes Ready/Active yet: ${bad.join(', ')}`);
  const ready = f.nodes.filter((n) => n.state === 'ready' && n.availability === 'active');
  return ok(`${ready.length} nodes Ready/Active: ${ready.map((n) => `${n.hostname}${n.leader ? ' (leader)' : n.role === 'manager' ? ' (manager)' : ''}`).sort().join(', ')}`);
}

/** docker node ls as the seed checks it; waits (read-only) while nodes that just joined settle. */
export function swarmHealthStep(opts: HealthOptions): WaitStep<NodesFacts> {
  return {
    kind: 'wait',
    name: 'swarm nodes ready',
    timeoutMs: opts.waitMs,
    intervalMs: 1000,
    async poll(ctx) {
      const kv = await probe(ctx.transport, `${SWARM_SCRIPT}\n${NODES_SCRIPT}`, { sudo: true });
      return { nodes: parseNodesKv(kv), swarm: parseSwarmFacts(kv) };
    },
    verdict(f) {
      // Not in a swarm: nothing to wait for, the conclusion says so.
      if (f.swarm.state !== 'active') return { kind: 'failed', why: 'not in a swarm' };
      const bad = unhealthy(f.nodes, opts.expected);
      return bad.length === 0 ? { kind: 'done' } : { kind: 'waiting', state: `not Ready/Active: ${bad.join(', ')}` };
    },
    conclude: (end) => planHealth(end.state, opts.expected),
  };
}

export const swarmLeaveStep: Step<SwarmFacts> = {
  name: 'swarm leave',
  gather: (ctx) => gatherSwarm(ctx.transport),
  plan(f) {
    if (f.state === 'absent') return ok('docker is not running: not in a swarm');
    if (f.state === 'inactive') return ok('not in a swarm');
    return change({ summary: `leave the swarm${f.control ? ' (manager, --force)' : ''}`, actions: [sh('docker swarm leave --force', { timeoutMs: 120_000 })] });
  },
};

/** On the leader before the others leave: managers become workers so raft never loses quorum mid-reset. */
export const demoteManagersStep: Step<NodesFacts> = {
  name: 'demote other managers',
  async gather(ctx) {
    const kv = await probe(ctx.transport, `${SWARM_SCRIPT}\n${NODES_SCRIPT}`, { sudo: true });
    return { nodes: parseNodesKv(kv), swarm: parseSwarmFacts(kv) };
  },
  plan(f) {
    if (f.swarm.state !== 'active' || !f.swarm.control) return ok('not a swarm manager: nothing to demote');
    const others = f.nodes.filter((n) => n.role === 'manager' && n.id !== f.swarm.nodeId);
    if (others.length === 0) return ok('no other managers');
    return change({ summary: `demote ${others.map((n) => n.hostname).join(', ')}`, actions: [sh(`docker node demote ${others.map((n) => shq(n.id)).join(' ')}`)] });
  },
};

