#!/usr/bin/env bash
# The benchmark command (npm run bench): builds sagebox (bin/sagebox.js runs
# dist/ when it exists, so a stale dist/ would be measured otherwise) and the
# images the benchmarks use, then runs every bench/*.ts (lib*.ts are shared
# code) one after the other, printing each one's output. Arguments name the
# benchmarks to run: `npm run bench -- transform s3-cp` (bench/transform.ts,
# bench/s3-cp.ts). Sizes: see bench/README.md (BENCH_GB, BENCH_ROUNDS, ...).
# SAGEBOX_SKIP_BUILD=1 / SAGEBOX_SKIP_IMAGES=1 skip the two build steps.
# Exits non-zero when a benchmark failed (the others still run).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d node_modules ] || npm ci

if [ "${SAGEBOX_SKIP_BUILD:-}" != "1" ]; then
  echo "[bench] building sagebox (tsc -p tsconfig.json)"
  npx tsc -p tsconfig.json
fi
if [ "${SAGEBOX_SKIP_IMAGES:-}" != "1" ]; then
  bash scripts/build-test-images.sh fastserve seed004-feature-hashing python-ml pipe-reader
fi

benches=()
if [ "$#" -gt 0 ]; then
  for a in "$@"; do
    b=$(basename "$a" .ts)
    [ -f "bench/$b.ts" ] || { echo "[bench] no benchmark bench/$b.ts" >&2; exit 2; }
    benches+=("bench/$b.ts")
  done
else
  for f in bench/*.ts; do
    case "$(basename "$f")" in lib.ts | lib-*.ts) continue ;; esac
    benches+=("$f")
  done
fi

export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true
failed=()
for f in "${benches[@]}"; do
  echo
  echo "[bench] ===== $f ($(date -u +%Y-%m-%dT%H:%M:%SZ)) ====="
  start=$(date +%s)
  if node --import tsx "$f"; then
    echo "[bench] $f done in $(( $(date +%s) - start )) s"
  else
    echo "[bench] $f FAILED after $(( $(date +%s) - start )) s"
    failed+=("$f")
  fi
done
echo
if [ "${#failed[@]}" -gt 0 ]; then
  echo "[bench] failed: ${failed[*]}"
  exit 1
fi
echo "[bench] all ${#benches[@]} benchmark(s) ran"
