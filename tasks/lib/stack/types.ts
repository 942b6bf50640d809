// What the stack generator takes and gives. Pure data: the deploy phase writes `yaml` and `files`
// into one directory on the leader and runs `docker stack deploy -c <dir>/docker-stack.yaml`.

import type { OptionalServices } from '../inventory/types.ts';

export type ServiceName = keyof OptionalServices;

/** Process sizes of the Flink JVMs (jobmanager/taskmanager.memory.process.size), in MiB. */
export interface FlinkMemory {
  jobmanagerProcessMiB: number;
  taskmanagerProcessMiB: number;
}

export interface StackOptions {
  /** Flink image as the nodes pull it, e.g. 10.77.0.1:5000/fridge/flink:2.3.0-1a2b3c. */
  imageRef: string;
  /**
   * The generated Flink configuration (config.yaml text, flat or nested keys). It reaches the
   * containers as FLINK_PROPERTIES; its memory.process.size keys size the container limits.
   */
  flinkConfig?: string;
  /** Process sizes when flinkConfig does not carry them (e.g. tasks/lib/flink/config.ts's profile). */
  memory?: FlinkMemory;
}

export interface StackProblem {
  severity: 'error' | 'warning';
  /** The service or host the problem is about. */
  subject: string;
  message: string;
}

export interface GeneratedStack {
  /** The stack file, byte-identical for identical input; empty when the Flink profile was refused (see problems). */
  yaml: string;
  /** Files the stack file's `configs` read, relative to the stack file's directory. */
  files: Record<string, string>;
  /** Short service names in the stack, sorted (docker names them <stack>_<name>). */
  services: string[];
  /** What a healthy cluster reports on /overview once everything is up. */
  expected: { taskmanagers: number; slots: number };
  /**
   * How many taskmanagers the placement rules and the Pis' memory allow (each at its memory limit, next to
   * the pinned services and OS_MIN_MIB for the OS), with the per-host breakdown for messages.
   */
  capacity: { taskmanagers: number; detail: string };
  /** Swarm secrets the stack refers to as external: the deploy phase creates them from the named env vars. */
  secrets: Array<{ name: string; env: string }>;
  /** Errors mean the stack must not be deployed as asked (e.g. grafana on the virtual fridge). */
  problems: StackProblem[];
}

/** File name the deploy phase should give the stack file, so `files` resolve next to it. */
export const STACK_FILE = 'docker-stack.yaml';
