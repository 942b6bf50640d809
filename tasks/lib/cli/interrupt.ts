// Ctrl-C: the first one ends the run cleanly (the CLI closes the connections and says what was changed),
// a second one ends the process at once. Exit 99, as ansible-playbook does for a user interruption.

export const EXIT_INTERRUPTED = 99;

export interface InterruptListener {
  /** Resolves at the first SIGINT. */
  signalled: Promise<void>;
  readonly fired: boolean;
  dispose(): void;
}

export function listenForInterrupt(exit: (code: number) => never = (code) => process.exit(code)): InterruptListener {
  let fired = false;
  let resolve: () => void = () => undefined;
  const signalled = new Promise<void>((r) => (resolve = r));
  const onSigint = (): void => {
    if (fired) exit(EXIT_INTERRUPTED);
    fired = true;
    process.stderr.write('\ninterrupted: stopping (Ctrl-C again to quit at once)\n');
    resolve();
  };
  process.on('SIGINT', onSigint);
  return {
    signalled,
    get fired() {
      return fired;
    },
    dispose: () => void process.off('SIGINT', onSigint),
  };
}

/** What the operator needs to know to decide what to run next. */
export function interruptedMessage(changedHosts: string[], check: boolean): string {
  const head = 'interrupted (Ctrl-C): connections closed';
  if (check) return `${head}; check mode: nothing was changed`;
  if (changedHosts.length === 0) return `${head}; no host had been changed`;
  return `${head}; hosts changed before the interruption: ${changedHosts.join(', ')} (a step may have been cut short: run the task again to finish it)`;
}
