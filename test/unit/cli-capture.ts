// Runs the CLI in this process and captures what a user would see: stdout, stderr and the exit code.
// Nothing here opens a network connection: hosts are `ansible_connection: local`, or the run stops first.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib, { deflateRawSync } from 'node:zlib';
import { vi } from 'vitest';

export interface Seen {
  code: number;
  stdout: string;
  stderr: string;
}

export async function capture(fn: () => Promise<number>, env: Record<string, string | undefined> = {}): Promise<Seen> {
  const out: string[] = [];
  const err: string[] = [];
  const saved = { ...process.env };
  // The operator's own settings must not leak into what the test sees.
  for (const k of ['FRIDGE_INVENTORY', 'GITHUB_ACTIONS', 'GITHUB_STEP_SUMMARY', 'GITHUB_WORKSPACE', 'FORCE_COLOR', 'FRIDGE_DEBUG', 'CI']) delete process.env[k];
  process.env.NO_COLOR = '1';
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out.push(String(chunk));
    return true;
  });
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    err.push(String(chunk));
    return true;
  });
  try {
    const code = await fn();
    return { code, stdout: out.join(''), stderr: err.join('') };
  } finally {
    vi.restoreAllMocks();
    process.env = saved;
  }
}

export function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'fridge-cli-'));
}

/** A valid inventory whose only host is this machine (ansible_connection: local). */
export function localInventory(dir: string): string {
  const file = path.join(dir, 'local.yaml');
  fs.writeFileSync(
    file,
    [
      'all:',
      '  vars:',
      '    fridge_image: example/flink-fridge',
      '    fridge_model: 3B',
      '  children:',
      '    managers:',
      '      hosts:',
      '        pi1: {ansible_host: 127.0.0.1, ansible_connection: local}',
      '    workers:',
      '      hosts: {}',
      '',
    ].join('\n'),
  );
  return file;
}

/** A zip archive with these entries, deflated, as `jar` writes one. */
export function zipFile(entries: Record<string, string>): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [name, text] of Object.entries(entries)) {
    const data = Buffer.from(text);
    const packed = deflateRawSync(data);
    const crc = zlib.crc32(data);
    const nameBuf = Buffer.from(name);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(8, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(packed.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBuf.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(8, 10);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(packed.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(nameBuf.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, nameBuf, packed);
    centrals.push(central, nameBuf);
    offset += local.length + nameBuf.length + packed.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(Object.keys(entries).length, 8);
  end.writeUInt16LE(Object.keys(entries).length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}
