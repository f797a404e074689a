#!/usr/bin/env bash
# Runs the team's benchmark harness (../shared/bench-anchors) with Sluice plugged in beside haproxy
# and node-http-proxy, on the same config (configs/project.cfg, the article's simple configuration).
#
#   bench/anchors.sh                                   # http, echo, hold, bulk; 3 reps of 10 s
#   bench/anchors.sh --tests http --reps 3 --duration 5
#   BENCH_ONLY=haproxy,sluice bench/anchors.sh --tests echo
#
# Extra arguments go to run.mjs. The harness is copied to $BENCH_HOME (default /tmp/sluice-bench) so
# that its npm install never writes into shared/. Needs: haproxy, wrk (apt-get install -y haproxy wrk).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
src=${BENCH_ANCHORS:-$here/../shared/bench-anchors}
home=${BENCH_HOME:-/tmp/sluice-bench}
if [ ! -d "$home/node_modules" ]; then
  mkdir -p "$home"
  cp -r "$src"/. "$home"/
  (cd "$home" && npm install --no-audit --no-fund --silent)
fi
(cd "$here" && npm run --silent build) || { echo "build failed" >&2; exit 1; }
# The kernel keeps one idle WebSocket per fd pair; the harness's hold test needs 10000 of them.
ulimit -n 20000 2>/dev/null || true
. "$here/bench/ports-free.sh"
ports_free || exit 2
cd "$home"
# sluice runs the article's config (http-server-close) like haproxy; sluice-ka the keep-alive variant,
# to compare with haproxy-ka.
export BENCH_ONLY=${BENCH_ONLY:-haproxy,haproxy-ka,http-proxy,sluice,sluice-ka}
exec node run.mjs \
  --target "sluice|127.0.0.10:18003|node $here/dist/src/cli.js -f {BENCH}/configs/project.cfg" \
  --target "sluice-ka|127.0.0.10:18003|node $here/dist/src/cli.js -f $here/bench/configs/sluice-keepalive.cfg" \
  "$@"
