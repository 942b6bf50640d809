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

  it('advertises each jobmanager under its own address with container-ip (high availability)', async () => {
    const home = await fakeFlinkHome(BASE);
    const own = execFileSync('hostname', ['-i'], { encoding: 'utf8' }).trim().split(/\s+/)[0];
    const r = await start(home, ['jobmanager'], { JOB_MANAGER_RPC_ADDRESS: 'container-ip' });
    expect([r.config['jobmanager.rpc.address'], r.config['rest.address']]).toEqual([own, own]);
  });

  it("zookeeper: writes zoo.cfg from ZOO_MY_ID and ZOO_SERVERS and runs Flink's quorum peer with a small heap", async () => {
    const home = await fakeFlinkHome(BASE);
    const java = path.join(home, 'jdk');
    await mkdir(path.join(java, 'bin'), { recursive: true });
    await writeFile(path.join(java, 'bin', 'java'), '#!/bin/sh\necho "java $*"\n');
    await chmod(path.join(java, 'bin', 'java'), 0o755);
    const servers = 'server.1=zookeeper-1:2888:3888 server.2=zookeeper-2:2888:3888 server.3=zookeeper-3:2888:3888';
    const env = { PATH: process.env.PATH ?? '', FLINK_HOME: home, FRIDGE_ROLE_FILE: path.join(home, 'role'), JAVA_HOME: java, ZOO_MY_ID: '2', ZOO_SERVERS: servers, ZOO_HEAP_MB: '24', DISABLE_JEMALLOC: 'true' };
    const { stdout } = await run('bash', [ENTRYPOINT, 'zookeeper'], { env });
    const cfg = (await readFile(path.join(home, 'conf', 'zoo.cfg'), 'utf8')).split('\n').filter((l) => l && !l.startsWith('#'));
    expect(cfg).toEqual([
      'tickTime=2000',
      'initLimit=10',
      'syncLimit=5',
      `dataDir=${home}/zookeeper`,
      'clientPort=2181',
      'quorumListenOnAllIPs=true',
      'autopurge.snapRetainCount=3',
      'autopurge.purgeInterval=1',
      'server.1=zookeeper-1:2888:3888',
      'server.2=zookeeper-2:2888:3888',
      'server.3=zookeeper-3:2888:3888',
    ]);
    expect(stdout.trim()).toMatch(/^java -Xms24m -Xmx24m .* -classpath fridge-launch --classpath\s+LD_PRELOAD=\s* org\.apache\.flink\.runtime\.zookeeper\.FlinkZooKeeperQuorumPeer --zkConfigFile \S+\/conf\/zoo\.cfg --peerId 2$/s);
    expect(await readFile(path.join(home, 'role'), 'utf8')).toBe('zookeeper\n');
    await expect(run('bash', [ENTRYPOINT, 'zookeeper'], { env: { ...env, ZOO_SERVERS: 'server.1=zk;rm -rf /' } })).rejects.toThrow(/ZOO_SERVERS: expected server.N=host:peerport:electionport entries/);
    await expect(run('bash', [ENTRYPOINT, 'zookeeper'], { env: { ...env, ZOO_MY_ID: '' } })).rejects.toThrow(/ZOO_MY_ID must be this server's number/);
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
