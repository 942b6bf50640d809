#!/usr/bin/env bash
# Installs actionlint (the GitHub workflow linter) into .fridge/bin from the Go module proxy, once:
# a second run finds the pinned version there and returns at once. Prints the binary's path.
set -euo pipefail

ACTIONLINT_VERSION="${ACTIONLINT_VERSION:-v1.7.12}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
bin_dir="${FRIDGE_BIN_DIR:-$root/.fridge/bin}"
bin="$bin_dir/actionlint"

if [ -x "$bin" ] && [ "$("$bin" --version 2>/dev/null | head -n1)" = "$ACTIONLINT_VERSION" ]; then
  echo "$bin"
  exit 0
fi

command -v go >/dev/null 2>&1 || { echo "actionlint: go is needed to build actionlint $ACTIONLINT_VERSION (apt-get install golang-go, or actions/setup-go)" >&2; exit 1; }
mkdir -p "$bin_dir"
echo "actionlint: building $ACTIONLINT_VERSION from the Go module proxy" >&2
GOBIN="$bin_dir" GOFLAGS=-buildvcs=false go install "github.com/rhysd/actionlint/cmd/actionlint@$ACTIONLINT_VERSION" >&2
"$bin" --version >/dev/null
echo "$bin"
