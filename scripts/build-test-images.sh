#!/usr/bin/env bash
# Builds every image the tests and examples use, on top of the local base image:
#   sagebox/base:bookworm                (scripts/build-base-image.sh)
#   sagebox-examples/<dir>:latest        for each examples/<dir>/Dockerfile
#   sagebox-test/<dir>:latest            for each test/images/<dir>/Dockerfile
# Nothing is skipped; Docker's layer cache makes a second run take seconds.
# examples/python-ml is built first: its "shared layer" block is repeated verbatim
# in the other Python examples so they reuse one cached apt layer.
# The examples and the test images are built as two parallel streams
# (SAGEBOX_BUILD_JOBS=1 for one stream). Arguments: directory names to build only
# those (e.g. `probe fastserve`).
set -euo pipefail
cd "$(dirname "$0")/.."

BASE="${SAGEBOX_BASE_IMAGE:-sagebox/base:bookworm}"
JOBS="${SAGEBOX_BUILD_JOBS:-2}"
LOGDIR=$(mktemp -d /tmp/sagebox-image-build.XXXXXX)
trap 'rm -rf "$LOGDIR"' EXIT

log() { echo "[build-test-images] $*"; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

t_all=$(now)
docker info >/dev/null 2>&1 || { log "ERROR: Docker engine not answering (start dockerd first)"; exit 1; }

t=$(now)
bash scripts/build-base-image.sh
log "base image $BASE ready ($(elapsed "$t")s)"

wanted=("$@")
want() {
  [ "${#wanted[@]}" -eq 0 ] && return 0
  local w; for w in "${wanted[@]}"; do [ "$w" = "$1" ] && return 0; done
  return 1
}

# Check the shared python-ml block has not drifted in any example.
shared_block() { sed -n '/^# --- shared layer: begin ---$/,/^# --- shared layer: end ---$/p' "$1"; }
ref_block=$(shared_block examples/python-ml/Dockerfile 2>/dev/null || true)
for f in examples/*/Dockerfile; do
  if grep -q '^# --- shared layer: begin ---$' "$f" && [ "$(shared_block "$f")" != "$ref_block" ]; then
    log "WARNING: the shared layer block in $f differs from examples/python-ml/Dockerfile;"
    log "         that image will not reuse the cached Python layer (slower build)"
  fi
done

# build_one <context dir> <tag> <stream name>
build_one() {
  local dir=$1 tag=$2 stream=$3 t0 lf
  t0=$(now)
  lf="$LOGDIR/$(echo "$tag" | tr '/:' '__').log"
  if docker build --build-arg BASE_IMAGE="$BASE" -t "$tag" "$dir" >"$lf" 2>&1; then
    log "built $tag from $dir in $(elapsed "$t0")s"
    echo "$tag $(elapsed "$t0")" >>"$LOGDIR/$stream.times"
  else
    log "FAILED: $tag from $dir after $(elapsed "$t0")s; last lines of the build:"
    grep -v -e '^DEPRECATED: The legacy builder' -e 'Install the buildx component' \
      -e 'docs.docker.com/go/buildx' "$lf" | tail -n 40 | sed 's/^/    /'
    return 1
  fi
}

examples_stream() {
  local d name
  if [ -f examples/python-ml/Dockerfile ] && want python-ml; then
    build_one examples/python-ml sagebox-examples/python-ml:latest examples
  fi
  for d in examples/*/; do
    d=${d%/}; name=$(basename "$d")
    [ "$name" = python-ml ] && continue
    [ -f "$d/Dockerfile" ] || continue
    want "$name" || continue
    build_one "$d" "sagebox-examples/$name:latest" examples
  done
}

tests_stream() {
  local d name
  for d in test/images/*/; do
    d=${d%/}; name=$(basename "$d")
    [ -f "$d/Dockerfile" ] || continue
    want "$name" || continue
    build_one "$d" "sagebox-test/$name:latest" tests
  done
}

status=0
if [ "$JOBS" -gt 1 ]; then
  examples_stream & p1=$!
  tests_stream & p2=$!
  wait "$p1" || status=1
  wait "$p2" || status=1
else
  examples_stream || status=1
  [ "$status" -eq 0 ] && { tests_stream || status=1; }
fi

if [ "$status" -ne 0 ]; then
  log "image build FAILED after $(elapsed "$t_all")s"
  exit 1
fi
n=$(cat "$LOGDIR"/*.times 2>/dev/null | wc -l)
log "all $n image(s) built in $(elapsed "$t_all")s"
