// ping: proves every host answers over its transport, like `ansible all -m ping`.
import type { Phase } from '../engine/phase.ts';
import type { Step } from '../engine/types.ts';

interface PingFacts {
  code: number;
  output: string;
}

export const pingStep: Step<PingFacts> = {
  name: 'ping',
  async gather({ transport }) {
    const r = await transport.exec('echo pong; uname -srm; hostname');
    return { code: r.code, output: (r.stdout + r.stderr).trim() };
  },
  plan(facts) {
    const [pong, uname, hostname] = facts.output.split('\n');
    return facts.code === 0 && pong === 'pong' ? { kind: 'ok', msg: `${hostname ?? '?'} (${uname ?? '?'})` } : { kind: 'fail', msg: `shell did not answer: ${facts.output}` };
  },
};

export const phase: Phase = {
  name: 'ping',
  description: 'Connect to every host and check that a shell answers.',
  async run(run) {
    await run.play({ name: 'ping', steps: [pingStep] });
  },
};
