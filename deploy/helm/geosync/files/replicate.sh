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
#   SRC_CREDS, DEST_CREDS              USER:PASSWORD (optional)
#   SRC_TLS_VERIFY, DEST_TLS_VERIFY    true (default) or false (plain HTTP, e.g. a registry in the pod network)
#   SKOPEO, CURL                       the binaries (default: skopeo, curl from PATH)
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

# Every repository of SOURCE's catalog, one per line, following its pagination (Link: <...>; rel="next").
list_repositories() {
  local scheme=https
  [[ $SRC_TLS_VERIFY == false ]] && scheme=http
  local next="/v2/_catalog?n=1000" headers body
  headers=$(mktemp)
  while [[ -n $next ]]; do
    body=$("$CURL" -fsS --max-time 30 ${SRC_CREDS:+-u "$SRC_CREDS"} -D "$headers" "$scheme://$SOURCE$next")
    printf '%s' "$body" | tr -d '\n' |
      sed -n 's/.*"repositories"[[:space:]]*:[[:space:]]*\[\([^]]*\)\].*/\1/p' | tr ',' '\n' |
      sed -e 's/^[[:space:]]*"//' -e 's/"[[:space:]]*$//' | sed '/^$/d'
    next=$(tr -d '\r' <"$headers" | sed -n 's/^[Ll]ink:[[:space:]]*<\([^>]*\)>.*rel="\{0,1\}next"\{0,1\}.*/\1/p')
  done
  rm -f "$headers"
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
    --src-tls-verify="$SRC_TLS_VERIFY" --dest-tls-verify="$DEST_TLS_VERIFY" \
    ${SRC_CREDS:+--src-creds "$SRC_CREDS"} ${DEST_CREDS:+--dest-creds "$DEST_CREDS"} \
    "$SOURCE/$repository" "$target"; then
    echo "replicate: $repository from $SOURCE failed" >&2
    failed=1
  fi
done <<<"$repositories"
exit "$failed"
