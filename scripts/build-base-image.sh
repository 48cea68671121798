#!/usr/bin/env bash
# Ensures the local Docker image sagebox/base:bookworm exists (a Debian bookworm
# root filesystem that every sagebox example/test image is built FROM, passed as
# --build-arg BASE_IMAGE=sagebox/base:bookworm).
#
# Order of attempts:
#   1. image already present          -> exit at once
#   2. docker pull debian:bookworm-slim (short timeout) and tag it
#   3. debootstrap --variant=minbase bookworm + docker import
#
# Env: SAGEBOX_BASE_IMAGE (default sagebox/base:bookworm),
#      SAGEBOX_DEBIAN_MIRROR (default http://deb.debian.org/debian),
#      SAGEBOX_PULL_TIMEOUT (seconds, default 20; 0 skips the pull attempt).
set -euo pipefail

IMAGE="${SAGEBOX_BASE_IMAGE:-sagebox/base:bookworm}"
MIRROR="${SAGEBOX_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
PULL_TIMEOUT="${SAGEBOX_PULL_TIMEOUT:-20}"
SUITE=bookworm

log() { echo "[build-base-image] $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

have_image() { docker image inspect "$IMAGE" >/dev/null 2>&1; }

command -v docker >/dev/null 2>&1 || die "docker CLI not found on PATH"
docker info >/dev/null 2>&1 || die "Docker engine not answering (start it: nohup dockerd >/var/log/dockerd.log 2>&1 &)"

if have_image; then
  log "$IMAGE already present"
  exit 0
fi

# Serialise concurrent callers (parallel test suites, CI and a developer).
LOCK=/tmp/sagebox-build-base-image.lock
exec 9>"$LOCK"
if ! flock -n 9; then
  log "another build of $IMAGE is running; waiting for it"
  flock 9
fi
if have_image; then
  log "$IMAGE was built by another process"
  exit 0
fi

start=$(date +%s)

if [ "$PULL_TIMEOUT" != "0" ]; then
  log "trying: docker pull debian:$SUITE-slim (timeout ${PULL_TIMEOUT}s)"
  if timeout "$PULL_TIMEOUT" docker pull -q "debian:$SUITE-slim" >/dev/null 2>&1; then
    docker tag "debian:$SUITE-slim" "$IMAGE"
    log "tagged debian:$SUITE-slim as $IMAGE ($(( $(date +%s) - start ))s)"
    exit 0
  fi
  log "pull failed or timed out (no registry reachable?); falling back to debootstrap"
fi

[ "$(id -u)" = "0" ] || die "debootstrap needs root"
command -v debootstrap >/dev/null 2>&1 || die "debootstrap not installed (apt-get install -y debootstrap)"

WORK=$(mktemp -d /var/tmp/sagebox-rootfs.XXXXXX)
cleanup() { rm -rf --one-file-system "$WORK"; }
trap cleanup EXIT
ROOTFS="$WORK/rootfs"

log "debootstrap --variant=minbase $SUITE from $MIRROR (about 30-60 s)"
if ! debootstrap --variant=minbase "$SUITE" "$ROOTFS" "$MIRROR" >"$WORK/debootstrap.log" 2>&1; then
  tail -n 30 "$WORK/debootstrap.log" >&2 || true
  die "debootstrap failed (log above)"
fi

# Make the tree behave like the slim image containers expect: no docs/man/locales
# installed by later apt-get runs, apt caches cleaned, a usable sources.list.
mkdir -p "$ROOTFS/etc/dpkg/dpkg.cfg.d" "$ROOTFS/etc/apt/apt.conf.d"
cat >"$ROOTFS/etc/dpkg/dpkg.cfg.d/sagebox-slim" <<'CFG'
# sagebox base image: keep package documentation out of container images
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
path-exclude /usr/share/lintian/*
CFG
cat >"$ROOTFS/etc/apt/apt.conf.d/90sagebox" <<'CFG'
APT::Install-Recommends "false";
APT::Install-Suggests "false";
Acquire::Languages "none";
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb || true"; };
CFG
cat >"$ROOTFS/etc/apt/sources.list" <<SRC
deb $MIRROR $SUITE main
deb $MIRROR $SUITE-updates main
deb http://deb.debian.org/debian-security $SUITE-security main
SRC
rm -rf "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/var/cache/apt/*.bin \
       "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS"/var/log/*.log \
       "$ROOTFS"/usr/share/doc/* "$ROOTFS"/usr/share/man/* 2>/dev/null || true
: >"$ROOTFS/etc/hostname"
# resolv.conf / hosts are provided by Docker at run time
rm -f "$ROOTFS/etc/resolv.conf"; : >"$ROOTFS/etc/resolv.conf"

log "importing root filesystem as $IMAGE"
tar --numeric-owner -C "$ROOTFS" -c . | docker import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV LANG=C.UTF-8' \
  --change 'CMD ["bash"]' \
  -m "debootstrap --variant=minbase $SUITE $MIRROR" \
  - "$IMAGE" >/dev/null

have_image || die "import finished but $IMAGE is not listed"
log "built $IMAGE with debootstrap in $(( $(date +%s) - start ))s ($(docker image inspect -f '{{.Size}}' "$IMAGE" | awk '{printf "%.0f MB", $1/1e6}'))"
