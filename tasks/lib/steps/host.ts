// The host itself: what it is (facts shown first) and its name.
import type { Step } from '../engine/types.ts';
import type { OsFacts } from '../facts/os.ts';
import { gatherOs } from '../facts/gather.ts';
import { shq } from '../transport/types.ts';
import { change, fail, ok, sh, writeInPlace, diffOf } from './common.ts';
import { restartDocker } from './services.ts';

function describeOs(f: OsFacts, inventoryModel: string): string {
  const os = f.pretty || `${f.id} ${f.versionId}`;
  const model = f.model || `model ${inventoryModel} (from the inventory)`;
  return `${os}, ${f.arch}, ${model}, ${f.memMiB} MiB, hostname ${f.hostname}, ${f.init}`;
}

/** Shows what the host is; fails only when it cannot run Fridge at all. */
export const hostFactsStep: Step<OsFacts> = {
  name: 'host facts',
  gather: (ctx) => gatherOs(ctx),
  plan(f, ctx) {
    if (f.id === 'unknown') return fail('no /etc/os-release: not a Debian-family system Fridge knows how to set up');
    const wrongModel = f.model && !/raspberry pi/i.test(f.model) && ctx.host.model !== 'virtual' ? ` (the inventory says Raspberry Pi ${ctx.host.model})` : '';
    return ok(describeOs(f, ctx.host.model) + wrongModel);
  },
};

const HOSTS_LINE = '127.0.1.1';

/** /etc/hosts with 127.0.1.1 naming the host, as Debian and raspi-config write it. */
export function hostsWithName(hosts: string | undefined, name: string): string {
  const lines = (hosts ?? '').split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  const wanted = `${HOSTS_LINE}\t${name}`;
  const i = lines.findIndex((l) => l.trim().split(/\s+/)[0] === HOSTS_LINE);
  if (i >= 0) {
    const names = (lines[i] ?? '').trim().split(/\s+/).slice(1);
    if (names.length === 1 && names[0] === name) return `${lines.join('\n')}\n`;
    lines[i] = wanted;
  } else {
    lines.push(wanted);
  }
  return `${lines.join('\n')}\n`;
}

export const hostnameStep: Step<OsFacts> = {
  name: 'hostname',
  gather: (ctx) => gatherOs(ctx),
  plan(f, ctx) {
    const name = ctx.host.name;
    const hosts = hostsWithName(f.etcHosts, name);
    const fileOk = (f.etcHostname ?? '').trim() === name;
    const hostsOk = hosts === f.etcHosts;
    if (f.hostname === name && fileOk && hostsOk) return ok(`hostname is ${name}`);
    const actions = f.raspiConfig
      ? [sh(`raspi-config nonint do_hostname ${shq(name)}`), sh(`hostname ${shq(name)}`)]
      : [
          // /etc/hosts first, so that sudo can still resolve the new name.
          ...(hostsOk ? [] : [writeInPlace('/etc/hosts', hosts)]),
          ...(fileOk ? [] : [writeInPlace('/etc/hostname', `${name}\n`)]),
          sh(f.init === 'systemd' && f.hostnamectl ? `hostnamectl set-hostname ${shq(name)}` : `hostname ${shq(name)}`),
        ];
    // dockerd reads the hostname once at start; swarm would otherwise keep showing the old name.
    if (f.dockerd && f.hostname !== name) actions.push(sh(restartDocker({ init: f.init, initScript: f.dockerInitScript }), { timeoutMs: 120_000 }));
    return change({
      summary: `set hostname ${f.hostname} → ${name}`,
      actions,
      ...(hostsOk ? {} : { diff: diffOf('/etc/hosts', f.etcHosts, hosts) }),
    });
  },
};
