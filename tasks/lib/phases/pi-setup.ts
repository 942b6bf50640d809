// pi-setup: facts first, then hostname and address, SSH hardening, and the Docker engine on every Pi.
import type { Phase } from '../engine/phase.ts';
import type { Run } from '../engine/runner.ts';
import { LOCALHOST } from '../inventory/local-host.ts';
import { keyFileFor } from '../transport/credentials.ts';
import { cgroupStep, daemonJsonStep, dockerGroupStep, dockerRunningStep, engineStep, rebootStep } from '../steps/docker.ts';
import { hostFactsStep, hostnameStep } from '../steps/host.ts';
import { keyPairStep } from '../steps/key-pair.ts';
import { MOVED, staticIpStep } from '../steps/network.ts';
import { relocate } from '../engine/relocate.ts';
import { MOVED_FILE, recordMove } from '../inventory/moved.ts';
import path from 'node:path';
import { stateDirStep } from '../steps/state-dir.ts';
import { authorizedKeyStep, lockPasswordStep, passwordLoginStep } from '../steps/ssh.ts';
import { setUpStateStorage } from '../steps/storage/plays.ts';

/** Key files the selected SSH hosts log in with. */
function namedKeyFiles(run: Run): string[] {
  return [...new Set(run.active().flatMap((h) => (h.connection === 'ssh' ? [keyFileFor(h) ?? ''] : [])).filter(Boolean))];
}

export const phase: Phase = {
  name: 'pi-setup',
  description: 'Hostname, static address, SSH key login (password login off), the Docker engine and the shared state storage on every Pi.',
  async run(run) {
    const keys = namedKeyFiles(run);
    if (keys.length > 0) await run.play({ name: 'operator key pair', hosts: [LOCALHOST], steps: [keyPairStep(keys)] });
    // One fact probe per host for the phase: the runner keeps the facts until a change on that host.
    await run.play({ name: 'facts', steps: [hostFactsStep] });
    // The static address last: moving a Pi off its first-contact address ends the play's connection to it.
    const system = await run.play({ name: 'system', steps: [hostnameStep, stateDirStep, staticIpStep] });
    for (const o of system) {
      const moved = run.session.outputs.get(MOVED, o.host);
      if (!moved) continue;
      recordMove(run.inventory.file, o.host, { ...moved, at: new Date().toISOString() });
      await relocate(run.session, o.host, moved.to, moved.from);
      run.message('info', `${o.host} is at its static address ${moved.to} now (moved from ${moved.from}): the later phases and runs connect there (${path.relative(process.cwd(), MOVED_FILE) || MOVED_FILE})`, o.host);
    }
    await run.play({ name: 'ssh hardening', steps: [authorizedKeyStep, passwordLoginStep, lockPasswordStep] });
    const engines = await run.play({
      name: 'docker engine',
      steps: [engineStep, dockerGroupStep, daemonJsonStep, dockerRunningStep, cgroupStep, rebootStep],
    });
    // A rebooted host's pooled connection is dead: the next phase opens a new one. A reboot that failed may
    // have happened all the same. (In check mode nothing rebooted: the next phase only reconnects.)
    for (const o of engines) if (o.results.some((r) => r.step === rebootStep.name && (r.status === 'changed' || r.status === 'failed'))) await run.session.pool.drop(o.host);
    // Checkpoints and savepoints must be one directory for every node: a job recovers on another Pi only then.
    await setUpStateStorage(run);
  },
};
