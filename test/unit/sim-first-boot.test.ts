// The first-boot virtual fridge's pure parts: the router's lease file, the Raspberry Pi MACs (the same as the
// node's own boot script derives), the blank card, and the inventory written before anyone knows the leases.
import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { parseInventory } from '../../tasks/lib/inventory/load.ts';
import { detectBootOs } from '../../tasks/lib/sdcard/detect.ts';
import { blankCardFiles } from '../../tasks/lib/sim/cards.ts';
import { nodeAddress, nodeMac } from '../../tasks/lib/sim/config.ts';
import { simInventory } from '../../tasks/lib/sim/inventory.ts';
import { parseLeases } from '../../tasks/lib/sim/services.ts';

describe('first-boot virtual fridge', () => {
  it('reads dnsmasq\'s lease file: expiry, MAC, address, the name the Pi sent (or none)', () => {
    const text = '1796738173 b8:27:eb:4d:00:0c 10.77.0.113 pi2 01:b8:27:eb:4d:00:0c\n1796738170 B8:27:EB:4D:00:0B 10.77.0.112 * *\n\ngarbage\n';
    expect(parseLeases(text)).toEqual([
      { expires: 1796738173, mac: 'b8:27:eb:4d:00:0c', address: '10.77.0.113', hostname: 'pi2' },
      { expires: 1796738170, mac: 'b8:27:eb:4d:00:0b', address: '10.77.0.112', hostname: undefined },
    ]);
  });

  it('gives each node a Raspberry Pi MAC, the one its boot script derives from the reserved address', () => {
    expect(nodeMac(1)).toBe('b8:27:eb:4d:00:0b');
    // node-image-first-boot/fridge-boot's own derivation, run here on the same address.
    const awk = execFileSync('awk', ['-F.', '{printf "b8:27:eb:%02x:%02x:%02x", $2, $3, $4}'], { input: `${nodeAddress(5)}\n` }).toString();
    expect(awk).toBe(nodeMac(5));
  });

  it('flashes a blank Bookworm card: cmdline.txt, config.txt, issue.txt and nothing that lets anyone in', () => {
    const files = blankCardFiles();
    expect([...files.keys()].sort()).toEqual(['cmdline.txt', 'config.txt', 'issue.txt']);
    expect(detectBootOs([...files.keys()], files.get('issue.txt'))).toEqual({ ok: true, os: 'bookworm', evidence: 'no cloud-init seed; issue.txt: reference 2025-05-13' });
  });

  it('writes an inventory whose hosts are known by name only, with their static addresses, and it loads', () => {
    const inv = simInventory({ nodes: 3, arch: 'amd64', model: '3B', firstBoot: true });
    const r = parseInventory('/sim/first-boot.yaml', stringify(inv));
    if (!r.ok) throw new Error(r.problems.map((p) => p.message).join('; '));
    expect(r.inventory.hosts.map((h) => `${h.name}@${h.address}→${h.staticIp}`)).toEqual(['pi1@pi1→10.77.0.11', 'pi2@pi2→10.77.0.12', 'pi3@pi3→10.77.0.13']);
  });

  const dir = path.join(import.meta.dirname, '..', '..', 'tasks', 'lib', 'sim', 'node-image-first-boot');
  const hasShellcheck = spawnSync('sh', ['-c', 'command -v shellcheck']).status === 0;
  it.skipIf(!hasShellcheck)('its boot scripts pass shellcheck', () => {
    const scripts = ['fridge-boot', 'fridge-userconf', 'fridge-sshswitch', 'imager_custom'].map((f) => path.join(dir, f));
    const r = spawnSync('shellcheck', ['-s', 'sh', '-S', 'warning', ...scripts], { encoding: 'utf8' });
    expect(r.stdout).toBe('');
    expect(r.status).toBe(0);
  });
});
