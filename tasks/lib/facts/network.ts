// How the host's network is configured: dhcpcd (Buster/Bullseye), NetworkManager (Bookworm) or neither.
import { shq } from '../transport/types.ts';
import { commandProbe, fileProbe, fileValue, flag, str, type Kv } from './probe.ts';

export type NetworkStyle = 'dhcpcd' | 'networkmanager' | 'none';

export interface NetworkFacts {
  style: NetworkStyle;
  /** IPv4 addresses on the interface, without prefix. */
  addresses: string[];
  interfaceExists: boolean;
  dhcpcdConf: string | undefined;
  nmConnection: string | undefined;
}

export const NM_DIR = '/etc/NetworkManager/system-connections';
export function nmConnectionPath(iface: string): string {
  return `${NM_DIR}/fridge-${iface}.nmconnection`;
}

export function networkScript(iface: string): string {
  const i = shq(iface);
  return [
    commandProbe('has_dhcpcd', 'dhcpcd'),
    commandProbe('has_nmcli', 'nmcli'),
    // NetworkManager installed but not running does not manage the interface.
    'if command -v nmcli >/dev/null 2>&1 && nmcli -t -f RUNNING general 2>/dev/null | grep -q running; then echo nm_running=1; else echo nm_running=0; fi',
    `if [ -e /sys/class/net/${i} ]; then echo iface=1; else echo iface=0; fi`,
    `if command -v ip >/dev/null 2>&1; then printf "%s\\n" "addrs=$(ip -4 -o addr show dev ${i} 2>/dev/null | awk '{split($4,a,"/"); printf "%s ", a[1]}')"; else printf "%s\\n" "addrs=$(hostname -I 2>/dev/null)"; fi`,
    fileProbe('dhcpcd_conf', '/etc/dhcpcd.conf'),
    fileProbe('nm_conn', nmConnectionPath(iface)),
  ].join('\n');
}

export function parseNetworkFacts(kv: Kv): NetworkFacts {
  const nm = flag(kv, 'has_nmcli') && flag(kv, 'nm_running');
  const style: NetworkStyle = nm ? 'networkmanager' : flag(kv, 'has_dhcpcd') ? 'dhcpcd' : 'none';
  return {
    style,
    addresses: str(kv, 'addrs').split(/\s+/).filter((a) => a !== ''),
    interfaceExists: flag(kv, 'iface'),
    dhcpcdConf: fileValue(kv, 'dhcpcd_conf'),
    nmConnection: fileValue(kv, 'nm_conn'),
  };
}
