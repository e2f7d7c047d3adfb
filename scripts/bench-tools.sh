#!/usr/bin/env bash
# Installs what `npm run bench` needs beyond the tests' own dependencies (scripts/install-deps.sh,
# which scripts/bench.sh runs first): the HTTP load generator vegeta
# (https://github.com/tsenart/vegeta), built from source with `go install` from the Go module proxy
# into .bench/vegeta/<version>/ (git-ignored). Idempotent: what is already there is left alone.
# Says what it installs.
# usage: scripts/bench-tools.sh [--print-path]   (--print-path: only print vegeta's path)
set -euo pipefail
cd "$(dirname "$0")/.."

VEGETA_VERSION=v12.13.0
dir=.bench/vegeta/$VEGETA_VERSION
bin=$dir/vegeta

if [[ ${1:-} == --print-path ]]; then
  echo "$PWD/$bin"
  exit 0
fi

if [[ -x $bin ]] && "$bin" -version >/dev/null 2>&1; then
  echo "bench-tools: vegeta $VEGETA_VERSION present ($bin)"
  exit 0
fi
if ! command -v go >/dev/null 2>&1; then
  echo "bench-tools: Go 1.22 or newer is needed to build vegeta $VEGETA_VERSION" \
    "(https://go.dev/doc/install; Debian 12's golang-go is 1.19, too old)" >&2
  exit 1
fi
echo "bench-tools: installing vegeta $VEGETA_VERSION with $(go version | cut -d' ' -f3) (go install) into $dir"
rm -rf "$dir"
mkdir -p "$dir"
GOBIN="$PWD/$dir" GOFLAGS=-buildvcs=false go install "github.com/tsenart/vegeta/v12@$VEGETA_VERSION"
"$bin" -version >/dev/null
echo "bench-tools: vegeta $VEGETA_VERSION installed ($bin)"
