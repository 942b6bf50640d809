// Once the job runs: what earlier versions left behind goes. Older uploads of the jar would otherwise pile up in
// the jobmanager's upload directory, one per deploy; the savepoints remembered on this machine for the job
// (deploy/savepoints.ts) have served, and would otherwise be offered again to a later run.
import type { Change, Step } from '../../engine/types.ts';
import { forgetStopped, recallStopped, type StoppedJob } from '../../deploy/savepoints.ts';
import { jarIdentity, parseJobName } from '../../flink/jobs.ts';
import type { FlinkRest, UploadedJar } from '../../flink/rest.ts';
import { otherVersions } from '../../flink/submit-rest.ts';
import { change, fail, ok } from '../common.ts';

export type LeftoverFacts = { ok: true; name: string; oldJars: UploadedJar[]; served: StoppedJob[] } | { ok: false; msg: string };

const baseName = (jobName: string): string => parseJobName(jobName).name;

export interface LeftoverOptions {
  /** The REST client (REST mode): older uploads are removed; `flink run` mode uploads nothing to Flink. */
  rest?: FlinkRest;
  /** The cluster the remembered savepoints are filed under (deploy/savepoints.ts). */
  cluster: string;
  jarPath: string;
  jarName: string;
}

export function leftoversStep(o: LeftoverOptions): Step<LeftoverFacts> {
  return {
    name: `leftovers of earlier ${o.jarName} versions`,
    async gather() {
      let jar;
      try {
        jar = await jarIdentity(o.jarPath);
      } catch (err) {
        return { ok: false, msg: `cannot read ${o.jarPath}: ${err instanceof Error ? err.message : String(err)}` };
      }
      // Not worth failing the deploy over: an unreadable list leaves the old uploads for the next run.
      const jars = o.rest ? await o.rest.jars() : undefined;
      const oldJars = jars?.ok ? otherVersions(jars.value, jar) : [];
      return { ok: true, name: jar.name, oldJars, served: recallStopped(o.cluster).filter((s) => baseName(s.name) === jar.name) };
    },
    plan(f) {
      if (!f.ok) return fail(f.msg);
      if (f.oldJars.length === 0 && f.served.length === 0) return ok();
      const rest = o.rest;
      const changes: Change[] = [];
      if (rest) {
        for (const j of f.oldJars) {
          changes.push({
            summary: `remove ${j.name} from Flink`,
            actions: [{ kind: 'call', label: `remove ${j.name}`, fn: async () => {
              const r = await rest.deleteJar(j.id);
              return r.ok ? { ok: true } : { ok: false, msg: r.message };
            } }],
          });
        }
      }
      if (f.served.length > 0) {
        changes.push({
          summary: `forget the remembered savepoint${f.served.length > 1 ? 's' : ''} of ${f.name}: ${f.served.map((s) => s.savepoint).join(', ')}`,
          actions: [{ kind: 'call', label: `forget the savepoints of ${f.name}`, fn: async () => {
            forgetStopped(o.cluster, f.name, baseName);
            return { ok: true };
          } }],
        });
      }
      return change(...changes);
    },
  };
}
