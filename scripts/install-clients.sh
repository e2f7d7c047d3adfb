#!/usr/bin/env bash
# Builds the OCI clients the tests run besides skopeo, at the versions of scripts/client-versions,
# into .tools/<name>/<version>/<name> (git-ignored), with `go install` from the Go module proxy:
#   crane  (github.com/google/go-containerregistry/cmd/crane)
#   regctl (github.com/regclient/regclient/cmd/regctl)
#   oras   (oras.land/oras/cmd/oras)
#   containerd-client (test/support/clients/containerd-client: containerd's core/remotes/docker resolver,
#          fetcher and pusher, module pinned by its go.mod/go.sum)
# and the servers the storage tests run:
#   registry        (github.com/distribution/distribution/v3/cmd/registry: CNCF distribution v3,
#                    for its azure and gcs storage drivers; 2.8 is Debian's docker-registry)
#   fake-gcs-server (github.com/fsouza/fake-gcs-server: a Google Cloud Storage emulator)
# and the chart tool:
#   helm            (helm.sh/helm/v4/cmd/helm: lint and template of deploy/helm/geosync)
# and the signer:
#   cosign          (github.com/sigstore/cosign/v2/cmd/cosign: sign and verify, keys made in the test)
# and Envoy Gateway's CLI:
#   egctl           (github.com/envoyproxy/gateway/cmd/egctl: x translate, Gateway API to xDS)
# Idempotent: a client already built at its version is left alone (a first build takes 2
# to 6 minutes per tool on 2 cores; later runs, none). Needs Go 1.24 or newer.
set -euo pipefail
cd "$(dirname "$0")/.."

declare -A module=(
  [crane]=github.com/google/go-containerregistry/cmd/crane
  [regctl]=github.com/regclient/regclient/cmd/regctl
  [oras]=oras.land/oras/cmd/oras
  [registry]=github.com/distribution/distribution/v3/cmd/registry
  [fake-gcs-server]=github.com/fsouza/fake-gcs-server
  [helm]=helm.sh/helm/v4/cmd/helm
  [cosign]=github.com/sigstore/cosign/v2/cmd/cosign
  [egctl]=github.com/envoyproxy/gateway/cmd/egctl
)
version() { sed -n "s/^$1=//p" scripts/client-versions; }
# containerd-client is built from this repository: its folder is keyed by its sources too, so an
# edit rebuilds it (test/support/clients/oci-clients.ts computes the same key).
sources_key() {
  cat test/support/clients/containerd-client/{main.go,go.mod,go.sum} | sha256sum | cut -c1-12
}

if ! command -v go >/dev/null 2>&1; then
  echo "install-clients: Go 1.24 or newer is needed to build the test clients (https://go.dev/doc/install)" >&2
  exit 1
fi
export GOFLAGS=-buildvcs=false
for name in crane regctl oras containerd-client registry fake-gcs-server helm cosign egctl; do
  v=$(version "$name")
  [[ $name == containerd-client ]] && v=$v-$(sources_key)
  dir=.tools/$name/$v
  if [[ -x $dir/$name ]]; then
    echo "install-clients: $name $v present"
    continue
  fi
  echo "install-clients: building $name $v with $(go version | cut -d' ' -f3) into $dir"
  rm -rf "$dir.tmp"
  mkdir -p "$dir.tmp"
  if [[ $name == containerd-client ]]; then
    (cd test/support/clients/containerd-client && go build -o "../../../../$dir.tmp/$name" .)
  else
    GOBIN="$PWD/$dir.tmp" go install "${module[$name]}@$v"
  fi
  rm -rf "$dir"
  mv "$dir.tmp" "$dir"
done
