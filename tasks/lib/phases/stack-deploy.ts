// stack-deploy: the seed's "Deploying Flink image on a Cluster", from a stack generated from the inventory.
import { CONVERGE_LEFT, convergeStep, flinkOutputs, type ConvergeFacts, type Expectation } from '../deploy/converge.ts';
import { flinkUrlNow } from '../deploy/endpoints.ts';
import { deployedImageStep } from '../deploy/emulation.ts';
import { BUILT_IMAGE, resolveImageRef } from '../deploy/image-ref.ts';
import { imageManifestStep, parseManifest, readManifest } from '../deploy/manifest-check.ts';
import { flinkHosts, imagePulledStep, missingPlatform, pullLedger, pullStopMessage, type PullLedger } from '../deploy/pre-pull.ts';
import { STOPPED_JOBS } from '../deploy/savepoints.ts';
import { LOCALHOST } from '../inventory/local-host.ts';
import { numberOption, type Phase } from '../engine/phase.ts';
import type { Run } from '../engine/runner.ts';
import type { WaitStep } from '../engine/types.ts';
import { leader, type HostSpec } from '../inventory/types.ts';
import { planStack } from '../stack/plan.ts';
import { stackDeployStep, stackDigest } from '../steps/stack/deploy.ts';
import { stackFilesStep } from '../steps/stack/files.ts';
import { registryLoginStep } from '../steps/stack/registry-login.ts';
import { stackSecretsStep } from '../steps/stack/secrets.ts';
import { enabledServices, serviceImagesStep } from '../steps/stack/service-images.ts';
import { stopJobsStep, stoppedJobMessages } from '../steps/stack/stop-jobs.ts';
import { checkStateStorage } from '../steps/storage/plays.ts';
import { storageDescription } from '../steps/storage/reached.ts';

export const DEFAULT_CONVERGE_TIMEOUT_S = 600;

/** The platforms the image's manifest list has, read from the leader; only worth a request when a pull lacked one. */
async function listedPlatforms(run: Run, lead: HostSpec, imageRef: string, ledger: PullLedger): Promise<string[] | undefined> {
  if (![...ledger.failed.values()].some((a) => missingPlatform(a) !== undefined)) return undefined;
  const t = await run.transport(lead).catch(() => undefined);
  if (!t) return undefined;
  const reading = parseManifest(await readManifest(t, imageRef, run.inventory.cluster.registry.insecure).catch(() => ({ code: 1, stdout: '', stderr: '' })));
  return reading.kind === 'list' ? reading.platforms : undefined;
}

export const phase: Phase = {
  name: 'stack-deploy',
  description: 'Generate docker-stack.yaml from the inventory, deploy it on the leader, wait until Flink sees every taskmanager.',
  options: {
    image: { type: 'string', placeholder: 'REF', description: 'image the nodes run (default: the one image-build pushed last)' },
    'converge-timeout': {
      type: 'string',
      placeholder: 'DURATION',
      description: `how long to wait until every service runs and Flink sees its taskmanagers (default ${DEFAULT_CONVERGE_TIMEOUT_S}s)`,
      check: { kind: 'duration', unit: 's', maxMs: 24 * 3_600_000 },
    },
  },
  async run(run) {
    const lead = leader(run.inventory);
    const converge = await deployStack(run);
    const flink = flinkOutputs(await flinkUrlNow(run.inventory), converge && run.output(converge, lead), converge && run.statusOf(converge, lead));
    Object.assign(run.outputs, flink.lines);
    if (flink.dashboardUrl) run.result.dashboardUrl = flink.dashboardUrl;
  },
};

/** The phase's work; the convergence step, when the phase got as far as playing it. */
async function deployStack(run: Run): Promise<WaitStep<ConvergeFacts> | undefined> {
  const inv = run.inventory;
  const lead = leader(inv);
  const built = run.output(BUILT_IMAGE, LOCALHOST);
  const given = resolveImageRef(inv, run.args.image, built);
  // Virtual nodes may stand for another platform than their engine's (sim up --arch armv7): they run its own
  // manifest under QEMU. A real Pi's engine is its platform, so real inventories skip the question.
  const emulation = inv.cluster.virtual ? deployedImageStep(inv, given) : undefined;
  if (emulation) {
    await run.play({ name: `image for ${inv.cluster.platforms.join(', ')}`, hosts: [lead], steps: [emulation] });
    if (run.active([lead]).length === 0) return undefined;
  }
  const deployed = (emulation && run.output(emulation, lead)) || { ref: given };
  const imageRef = deployed.ref;
  const planned = planStack(inv, imageRef);
  if (!planned.ok) {
    run.fail(lead.name, 'generate stack', planned.msg);
    return undefined;
  }
  const { stack } = planned;
  for (const w of planned.warnings) run.message('warning', w);
  // Before the jobs stop: with stop-first updates a pull after that would be downtime. A node that cannot
  // pull would get every Flink task Rejected "No such image": stop here, before the stack changes.
  const ledger = pullLedger();
  await run.play({ name: `pull ${imageRef}`, hosts: flinkHosts(inv), steps: [imagePulledStep(inv, imageRef, ledger)] });
  const stop = pullStopMessage(imageRef, ledger, await listedPlatforms(run, lead, imageRef, ledger));
  if (stop) {
    run.fail(lead.name, 'image on the Flink nodes', stop);
    return undefined;
  }
  // A Flink node that does not see the shared state would checkpoint where no other node looks: stop before the
  // stack (and its jobs) change.
  const storage = await checkStateStorage(run, flinkHosts(inv));
  if (!storage.ok) {
    const why = storage.serverUnreachable
      ? `the state storage's server ${storage.serverUnreachable} does not answer (${storageDescription(inv)}): Flink would not find its state`
      : `not every Flink node reaches the state storage (${storageDescription(inv)})`;
    run.fail(lead.name, 'state storage', `${why}; the stack was not changed`);
    return undefined;
  }
  // The nodes did not pull a private image (the leader alone has the login): the leader logs in and reads its
  // manifest, so an image that is absent or lacks a node's platform stops here, before jobs stop.
  const r = inv.cluster.registry;
  const isPrivate = Boolean(r.usernameEnv && r.passwordEnv);
  if (isPrivate && run.active([lead]).length > 0) {
    const pushedLater = built?.planned === true;
    await run.play({ name: `image ${imageRef} in the registry`, hosts: [lead], steps: [registryLoginStep(inv), imageManifestStep(inv, imageRef, ledger, pushedLater)] });
  }
  if (run.active([lead]).length === 0) return undefined;
  // Built before the jobs stop: their downtime should not include a build, and a failed build leaves them running.
  if (enabledServices(inv).length > 0) {
    await run.play({ name: 'optional services', hosts: [LOCALHOST], steps: [serviceImagesStep(inv)] });
    if (run.active([LOCALHOST]).length === 0) return undefined;
  }
  // A stack update restarts Flink: keep running jobs by stopping them with a savepoint first.
  await run.play({ name: `running jobs on stack ${inv.cluster.stackName}`, hosts: [lead], steps: [stopJobsStep(inv, stackDigest(stack))] });
  const stopped = run.output(STOPPED_JOBS, lead) ?? [];
  for (const m of stoppedJobMessages(stopped)) run.message(m.level, m.text);
  if (run.active([lead]).length === 0) return undefined;
  const timeoutMs = numberOption(run.args, phase.options ?? {}, 'converge-timeout') ?? DEFAULT_CONVERGE_TIMEOUT_S * 1000;
  const want: Expectation = { slotsPerTaskmanager: inv.cluster.flink.slotsPerTaskmanager };
  // The jobs' downtime should end when the new cluster can run them, not when its last taskmanager is
  // up: job-submit resubmits them as soon as the new jobmanager answers, then waits for the rest.
  const resumeFirst = stopped.length > 0 && run.runsLater('job-submit');
  if (resumeFirst) want.forResume = true;
  const started = Date.now();
  const converge = convergeStep(inv, want, timeoutMs, resumeFirst ? 'ready to resume jobs' : 'converged');
  await run.play({
    name: `deploy stack ${inv.cluster.stackName} (${imageRef})`,
    hosts: [lead],
    steps: [
      // Logged in above for a private registry; for a public one this says so in the recap.
      ...(isPrivate ? [] : [registryLoginStep(inv)]),
      stackFilesStep(inv, stack),
      stackSecretsStep(stack),
      stackDeployStep(inv, stack, { pinned: deployed.emulates !== undefined }),
      converge,
    ],
  });
  if (resumeFirst && run.active([lead]).length > 0) run.record(CONVERGE_LEFT, lead, Math.max(60_000, timeoutMs - (Date.now() - started)));
  return converge;
}
