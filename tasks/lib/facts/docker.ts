// Docker engine facts. Everything must read "absent" cleanly on a fresh host (check mode on new Pis).
import { shq } from '../transport/types.ts';
import type { InitSystem } from './os.ts';
import { commandProbe, fileProbe, fileValue, flag, str, type Kv } from './probe.ts';

export interface DockerFacts {
  cli: boolean;
  /** Installed engine packages (docker.io from Debian, docker-ce from get.docker.com). */
  packages: string[];
  running: boolean;
  serverVersion: string;
  init: InitSystem;
  initScript: boolean;
  /** systemd only: enabled at boot. */
  enabled: boolean;
  daemonJson: string | undefined;
  /** Groups of the inventory user. */
  userGroups: string[];
  dockerGroup: boolean;
}

export function dockerScript(user: string): string {
  return [
    commandProbe('cli', 'docker'),
    `printf "%s\\n" "pkgs=$(dpkg-query -W -f='\${Package}:\${Status}\\n' docker.io docker-ce moby-engine 2>/dev/null | awk -F: '/install ok installed/{printf "%s ", $1}')"`,
    `if command -v docker >/dev/null 2>&1 && v=$(docker info --format '{{.ServerVersion}}' 2>/dev/null) && [ -n "$v" ]; then echo running=1; printf "%s\\n" "version=$v"; else echo running=0; fi`,
    'if [ -d /run/systemd/system ]; then echo init=systemd; else echo init=sysv; fi',
    'if [ -x /etc/init.d/docker ]; then echo init_script=1; else echo init_script=0; fi',
    'if [ -d /run/systemd/system ] && systemctl is-enabled docker >/dev/null 2>&1; then echo enabled=1; else echo enabled=0; fi',
    fileProbe('daemon_json', '/etc/docker/daemon.json'),
    `printf "%s\\n" "groups=$(id -nG ${shq(user)} 2>/dev/null)"`,
    'if getent group docker >/dev/null 2>&1; then echo docker_group=1; else echo docker_group=0; fi',
  ].join('\n');
}

export function parseDockerFacts(kv: Kv): DockerFacts {
  return {
    cli: flag(kv, 'cli'),
    packages: str(kv, 'pkgs').split(/\s+/).filter((p) => p !== ''),
    running: flag(kv, 'running'),
    serverVersion: str(kv, 'version'),
    init: str(kv, 'init') === 'systemd' ? 'systemd' : 'sysv',
    initScript: flag(kv, 'init_script'),
    enabled: flag(kv, 'enabled'),
    daemonJson: fileValue(kv, 'daemon_json'),
    userGroups: str(kv, 'groups').split(/\s+/).filter((g) => g !== ''),
    dockerGroup: flag(kv, 'docker_group'),
  };
}
