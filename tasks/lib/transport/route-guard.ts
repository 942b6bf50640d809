// The virtual fridge's addresses exist only on this machine's bridge. If that bridge is gone, the same
// addresses would be routed off the machine, to whatever network answers them: refuse instead.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

/** True when the kernel would deliver to `address` on a local interface (no gateway on the way). */
export async function isOnLink(address: string): Promise<boolean> {
  try {
    const { stdout } = await execFileP('ip', ['-o', 'route', 'get', address]);
    return !/\svia\s/.test(stdout) && /\sdev\s/.test(stdout);
  } catch {
    return false;
  }
}

export async function offLinkAddresses(addresses: string[]): Promise<string[]> {
  const checks = await Promise.all([...new Set(addresses)].map(async (a) => ((await isOnLink(a)) ? undefined : a)));
  return checks.filter((a): a is string => a !== undefined);
}
