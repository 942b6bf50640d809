// What the virtual fridge's nodes did during a redeploy, from each node's own dockerd (`docker events`):
// containers started, killed, dead, healthy. With Flink's view and the deploy's output this makes a
// timeline that says where a long downtime went.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { containerName } from '../../tasks/lib/sim/nodes.ts';

export interface Stamped {
  at: number;
  text: string;
}

const EVENTS = ['docker', 'events', '--filter', 'type=container', '--format', '{{.Action}} {{.Actor.Attributes.name}}'];
const KEPT = /^(start|kill|die|health_status: \w+) /;

export interface NodeEvents {
  stop(): Stamped[];
}

export function watchNodeEvents(nodes: string[]): NodeEvents {
  const seen: Stamped[] = [];
  const children: ChildProcess[] = nodes.map((node) => {
    const child = spawn('docker', ['exec', containerName(node), 'timeout', '1800', ...EVENTS], { stdio: ['ignore', 'pipe', 'ignore'] });
    let rest = '';
    child.stdout?.on('data', (b: Buffer) => {
      const lines = (rest + b.toString()).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) {
        // flink_taskmanager.3.<task id>: the task id says nothing to a reader.
        if (KEPT.test(line)) seen.push({ at: Date.now(), text: `${node}: ${line.replace(/(\.\d+)\.[a-z0-9]{20,}$/, '$1')}` });
      }
    });
    return child;
  });
  return {
    stop() {
      for (const [i, child] of children.entries()) {
        child.kill();
        // The client going away does not end the command inside the node.
        spawnSync('docker', ['exec', containerName(nodes[i] ?? ''), 'pkill', '-f', EVENTS.slice(0, 4).join(' ')], { stdio: 'ignore' });
      }
      return seen;
    },
  };
}

/** One line per event, in order, as seconds since `t0`. */
export function formatTimeline(t0: number, events: Stamped[]): string {
  return [...events]
    .sort((a, b) => a.at - b.at)
    .map((e) => `${`+${((e.at - t0) / 1000).toFixed(2)} s`.padStart(10)}  ${e.text}`)
    .join('\n');
}
