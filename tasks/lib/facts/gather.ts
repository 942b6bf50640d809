// Typed facts for steps, through the phase's fact cache (one round trip per host) when there is one.
import type { HostContext } from '../engine/types.ts';
import { factsOf } from './cache.ts';
import { parseDockerFacts, type DockerFacts } from './docker.ts';
import { parseNetworkFacts, type NetworkFacts } from './network.ts';
import { parseOsFacts, type OsFacts } from './os.ts';
import { parseSshFacts, type SshFacts } from './ssh.ts';

export const gatherOs = async (ctx: HostContext): Promise<OsFacts> => parseOsFacts(await factsOf(ctx, 'os'));
export const gatherSsh = async (ctx: HostContext): Promise<SshFacts> => parseSshFacts(await factsOf(ctx, 'ssh'));
export const gatherDocker = async (ctx: HostContext): Promise<DockerFacts> => parseDockerFacts(await factsOf(ctx, 'docker'));
export const gatherNetwork = async (ctx: HostContext): Promise<NetworkFacts> => parseNetworkFacts(await factsOf(ctx, 'network'));
