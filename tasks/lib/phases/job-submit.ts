// job-submit: runs a jar on the Fridge's Flink (by default our example job, built from jobs/sensor-window).
// Through the REST API (default) or, as the seed did, with `flink run` inside the jobmanager container
// (--mode cli). Idempotent: the same jar already running is left alone; a new version of a running job is
// upgraded through a savepoint; a job that fails to start is reported with Flink's root exception.

import { CONVERGE_LEFT, convergeStep } from '../deploy/converge.ts';
import { flinkUrl, flinkUrlNow } from '../deploy/endpoints.ts';
import { newestStopped, recallStopped, savepointDir, STOPPED_JOBS, type StoppedJob } from '../deploy/savepoints.ts';
import { parseDurationMs, type Phase } from '../engine/phase.ts';
import type { Run } from '../engine/runner.ts';
import type { HostOutcome } from '../engine/types.ts';
import { buildExampleJob, EXAMPLE_JOB_JAR } from '../flink/example-job.ts';
import type { SubmitRequest } from '../flink/jobs.ts';
import type { HostSpec, Inventory } from '../inventory/types.ts';
import { leader } from '../inventory/types.ts';
import { BROKER_URL, RESULTS_TOPIC } from '../stack/monitoring.ts';
import { jobLines, missingJob, NO_JOB } from '../steps/flink/job-lines.ts';
import { jarFileName, jobOutcome, readyStep, submitSteps, type SubmitTarget } from '../steps/flink/submit-steps.ts';

export { missingJob, NO_JOB };

export type SubmitMode = 'rest' | 'cli';

export interface JobSubmitOptions extends SubmitRequest {
  mode: SubmitMode;
  /** --rest-url; unset: where the inventory's jobmanager answers when the job is submitted. */
  restUrl?: string;
}

type Parsed = { ok: true; value: Omit<JobSubmitOptions, 'jar'> & { jar?: string } } | { ok: false; msg: string };

/** Splits "--rate 20 --sensors 4" like a shell would for plain words (no quoting: Flink's args rarely need it). */
export function splitArgs(values: string[]): string[] {
  return values.flatMap((v) => v.split(/\s+/)).filter((a) => a.length > 0);
}

/** Program arguments by which the user chose the example job's source: MQTT elsewhere, or generated readings. */
const SOURCE_ARGS = ['--mqtt-url', '--rate', '--sensors'];

/**
 * The example job's MQTT arguments when the stack has Mosquitto: it then reads the sensors from the stack's broker
 * and publishes its window results back there, unless the user's own arguments chose a source (`--mqtt-url`, or
 * `--rate`/`--sensors`, which only mean something to generated readings). Undefined: nothing to add.
 */
export function exampleJobMqttArgs(inv: Inventory, userArgs: readonly string[], jarGiven: boolean): string[] | undefined {
  if (jarGiven || !inv.cluster.services.mosquitto) return undefined;
  if (userArgs.some((a) => SOURCE_ARGS.some((o) => a === o || a.startsWith(`${o}=`)))) return undefined;
  return ['--mqtt-url', BROKER_URL, ...(userArgs.includes('--mqtt-results-topic') ? [] : ['--mqtt-results-topic', RESULTS_TOPIC])];
}

/** The program arguments the user gave (--args, repeatable), split into words. */
function userArgs(args: Run['args']): string[] {
  const v = args['args'];
  return splitArgs(Array.isArray(v) ? v : typeof v === 'string' ? [v] : []);
}

/** Phase options → a request (pure). */
export function parseJobSubmitArgs(args: Run['args'], inv: Inventory): Parsed {
  const str = (k: string): string | undefined => (typeof args[k] === 'string' ? (args[k] as string) : undefined);
  const mode = str('mode') ?? 'rest';
  if (mode !== 'rest' && mode !== 'cli') return { ok: false, msg: `--mode must be rest or cli, got '${mode}'` };
  const value: Omit<JobSubmitOptions, 'jar'> & { jar?: string } = {
    mode,
    ...(str('rest-url') ? { restUrl: str('rest-url') } : {}),
    args: userArgs(args),
    savepointDir: str('savepoint-dir') ?? savepointDir(inv),
  };
  const jar = str('jar');
  if (jar) value.jar = jar;
  const mqtt = exampleJobMqttArgs(inv, value.args, jar !== undefined);
  if (mqtt) {
    value.args = [...mqtt, ...value.args];
    // Switching a running example job from generated readings to MQTT resumes a savepoint whose DataGen source
    // (uid sensor-readings) no operator claims; the job's other uids are fixed (its README), so that position
    // is the only state left behind, and the counts carry over.
    value.allowNonRestoredState = true;
  }
  const cls = str('class');
  if (cls) value.entryClass = cls;
  const p = str('parallelism');
  if (p !== undefined) {
    const n = Number(p);
    if (!Number.isInteger(n) || n < 1) return { ok: false, msg: `--parallelism must be a positive integer, got '${p}'` };
    value.parallelism = n;
  }
  const sp = str('from-savepoint');
  if (sp) value.fromSavepoint = sp;
  if (args['allow-non-restored-state'] === true) value.allowNonRestoredState = true;
  const t = str('timeout');
  if (t !== undefined) {
    const ms = parseDurationMs(t, 's');
    if (ms === undefined || ms <= 0) return { ok: false, msg: `--timeout must be a duration such as 90s or 5m (a plain number means seconds), got '${t}'` };
    value.startTimeoutMs = ms;
  }
  return { ok: true, value };
}

/** A savepoint stack-deploy took of this job when it restarted Flink (the newest one): in this command, else remembered. */
export function savepointFromStackUpdate(inRun: StoppedJob[] | undefined, jarName: string, remembered: () => StoppedJob[] = () => []): string | undefined {
  return newestStopped(inRun ?? remembered(), jarName)?.savepoint;
}

function jobmanagerHost(inv: Inventory): HostSpec {
  return inv.hosts.find((h) => h.name === inv.cluster.flink.jobmanagerHost) ?? leader(inv);
}

export const phase: Phase = {
  name: 'job-submit',
  description: 'Upload and run a Flink job (default: the example sensor-window job), wait until it runs, print its id and web UI address.',
  options: {
    jar: { type: 'string', placeholder: 'PATH', description: 'job jar (default: jobs/sensor-window, built with Maven)', check: { kind: 'file', jar: true } },
    class: { type: 'string', placeholder: 'CLASS', description: "entry class (default: the jar's Main-Class)" },
    args: { type: 'string', multiple: true, placeholder: "'ARGS'", description: "program arguments, e.g. --args='--rate 20' (repeatable)" },
    parallelism: { type: 'string', placeholder: 'N', description: 'job parallelism (default: the cluster default)', check: { kind: 'int', min: 1, max: 32768 } },
    'from-savepoint': { type: 'string', placeholder: 'PATH', description: 'start from this savepoint' },
    'allow-non-restored-state': { type: 'boolean', description: 'with --from-savepoint: skip state no operator claims' },
    'savepoint-dir': { type: 'string', placeholder: 'DIR', description: 'where a running older version is savepointed when upgraded (default: <flink.stateDir>/savepoints)' },
    mode: {
      type: 'string',
      placeholder: 'rest|cli',
      description: 'rest: REST API (default); cli: flink run inside the jobmanager container, over SSH',
      check: { kind: 'choice', choices: ['rest', 'cli'] },
    },
    'rest-url': { type: 'string', placeholder: 'URL', description: 'Flink REST address (default: the dashboard address of the inventory)', check: { kind: 'url', protocols: ['http', 'https'] } },
    timeout: {
      type: 'string',
      placeholder: 'DURATION',
      description: 'how long the job may take to have all tasks running (default 120s)',
      check: { kind: 'duration', unit: 's', maxMs: 24 * 3_600_000 },
    },
  },
  async run(run) {
    await submitJob(run);
    await convergeLeft(run);
  },
};

/** What stack-deploy left for after the resume: every service and taskmanager of the stack up. */
async function convergeLeft(run: Run): Promise<void> {
  const inv = run.inventory;
  const leftMs = run.output(CONVERGE_LEFT, leader(inv));
  if (leftMs === undefined) return;
  run.record(CONVERGE_LEFT, leader(inv), undefined);
  await run.play({ name: `stack ${inv.cluster.stackName} converged`, hosts: [leader(inv)], steps: [convergeStep(inv, { slotsPerTaskmanager: inv.cluster.flink.slotsPerTaskmanager }, leftMs)] });
}

/** The first failure of a play on a host: a failed step's message, or why the host was unreachable. */
function failureOn(outcome: HostOutcome | undefined): string | undefined {
  return outcome?.results.find((x) => x.status === 'failed')?.msg ?? outcome?.unreachable;
}

async function submitJob(run: Run): Promise<void> {
  const inv = run.inventory;
  const jm = jobmanagerHost(inv);
  const parsed = parseJobSubmitArgs(run.args, inv);
  if (!parsed.ok) {
    run.fail(jm.name, 'job-submit options', parsed.msg);
    return;
  }
  if (exampleJobMqttArgs(inv, userArgs(run.args), parsed.value.jar !== undefined)) {
    run.message('info', `the example job reads the sensors from Mosquitto (${BROKER_URL}) and publishes its window results to ${RESULTS_TOPIC}; --args '--rate N' keeps generated readings`);
  }
  // REST calls go from this machine, but the steps belong to the jobmanager's host in the recap.
  // Under HA without a routing mesh the jobmanager answers on whichever of its hosts it runs on now.
  const restUrl = parsed.value.restUrl ?? (await flinkUrlNow(inv));
  const target: SubmitTarget = parsed.value.mode === 'cli' ? { mode: 'cli', stack: inv.cluster.stackName, sudo: true } : { mode: 'rest', restUrl };
  // Before the jar is built: on fresh nodes in check mode there is no Flink to decide with; say what would happen.
  const jarName = jarFileName(parsed.value.jar ?? EXAMPLE_JOB_JAR);
  const ready = readyStep(target, jarName);
  const [readied] = await run.play({ name: 'Flink ready for job-submit', hosts: [jm], steps: [ready] });
  const readiness = run.statusOf(ready, jm);
  if (readiness !== 'ok') {
    run.outputs[NO_JOB] = readiness === 'skipped' ? `check mode: Flink is not running yet, so ${jarName} is not submitted` : missingJob(false, jarName, undefined, failureOn(readied));
    return;
  }
  let jar = parsed.value.jar;
  if (!jar) {
    try {
      jar = await buildExampleJob();
    } catch (err) {
      run.fail(jm.name, 'build example job', err instanceof Error ? err.message : String(err));
      return;
    }
  }
  const req: SubmitRequest = { ...parsed.value, jar };
  if (!req.fromSavepoint) {
    const sp = savepointFromStackUpdate(run.output(STOPPED_JOBS, leader(inv)), jar.replace(/^.*\//, '').replace(/\.jar$/i, ''), () => recallStopped(flinkUrl(inv)));
    if (sp) {
      req.fromSavepoint = sp;
      run.message('info', `resuming from the savepoint taken when the stack was updated: ${sp}`);
    }
  }
  const built = submitSteps(target, req, restUrl, ready);
  const [outcome] = await run.play({ name: 'job-submit', hosts: [jm], steps: built.steps });
  const failure = failureOn(outcome);
  const shown = target.mode === 'rest' ? target.restUrl : undefined;
  Object.assign(run.outputs, jobLines(jobOutcome(run, built, jm.name, { jarName: jarFileName(jar), ...(shown ? { restUrl: shown } : {}), ...(failure ? { failure } : {}) })));
}
