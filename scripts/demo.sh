#!/usr/bin/env bash
# `npm run demo`: the whole example on the embedded defaults (SQLite, the local
# object store, the local Docker engine), with its own set-up.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v docker >/dev/null 2>&1; then
  echo "sagebox demo: the docker command is missing. Install Docker (on Debian: apt-get install -y docker.io) and start it." >&2
  exit 1
fi
if ! docker info >/dev/null 2>&1; then
  echo "sagebox demo: the Docker engine is not answering. Start it (e.g. 'sudo systemctl start docker', or 'dockerd &' as root) and run again." >&2
  exit 1
fi
if ! command -v python3 >/dev/null 2>&1; then
  echo "sagebox demo: python3 is needed to generate the sample data set." >&2
  exit 1
fi
[ -d node_modules ] || npm ci
[ -f dist/cli/main.js ] || npm run build
echo "== building the example images (cached after the first run)"
bash scripts/build-test-images.sh python-ml seed001-training seed001-inference seed004-feature-hashing
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true
exec node --import tsx examples/demo/demo.ts "$@"
