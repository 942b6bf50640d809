// SSH login facts: the user's authorized keys, sshd's effective password setting, the password's state.
import { shq } from '../transport/types.ts';
import type { InitSystem } from './os.ts';
import { fileProbe, fileValue, flag, str, type Kv } from './probe.ts';

export const SSHD_DROPIN = '/etc/ssh/sshd_config.d/00-fridge.conf';

export interface SshFacts {
  home: string;
  authorizedKeys: string | undefined;
  /** sshd -T's passwordauthentication: 'yes', 'no' or '' when sshd could not be asked. */
  passwordAuth: string;
  /** sshd_config includes sshd_config.d (Bullseye and later); Buster's does not. */
  includesDropins: boolean;
  dropin: string | undefined;
  sshdConfig: string | undefined;
  /** passwd -S: P (usable), L (locked), NP (none). */
  passwordStatus: string;
  /** The user may sudo without a password (later runs log in with the key and cannot type one). */
  nopasswdSudo: boolean;
  init: InitSystem;
}

export function sshScript(user: string): string {
  const u = shq(user);
  return [
    `home=$(getent passwd ${u} | cut -d: -f6)`,
    'printf "%s\\n" "home=$home"',
    `if [ -n "$home" ] && [ -e "$home/.ssh/authorized_keys" ]; then printf 'keys=b64:%s\\n' "$(base64 -w0 < "$home/.ssh/authorized_keys")"; else echo keys=absent; fi`,
    `printf "%s\\n" "pwauth=$(sshd -T 2>/dev/null | awk '$1=="passwordauthentication"{print $2}')"`,
    `if grep -Eqi '^[[:space:]]*Include[[:space:]]+/etc/ssh/sshd_config\\.d/' /etc/ssh/sshd_config 2>/dev/null; then echo include=1; else echo include=0; fi`,
    fileProbe('dropin', SSHD_DROPIN),
    fileProbe('sshd_config', '/etc/ssh/sshd_config'),
    `printf "%s\\n" "pwstatus=$(passwd -S ${u} 2>/dev/null | awk '{print $2}')"`,
    user === 'root' ? 'echo nopasswd=1' : `if sudo -l -U ${u} 2>/dev/null | grep -q 'NOPASSWD: ALL'; then echo nopasswd=1; else echo nopasswd=0; fi`,
    'if [ -d /run/systemd/system ]; then echo init=systemd; else echo init=sysv; fi',
  ].join('\n');
}

export function parseSshFacts(kv: Kv): SshFacts {
  return {
    home: str(kv, 'home'),
    authorizedKeys: fileValue(kv, 'keys'),
    passwordAuth: str(kv, 'pwauth'),
    includesDropins: flag(kv, 'include'),
    dropin: fileValue(kv, 'dropin'),
    sshdConfig: fileValue(kv, 'sshd_config'),
    passwordStatus: str(kv, 'pwstatus'),
    nopasswdSudo: flag(kv, 'nopasswd'),
    init: str(kv, 'init') === 'systemd' ? 'systemd' : 'sysv',
  };
}
