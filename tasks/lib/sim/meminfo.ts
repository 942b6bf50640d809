// Whether lxcfs gives the nodes their own /proc/meminfo (see SIM.lxcfsMeminfo), on this machine and in a node.
import fs from 'node:fs';
import { SIM } from './config.ts';
import type { MeminfoView, NodeStatus } from './nodes.ts';
import { docker } from './run.ts';

/** Reading is the test: a crashed lxcfs leaves a mount point that fails with ENOTCONN. */
export function lxcfsServes(file: string = SIM.lxcfsMeminfo): boolean {
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, 'r');
    return fs.readSync(fd, Buffer.alloc(16), 0, 16, 0) > 0;
  } catch {
    return false;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

export function wantedMeminfo(): MeminfoView {
  return lxcfsServes() ? 'limit' : 'host';
}

/**
 * Running nodes whose lxcfs mount no longer answers (lxcfs was restarted under them): their dockerd cannot
 * read its memory. A restart of the node mounts the new lxcfs.
 */
export async function staleMeminfo(nodes: NodeStatus[]): Promise<string[]> {
  const mounted = nodes.filter((n) => n.state === 'running' && n.meminfo === 'limit');
  const reads = await Promise.all(mounted.map((n) => docker(['exec', n.container, 'head', '-c', '1', '/proc/meminfo'])));
  return mounted.filter((_, k) => reads[k]?.code !== 0).map((n) => n.container);
}

/** MemTotal in bytes from a /proc/meminfo text; undefined when absent. */
export function memTotalBytes(meminfo: string): number | undefined {
  const m = /^MemTotal:\s+(\d+) kB$/m.exec(meminfo);
  return m ? Number(m[1]) * 1024 : undefined;
}
