// pi-setup: facts first, then hostname and address, SSH hardening, and the Docker engine on every Pi.
import fs from 'node:fs';
import path from 'node:path';
import type { Phase } from '../engine/phase.ts';
import type { Run } from '../engine/runner.ts';
import { keyFileFor } from '../transport/credentials.ts';
import { execLocal } from '../transport/local.ts';
import { shq } from '../transport/types.ts';
import { cgroupStep, daemonJsonStep, dockerGroupStep, dockerRunningStep, engineStep, rebootStep } from '../steps/docker.ts';
import { hostFactsStep, hostnameStep } from '../steps/host.ts';
import { staticIpStep } from '../steps/network.ts';
import { stateDirStep } from '../steps/state-dir.ts';
import { authorizedKeyStep, lockPasswordStep, passwordLoginStep } from '../steps/ssh.ts';

/** The operator's key pair is made here, on this machine, when the inventory names one that does not exist yet. */
async function ensureKeyPairs(run: Run): Promise<void> {
  const files = [...new Set(run.active().flatMap((h) => (h.connection === 'ssh' && keyFileFor(h) ? [keyFileFor(h) ?? ''] : [])))];
  for (const key of files.filter((f) => !fs.existsSync(f))) {
    if (run.check) {
      run.message('info', `would create the SSH key pair ${key}`);
      continue;
    }
    fs.mkdirSync(path.dirname(key), { recursive: true, mode: 0o700 });
    const r = await execLocal(`ssh-keygen -q -t ed25519 -N '' -C fridge -f ${shq(key)}`);
    run.message(r.code === 0 ? 'info' : 'error', r.code === 0 ? `created the SSH key pair ${key}` : `ssh-keygen failed for ${key}: ${r.stderr.trim()}`);
  }
}

export const phase: Phase = {
  name: 'pi-setup',
  description: 'Hostname, static address, SSH key login (password login off) and the Docker engine on every Pi.',
  async run(run) {
    await ensureKeyPairs(run);
    // One fact probe per host for the phase: the runner keeps the facts until a change on that host.
    await run.play({ name: 'facts', steps: [hostFactsStep] });
    await run.play({ name: 'system', steps: [hostnameStep, staticIpStep, stateDirStep] });
    await run.play({ name: 'ssh hardening', steps: [authorizedKeyStep, passwordLoginStep, lockPasswordStep] });
    const engines = await run.play({
      name: 'docker engine',
      steps: [engineStep, dockerGroupStep, daemonJsonStep, dockerRunningStep, cgroupStep, rebootStep],
    });
    // A rebooted host's pooled connection is dead: the next phase opens a new one. A reboot that failed may
    // have happened all the same.
    if (run.check) return;
    for (const o of engines) if (o.results.some((r) => r.step === rebootStep.name && (r.status === 'changed' || r.status === 'failed'))) await run.session.pool.drop(o.host);
  },
};
