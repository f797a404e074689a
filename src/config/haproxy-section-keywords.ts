// The keywords haproxy 2.6 knows in the global and proxy sections (its manual, the lists its
// parsers keep, and what `haproxy -dKcfg` registers), so that Sluice can tell a keyword it lacks
// from a typo; and haproxy's own refusals of the keywords it removed.

const words = (text: string): ReadonlySet<string> => new Set(text.split(/\s+/).filter(Boolean));

export const HAPROXY_GLOBAL_KEYWORDS = words(`
  51degrees-cache-size 51degrees-data-file 51degrees-property-name-list 51degrees-property-separator
  busy-polling ca-base chroot close-spread-time cluster-secret cpu-map crt-base daemon default-path
  description deviceatlas-json-file deviceatlas-log-level deviceatlas-properties-cookie
  deviceatlas-separator expose-experimental-directives external-check fd-hard-limit gid grace group
  h1-accept-payload-with-any-method h1-case-adjust h1-case-adjust-file
  h2-workaround-bogus-websocket-clients hard-stop-after httpclient.resolvers.id
  httpclient.resolvers.prefer httpclient.ssl.ca-file httpclient.ssl.verify insecure-fork-wanted
  insecure-setuid-wanted issuers-chain-path localpeer log log-send-hostname log-tag lua-load
  lua-load-per-thread lua-prepend-path master-worker max-spread-checks maxcompcpuusage maxcomprate
  maxconn maxconnrate maxpipes maxsessrate maxsslconn maxsslrate maxzlibmem mworker-max-reloads
  nbthread no-memory-trimming node noepoll noevports nogetaddrinfo nokqueue nopoll noreuseport
  nosplice numa-cpu-mapping pidfile pp2-never-send-local presetenv profiling.tasks quiet resetenv
  server-state-base server-state-file set-dumpable set-var set-var-fmt setenv spread-checks
  ssl-default-bind-ciphers ssl-default-bind-ciphersuites ssl-default-bind-curves
  ssl-default-bind-options ssl-default-server-ciphers ssl-default-server-ciphersuites
  ssl-default-server-options ssl-dh-param-file ssl-engine ssl-load-extra-del-ext
  ssl-load-extra-files ssl-mode-async ssl-propquery ssl-provider ssl-provider-path ssl-server-verify
  ssl-skip-self-issued-ca stats strict-limits thread-group thread-groups tune.buffers.limit
  tune.buffers.reserve tune.bufsize tune.comp.maxlevel tune.fail-alloc tune.fd.edge-triggered
  tune.h2.header-table-size tune.h2.initial-window-size tune.h2.max-concurrent-streams
  tune.h2.max-frame-size tune.http.cookielen tune.http.logurilen tune.http.maxhdr
  tune.idle-pool.shared tune.idletimer tune.listener.multi-queue tune.lua.forced-yield
  tune.lua.maxmem tune.lua.service-timeout tune.lua.session-timeout tune.lua.task-timeout
  tune.maxaccept tune.maxpollevents tune.maxrewrite tune.pattern.cache-size
  tune.peers.max-updates-at-once tune.pipesize tune.pool-high-fd-ratio tune.pool-low-fd-ratio
  tune.quic.frontend.conn-tx-buffers.limit tune.quic.frontend.max-idle-timeout
  tune.quic.frontend.max-streams-bidi tune.quic.retry-threshold tune.rcvbuf.client
  tune.rcvbuf.server tune.recv_enough tune.runqueue-depth tune.sched.low-latency tune.sndbuf.client
  tune.sndbuf.server tune.ssl.cachesize tune.ssl.capture-buffer-size
  tune.ssl.capture-cipherlist-size tune.ssl.default-dh-param tune.ssl.force-private-cache
  tune.ssl.hard-maxrecord tune.ssl.keylog tune.ssl.lifetime tune.ssl.maxrecord
  tune.ssl.ssl-ctx-cache-size tune.vars.check-max-size tune.vars.global-max-size
  tune.vars.proc-max-size tune.vars.reqres-max-size tune.vars.sess-max-size tune.vars.txn-max-size
  tune.zlib.memlevel tune.zlib.windowsize uid ulimit-n unix-bind unsetenv user wurfl-cache-size
  wurfl-data-file wurfl-information-list wurfl-information-list-separator zero-warning
`);

export const HAPROXY_PROXY_KEYWORDS = words(`
  acl backlog balance bind bind-process capture clitcpka-cnt clitcpka-idle clitcpka-intvl
  compression cookie declare default-server default_backend description disabled dispatch
  dynamic-cookie-key email-alert enabled error-log-format errorfile errorfiles errorloc errorloc302
  errorloc303 external-check filter force-persist fullconn hash-balance-factor hash-type
  http-after-response http-check http-error http-request http-response http-reuse
  http-send-name-header id ignore-persist load-server-state-from-file log log-format log-format-sd
  log-tag max-keep-alive-queue max-session-srv-conns maxconn mode monitor monitor-uri option persist
  rate-limit redirect retries retry-on server server-state-file-name server-template source
  srvtcpka-cnt srvtcpka-idle srvtcpka-intvl stats stick stick-table tcp-check tcp-request
  tcp-response timeout transparent unique-id-format unique-id-header use-fcgi-app use-server
  use_backend
`);

/** Keywords haproxy 2.6 refuses in a proxy, with its message (which may quote the first argument). */
export const REMOVED_PROXY_KEYWORDS: Readonly<Record<string, (arg: string) => string>> = {
  appsession: () => `'appsession' is not supported anymore since HAProxy 1.6.`,
  block: () =>
    `The 'block' directive is not supported anymore since HAProxy 2.1. Use 'http-request deny' which uses the exact same syntax.`,
  clitimeout: () =>
    `the 'clitimeout' directive is not supported anymore since HAProxy 2.1. Use 'timeout client'.`,
  contimeout: () =>
    `the 'contimeout' directive is not supported anymore since HAProxy 2.1. Use 'timeout connect'.`,
  srvtimeout: () =>
    `the 'srvtimeout' directive is not supported anymore since HAProxy 2.1. Use 'timeout server'.`,
  "monitor-net": (arg) =>
    `'monitor-net' doesn't exist anymore. Please use 'http-request return status 200 if { src ${arg} }' instead.`,
  usesrc: () => `'usesrc' only allowed after a 'source' statement.`,
};

export const REMOVED_GLOBAL_KEYWORDS: Readonly<Record<string, string>> = {
  nbproc:
    "nbproc is not supported any more since HAProxy 2.5. Threads will automatically be used on multi-processor machines if available.",
};
