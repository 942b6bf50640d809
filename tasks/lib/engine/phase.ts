// A phase is one module with a name, its options and a run function over a Run (plays of steps).
import type { Run } from './runner.ts';

export interface PhaseOption {
  type: 'string' | 'boolean';
  short?: string;
  multiple?: boolean;
  description: string;
  /** Shown in --help; the phase applies it itself. */
  placeholder?: string;
}

export interface Phase {
  name: string;
  /** One line for --help. */
  description: string;
  options?: Record<string, PhaseOption>;
  run(run: Run): Promise<void>;
}
