// A boot partition to read and write: a mounted directory (--boot DIR), or the FAT partition inside a raw image
// or a card (--image/--device), reached with mtools at its byte offset, without mounting anything.
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

export interface BootVolume {
  /** Shown to the user: "/media/bootfs", "card.img (FAT at 4194304)". */
  label: string;
  list(): Promise<string[]>;
  /** undefined when the file is absent. */
  read(name: string): Promise<string | undefined>;
  write(name: string, content: string): Promise<void>;
}

export class DirVolume implements BootVolume {
  constructor(private readonly dir: string) {}
  get label(): string {
    return this.dir;
  }
  async list(): Promise<string[]> {
    return (await fs.readdir(this.dir, { withFileTypes: true })).filter((e) => e.isFile()).map((e) => e.name);
  }
  async read(name: string): Promise<string | undefined> {
    return fs.readFile(path.join(this.dir, name), 'utf8').catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return undefined;
      throw e;
    });
  }
  async write(name: string, content: string): Promise<void> {
    // FAT has no rename-over semantics worth relying on; a card is written once and read back.
    await fs.writeFile(path.join(this.dir, name), content);
  }
}

export interface Partition {
  start: number;
  size: number;
  type: string;
}

const FAT_TYPES = new Set(['b', 'c', 'e', '6', 'EBD0A0A2-B9E5-4433-87C0-68B6B72699C7', 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B']);

/** The first FAT partition in `sfdisk --json` output, as a byte offset; an error names what was found instead. */
export function fatPartitionOffset(sfdiskJson: string): { ok: true; offset: number; size: number } | { ok: false; error: string } {
  let table: { partitiontable?: { sectorsize?: number; partitions?: Partition[] } };
  try {
    table = JSON.parse(sfdiskJson) as typeof table;
  } catch {
    return { ok: false, error: 'no partition table (sfdisk --json could not read one)' };
  }
  const t = table.partitiontable;
  const parts = t?.partitions ?? [];
  const sector = t?.sectorsize ?? 512;
  const fat = parts.find((p) => FAT_TYPES.has(p.type.toUpperCase()) || FAT_TYPES.has(p.type.toLowerCase()));
  if (!fat) return { ok: false, error: `no FAT partition in the partition table (types: ${parts.map((p) => p.type).join(', ') || 'none'})` };
  return { ok: true, offset: fat.start * sector, size: fat.size * sector };
}

function run(cmd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    // MTOOLS_SKIP_CHECK: an image has no drive geometry worth checking.
    execFile(cmd, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, env: { ...process.env, MTOOLS_SKIP_CHECK: '1', MTOOLS_NO_VFAT: '0' } }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 127) : 0;
      resolve({ code, stdout, stderr: err && !stderr ? err.message : stderr });
    });
  });
}

export async function readPartitionTable(file: string): Promise<{ ok: true; offset: number; size: number } | { ok: false; error: string }> {
  const r = await run('sfdisk', ['--json', file]);
  if (r.code !== 0) return { ok: false, error: `sfdisk --json ${file}: ${r.stderr.trim() || `exit ${r.code}`}` };
  return fatPartitionOffset(r.stdout);
}

export class FatVolume implements BootVolume {
  constructor(
    private readonly file: string,
    private readonly offset: number,
  ) {}
  get label(): string {
    return `${this.file} (FAT at byte ${this.offset})`;
  }
  private get image(): string {
    return `${this.file}@@${this.offset}`;
  }
  async list(): Promise<string[]> {
    const r = await run('mdir', ['-b', '-i', this.image, '::/']);
    if (r.code !== 0) throw new Error(`mdir ${this.label}: ${r.stderr.trim()}`);
    return r.stdout.split('\n').map((l) => l.trim().replace(/^::\//, '')).filter((l) => l !== '' && !l.endsWith('/'));
  }
  async read(name: string): Promise<string | undefined> {
    if (!(await this.list()).some((n) => n.toLowerCase() === name.toLowerCase())) return undefined;
    const r = await run('mtype', ['-i', this.image, `::/${name}`]);
    if (r.code !== 0) throw new Error(`mtype ${name} from ${this.label}: ${r.stderr.trim()}`);
    return r.stdout;
  }
  async write(name: string, content: string): Promise<void> {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'fridge-sdcard-'));
    try {
      const local = path.join(dir, name);
      await fs.writeFile(local, content, { mode: 0o600 });
      // -o: overwrite without asking; -D o does the same for a name clash in mtools' other spellings.
      const r = await run('mcopy', ['-o', '-D', 'o', '-i', this.image, local, `::/${name}`]);
      if (r.code !== 0) throw new Error(`mcopy ${name} to ${this.label}: ${r.stderr.trim()}`);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  }
}
