#!/usr/bin/env bash
# The test command (npm test): sets up what the suites need, then runs every
# *.test.ts under src/ and test/ with node's test runner. Nothing is skipped:
# a suite whose dependency (Docker, /usr/bin/aws, boto3, s3rver) is missing fails
# and says what is missing. `npm test -- path/to/file.test.ts` runs one file.
# test/serial/ runs last and alone: it restarts the Docker engine (it needs root,
# or SAGEBOX_TEST_ENGINE_RESTART; see test/helpers/engine.ts).
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
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true
run() {
  node --import tsx --test --test-concurrency="$1" --test-reporter=spec "${@:2}"
}
if [ "$#" -gt 0 ]; then
  exec node --import tsx --test --test-concurrency="${SAGEBOX_TEST_CONCURRENCY:-3}" --test-reporter=spec "$@"
fi
# test/serial/ restarts the Docker engine, which stops every container: it runs
# alone, after the other suites, and its result counts the same.
mapfile -t files < <(find src test -name '*.test.ts' -not -path '*/node_modules/*' -not -path 'test/serial/*' | sort)
mapfile -t serial < <(find test/serial -name '*.test.ts' | sort)
status=0
run "${SAGEBOX_TEST_CONCURRENCY:-3}" "${files[@]}" || status=$?
echo "=== serial suites (they restart the Docker engine): ${serial[*]}"
run 1 "${serial[@]}" || status=$?
exit "$status"
