// The operator's key pair (pi-setup installs the .pub on every node) and the nodes' first-login password file.
import fs from 'node:fs';
import { registerSecret } from '../secrets.ts';
import { SIM, SIM_PATHS } from './config.ts';
import { must, run } from './run.ts';

export async function ensureOperatorKey(): Promise<boolean> {
  fs.mkdirSync(SIM_PATHS.dir, { recursive: true, mode: 0o700 });
  registerSecret(SIM.defaultPassword);
  if (!fs.existsSync(SIM_PATHS.passwordFile)) fs.writeFileSync(SIM_PATHS.passwordFile, `${SIM.defaultPassword}\n`, { mode: 0o600 });
  fs.chmodSync(SIM_PATHS.passwordFile, 0o600);
  if (fs.existsSync(SIM_PATHS.privateKey) && fs.existsSync(SIM_PATHS.publicKey)) return false;
  fs.rmSync(SIM_PATHS.privateKey, { force: true });
  fs.rmSync(SIM_PATHS.publicKey, { force: true });
  must('ssh-keygen', await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'fridge-sim-operator', '-f', SIM_PATHS.privateKey]));
  return true;
}
