// Issue #15 item 19: a Ctrl-C (or a crash) while Fridge writes its local state leaves no half-written file.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { writeFileAtomic, writeFileAtomicSync } from '../../tasks/lib/atomic-file.ts';
import { recordPublishedImage } from '../../tasks/lib/deploy/image-ref.ts';
import { recallStopped, rememberStopped, type StoppedJob } from '../../tasks/lib/deploy/savepoints.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fridge-atomic-'));
afterEach(() => vi.restoreAllMocks());

/** fs.writeFileSync that writes the first half and then dies, as a process killed mid-write would. */
function dieHalfway(): void {
  const real = fs.writeFileSync.bind(fs);
  vi.spyOn(fs, 'writeFileSync').mockImplementation((file, data) => {
    const text = String(data);
    real(file as string, text.slice(0, text.length / 2));
    throw new Error('killed');
  });
}

describe('local state files are replaced atomically', () => {
  it('the published image record keeps its old content when a write is cut short', () => {
    const file = path.join(dir, 'image.json');
    recordPublishedImage({ ref: 'old/ref:1', builtAt: '2026-01-01T00:00:00Z' }, file);
    const before = fs.readFileSync(file, 'utf8');
    dieHalfway();
    expect(() => recordPublishedImage({ ref: 'new/ref:2', builtAt: '2026-01-02T00:00:00Z' }, file)).toThrow('killed');
    expect(fs.readFileSync(file, 'utf8')).toBe(before);
    expect(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('the savepoints to resume from survive a cut-short write', () => {
    const file = path.join(dir, 'stopped-jobs.json');
    const job: StoppedJob = { cluster: 'http://10.77.0.11:8081', name: 'sensor-window@1', jobId: 'a', savepoint: 'file:/sp/1', stoppedAt: 1 };
    rememberStopped([job], file);
    dieHalfway();
    expect(() => rememberStopped([{ ...job, jobId: 'b' }], file)).toThrow('killed');
    expect(recallStopped(job.cluster, file)).toEqual([job]);
  });

  it('writes the new content, with the mode asked for', async () => {
    const file = path.join(dir, 'x');
    writeFileAtomicSync(file, 'one', 0o600);
    expect(fs.readFileSync(file, 'utf8')).toBe('one');
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    await writeFileAtomic(file, 'two');
    expect(fs.readFileSync(file, 'utf8')).toBe('two');
  });
});
