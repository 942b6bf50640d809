// Each node's own SSH key for the state storage server, made on the node: no private key ever leaves a Pi.
import { outputKey } from '../../engine/outputs.ts';
import type { Step } from '../../engine/types.ts';
import { factsOf } from '../../facts/cache.ts';
import { parseStorageFacts } from '../../facts/storage.ts';
import { shq } from '../../transport/types.ts';
import { change, ok } from '../common.ts';
import { CLIENT_DIR, CLIENT_KEY } from './layout.ts';

export interface ClientKeyFacts {
  publicKey: string | undefined;
}

/** The public half of a key this run made (the step's own output is what it found before). */
export const MADE_CLIENT_KEY = outputKey<string>('state storage client key made');

const isPublicKey = (s: string): boolean => /^ssh-ed25519 [A-Za-z0-9+/=]+( |$)/.test(s);

export const stateClientKeyStep: Step<ClientKeyFacts, string | undefined> = {
  name: 'state storage key',
  async gather(ctx) {
    const line = parseStorageFacts(await factsOf(ctx, 'storage')).clientKey ?? '';
    return { publicKey: isPublicKey(line) ? line : undefined };
  },
  plan({ publicKey }, { host }) {
    if (publicKey) return ok(CLIENT_KEY);
    const keygen = `umask 077 && mkdir -p ${shq(CLIENT_DIR)} && rm -f ${shq(CLIENT_KEY)} ${shq(`${CLIENT_KEY}.pub`)} && ssh-keygen -q -t ed25519 -N '' -C ${shq(`fridge-state@${host.name}`)} -f ${shq(CLIENT_KEY)} && cat ${shq(`${CLIENT_KEY}.pub`)}`;
    return change({
      summary: `create ${CLIENT_KEY} (this node's key to the state storage server)`,
      actions: [
        {
          kind: 'call',
          label: 'ssh-keygen',
          async fn(ctx) {
            const r = await ctx.transport.exec(keygen, { sudo: true });
            const line = r.stdout.trim();
            if (r.code !== 0 || !isPublicKey(line)) return { ok: false, msg: `ssh-keygen failed: ${(r.stderr || r.stdout).trim() || `exit ${r.code}`}` };
            ctx.record(MADE_CLIENT_KEY, line);
            return { ok: true };
          },
        },
      ],
    });
  },
  output: (f) => f.publicKey,
};
