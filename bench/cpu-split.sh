#!/usr/bin/env bash
# A proxy's CPU per request split into user and system time, for Sluice builds and haproxy side by
# side, interleaved (the order reverses at each rep), each warmed up before it is measured. The
# harness (anchors.sh) gives the total only; the split tells the proxy's own work (user) from the
# kernel's (system), which on loopback is the same for every proxy that makes the same system calls.
#
#   bench/cpu-split.sh NAME=DIST ... [haproxy]       # DIST: a Sluice build's dist/ directory
#   REPS=5 DURATION=8 MODE=server-close bench/cpu-split.sh new=dist base=/tmp/base/dist haproxy
#
# MODE keep-alive (default: bench/configs/sluice-keepalive.cfg and the harness's haproxy-keepalive.cfg)
# or server-close (the harness's project.cfg and haproxy.cfg, the article's). Uses the harness's
# backends and configurations as anchors.sh installs them in $BENCH_HOME (run anchors.sh once first).
# Needs haproxy and wrk. Prints each run, then the medians.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
home=${BENCH_HOME:-/tmp/sluice-bench}
reps=${REPS:-3}
duration=${DURATION:-6}
warmup=${WARMUP:-2}
case ${MODE:-keep-alive} in
  keep-alive) cfg=$here/bench/configs/sluice-keepalive.cfg hcfg=$home/configs/haproxy-keepalive.cfg ;;
  server-close) cfg=$home/configs/project.cfg hcfg=$home/configs/haproxy.cfg ;;
  *) echo "MODE is keep-alive or server-close" >&2; exit 2 ;;
esac
[ -f "$home/backend.mjs" ] || { echo "no harness in $home: run bench/anchors.sh once" >&2; exit 2; }
[ $# -gt 0 ] || { echo "usage: bench/cpu-split.sh NAME=DIST ... [haproxy]" >&2; exit 2; }
. "$here/bench/ports-free.sh"
ports_free || exit 2

# The backends, the proxy being measured and the runs' figures go whenever the script ends.
backends=()
proxy=
out=$(mktemp)
cleanup() {
  for p in "${backends[@]}" $proxy; do kill "$p" 2>/dev/null || true; done
  rm -f "$out"
}
trap cleanup EXIT
node "$home/backend.mjs" 127.0.0.11 18080 >/dev/null 2>&1 & backends+=($!)
node "$home/backend.mjs" 127.0.0.12 18080 >/dev/null 2>&1 & backends+=($!)
sleep 0.5

# One measured run of target $1 (NAME=DIST, or haproxy): "NAME user sys" in µs per request.
run() {
  local name=${1%%=*} dist=${1#*=} port=18003
  # Only the backends listen between runs.
  [ -z "$(ss -Hltn "( sport = :18000 or sport = :18003 )")" ] || { echo "a proxy still listens before $name's run" >&2; exit 1; }
  if [ "$1" = haproxy ]; then
    haproxy -f "$hcfg" >/dev/null 2>&1 & proxy=$!
    port=18000
  else
    node "$dist/src/cli.js" -f "$cfg" >/dev/null 2>&1 & proxy=$!
  fi
  sleep 1
  wrk -t1 -c50 -d"${warmup}s" "http://127.0.0.10:$port/" >/dev/null
  read -r u0 s0 < <(awk '{print $14, $15}' "/proc/$proxy/stat")
  local requests
  requests=$(wrk -t1 -c50 -d"${duration}s" "http://127.0.0.10:$port/" | awk '/requests in/ {print $1}')
  read -r u1 s1 < <(awk '{print $14, $15}' "/proc/$proxy/stat")
  [ "${requests:-0}" -gt 0 ] || { echo "$name answered no request" >&2; exit 1; }
  kill "$proxy"
  wait "$proxy" 2>/dev/null || true
  proxy=
  # /proc counts clock ticks of 10 ms.
  awk -v n="$name" -v r="$requests" -v u=$((u1 - u0)) -v s=$((s1 - s0)) \
    'BEGIN { printf "%s %.2f %.2f\n", n, u * 1e4 / r, s * 1e4 / r }' | tee -a "$out"
}

for rep in $(seq "$reps"); do
  # Even reps run the targets in reverse order (bash before 4.4 calls an empty array unbound).
  if [ $((rep % 2)) = 1 ]; then order=("$@"); else order=(); for t in "$@"; do order=("$t" ${order[@]+"${order[@]}"}); done; fi
  for t in "${order[@]}"; do run "$t"; done
done
echo "medians over $reps reps, µs of CPU per request (${MODE:-keep-alive}):"
sort -k1,1 -s "$out" | awk '
  function median(a, n,   i, j, t) { for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
  function flush() { if (name != "") printf "  %-12s user %7.2f  system %7.2f  total %7.2f\n", name, median(u, k), median(s, k), median(t, k) }
  $1 != name { flush(); name = $1; k = 0 }
  { k++; u[k] = $2; s[k] = $3; t[k] = $2 + $3 }
  END { flush() }'
