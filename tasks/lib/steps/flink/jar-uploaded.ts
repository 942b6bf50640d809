// The jar is on Flink (REST mode): recognised by its content hash in the uploaded file's name, so the same
// bytes are uploaded once whatever the number of runs, and a new version is a new upload.
import type { Step } from '../../engine/types.ts';
import { jarIdentity, type JarIdentity } from '../../flink/jobs.ts';
import type { FlinkRest, UploadedJar } from '../../flink/rest.ts';
import { uploadedJar } from '../../flink/submit-rest.ts';
import { change, fail, ok } from '../common.ts';

export type JarFacts = { ok: true; jar: JarIdentity; uploaded: UploadedJar | undefined } | { ok: false; msg: string };

/** Read-only: the jar's identity (this machine) and the jars Flink has. */
export async function readJarFacts(rest: FlinkRest, jarPath: string): Promise<JarFacts> {
  let jar: JarIdentity;
  try {
    jar = await jarIdentity(jarPath);
  } catch (err) {
    return { ok: false, msg: `cannot read ${jarPath}: ${err instanceof Error ? err.message : String(err)}` };
  }
  const jars = await rest.jars();
  if (!jars.ok) return { ok: false, msg: `cannot list the jars on ${rest.baseUrl}: ${jars.message}` };
  return { ok: true, jar, uploaded: uploadedJar(jars.value, jar) };
}

export function jarUploadedStep(rest: FlinkRest, jarPath: string, jarName: string): Step<JarFacts> {
  return {
    name: `jar ${jarName} on Flink`,
    gather: () => readJarFacts(rest, jarPath),
    plan(f) {
      if (!f.ok) return fail(f.msg);
      if (f.uploaded) return ok(`${f.jar.uploadName} (${f.uploaded.id})`);
      const jar = f.jar;
      return change({
        summary: `upload ${jar.uploadName}`,
        actions: [
          {
            kind: 'call',
            label: `upload ${jar.uploadName}`,
            fn: async () => {
              const up = await rest.uploadJar(jar.path, jar.uploadName);
              return up.ok ? { ok: true, output: up.value } : { ok: false, msg: `upload of ${jar.path} failed: ${up.message}` };
            },
          },
        ],
      });
    },
  };
}
