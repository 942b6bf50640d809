// The optional services' images (Mosquitto, Prometheus, visualizer) built from Debian and pushed, before the
// stack that runs them is deployed; only the ones the registry lacks.
import type { Step } from '../../engine/types.ts';
import type { Inventory } from '../../inventory/types.ts';
import { buildServiceImages, registryHas } from '../../stack/build-service-images.ts';
import { isBuiltService, serviceImage } from '../../stack/service-images.ts';
import type { ServiceName } from '../../stack/types.ts';

export function enabledServices(inv: Inventory): ServiceName[] {
  return (Object.entries(inv.cluster.services) as Array<[ServiceName, boolean]>).filter(([, on]) => on).map(([name]) => name);
}

export function serviceImagesStep(inv: Inventory): Step<{ missing: ServiceName[] }> {
  return {
    name: 'optional services\' images',
    async gather() {
      const built = enabledServices(inv).filter(isBuiltService);
      const present = await Promise.all(
        built.map(async (s) => {
          const img = serviceImage(inv, s);
          return img.kind === 'built' && (await registryHas(img.pushRef, inv.cluster.registry.insecure));
        }),
      );
      return { missing: built.filter((_, i) => !present[i]) };
    },
    plan({ missing }) {
      if (missing.length === 0) return { kind: 'ok' };
      return {
        kind: 'change',
        changes: [
          {
            summary: `build and push ${missing.join(', ')}`,
            actions: [
              {
                kind: 'call',
                label: 'build service images',
                fn: async () => {
                  const results = await buildServiceImages(inv, missing);
                  const failed = results.filter((r) => r.status === 'failed');
                  return failed.length ? { ok: false, msg: failed.map((r) => `${r.service}: ${r.msg ?? 'failed'}`).join('; ') } : { ok: true };
                },
              },
            ],
          },
        ],
      };
    },
  };
}
