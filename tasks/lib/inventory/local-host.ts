// The control machine as a host (Ansible's implicit localhost), for plays that run here: image builds, REST calls.
import type { HostSpec } from './types.ts';

export const LOCALHOST: HostSpec = {
  name: 'localhost',
  address: '127.0.0.1',
  port: 22,
  user: process.env.USER ?? 'root',
  keyFile: undefined,
  passwordEnv: undefined,
  connection: 'local',
  model: 'virtual',
  memoryMiB: 0,
  staticIp: undefined,
  role: 'worker',
  groups: [],
  labels: {},
  vars: {},
  pos: { file: '<implicit localhost>', line: 0, col: 0 },
};
