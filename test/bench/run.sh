#!/usr/bin/env bash
# `npm run bench` lists the benches (each file's opening comment says what it measures and what it needs: most
# drive the virtual fridge, which takes minutes, so none runs unasked); `npm run bench -- NAME [ARGS...]` runs one.
set -euo pipefail
cd "$(dirname "$0")/../.."

if [ "$#" -eq 0 ]; then
  echo "Benches (npm run bench -- NAME [ARGS...], or npx tsx test/bench/NAME.ts [ARGS...]):"
  for f in test/bench/*.ts; do
    echo
    basename "$f" .ts
    sed -n '/^\/\//!q; s|^// \{0,1\}|  |p' "$f"
  done
  exit 0
fi

name=$1
shift
if [[ ! "$name" =~ ^[a-z0-9-]+$ ]] || [ ! -f "test/bench/$name.ts" ]; then
  names=(test/bench/*.ts)
  names=("${names[@]#test/bench/}")
  echo "no bench named '$name'; the benches are: ${names[*]%.ts}" >&2
  exit 5
fi
exec bash tasks/lib/host/node.sh exec npx tsx "test/bench/$name.ts" "$@"
