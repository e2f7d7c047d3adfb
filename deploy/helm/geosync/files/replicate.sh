#!/usr/bin/env bash
# Reference replication for a geo-replicated registry run with geosync: copies every tag of the
# source region's repositories into THIS region's registry with `skopeo sync`, through the
# registry API, so this region's registry stores each image as a push of its own and its
# notifications (webhooks, geosync's replication figures) fire for it. Run it in every region, once
# per source region (a Kubernetes CronJob: ../kubernetes/replication.yaml).
#
# usage: replicate.sh SOURCE DEST [REPOSITORY...]
#   SOURCE      host[:port] of the source region's registry (its public, Envoy-fronted address is fine)
#   DEST        host[:port] of this region's registry ITSELF, never its Envoy (see below)
#   REPOSITORY  repositories to copy; none given: every repository in SOURCE's /v2/_catalog (needs curl;
#               registries with token auth: list them here instead)
# environment:
#   REGISTRY_AUTH_FILE                 credentials of SOURCE and DEST, in the containers-auth.json format
#                                      ({"auths": {"HOST[:PORT]": {"auth": "<base64 of USER:PASSWORD>"}}}, as
#                                      `skopeo login --authfile FILE` or a Kubernetes docker-registry Secret
#                                      writes it); skopeo reads it, and the catalog listing sends SOURCE's entry
#   SRC_CREDS, DEST_CREDS              USER:PASSWORD, instead of the file (optional)
#   SRC_TLS_VERIFY, DEST_TLS_VERIFY    true (default) or false (plain HTTP, e.g. a registry in the pod network)
#   SKOPEO, CURL                       the binaries (default: skopeo, curl from PATH)
#   TMPDIR                             where the private temporary directory goes (default /tmp)
#
# Credentials never appear on a command line, which every user of the machine can read (ps,
# /proc/PID/cmdline): SRC_CREDS and DEST_CREDS reach skopeo as auth files and curl as a header
# file, in a directory only this user can read, removed when the script ends.
#
# Why DEST must not be the region's Envoy: skopeo sync asks the destination for each manifest first
# and skips images it already serves. Through Envoy, geosync answers that request from the source
# region for as long as the image is missing here, so every new image would be skipped and never
# copied. Copied images keep their digests (--preserve-digests): a conversion would make new content.
# Images already present are skipped, so a re-run pushes nothing and fires no event.
# Deletions are not replicated.
set -euo pipefail

if [[ $# -lt 2 ]]; then
  sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//' >&2
  exit 2
fi
SOURCE=$1
DEST=$2
shift 2
SKOPEO=${SKOPEO:-skopeo}
CURL=${CURL:-curl}
SRC_TLS_VERIFY=${SRC_TLS_VERIFY:-true}
DEST_TLS_VERIFY=${DEST_TLS_VERIFY:-true}

umask 077
private=$(mktemp -d)
trap 'rm -rf "$private"' EXIT

# base64 of stdin on one line (the credentials go through a pipe, never an argument).
encode() { base64 | tr -d '\n'; }

# An auth file for one registry, from USER:PASSWORD in the variable named $2 (printf is a builtin:
# no process sees the value).
write_auth_file() { # HOST VARIABLE FILE
  local auth
  auth=$(printf '%s' "${!2}" | encode)
  printf '{"auths":{"%s":{"auth":"%s"}}}\n' "$1" "$auth" >"$3"
}

# Auth-file options for skopeo: SRC_CREDS/DEST_CREDS as private files; without them skopeo reads
# REGISTRY_AUTH_FILE (or its default file) itself.
auth_options=()
if [[ -n ${SRC_CREDS:-} ]]; then
  write_auth_file "${SOURCE%%/*}" SRC_CREDS "$private/src-auth.json"
  auth_options+=(--src-authfile "$private/src-auth.json")
fi
if [[ -n ${DEST_CREDS:-} ]]; then
  write_auth_file "${DEST%%/*}" DEST_CREDS "$private/dest-auth.json"
  auth_options+=(--dest-authfile "$private/dest-auth.json")
fi

# SOURCE's base64 USER:PASSWORD for curl: SRC_CREDS, else SOURCE's "auth" in REGISTRY_AUTH_FILE.
source_basic_auth() {
  if [[ -n ${SRC_CREDS:-} ]]; then
    printf '%s' "$SRC_CREDS" | encode
  elif [[ -n ${REGISTRY_AUTH_FILE:-} && -r $REGISTRY_AUTH_FILE ]]; then
    local key=${SOURCE%%/*}
    tr -d ' \t\r\n' <"$REGISTRY_AUTH_FILE" |
      sed -n "s/.*\"${key//./\\.}\":{[^}]*\"auth\":\"\([^\"]*\)\".*/\1/p"
  fi
}

# Every repository of SOURCE's catalog, one per line, following its pagination (Link: <...>; rel="next").
list_repositories() {
  local scheme=https
  [[ $SRC_TLS_VERIFY == false ]] && scheme=http
  local next="/v2/_catalog?n=1000" headers="$private/catalog-headers" auth=() basic
  basic=$(source_basic_auth)
  if [[ -n $basic ]]; then
    printf 'Authorization: Basic %s\n' "$basic" >"$private/src-header"
    auth=(-H "@$private/src-header")
  fi
  while [[ -n $next ]]; do
    # Explicit: `set -e` does not reach into this function's command substitution, and a catalog
    # that cannot be read must fail the run, not copy nothing and succeed.
    if ! body=$("$CURL" -fsS --max-time 30 "${auth[@]}" -D "$headers" "$scheme://$SOURCE$next"); then
      echo "replicate: cannot list the repositories of $SOURCE" >&2
      exit 1
    fi
    printf '%s' "$body" | tr -d '\n' |
      sed -n 's/.*"repositories"[[:space:]]*:[[:space:]]*\[\([^]]*\)\].*/\1/p' | tr ',' '\n' |
      sed -e 's/^[[:space:]]*"//' -e 's/"[[:space:]]*$//' | sed '/^$/d'
    next=$(tr -d '\r' <"$headers" | sed -n 's/^[Ll]ink:[[:space:]]*<\([^>]*\)>.*rel="\{0,1\}next"\{0,1\}.*/\1/p')
  done
}

if [[ $# -gt 0 ]]; then
  repositories=$(printf '%s\n' "$@")
else
  repositories=$(list_repositories)
fi

failed=0
while IFS= read -r repository; do
  [[ -z $repository ]] && continue
  # skopeo sync puts SOURCE/a/b/app under DEST/a/b as "app": name the destination's namespace.
  namespace=$(dirname "$repository")
  target=$DEST
  [[ $namespace != . ]] && target="$DEST/$namespace"
  if ! "$SKOPEO" sync --src docker --dest docker --all --preserve-digests --retry-times 3 \
    --src-tls-verify="$SRC_TLS_VERIFY" --dest-tls-verify="$DEST_TLS_VERIFY" "${auth_options[@]}" \
    "$SOURCE/$repository" "$target"; then
    echo "replicate: $repository from $SOURCE failed" >&2
    failed=1
  fi
done <<<"$repositories"
exit "$failed"
