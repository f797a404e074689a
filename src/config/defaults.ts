// What a proxy has before any keyword: haproxy's built-in defaults.
import type { Global, ProxySettings, ServerParams } from "./model.js";
import { RetryOn } from "./retry-on.js";

export const DEFAULT_BUFSIZE = 16384;
export const DEFAULT_MAXHDR = 101;
/** haproxy's `inter` when a server has `check` and no interval is given. */
export const DEFAULT_INTER = 2000;

export function newGlobal(): Global {
  return {
    bufsize: DEFAULT_BUFSIZE,
    env: process.env,
    maxhdr: DEFAULT_MAXHDR,
    payloadWithAnyMethod: false,
    caseAdjust: new Map(),
    cookieLen: 64,
    uriLen: 1024,
    logs: [],
    logTag: "sluice",
    daemon: false,
    quiet: false,
    uid: 0,
    gid: 0,
    spreadChecks: 0,
    poolLowFdRatio: 20,
    poolHighFdRatio: 25,
    compMaxLevel: 1,
    compRate: 0,
    compMinIdle: 0,
    connRate: 0,
    sessRate: 0,
    experimental: false,
    where: undefined,
  };
}

export function newServerParams(): ServerParams {
  return {
    maxconn: 0,
    maxqueue: 0,
    weight: 1,
    check: false,
    inter: DEFAULT_INTER,
    rise: 2,
    fall: 3,
    backup: false,
    disabled: false,
  };
}

export function newProxySettings(): ProxySettings {
  return {
    mode: "tcp",
    timeouts: {},
    retries: 3,
    retryOn: RetryOn.ConnFailure,
    httpConnMode: "keep-alive",
    httpReuse: "safe",
    logs: [],
    logGlobal: false,
    dontlognull: false,
    disabled: false,
    contstats: false,
    logSeparateErrors: false,
    dontlogNormal: false,
    logHealthChecks: false,
    logasap: false,
    allbackups: false,
    preferLastServer: false,
    httpUseProxyHeader: false,
    abortOnClose: false,
    httpBufferRequest: false,
    httpIgnoreProbes: false,
    httpPretendKeepalive: false,
    acceptInvalidHttpRequest: false,
    acceptInvalidHttpResponse: false,
    idleCloseOnResponse: false,
    independentStreams: false,
    caseAdjustClient: false,
    caseAdjustServer: false,
    cliTcpKa: false,
    srvTcpKa: false,
    balance: "roundrobin",
    persist: false,
    hashType: { method: "map-based", fn: "sdbm", avalanche: false },
    rateLimitSessions: 0,
    hashBalanceFactor: 0,
    defaultServer: newServerParams(),
    httpCheckExpect: [],
    tcpCheckRules: [],
    captureRequestHeaders: [],
    captureResponseHeaders: [],
    errors: [],
  };
}
