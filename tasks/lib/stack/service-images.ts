// Where each optional service's image comes from. Mosquitto, Prometheus, our visualizer and sensor simulator are built here
// from Debian's packages (docker/services/<name>/Dockerfile) and pushed to the inventory's registry;
// Grafana is not packaged by Debian, so only a real fridge (which can reach Docker Hub) gets it.

import type { Inventory } from '../inventory/types.ts';
import type { ServiceName } from './types.ts';

/**
 * The tag names the recipe: after changing docker/services/<name>/, bump the tag's revision (nodes and the
 * registry then see a new image) and record the recipe's new hash; a unit test fails until both are done.
 */
export const BUILT_SERVICES = {
  mosquitto: { tag: '2.0-bookworm-2', recipe: '758a2b848b342cc9' },
  prometheus: { tag: '2.42-bookworm-1', recipe: 'ba6f8bac43905485' },
  visualizer: { tag: '1-bookworm-1', recipe: 'b62c9d06fce83f3a' },
  sensors: { tag: '1-bookworm-1', recipe: 'a2eb283f90c0e004' },
} as const;

export type BuiltService = keyof typeof BUILT_SERVICES;

export type ServiceImage =
  | { kind: 'built'; name: BuiltService; pullRef: string; pushRef: string }
  | { kind: 'upstream'; ref: string }
  | { kind: 'unavailable'; reason: string };

export function isBuiltService(s: string): s is BuiltService {
  return Object.hasOwn(BUILT_SERVICES, s);
}

/** First path segment of fridge_image (digitaljazz/flink-fridge → digitaljazz), so service images sit beside Flink's. */
function namespace(inv: Inventory): string {
  const first = inv.cluster.registry.repository.split('/')[0];
  return first && inv.cluster.registry.repository.includes('/') ? `${first}/` : '';
}

export function builtImageRefs(inv: Inventory, name: BuiltService): { pullRef: string; pushRef: string } {
  const repo = `${namespace(inv)}${name}:${BUILT_SERVICES[name].tag}`;
  return { pullRef: `${inv.cluster.registry.pullHost}/${repo}`, pushRef: `${inv.cluster.registry.host}/${repo}` };
}

/** Multi-arch (arm/v7, arm64, amd64) and pinned: a re-deploy never pulls something new by surprise. */
export const GRAFANA_IMAGE = 'grafana/grafana-oss:10.4.2';

export function serviceImage(inv: Inventory, service: ServiceName): ServiceImage {
  if (isBuiltService(service)) return { kind: 'built', name: service, ...builtImageRefs(inv, service) };
  if (inv.cluster.virtual) {
    return {
      kind: 'unavailable',
      reason: 'Grafana is not packaged by Debian and cannot be fetched here (no Docker Hub); switch fridge_services.grafana off on the virtual fridge',
    };
  }
  return { kind: 'upstream', ref: GRAFANA_IMAGE };
}
