// The operator's SSH key pair, made on this machine (the implicit localhost) when the inventory names a key
// file that does not exist yet: pi-setup then installs its public half on every Pi.
import type { Step } from '../engine/types.ts';
import { shq } from '../transport/types.ts';
import { change, ok, sh } from './common.ts';

export interface KeyPairFacts {
  /** Private key files the inventory names, with whether each exists here. */
  files: Array<{ path: string; exists: boolean }>;
}

export function keyPairStep(keyFiles: string[]): Step<KeyPairFacts> {
  return {
    name: 'ssh key pair',
    async gather({ transport }) {
      const files = await Promise.all(
        keyFiles.map(async (path) => ({ path, exists: (await transport.exec(`test -e ${shq(path)}`)).code === 0 })),
      );
      return { files };
    },
    plan({ files }) {
      const missing = files.filter((f) => !f.exists).map((f) => f.path);
      if (missing.length === 0) return ok(files.length === 0 ? 'no key file named' : files.map((f) => f.path).join(', '));
      // As the operator, not root: the key is theirs. No passphrase, because pi-setup runs unattended.
      return change(
        ...missing.map((key) => ({
          summary: `create the SSH key pair ${key}`,
          actions: [sh(`umask 077 && mkdir -p "$(dirname ${shq(key)})" && ssh-keygen -q -t ed25519 -N '' -C fridge -f ${shq(key)}`, { sudo: false })],
        })),
      );
    },
  };
}
