# Sourced by the benchmark scripts: nothing may listen on the bench plan's addresses when a run
# starts. haproxy listens with SO_REUSEPORT, so one left over from an earlier run shares the port
# with the proxy under test, takes part of its load unseen, and every figure of the run is wrong.
ports_free() {
  local busy
  busy=$(ss -Hltnp 2>/dev/null | awk '$4 ~ /^127\.0\.0\.1[0-2]:(1800[0-3]|18080)$/')
  [ -z "$busy" ] && return 0
  echo "the bench plan's addresses are taken (stop these first):" >&2
  echo "$busy" >&2
  return 1
}
