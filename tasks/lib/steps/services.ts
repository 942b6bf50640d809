// Starting and restarting services whatever the init system: systemd on a Pi, Debian's init scripts
// on the virtual fridge's nodes (no systemd there), a bare background daemon as the last resort.
import type { InitSystem } from '../facts/os.ts';
import { shq } from '../transport/types.ts';

export interface ServiceControl {
  init: InitSystem;
  /** /etc/init.d/NAME exists. */
  initScript: boolean;
}

/** Shell that polls `probe` once a second until it succeeds, failing with the log's tail after `seconds`. */
export function waitUntil(probe: string, seconds: number, what: string, log?: string): string {
  const tail = log ? `; tail -n 5 ${log} >&2 2>/dev/null` : '';
  return `i=0; until ${probe} >/dev/null 2>&1; do i=$((i+1)); if [ $i -ge ${seconds} ]; then echo ${shq(`${what} did not come up within ${seconds} s`)} >&2${tail}; exit 1; fi; sleep 1; done`;
}

const DOCKERD_LOG = '/var/log/docker.log';
const DOCKER_UP = 'docker info';

function dockerdBackground(): string {
  return `setsid nohup dockerd >>/var/log/dockerd.log 2>&1 </dev/null &`;
}

export function startDocker(ctl: ServiceControl): string {
  const start =
    ctl.init === 'systemd' ? 'systemctl enable --now docker' : ctl.initScript ? 'service docker start' : dockerdBackground();
  return `${start}\n${waitUntil(DOCKER_UP, 60, 'dockerd', ctl.init === 'systemd' ? undefined : DOCKERD_LOG)}`;
}

export function restartDocker(ctl: ServiceControl): string {
  const restart =
    ctl.init === 'systemd'
      ? 'systemctl restart docker'
      : ctl.initScript
        ? 'service docker restart'
        : `if [ -s /var/run/docker.pid ]; then kill "$(cat /var/run/docker.pid)"; fi; ${waitUntil('! test -e /var/run/docker.pid', 30, 'dockerd stop')}; ${dockerdBackground()}`;
  return `${restart}\n${waitUntil(DOCKER_UP, 60, 'dockerd', ctl.init === 'systemd' ? undefined : DOCKERD_LOG)}`;
}

export function stopDocker(ctl: ServiceControl): string {
  if (ctl.init === 'systemd') return 'systemctl disable --now docker docker.socket 2>/dev/null || true';
  if (ctl.initScript) return 'service docker stop || true';
  return 'if [ -s /var/run/docker.pid ]; then kill "$(cat /var/run/docker.pid)" || true; fi';
}

export function reloadSshd(init: InitSystem): string {
  return init === 'systemd' ? 'systemctl reload ssh' : 'service ssh reload';
}
