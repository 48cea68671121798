#!/usr/bin/env bash
# The test command (npm test): sets up what the suites need, then runs every
# *.test.ts under src/ and test/ with node's test runner. Nothing is skipped:
# a suite whose dependency (Docker, /usr/bin/aws, boto3, s3rver) is missing fails
# and says what is missing. `npm test -- path/to/file.test.ts` runs one file.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d node_modules ] || npm ci
# Crash-recovery tests start bin/sagebox.js, which runs dist/: never test a stale build.
npm run --silent build
if [ "${SAGEBOX_SKIP_IMAGES:-}" != "1" ]; then
  bash scripts/build-test-images.sh
fi
# Containers and networks of test servers (instance id 'sbt-...') that a killed
# run left behind would otherwise keep running and load the machine.
if docker info >/dev/null 2>&1; then
  leftovers=$(docker ps -a --filter label=sagebox.instance --format '{{.ID}} {{.Label "sagebox.instance"}}' | awk '$2 ~ /^sbt-/ {print $1}')
  [ -z "$leftovers" ] || docker rm -f $leftovers >/dev/null
  nets=$(docker network ls --filter label=sagebox.instance --format '{{.ID}} {{.Label "sagebox.instance"}}' | awk '$2 ~ /^sbt-/ {print $1}')
  [ -z "$nets" ] || docker network rm $nets >/dev/null || true
fi
if [ "$#" -gt 0 ]; then
  files=("$@")
else
  mapfile -t files < <(find src test -name '*.test.ts' -not -path '*/node_modules/*' | sort)
fi
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true
exec node --import tsx --test --test-concurrency="${SAGEBOX_TEST_CONCURRENCY:-3}" \
  --test-reporter=spec "${files[@]}"
