// Swarm services owned by these phases: the optional visualizer (the seed's), and removing stacks on reset.
import type { Step } from '../engine/types.ts';
import { probe, str } from '../facts/probe.ts';
import type { Inventory } from '../inventory/types.ts';
import { builtImageRefs } from '../stack/service-images.ts';
import { shq } from '../transport/types.ts';
import { change, fail, ok, sh, skip } from './common.ts';

export const VISUALIZER_SERVICE = 'viz';
export const VISUALIZER_PORT = 9999;
/** The stack helper builds and pushes the visualizer (from Debian) to the inventory's registry; the seed's
 * alexellis2/visualizer-arm is not multi-arch and cannot be fetched on the virtual fridge. */
export function visualizerImage(inv: Inventory): { pull: string; push: string; repo: string; tag: string } {
  const { pullRef, pushRef } = builtImageRefs(inv, 'visualizer');
  const path = pushRef.slice(inv.cluster.registry.host.length + 1);
  const colon = path.lastIndexOf(':');
  return { pull: pullRef, push: pushRef, repo: path.slice(0, colon), tag: path.slice(colon + 1) };
}

/** Registry v2: does the manifest exist? undefined when the registry cannot tell (auth, unreachable). */
export async function registryHas(host: string, insecure: boolean, repo: string, tag: string): Promise<boolean | undefined> {
  try {
    const res = await fetch(`${insecure ? 'http' : 'https'}://${host}/v2/${repo}/manifests/${tag}`, {
      method: 'HEAD',
      headers: {
        accept: [
          'application/vnd.docker.distribution.manifest.v2+json',
          'application/vnd.docker.distribution.manifest.list.v2+json',
          'application/vnd.oci.image.manifest.v1+json',
          'application/vnd.oci.image.index.v1+json',
        ].join(', '),
      },
      signal: AbortSignal.timeout(5000),
    });
    if (res.status === 200) return true;
    if (res.status === 404) return false;
    return undefined;
  } catch {
    return undefined;
  }
}

export interface VisualizerFacts {
  /** Image of the running service without digest, '' when there is no service. */
  serviceImage: string;
  swarmActive: boolean;
  inRegistry: boolean | undefined;
}

function withoutDigest(image: string): string {
  return image.replace(/@sha256:[0-9a-f]+$/, '');
}

export const visualizerStep: Step<VisualizerFacts> = {
  name: 'visualizer service',
  async gather(ctx) {
    const kv = await probe(
      ctx.transport,
      [
        `printf "%s\\n" "image=$(docker service inspect ${VISUALIZER_SERVICE} --format '{{.Spec.TaskTemplate.ContainerSpec.Image}}' 2>/dev/null)"`,
        `if [ "$(docker info --format '{{.Swarm.ControlAvailable}}' 2>/dev/null)" = true ]; then echo manager=1; else echo manager=0; fi`,
      ].join('\n'),
      { sudo: true },
    );
    const serviceImage = withoutDigest(str(kv, 'image'));
    const img = visualizerImage(ctx.inventory);
    const reg = ctx.inventory.cluster.registry;
    // Ask the registry only when the service must be created: the no-op run stays one round trip.
    const inRegistry = serviceImage === img.pull || !ctx.inventory.cluster.services.visualizer || reg.host === 'docker.io' ? undefined : await registryHas(reg.host, reg.insecure, img.repo, img.tag);
    return { serviceImage, swarmActive: str(kv, 'manager') === '1', inRegistry };
  },
  plan(f, ctx) {
    const inv = ctx.inventory;
    if (!inv.cluster.services.visualizer) return ok('visualizer not enabled (fridge_services.visualizer)');
    if (!f.swarmActive) return ctx.check ? skip('no swarm yet (check mode)') : fail('the leader is not a swarm manager');
    const img = visualizerImage(inv);
    if (f.serviceImage === img.pull) return ok(`${VISUALIZER_SERVICE} runs ${img.pull} on port ${VISUALIZER_PORT}`);
    if (f.inRegistry === false) return fail(`image ${img.repo}:${img.tag} is not in the registry ${inv.cluster.registry.host}: build and push it first (${img.push}, built by the stack's service images)`);
    if (f.serviceImage) {
      return change({ summary: `update ${VISUALIZER_SERVICE} to ${img.pull}`, actions: [sh(`docker service update --detach --image ${shq(img.pull)} ${VISUALIZER_SERVICE}`)] });
    }
    // Without IPVS (the virtual fridge) the routing mesh does not work: DNS round robin and a host-mode port.
    const publish = inv.cluster.dnsrr ? `--endpoint-mode dnsrr --publish mode=host,published=${VISUALIZER_PORT},target=8080` : `--publish ${VISUALIZER_PORT}:8080/tcp`;
    const cmd = [
      `docker service create --detach --name ${VISUALIZER_SERVICE}`,
      publish,
      '--constraint node.role==manager',
      '--mount type=bind,src=/var/run/docker.sock,dst=/var/run/docker.sock',
      shq(img.pull),
    ].join(' ');
    return change({ summary: `create ${VISUALIZER_SERVICE} (${img.pull}) on a manager, port ${VISUALIZER_PORT}`, actions: [sh(cmd, { timeoutMs: 120_000 })] });
  },
};

export interface StacksFacts {
  manager: boolean;
  stacks: string[];
  services: string[];
}

/** Reset's first step, on the leader: every stack and Fridge's own services go. */
export const removeStacksStep: Step<StacksFacts> = {
  name: 'remove stacks',
  async gather(ctx) {
    const kv = await probe(
      ctx.transport,
      [
        `if [ "$(docker info --format '{{.Swarm.ControlAvailable}}' 2>/dev/null)" = true ]; then echo manager=1; else echo manager=0; fi`,
        `printf "%s\\n" "stacks=$(docker stack ls --format '{{.Name}}' 2>/dev/null | tr '\\n' ' ')"`,
        `printf "%s\\n" "services=$(docker service ls --format '{{.Name}}' 2>/dev/null | tr '\\n' ' ')"`,
      ].join('\n'),
      { sudo: true },
    );
    const list = (k: string) => str(kv, k).split(/\s+/).filter((x) => x !== '');
    return { manager: str(kv, 'manager') === '1', stacks: list('stacks'), services: list('services') };
  },
  plan(f) {
    if (!f.manager) return ok('not a swarm manager: no stacks');
    const ours = f.services.filter((s) => s === VISUALIZER_SERVICE);
    if (f.stacks.length === 0 && ours.length === 0) return ok('no stacks');
    const actions = [
      ...(f.stacks.length > 0 ? [sh(`docker stack rm ${f.stacks.map(shq).join(' ')}`, { timeoutMs: 120_000 })] : []),
      ...(ours.length > 0 ? [sh(`docker service rm ${ours.join(' ')}`)] : []),
    ];
    return change({ summary: `remove ${[...f.stacks.map((s) => `stack ${s}`), ...ours.map((s) => `service ${s}`)].join(', ')}`, actions });
  },
};
