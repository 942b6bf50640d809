// Installing Debian packages on a Pi the way that survived the virtual fridge's apt cache and flaky LANs.
/**
 * Fresh images have no package lists, so the lists are fetched first. Network phases only run under `timeout`
 * and are retried whole: apt's http method was seen sleeping for minutes on a connection its proxy had closed
 * (CLOSE_WAIT), which apt's own Timeout did not end. dpkg is never killed: the packages are downloaded first,
 * then installed from the local archive. Without recommends.
 */
export function aptInstallCommand(packages: string[]): string {
  const opts = '-o Acquire::http::Timeout=30 -o Acquire::Retries=5';
  const pkgs = `--no-install-recommends ${packages.join(' ')}`;
  return [
    'set -e',
    'export DEBIAN_FRONTEND=noninteractive',
    'fetch() { limit=$1; shift; n=1; until timeout "$limit" apt-get ' + opts + ' "$@"; do',
    '  [ "$n" -lt 3 ] || return 1; echo "apt-get $*: attempt $n failed or timed out after $limit s, retrying" >&2; n=$((n + 1)); sleep 5; done; }',
    'fetch 180 update -qq',
    `fetch 600 install -y -qq --download-only ${pkgs}`,
    `apt-get ${opts} install -y -qq ${pkgs}`,
  ].join('\n');
}
