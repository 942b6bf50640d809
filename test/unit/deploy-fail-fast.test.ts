// #18 item 3, through the phases with scripted hosts (no SSH, no docker) and a fetch that plays Flink:
// a doomed pull stops stack-deploy before `docker stack deploy`; the recap prints the dashboard and job lines
// only when true; a check run on fresh nodes plans every phase without failing.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { convergeStep } from '../../tasks/lib/deploy/converge.ts';
import { parseManifest, planManifest } from '../../tasks/lib/deploy/manifest-check.ts';
import { enginePlatform, imagePulledStep, missingPlatform, pullLedger, pullStopMessage, registryAnswer } from '../../tasks/lib/deploy/pre-pull.ts';
import { Outputs } from '../../tasks/lib/engine/outputs.ts';
import { Run, type Session } from '../../tasks/lib/engine/runner.ts';
import type { ExecOptions, ExecResult, Transport } from '../../tasks/lib/transport/types.ts';
import { TransportPool } from '../../tasks/lib/transport/open.ts';
import type { HostSpec, Inventory } from '../../tasks/lib/inventory/types.ts';
import { phase as stackDeploy } from '../../tasks/lib/phases/stack-deploy.ts';
import { missingJob, NO_JOB, phase as jobSubmit } from '../../tasks/lib/phases/job-submit.ts';
import { readinessPlan } from '../../tasks/lib/steps/flink/flink-ready.ts';
import { RecordingReporter } from '../helpers/engine.ts';
import { ctxFor, inventory } from './steps-fixture.ts';

type Script = (host: string, command: string) => ExecResult | undefined;

/** Hosts that answer from a script, and remember every command; unknown commands fail like a missing docker. */
class ScriptedPool extends TransportPool {
  readonly ran: Array<{ host: string; command: string }> = [];
  constructor(private readonly script: Script) {
    super();
  }
  override get(host: HostSpec): Promise<Transport> {
    const ran = this.ran;
    const script = this.script;
    const t: Transport = {
      host: host.name,
      async exec(command: string, _opts?: ExecOptions) {
        ran.push({ host: host.name, command });
        return script(host.name, command) ?? { code: 127, stdout: '', stderr: 'sh: 1: docker: not found' };
      },
      async put() {},
      async putFile() {},
      async get() {
        return undefined;
      },
      async close() {},
    };
    return Promise.resolve(t);
  }
}

function sessionFor(inv: Inventory, pool: TransportPool, check: boolean, phases: string[]): Session & { reporter: RecordingReporter } {
  return { inventory: inv, hosts: inv.hosts, options: { check, diff: false, forks: 8 }, reporter: new RecordingReporter(), pool, args: {}, outputs: new Outputs(), phases };
}

const ok = (stdout = ''): ExecResult => ({ code: 0, stdout, stderr: '' });
const REF = '10.77.0.1:5000/fridge/flink:afc7bdd';
const NO_MATCH = 'no matching manifest for linux/amd64 in the manifest list entries';
const ARM_ONLY = JSON.stringify({
  schemaVersion: 2,
  mediaType: 'application/vnd.docker.distribution.manifest.list.v2+json',
  manifests: [
    { digest: 'sha256:aa', size: 1, platform: { architecture: 'arm', os: 'linux', variant: 'v7' } },
    { digest: 'sha256:bb', size: 1, platform: { architecture: 'unknown', os: 'unknown' } },
  ],
});

/** A fetch that refuses every connection, as a Flink that does not run yet. */
function refuseFetch(): void {
  vi.stubGlobal('fetch', async (url: string) => {
    throw new TypeError('fetch failed', { cause: new Error(`connect ECONNREFUSED ${new URL(url).host}`) });
  });
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('pre-pull facts and messages', () => {
  it('maps the engine\'s architecture to the platform a plain pull asks for', () => {
    expect(['linux/x86_64', 'linux/aarch64', 'linux/armv7l', 'weird', ''].map(enginePlatform)).toEqual(['linux/amd64', 'linux/arm64', 'linux/arm/v7', undefined, undefined]);
  });
  it('keeps the registry\'s answer, not the command line', () => {
    expect(registryAnswer(`Error response from daemon: ${NO_MATCH}\n`)).toBe(NO_MATCH);
    expect(missingPlatform(NO_MATCH)).toBe('linux/amd64');
    expect(registryAnswer('', 'Error response from daemon: manifest for x:1 not found: manifest unknown: manifest unknown')).toBe('manifest for x:1 not found: manifest unknown: manifest unknown');
  });
  it('names every node, the answer, the platform and the platforms the image has', () => {
    const ledger = pullLedger();
    for (const h of ['pi2', 'pi3']) ledger.failed.set(h, NO_MATCH);
    ledger.failed.set('pi4', 'Get "http://10.77.0.1:5000/v2/": dial tcp 10.77.0.1:5000: connect: connection refused');
    expect(pullStopMessage(REF, ledger, ['linux/arm/v7'])).toBe(
      `${REF} could not be pulled on nodes pi2, pi3: the image lacks their platform linux/amd64 ("${NO_MATCH}"); it has linux/arm/v7; ` +
        `node pi4: the registry answered "Get "http://10.77.0.1:5000/v2/": dial tcp 10.77.0.1:5000: connect: connection refused". ` +
        'docker stack deploy was not run: the running stack is untouched',
    );
    expect(pullStopMessage(REF, pullLedger())).toBeUndefined();
  });
  it('plans a pull for a missing image, none for a present one or a private registry', () => {
    const inv = inventory();
    const step = imagePulledStep(inv, REF);
    expect(step.plan({ present: true, platform: 'linux/amd64' }, ctxFor('pi2', { inv })).kind).toBe('ok');
    expect(step.plan({ present: false, platform: 'linux/amd64' }, ctxFor('pi2', { inv })).kind).toBe('change');
    const priv = inventory('    fridge_registry_username_env: FRIDGE_T_USER\n    fridge_registry_password_env: FRIDGE_T_PASS\n');
    expect(imagePulledStep(priv, REF).plan({ present: false, platform: undefined }, ctxFor('pi2', { inv: priv })).kind).toBe('skip');
  });
});

describe('the image manifest, read from the leader (private registries)', () => {
  const nodes = new Map<string, string | undefined>([['pi1', 'linux/amd64'], ['pi2', 'linux/amd64'], ['pi3', undefined]]);
  it('fails naming the nodes whose platform the image lacks, and what it has', () => {
    const plan = planManifest(REF, parseManifest({ code: 0, stdout: ARM_ONLY, stderr: '' }), nodes, false);
    expect(plan).toEqual({ kind: 'fail', msg: `${REF} lacks the platform of the nodes that must run it: linux/amd64 (pi1, pi2); it has linux/arm/v7. docker stack deploy was not run: the running stack is untouched` });
    expect(planManifest(REF, parseManifest({ code: 0, stdout: ARM_ONLY, stderr: '' }), nodes, true)).toMatchObject({
      kind: 'unmet',
      msg: plan.kind === 'fail' ? plan.msg : '',
      inCheck: { skip: `${REF} as in the registry now lacks linux/amd64 (pi1, pi2); check mode: image-build would push it again` },
    });
  });
  it('fails when the registry has no such image; unmet when image-build of this command would push it (check mode: skipped)', () => {
    const absent = parseManifest({ code: 1, stdout: '', stderr: `no such manifest: ${REF}\n` });
    const msg = `${REF} is not in the registry: it answered "no such manifest: ${REF}". docker stack deploy was not run: the running stack is untouched`;
    expect(planManifest(REF, absent, nodes, false)).toEqual({ kind: 'fail', msg });
    expect(planManifest(REF, absent, nodes, true)).toEqual({ kind: 'unmet', msg, inCheck: { skip: `${REF} is not in the registry yet (check mode: image-build would push it)` } });
  });
  it('says plainly when it could not check', () => {
    expect(planManifest(REF, parseManifest({ code: 0, stdout: '{"schemaVersion":2,"config":{"size":1},"layers":[]}', stderr: '' }), nodes, false)).toMatchObject({ kind: 'skip', msg: expect.stringContaining('platforms were not checked') });
    expect(planManifest(REF, parseManifest({ code: 1, stdout: '', stderr: 'docker manifest inspect is only supported on a Docker cli with experimental cli features enabled' }), nodes, false)).toMatchObject({
      kind: 'skip',
      msg: expect.stringContaining('could not read'),
    });
    // Docker is pi-setup's to install: a real run fails here, check mode says pi-setup would install it.
    expect(planManifest(REF, parseManifest({ code: 127, stdout: '', stderr: 'sh: 1: docker: not found' }), nodes, false)).toEqual({
      kind: 'unmet',
      msg: "docker is not installed on the leader; the image's platforms were not checked",
      inCheck: { skip: "docker is not installed yet (check mode: pi-setup would install it); the image's platforms were not checked" },
    });
    const amd = JSON.stringify({ manifests: [{ digest: 'sha256:cc', platform: { architecture: 'amd64', os: 'linux' } }] });
    expect(planManifest(REF, parseManifest({ code: 0, stdout: amd, stderr: '' }), nodes, false)).toEqual({ kind: 'ok', msg: `${REF} has linux/amd64` });
  });
});

describe('stack-deploy stops before the deploy when a node cannot pull the image', () => {
  it('fails on the leader naming the nodes and the answer; docker stack deploy never runs; no dashboard line', async () => {
    const inv = inventory();
    const pool = new ScriptedPool((host, c) => {
      if (c.startsWith('docker image inspect')) return ok('---\nlinux/x86_64\n');
      if (c.startsWith('docker pull')) return host === 'pi1' ? ok() : { code: 1, stdout: '', stderr: `Error response from daemon: ${NO_MATCH}\n` };
      if (c.includes('docker manifest inspect')) return ok(ARM_ONLY);
      return undefined;
    });
    const session = sessionFor(inv, pool, false, ['stack-deploy']);
    // The image named as a user would (--image): the last image this checkout built (.fridge/image.json) stays out of it.
    session.args = { ...session.args, image: REF };
    const run = new Run('stack-deploy', session);
    const t0 = Date.now();
    await stackDeploy.run(run);
    expect(Date.now() - t0).toBeLessThan(2_000);
    expect(pool.ran.some((r) => r.command.includes('docker stack deploy'))).toBe(false);
    const leader = run.summary().recap.find((h) => h.host === 'pi1');
    expect(leader?.failed).toBe(1);
    expect(leader?.firstError).toBe(
      `image on the Flink nodes: ${REF} could not be pulled on nodes pi2, pi3: the image lacks their platform linux/amd64 ("${NO_MATCH}"); it has linux/arm/v7. docker stack deploy was not run: the running stack is untouched`,
    );
    expect(run.outputs['Flink dashboard']).toBeUndefined();
    expect(run.outputs.Flink).toContain('not checked: stack-deploy stopped before the deploy');
  });
});

describe('check mode on fresh nodes (no docker, no Flink)', () => {
  it('stack-deploy plans every step and fails none; the recap says Flink is not deployed yet', async () => {
    refuseFetch();
    const inv = inventory();
    const pool = new ScriptedPool(() => undefined);
    const session = sessionFor(inv, pool, true, ['stack-deploy', 'job-submit']);
    const run = new Run('stack-deploy', session);
    await stackDeploy.run(run);
    const results = session.reporter.events.flatMap((e) => (e.kind === 'step-result' ? [e.result] : []));
    expect(results.filter((r) => r.status === 'failed')).toEqual([]);
    expect(results.find((r) => r.step === 'stop jobs with savepoint')).toMatchObject({ status: 'ok', msg: 'stack flink is not deployed yet: no job to keep' });
    expect(results.find((r) => r.step === 'docker stack deploy')?.status).toBe('changed');
    expect(results.find((r) => r.step === 'converged')).toMatchObject({ status: 'skipped', msg: expect.stringContaining('not deployed yet (check mode') });
    expect(run.outputs['Flink dashboard']).toBeUndefined();
    expect(run.outputs.Flink).toBe(`not deployed yet (check mode): the dashboard would answer at http://10.77.0.11:8081`);
    expect(pool.ran.some((r) => /docker (stack deploy|pull)/.test(r.command))).toBe(false);
  });

  it('job-submit reports what it would do, skipped, without building the jar', async () => {
    refuseFetch();
    const inv = inventory();
    const session = sessionFor(inv, new ScriptedPool(() => undefined), true, ['stack-deploy', 'job-submit']);
    session.args = { jar: '/nonexistent/never-built.jar' };
    const run = new Run('job-submit', session);
    await jobSubmit.run(run);
    const results = session.reporter.events.flatMap((e) => (e.kind === 'step-result' ? [e.result] : []));
    expect(results).toHaveLength(1);
    expect(results[0]).toMatchObject({
      host: 'pi1',
      status: 'skipped',
      msg: 'Flink at http://10.77.0.11:8081 is not ready: GET http://10.77.0.11:8081/overview: connect ECONNREFUSED 10.77.0.11:8081 (check mode: stack-deploy would start Flink, then never-built.jar would be submitted)',
    });
    expect(run.summary().recap.every((h) => h.failed === 0)).toBe(true);
    expect(run.outputs.job).toBeUndefined();
    expect(run.outputs[NO_JOB]).toBe('check mode: Flink is not running yet, so never-built.jar is not submitted');
  });

  it('a real run still fails on the same fact, and the recap says why there is no job line', () => {
    expect(readinessPlan({ ok: false, msg: 'Flink at u is not ready: x' }, 'a.jar')).toEqual({
      kind: 'unmet',
      msg: 'Flink at u is not ready: x',
      inCheck: { skip: 'Flink at u is not ready: x (check mode: stack-deploy would start Flink, then a.jar would be submitted)' },
    });
    expect(missingJob(false, 'a.jar', undefined, 'Flink at u is not ready: x\nmore')).toBe('job-submit failed: Flink at u is not ready: x');
    expect(missingJob(true, 'a.jar', { kind: 'submit' }, undefined)).toBe('check mode: a.jar would be submitted');
  });
});

describe('the convergence wait gives up as soon as the swarm shows it cannot succeed', () => {
  it('fails in seconds, not at its 600 s timeout, naming the service and the error', async () => {
    refuseFetch();
    const inv = inventory();
    const rejected = (ago: number) => `flink_jobmanager.1|pi1|Shutdown|Rejected ${ago} seconds ago|"No such image: ${REF}"`;
    const pool = new ScriptedPool((_, c) => {
      if (c.startsWith('docker service ls')) return ok('flink_jobmanager 0/1\n---\nflink_jobmanager none\n');
      if (c.startsWith('docker service ps --no-trunc --format \'{{.Name}}|')) return ok(`flink_jobmanager.1||Ready|Pending 1 second ago|\n${rejected(3)}\n${rejected(9)}\n${rejected(15)}\n`);
      if (c.startsWith('docker service ps')) return ok(`flink_jobmanager.1 on pi1: Rejected 3 seconds ago "No such image: ${REF}"\n`);
      return undefined;
    });
    const session = sessionFor(inv, pool, false, ['stack-deploy']);
    const run = new Run('stack-deploy', session);
    const t0 = Date.now();
    const [outcome] = await run.play({ name: 'converge', hosts: [inv.hosts[0] as HostSpec], steps: [convergeStep(inv, { slotsPerTaskmanager: 2 }, 600_000)] });
    expect(Date.now() - t0).toBeLessThan(3_000);
    expect(outcome?.results[0]).toMatchObject({ status: 'failed', msg: expect.stringContaining(`not converged: flink_jobmanager cannot start: its replica 3 times in a row rejected: No such image: ${REF} (on pi1)`) });
  });
});
