// Swarm facts: this node's membership (docker info) and, on a manager, the node list with labels.
import type { Transport } from '../transport/types.ts';
import { fileValue, flag, probe, str, type Kv } from './probe.ts';

export type LocalNodeState = 'absent' | 'inactive' | 'pending' | 'active' | 'error' | 'locked';

export interface SwarmFacts {
  /** 'absent' when Docker is not installed or not running. */
  state: LocalNodeState;
  nodeId: string;
  nodeAddr: string;
  /** True on a manager. */
  control: boolean;
  /** Only managers know the cluster ID. */
  clusterId: string;
  /** Manager addresses this node talks to (host:port). */
  remoteManagers: string[];
  error: string;
}

export type NodeRole = 'manager' | 'worker';

export interface SwarmNode {
  id: string;
  hostname: string;
  role: NodeRole;
  availability: string;
  state: string;
  addr: string;
  labels: Record<string, string>;
  leader: boolean;
  /** A manager's Raft reachability (reachable, unreachable, unknown); absent for a worker. */
  reachability?: string;
}

interface SwarmInfoJson {
  NodeID?: string;
  NodeAddr?: string;
  LocalNodeState?: string;
  ControlAvailable?: boolean;
  Error?: string;
  RemoteManagers?: Array<{ NodeID?: string; Addr?: string }> | null;
  Cluster?: { ID?: string } | null;
}

const STATES: readonly LocalNodeState[] = ['inactive', 'pending', 'active', 'error', 'locked'];

export const SWARM_SCRIPT = [
  `if command -v docker >/dev/null 2>&1 && j=$(docker info --format '{{json .Swarm}}' 2>/dev/null) && [ -n "$j" ]; then echo running=1; printf "%s\\n" "swarm=$j"; else echo running=0; fi`,
].join('\n');

export function parseSwarmInfo(json: string | undefined): SwarmFacts {
  const absent: SwarmFacts = { state: 'absent', nodeId: '', nodeAddr: '', control: false, clusterId: '', remoteManagers: [], error: '' };
  if (!json) return absent;
  let info: SwarmInfoJson;
  try {
    info = JSON.parse(json) as SwarmInfoJson;
  } catch {
    return { ...absent, state: 'error', error: `unreadable docker info output: ${json.slice(0, 80)}` };
  }
  const state = STATES.find((s) => s === info.LocalNodeState) ?? 'error';
  return {
    state,
    nodeId: info.NodeID ?? '',
    nodeAddr: info.NodeAddr ?? '',
    control: info.ControlAvailable === true,
    clusterId: info.Cluster?.ID ?? '',
    remoteManagers: (info.RemoteManagers ?? []).map((m) => m.Addr ?? '').filter((a) => a !== ''),
    error: info.Error ?? '',
  };
}

export function parseSwarmFacts(kv: Kv): SwarmFacts {
  return flag(kv, 'running') ? parseSwarmInfo(str(kv, 'swarm')) : parseSwarmInfo(undefined);
}

export async function gatherSwarm(t: Transport): Promise<SwarmFacts> {
  return parseSwarmFacts(await probe(t, SWARM_SCRIPT, { sudo: true }));
}

interface NodeInspectJson {
  ID?: string;
  Spec?: { Labels?: Record<string, string> | null; Role?: string; Availability?: string };
  Description?: { Hostname?: string };
  Status?: { State?: string; Addr?: string };
  ManagerStatus?: { Leader?: boolean; Reachability?: string } | null;
}

/** Shell lines printing the node list (only answers on a manager). */
export const NODES_SCRIPT = `if ids=$(docker node ls -q 2>/dev/null) && [ -n "$ids" ]; then printf 'nodes=b64:%s\\n' "$(docker node inspect $ids | base64 -w0)"; else echo nodes=absent; fi`;

export function parseNodes(json: string | undefined): SwarmNode[] {
  if (!json) return [];
  const list = JSON.parse(json) as NodeInspectJson[];
  return list.map((n) => ({
    id: n.ID ?? '',
    hostname: n.Description?.Hostname ?? '',
    role: n.Spec?.Role === 'manager' ? 'manager' : 'worker',
    availability: n.Spec?.Availability ?? '',
    state: n.Status?.State ?? '',
    addr: n.Status?.Addr ?? '',
    labels: n.Spec?.Labels ?? {},
    leader: n.ManagerStatus?.Leader === true,
    ...(n.ManagerStatus?.Reachability ? { reachability: n.ManagerStatus.Reachability } : {}),
  }));
}

export function parseNodesKv(kv: Kv): SwarmNode[] {
  return parseNodes(fileValue(kv, 'nodes'));
}
