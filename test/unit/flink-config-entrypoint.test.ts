// docker/entrypoint.sh composes the Flink configuration without a JVM: the baked base, FLINK_PROPERTIES
// (flat or nested YAML) and JOB_MANAGER_RPC_ADDRESS, later ones winning, values with spaces intact.
import { execFile, execFileSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ENTRYPOINT = path.resolve('docker/entrypoint.sh');

async function fakeFlinkHome(base: string): Promise<string> {
  const home = await mkdtemp(path.join(tmpdir(), 'fridge-image-entry-'));
  await mkdir(path.join(home, 'bin'));
  await mkdir(path.join(home, 'conf'));
  await writeFile(path.join(home, 'conf', 'fridge-base.yaml'), base);
  // Stand in for Fridge's launcher and Flink's scripts: show what they were started with.
  for (const name of ['fridge-launch', 'jobmanager', 'taskmanager']) {
    const script = path.join(home, 'bin', `${name}.sh`);
    await writeFile(script, `#!/bin/sh\necho "${name} $*"\necho "LD_PRELOAD=\${LD_PRELOAD:-}"\n`);
    await chmod(script, 0o755);
  }
  return home;
}

async function start(home: string, args: string[], env: Record<string, string> = {}): Promise<{ stdout: string; config: Record<string, unknown>; text: string }> {
  const { stdout } = await run('bash', [ENTRYPOINT, ...args], { env: { PATH: process.env.PATH ?? '', FLINK_HOME: home, FRIDGE_ROLE_FILE: path.join(home, 'role'), ...env } });
  const text = await readFile(path.join(home, 'conf', 'config.yaml'), 'utf8');
  return { stdout, text, config: parse(text) as Record<string, unknown> };
}

const BASE = [
  'jobmanager.rpc.address: jobmanager',
  'rest.port: 8081',
  'taskmanager.memory.process.size: 448m',
  "env.java.opts.all: '--add-opens=java.base/java.lang=ALL-UNNAMED -Dfoo=bar'",
  '',
].join('\n');

describe('docker/entrypoint.sh', () => {
  it('merges nested FLINK_PROPERTIES over the base, keeps spaces and quoting, and starts the role in the foreground', async () => {
    const home = await fakeFlinkHome(BASE);
    const props = [
      '# a comment',
      'taskmanager:',
      '  memory:',
      '    process:',
      '      size: 512m   # trailing comment',
      '  numberOfTaskSlots: 2',
      'pipeline.name: "a name: with spaces # and a hash"',
      "env.java.opts.taskmanager: -XX:+UseSerialGC -Dx='y z'",
      'pipeline.jars: [a.jar, b.jar]',
    ].join('\n');
    const r = await start(home, ['taskmanager', '-D', 'k=v w'], { FLINK_PROPERTIES: props, JOB_MANAGER_RPC_ADDRESS: 'flink_jobmanager' });
    expect(r.stdout.split('\n')[0]).toBe('fridge-launch taskmanager -D k=v w');
    expect(r.config).toEqual({
      'jobmanager.rpc.address': 'flink_jobmanager',
      'rest.port': 8081,
      'taskmanager.memory.process.size': '512m',
      'env.java.opts.all': '--add-opens=java.base/java.lang=ALL-UNNAMED -Dfoo=bar',
      'taskmanager.numberOfTaskSlots': 2,
      'pipeline.name': 'a name: with spaces # and a hash',
      'env.java.opts.taskmanager': "-XX:+UseSerialGC -Dx='y z'",
      'pipeline.jars': ['a.jar', 'b.jar'],
      'rest.address': 'flink_jobmanager',
    });
    expect(await readFile(path.join(home, 'role'), 'utf8')).toBe('taskmanager\n');
  });

  it('accepts the official image’s flat FLINK_PROPERTIES lines and rewrites from the base at every start', async () => {
    const home = await fakeFlinkHome(BASE);
    await start(home, ['jobmanager'], { FLINK_PROPERTIES: 'rest.port: 18081\njobmanager.rpc.address: jm' });
    const again = await start(home, ['jobmanager'], {});
    expect(again.config['rest.port']).toBe(8081);
    expect(again.config['jobmanager.rpc.address']).toBe('jobmanager');
  });

  it('refuses YAML it cannot represent and a host name that is not one, naming the line', async () => {
    const home = await fakeFlinkHome(BASE);
    await expect(start(home, ['jobmanager'], { FLINK_PROPERTIES: 'pipeline.jars:\n  - a.jar\n' })).rejects.toThrow(/FLINK_PROPERTIES line 2: YAML lists are not supported/);
    await expect(start(home, ['jobmanager'], { FLINK_PROPERTIES: 'env.java.opts.all: |\n  -Da=b\n' })).rejects.toThrow(/FLINK_PROPERTIES line 1: block scalars \(\| or >\) are not supported, write env.java.opts.all on one line/);
    await expect(start(home, ['jobmanager'], { JOB_MANAGER_RPC_ADDRESS: 'jm; rm -rf /' })).rejects.toThrow(/JOB_MANAGER_RPC_ADDRESS is not a host name/);
  });

  it('advertises a TaskManager under the address given, or the container\'s own with container-ip', async () => {
    const home = await fakeFlinkHome(BASE);
    expect((await start(home, ['taskmanager'], { TASK_MANAGER_HOST: 'tm-1.local' })).config['taskmanager.host']).toBe('tm-1.local');
    const own = execFileSync('hostname', ['-i'], { encoding: 'utf8' }).trim().split(/\s+/)[0];
    expect((await start(home, ['taskmanager'], { TASK_MANAGER_HOST: 'container-ip' })).config['taskmanager.host']).toBe(own);
    expect((await start(home, ['taskmanager'], {})).config['taskmanager.host']).toBeUndefined();
  });

  it('starts the role through Flink\'s own scripts with FRIDGE_FLINK_LAUNCHER=flink', async () => {
    const home = await fakeFlinkHome(BASE);
    const r = await start(home, ['jobmanager', '-D', 'a=b'], { FRIDGE_FLINK_LAUNCHER: 'flink' });
    expect(r.stdout.split('\n')[0]).toBe('jobmanager start-foreground -D a=b');
  });

  it('runs any other command as given', async () => {
    const home = await fakeFlinkHome(BASE);
    const { stdout } = await run('bash', [ENTRYPOINT, 'echo', 'hello  world'], { env: { PATH: process.env.PATH ?? '', FLINK_HOME: home } });
    expect(stdout).toBe('hello  world\n');
  });
});
