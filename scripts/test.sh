#!/usr/bin/env bash
# The test command (README: `npm test`). Installs what the tests need, builds, lints, then runs
# every jest project: unit, integration (real gRPC, registries, Swift S3, skopeo) and e2e (the
# Envoy simulator, or a real Envoy when `envoy` is on PATH or ENVOY_BIN is set). The suites start
# and stop their own servers. Ends with one line "N passed, M failed" for CI.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
npm run --silent build
npx eslint . && npx prettier --check . >/dev/null && npx buf lint && echo "lint: ok"

results=$(mktemp)
set +e
npx jest --ci --maxWorkers=2 --json --outputFile="$results" "$@"
rc=$?
set -e
node scripts/tally.js "$results"
rm -f "$results"
exit $rc
