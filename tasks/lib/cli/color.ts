// Colours, as the common conventions have it: --no-color wins, then FORCE_COLOR (https://force-color.org),
// then NO_COLOR (https://no-color.org), else only on a terminal.

export function useColor(noColorFlag: boolean, env: NodeJS.ProcessEnv, isTTY: boolean): boolean {
  if (noColorFlag) return false;
  const force = env.FORCE_COLOR;
  if (force !== undefined) return force !== '0' && force !== 'false';
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  return isTTY;
}
