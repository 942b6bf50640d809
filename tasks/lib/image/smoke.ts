// Smoke tests of one platform's image before `latest` moves: `flink --version`, and a JobManager container
// that answers /overview on a port published on 127.0.0.1 only. Arm images run under QEMU here.

import { waitFor } from '../engine/wait.ts';
import { docker, tail } from './docker.ts';

export type SmokeResult = { ok: true; version: string; overviewSeconds: number } | { ok: false; msg: string };

/**
 * 32-bit ARM under QEMU user emulation on a 64-bit host: the JVM's readdir gets 64-bit directory cookies
 * and inode numbers from ext4/overlayfs and fails with EOVERFLOW ("Value too large for defined data type")
 * on /opt/flink/plugins. A real Pi's kernel hands 32-bit processes 32-bit values. Under emulation the
 * directories the JVM lists go to a tmpfs instead.
 */
function emulationWorkaround(platform: string): { flags: string[]; wrap: (cmd: string[]) => string[] } {
  const emulated32 = platform === 'linux/arm/v7' && process.arch !== 'arm';
  if (!emulated32) return { flags: [], wrap: (cmd) => cmd };
  return {
    flags: ['--tmpfs', '/tmp:exec,mode=1777', '-e', 'FLINK_PLUGINS_DIR=/tmp/plugins', '--entrypoint', '/usr/local/bin/fridge-init'],
    wrap: (cmd) => ['-g', '--', 'sh', '-c', 'cp -r /opt/flink/plugins /tmp/plugins && exec /opt/flink/bin/fridge-entrypoint.sh "$@"', 'smoke', ...cmd],
  };
}

export async function smokeTest(image: string, platform: string, expectVersion: string, name: string, timeoutMs = 420_000): Promise<SmokeResult> {
  const emu = emulationWorkaround(platform);
  const v = await docker(['run', '--rm', '--platform', platform, ...emu.flags, image, ...emu.wrap(['flink', '--version'])]);
  const version = /Version: ([^\s,]+)/.exec(v.stdout)?.[1];
  if (!v.ok || version !== expectVersion) return { ok: false, msg: `flink --version in ${image} (${platform}): ${version ?? tail(v.stderr || v.stdout)}; expected ${expectVersion}` };

  await docker(['rm', '-f', name]);
  const started = Date.now();
  const run = await docker(['run', '-d', '--name', name, '--platform', platform, ...emu.flags, '-p', '127.0.0.1::8081', '-e', 'JOB_MANAGER_RPC_ADDRESS=localhost', image, ...emu.wrap(['jobmanager'])]);
  if (!run.ok) return { ok: false, msg: `jobmanager container from ${image} did not start: ${tail(run.stderr)}` };
  try {
    const port = (await docker(['port', name, '8081/tcp'])).stdout.trim().split('\n')[0]?.split(':').pop();
    const answered = await waitFor<SmokeResult>(
      async () => {
        let last: string;
        try {
          const res = await fetch(`http://127.0.0.1:${port}/overview`, { signal: AbortSignal.timeout(5000) });
          if (res.ok) {
            const o = (await res.json()) as { 'flink-version'?: string };
            if (o['flink-version'] === expectVersion) return { done: true, result: { ok: true, version: expectVersion, overviewSeconds: Math.round((Date.now() - started) / 1000) } };
            last = JSON.stringify(o);
          } else last = `HTTP ${res.status}`;
        } catch (e) {
          last = e instanceof Error ? e.message : String(e);
        }
        const state = await docker(['inspect', '--format', '{{.State.Running}}', name]);
        if (state.stdout.trim() !== 'true') {
          const logs = await docker(['logs', '--tail', '20', name]);
          return { done: true, result: { ok: false, msg: `jobmanager from ${image} (${platform}) exited: ${tail(logs.stdout + logs.stderr, 12)}` } };
        }
        return { done: false, last };
      },
      { timeoutMs: Math.max(0, timeoutMs - (Date.now() - started)), intervalMs: 2000 },
    );
    if ('status' in answered) return { ok: false, msg: `jobmanager from ${image} (${platform}) did not answer /overview within ${timeoutMs / 1000} s: ${answered.last}` };
    return answered;
  } finally {
    await docker(['rm', '-f', name]);
  }
}
