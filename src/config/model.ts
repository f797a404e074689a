// The typed configuration: what parse.ts produces from haproxy's language and what the runtime reads.
// Names follow haproxy's keywords so that a reader of its manual finds their way here.
import type { CompressionSettings } from "../http/compression.js";
import type { ErrorFile } from "../http/errorfile.js";
import type { HashFunction } from "../balance/hash.js";
import type { UriHashing } from "../balance/request-key.js";
import type { StickTableSpec } from "../stick/table.js";

/** Where a statement came from, for every error and warning. */
export interface Where {
  file: string;
  line: number;
}

export type Mode = "http" | "tcp";

/** All durations are milliseconds; undefined means "not set" (haproxy then waits forever or warns). */
export interface Timeouts {
  client?: number;
  connect?: number;
  server?: number;
  tunnel?: number;
  httpKeepAlive?: number;
  httpRequest?: number;
  queue?: number;
  tarpit?: number;
  clientFin?: number;
  serverFin?: number;
  check?: number;
}

export type Facility =
  | "kern"
  | "user"
  | "mail"
  | "daemon"
  | "auth"
  | "syslog"
  | "lpr"
  | "news"
  | "uucp"
  | "cron"
  | "auth2"
  | "ftp"
  | "ntp"
  | "audit"
  | "alert"
  | "cron2"
  | "local0"
  | "local1"
  | "local2"
  | "local3"
  | "local4"
  | "local5"
  | "local6"
  | "local7";

export type LogFormat = "rfc3164" | "rfc5424" | "raw" | "short" | "iso" | "timed" | "priority" | "local";

export interface LogTarget {
  /** "stdout", "stderr", "udp" (host:port), or "unix" (a datagram socket's path). */
  kind: "stdout" | "stderr" | "udp" | "unix";
  host?: string;
  port?: number;
  path?: string;
  len: number;
  format: LogFormat;
  facility: Facility;
  /** Highest severity number sent (0 emerg .. 7 debug). */
  level: number;
  minLevel: number;
  where: Where;
}

export interface Global {
  maxconn?: number;
  /** ulimit-n: the descriptor limit to set, in place of what maxconn needs. */
  ulimitN?: number;
  /**
   * tune.pool-low-fd-ratio and tune.pool-high-fd-ratio: the share of the descriptors (in percent)
   * in use past which no server connection goes idle, and a new one closes an idle one first.
   */
  poolLowFdRatio: number;
  poolHighFdRatio: number;
  /** tune.bufsize: the largest request or response head, in bytes. */
  bufsize: number;
  /** tune.maxrewrite: the part of a buffer kept for rewrites (by default 1024; at most half of it). */
  maxrewrite?: number;
  /** tune.http.maxhdr: the most header lines a head may carry. */
  maxhdr: number;
  /** h1-accept-payload-with-any-method: an HTTP/1.0 GET, HEAD or DELETE may carry a body. */
  payloadWithAnyMethod: boolean;
  /** h1-case-adjust lines, then the last h1-case-adjust-file's (read once the configuration is). */
  caseAdjust: Map<string, string>;
  caseAdjustFile?: string;
  /** tune.http.cookielen + 1: the bytes a captured cookie's buffer holds, its NUL included. */
  cookieLen: number;
  /** tune.http.logurilen + 1: the bytes of the request line a log keeps, its NUL included. */
  uriLen: number;
  logs: LogTarget[];
  logTag: string;
  hostname?: string;
  /** The process environment once the global section's setenv, presetenv, unsetenv and resetenv ran (env()). */
  env: Readonly<Record<string, string | undefined>>;
  pidfile?: string;
  /** `quiet` (or -q): nothing printed, alerts included, as haproxy's. */
  quiet: boolean;
  /** `daemon`: the process goes to the background once it listens. */
  daemon: boolean;
  /** `uid`/`user` and `gid`/`group`: the identity taken once listening (0: keep root's). */
  uid: number;
  gid: number;
  /** spread-checks: each check's interval moves by up to this percentage, either way, at random. */
  spreadChecks: number;
  /** max-spread-checks: the longest the first checks may be spread over, in ms. */
  maxSpreadChecks?: number;
  /** `-m`: the memory (RSS) in megabytes past which new connections wait. */
  memmax?: number;
  /** hard-stop-after: how long a soft stop may wait for sessions before closing them all. */
  hardStopAfter?: number;
  /** tune.comp.maxlevel: the compression level (1 to 9). */
  compMaxLevel: number;
  /** maxcomprate: the compression input rate, in bytes per second, past which no new response is compressed (0: none). */
  compRate: number;
  /** 100 - maxcompcpuusage: the idle share under which compression backs off. */
  compMinIdle: number;
  /** maxconnrate and maxsessrate: new connections and sessions per second, for the process (0: none). */
  connRate: number;
  sessRate: number;
  /** expose-experimental-directives, read so far: the keywords haproxy tags experimental are allowed after it. */
  experimental: boolean;
  /** Settings accepted for compatibility that change nothing here, kept for `-c` warnings. */
  where: Where | undefined;
}

/** One sample-fetch based ACL as written: `acl NAME FETCH [flags] [operator] [patterns]`. */
export interface AclSpec {
  fetch: string;
  /** The words after the fetch: flags, operator and patterns, as the tokenizer gave them. */
  words: string[];
  where: Where;
}

export interface CondTerm {
  negate: boolean;
  /** A named ACL, resolved by the ACL compiler (predefined names included). */
  name?: string;
  /** An anonymous ACL written in braces. */
  anon?: AclSpec;
}

/** `if|unless` followed by OR groups of ANDed terms. */
export interface Condition {
  unless: boolean;
  groups: CondTerm[][];
  where: Where;
}

/**
 * What deny, tarpit and return answer: the status with the given body, or an errorfile, or (neither)
 * the proxy's page for the status.
 */
export interface ReplySpec {
  status: number;
  /** Its texts are bytes, one character each (see wireText): a file's as read, the configuration's in UTF-8. */
  contentType?: string;
  body?: string;
  /** `lf-string`, `lf-file`: the body as a log-format string, built for each request. */
  lf?: string;
  /** `hdr NAME FMT`: header lines before the reply's own, each value a log-format string. */
  hdrs?: { name: string; value: string }[];
  errorfile?: ErrorFile;
  /** `errorfiles NAME`: the http-errors section whose file for the status becomes the errorfile. */
  errorfiles?: string;
}

export type HttpRequestAction =
  | { kind: "allow" }
  /** The connection closes at once, with no response. */
  | { kind: "reject" }
  /** retry-on applies to connection failures only, for this request. */
  | { kind: "disable-l7-retry" }
  /** The connection is given up without a word, as if the host had gone (see silent-drop.ts). */
  | { kind: "silent-drop" }
  /** haproxy's scheduling weight for the stream: accepted with a warning, it does nothing here. */
  | { kind: "set-nice" }
  /** A 401 asking for credentials: Basic, for `realm` (the proxy's name when none is given). */
  | { kind: "auth"; realm: string | undefined }
  | ({ kind: "deny" | "tarpit" | "return" } & ReplySpec)
  | {
      kind: "redirect";
      type: "location" | "prefix" | "scheme";
      /** The target, a log-format string. */
      value: string;
      code: number;
      /** prefix, scheme: the request's path without its query; with a slash at the end. */
      dropQuery: boolean;
      appendSlash: boolean;
      /** location: a target that comes out empty makes the rule do nothing. */
      ignoreEmpty: boolean;
      /** `set-cookie` or `clear-cookie`: the Set-Cookie value the redirect carries. */
      cookie?: string;
    }
  | { kind: "set-header" | "add-header"; name: string; value: string }
  /** A line of the 103 Early Hints sent before any other response; its value a log-format string. */
  | { kind: "early-hint"; name: string; value: string }
  | { kind: "del-header"; name: string }
  | CaptureAction
  /** Each header of that name whose value (replace-header) or one of whose comma-separated values (replace-value) the regex finds something in. */
  | { kind: "replace-header" | "replace-value"; name: string; regex: string; replace: string }
  /** The path, the path and query, or the whole request-target, matched and replaced whole. */
  | { kind: "replace-path" | "replace-pathq" | "replace-uri"; regex: string; replace: string }
  /** set-pathq: the path and the query, from one format. */
  | { kind: "set-path" | "set-pathq" | "set-method" | "set-uri" | "set-query"; value: string }
  | NormalizeUri
  | StrictMode
  /** This stream's timeout server or tunnel: milliseconds, or a sample expression giving them. */
  | { kind: "set-timeout"; timeout: "server" | "tunnel"; time: number | string }
  /** Waits for the body (or `atLeast` bytes of it, when not 0) up to `time` ms, then a 408. */
  | { kind: "wait-for-body"; time: number; atLeast: number }
  | LogLevelAction
  | AddrAction
  | PriorityAction
  | VarAction
  | StickAction
  | PatternAction;

/**
 * `add-acl(FILE) KEY`, `del-acl(FILE) KEY`, `del-map(FILE) KEY`, `set-map(FILE) KEY VALUE`: the key
 * and the value are log-format strings; `file` names the pattern file as the ACLs and maps that read
 * it write it.
 */
export type PatternAction =
  | { kind: "add-acl" | "del-acl" | "del-map"; file: string; key: string }
  | { kind: "set-map"; file: string; key: string; value: string };

/** `set-log-level LEVEL`: the level (0 emerg to 7 debug) the stream's log line is sent at; -1 (`silent`): none. */
export interface LogLevelAction {
  kind: "set-log-level";
  level: number;
}

/** `set-src EXPR`, `set-src-port EXPR`, `set-dst EXPR`, `set-dst-port EXPR`: an end of the client's connection. */
export interface AddrAction {
  kind: "set-src" | "set-src-port" | "set-dst" | "set-dst-port";
  expr: string;
}

/**
 * `set-priority-class EXPR`, `set-priority-offset EXPR`: where the request waits in a queue, its class
 * before its entry time moved by its offset (proxy/queue.ts).
 */
export interface PriorityAction {
  kind: "set-priority-class" | "set-priority-offset";
  expr: string;
}

/** haproxy 2.6's URI normalizers, as `http-request normalize-uri` names them. */
export type UriNormalizer =
  | "path-strip-dot"
  | "path-strip-dotdot"
  | "path-merge-slashes"
  | "percent-decode-unreserved"
  | "percent-to-uppercase"
  | "query-sort-by-name"
  | "fragment-strip"
  | "fragment-encode";

/**
 * `normalize-uri NORMALIZER [full|strict]`: `full` (path-strip-dotdot) drops the `..` segments that
 * have no parent; `strict` (the percent normalizers) answers a malformed `%XX` with a 400.
 */
export interface NormalizeUri {
  kind: "normalize-uri";
  normalizer: UriNormalizer;
  full: boolean;
  strict: boolean;
  /** The most query parameters haproxy sorts, its buffer's room for them (tune.bufsize / 16); more is a 500. */
  maxParams: number;
}

/** `strict-mode on|off`: whether the rewrites of the rules after it in its ruleset must succeed. */
export interface StrictMode {
  kind: "strict-mode";
  on: boolean;
}

/**
 * `track-scN KEY [table NAME]`; `sc-inc-gpc(I,N)`, `sc-inc-gpc0(N)`, `sc-inc-gpc1(N)`; `sc-set-gpt(I,N)
 * VALUE`, `sc-set-gpt0(N) VALUE`, the value an integer or a sample expression. `legacy`: gpc0, gpc1 or
 * gpt0 (`idx` 0 or 1), which use the arrays' first elements when the table stores those instead.
 */
export type StickAction =
  | ({ kind: "track-sc" } & TrackSpec)
  | { kind: "sc-inc-gpc"; idx: number; slot: number; legacy: boolean }
  | { kind: "sc-set-gpt"; idx: number; slot: number; legacy: boolean; set: number | string };

/**
 * `set-var(scope.name[,cond...]) EXPR`, `set-var-fmt(...) FORMAT`, `unset-var(scope.name)`: `name` as
 * written (`txn.host`), `cond` set-var's conditions as flags.
 */
export type VarAction =
  | { kind: "set-var"; name: string; cond: number; expr: string }
  | { kind: "set-var-fmt"; name: string; cond: number; value: string }
  | { kind: "unset-var"; name: string };

export interface HttpRule<A> {
  action: A;
  cond?: Condition;
  where: Where;
}

export type HttpResponseAction =
  | { kind: "allow" }
  | { kind: "silent-drop" }
  | { kind: "set-nice" }
  | ({ kind: "deny" | "return" } & ReplySpec)
  /** A `location` redirect only, in place of the server's response. */
  | Extract<HttpRequestAction, { kind: "redirect" }>
  | { kind: "set-header" | "add-header"; name: string; value: string }
  | { kind: "del-header"; name: string }
  | { kind: "replace-header" | "replace-value"; name: string; regex: string; replace: string }
  /** The response's status, and its reason (haproxy's for the status when not given). */
  | { kind: "set-status"; code: number; reason?: string }
  | CaptureAction
  | LogLevelAction
  | StrictMode
  | VarAction
  | StickAction
  | PatternAction;

export interface UseBackend {
  /** The backend's name, or with `%[...]` in it, a log-format string that makes one per request. */
  backend: string;
  cond?: Condition;
  where: Where;
}

/** `force-persist` / `ignore-persist if|unless COND`: persistence forced onto DOWN servers, or ignored. */
export interface PersistRule {
  kind: "force" | "ignore";
  cond: Condition;
  where: Where;
}

/** `use-server NAME if|unless COND`: the server a request goes to when its condition holds. */
export interface UseServer {
  server: string;
  cond: Condition;
  where: Where;
}

/** The actions of tcp-request rules that set something of the stream from their argument. */
export type SetAction = LogLevelAction | AddrAction | PriorityAction;

/**
 * `tcp-request connection|session|content ACTION [if|unless COND]`: accept (the later rules of its
 * list are skipped), reject, silent-drop, or, on a connection, expect a PROXY protocol header; on
 * content, set-nice, which does nothing here.
 */
export interface TcpRule {
  action: "accept" | "reject" | "silent-drop" | "expect-proxy" | "stick" | "set" | "set-nice";
  /** A stick table's action: track-sc, sc-inc-gpc*, sc-set-gpt*. */
  stick?: StickAction;
  /**
   * set-log-level, set-priority-class and set-priority-offset (content rules only), set-src,
   * set-src-port, set-dst, set-dst-port.
   */
  set?: SetAction;
  cond?: Condition;
  where: Where;
}

/** `track-scN KEY [table NAME]`: the counters of the key's entry, in slot N. */
export interface TrackSpec {
  slot: number;
  key: string;
  /** The table's name; the rule's proxy's own table when not given. */
  table?: string;
}

export interface Bind {
  /** Host to listen on ("" for all addresses), or undefined with fd set. */
  host: string;
  port: number;
  /** `fd@N`: an inherited listening socket. */
  fd?: number;
  /** The address as written, for haproxy's message when its host does not resolve. */
  written: string;
  name?: string;
  /** `id`: the listener's number in its frontend (haproxy names an unnamed listener by it). */
  id?: number;
  /** accept-proxy: connections start with a PROXY protocol header, whose addresses stand for theirs. */
  acceptProxy?: boolean;
  /** `backlog`: the socket's queue of connections not accepted yet (0 or none: see Runtime.backlog). */
  backlog?: number;
  /** `maxconn`: the connections this socket may have at once (0 or none: no limit of its own). */
  maxconn?: number;
  /** An IPv6 socket's IPV6_V6ONLY: `v6only` sets it, `v4v6` clears it, neither leaves the system's. */
  v6only?: boolean;
  /** `proto`: the multiplexer forced, which must fit the frontend's mode (h1: http, none: tcp). */
  proto?: "h1" | "none";
  where: Where;
}

/** Server settings that `default-server` may carry and `server` overrides. */
export interface ServerParams {
  maxconn: number;
  maxqueue: number;
  weight: number;
  check: boolean;
  inter: number;
  fastinter?: number;
  downinter?: number;
  rise: number;
  fall: number;
  checkPort?: number;
  checkAddr?: string;
  backup: boolean;
  disabled: boolean;
  cookie?: string;
  onMarkedDown?: "shutdown-sessions";
  onMarkedUp?: "shutdown-backup-sessions";
  /** send-proxy, send-proxy-v2: each connection starts with a PROXY protocol header (v2 when both). */
  sendProxyV1?: boolean;
  sendProxyV2?: boolean;
  /** `id` (server lines only): the server's number in its backend; see autoIds for the others. */
  id?: number;
  /** `source`: the address (and port) its connections and checks leave from; else the backend's. */
  source?: SourceAddr;
  /** `init-addr`: how its address is found at start, in order: `libc`, `last`, `none` or an address. */
  initAddr?: string[];
}

/** `source <addr>[:<port>]`: where connections to servers leave from (port 0: the kernel's choice). */
export interface SourceAddr {
  host: string;
  port: number;
}

export interface Server extends ServerParams {
  name: string;
  host: string;
  port: number;
  where: Where;
}

export interface HttpCheckSend {
  method: string;
  uri: string;
  version: string;
  /** Extra header lines, each "Name: value" without CRLF. */
  headers: string[];
  body: string;
}

export interface HttpCheckExpect {
  negate: boolean;
  kind: "status" | "rstatus" | "string" | "rstring";
  pattern: string;
  where: Where;
}

/** The check statuses a `tcp-check expect` rule may give instead of its defaults. */
export type TcpCheckOkStatus = "L7OK" | "L6OK" | "L4OK";
export type TcpCheckErrorStatus = "L7RSP" | "L7STS" | "L6RSP" | "L4CON";
export type TcpCheckTimeoutStatus = "L7TOUT" | "L6TOUT" | "L4TOUT";

export interface TcpCheckConnect {
  action: "connect";
  port?: number;
  addr?: string;
  sendProxy: boolean;
  /** `default`: the server's own check settings (its send-proxy) apply. */
  useDefault: boolean;
  /** `linger`: the check's connection ends with a FIN rather than an RST. */
  linger?: boolean;
}

export interface TcpCheckExpect {
  action: "expect";
  kind: "string" | "rstring" | "binary" | "rbinary";
  /** For `binary`, the bytes (latin1) the hex digits stand for. */
  pattern: string;
  negate: boolean;
  /** -1 when not given: a mismatch then waits for more data. */
  minRecv: number;
  okStatus?: TcpCheckOkStatus;
  errorStatus?: TcpCheckErrorStatus;
  toutStatus?: TcpCheckTimeoutStatus;
  /** Literal texts (Sluice takes no log-format there). */
  onSuccess?: string;
  onError?: string;
}

/** What a `tcp-check` line says: a comment, or a step with its optional comment. */
export type TcpCheckStatement = (
  | { action: "comment" }
  | TcpCheckConnect
  | { action: "send"; /** latin1 bytes */ data: string }
  | TcpCheckExpect
) & { comment?: string };

/**
 * One `tcp-check` rule. `index` is its place in its section's list, comments included: haproxy
 * numbers the steps in its messages from it (step = index + 1).
 */
export type TcpCheckRule = TcpCheckStatement & { index: number; where: Where };

/** haproxy's canned checks: rulesets of its own that it runs on the tcp-check engine. */
export type CannedCheck =
  | { option: "redis-check" }
  | { option: "smtpchk"; /** The command and domain sent, `HELO localhost` by default. */ hello: string }
  | { option: "ssl-hello-chk" }
  | { option: "pgsql-check"; user: string }
  | { option: "ldap-check" }
  | {
      option: "mysql-check";
      /** The user logged in without a password, in the 4.1 protocol or the one before; none reads the greeting alone. */
      login?: { user: string; pre41: boolean };
    };

/** An address with a prefix length: `10.0.0.0/8`, `10.0.0.0/255.0.0.0`, `::1`. */
export interface Network {
  address: string;
  prefix: number;
  family: "ipv4" | "ipv6";
}

export interface ForwardFor {
  header: string;
  /** Clients of this network get no header. */
  except?: Network;
  ifNone: boolean;
}

export type HttpConnMode = "keep-alive" | "server-close" | "close";
export type HttpReuse = "never" | "safe" | "aggressive" | "always";
export type Balance =
  | "roundrobin"
  | "leastconn"
  | "first"
  | "static-rr"
  | "source"
  | { uri: UriHashing }
  | { urlParam: string }
  | { hdr: string }
  /** random(draws): the least busy of `draws` servers drawn on the ring. */
  | { random: number }
  /** hash <expr>: a sample expression's value, hashed (checked, and compiled, past parsing). */
  | { hash: string };

/**
 * `cookie NAME ...`: persistence by a cookie that names the server. Without insert, rewrite or prefix
 * the cookie is only read (passive): the application sets it.
 */
export interface CookiePersistence {
  name: string;
  mode: "insert" | "rewrite" | "prefix" | "passive";
  /**
   * In insert mode the cookie is taken out of requests; in any mode a server's Set-Cookie of that
   * name is deleted in answers to requests that came straight to it by their cookie.
   */
  indirect: boolean;
  /** A cacheable response that gets our cookie is marked `Cache-control: private`. */
  nocache: boolean;
  /** Insert only in responses to POST requests. */
  postonly: boolean;
  /** A server's own Set-Cookie of that name is left alone, and then none is inserted. */
  preserve: boolean;
  httponly: boolean;
  secure: boolean;
  /** Each `domain` adds a `; domain=` attribute, in order. */
  domains: string[];
  /** Seconds since the cookie's last use, or since it was first given, past which it is ignored. */
  maxidle: number;
  maxlife: number;
  /** `attr` values, each appended as `; value`. */
  attrs: string[];
}

/** hash-type: how a hash picks a server (haproxy's table, or a consistent hash ring), and the hash. */
export interface HashType {
  method: "map-based" | "consistent";
  /** For balance uri, url_param and hdr. */
  fn: HashFunction;
  /** The avalanche modifier: the hash is hashed again (every hashing algorithm, source too). */
  avalanche: boolean;
}

/**
 * An `errorfile`, `errorloc` or `http-error` line: the response for a status (undefined: haproxy's
 * own page again); or an `errorfiles` line: the files an http-errors section has for the statuses
 * named (all it has when none are).
 */
export type ErrorDirective =
  | { status: number; file: ErrorFile | undefined }
  | { section: string; statuses: number[] | undefined; where: Where };

/** An `http-errors NAME` section: its errorfile for each status. */
export interface HttpErrors {
  name: string;
  where: Where;
  files: Map<number, ErrorFile>;
}

/** A `userlist` section: who may pass `http_auth`, and the groups `http_auth_group` matches. */
export interface Userlist {
  name: string;
  where: Where;
  users: Map<string, AuthUser>;
  /** The groups declared, each with the `users` its line lists (comma-separated, resolved past parsing). */
  groups: Map<string, { users: string | undefined; where: Where }>;
}

export interface AuthUser {
  /** A crypt(3) hash, or the password itself when `insecure`; none: the user can never log in. */
  password: string | undefined;
  insecure: boolean;
  /** `groups` as the user's line wrote it, resolved into `groups` past parsing. */
  groupNames: string | undefined;
  groups: Set<string>;
  where: Where;
}

/**
 * A named defaults section's rules: they run before those of each proxy using it, and read its own
 * ACLs, which no proxy sees. `holder` keeps them as a listen section would.
 */
export interface DefaultsRules {
  holder: Proxy;
  /** The defaults section's line. */
  where: Where;
  /** The side of the first proxy that used them: haproxy lets only one side have them. */
  usedBy?: "frontend" | "backend";
}

/** What frontends, backends, listens and defaults sections all carry; a defaults section is one too. */
export interface ProxySettings {
  /** Set in a named defaults section with rules, and in the proxies that use it. */
  defaultsRules?: DefaultsRules;
  mode: Mode;
  timeouts: Timeouts;
  maxconn?: number;
  backlog?: number;
  retries: number;
  /** retry-on: the failures a request is retried after (RetryOn bits and status bits). */
  retryOn: number;
  redispatch?: { interval: number };
  httpConnMode: HttpConnMode;
  httpReuse: HttpReuse;
  forwardfor?: ForwardFor;
  /** option originalto: the address the client connected to (ifNone unused). */
  originalto?: ForwardFor;
  /** `log global` copies the global targets; undefined means no `log` line seen. */
  logs: LogTarget[];
  logGlobal: boolean;
  /**
   * tcp-request inspect-delay: in mode tcp, how long content rules may wait for the client's bytes
   * (in HTTP mode they run on a whole request head, and never wait).
   */
  inspectDelay?: number;
  /** `log-tag`: the syslog tag of this proxy's lines, in place of the global one. */
  logTag?: string;
  /** The log line: a fixed format, or `log-format`'s (checked past parsing, as haproxy does). */
  logFormat?: "httplog" | "httplog-clf" | "tcplog" | { custom: string; where: Where };
  /** Where `option httplog` was set, for the warning of a proxy not in mode http. */
  httplogWhere?: Where;
  /** unique-id-format: each stream's id (checked past parsing, as haproxy does). */
  uniqueIdFormat?: { text: string; where: Where };
  /** unique-id-header: the request header that carries the id to the server. */
  uniqueIdHeader?: string;
  dontlognull: boolean;
  /** `disabled`: a frontend does not listen; a backend's requests get a 503, its servers no checks. */
  disabled: boolean;
  contstats: boolean;
  logSeparateErrors: boolean;
  /** option dontlog-normal: only the sessions haproxy deems errors are logged. */
  dontlogNormal: boolean;
  logHealthChecks: boolean;
  logasap: boolean;
  allbackups: boolean;
  /**
   * option prefer-last-server: a request that no cookie or rule sends anywhere goes, unless the
   * backend hashes, to the server of the connection its client's session keeps (http-reuse never).
   */
  preferLastServer: boolean;
  /**
   * option http-use-proxy-header: a request whose target starts with neither '/' nor '*' is a
   * proxy's, authenticated with Proxy-Authorization and answered 407 by http-request auth.
   */
  httpUseProxyHeader: boolean;
  /** option abortonclose: a client that shuts its side while its request waits gives it up. */
  abortOnClose: boolean;
  /**
   * option http-buffer-request: a request's body is waited for (whole, or a buffer's worth) before
   * its rules run and a server is chosen, within timeout http-request.
   */
  httpBufferRequest: boolean;
  /** option http-ignore-probes: a connection that sends nothing is closed without a 408 or a log line. */
  httpIgnoreProbes: boolean;
  /**
   * option http-pretend-keepalive: the server is told nothing of a close (HTTP/1.1) or keep-alive
   * (HTTP/1.0), whatever the connection mode, which still decides what becomes of the connection.
   */
  httpPretendKeepalive: boolean;
  /**
   * option accept-invalid-http-request / -response: a client's (a server's) heads may have any byte
   * but ':' in a header name and any version (see http/parse.ts, Leniency.InvalidHttp).
   */
  acceptInvalidHttpRequest: boolean;
  acceptInvalidHttpResponse: boolean;
  /** option idle-close-on-response: at a soft stop, an idle client connection waits for one more request. */
  idleCloseOnResponse: boolean;
  /**
   * option independent-streams: only data read from this section's side (the client's for a frontend,
   * the server's for a backend) keeps that side's timeout from lapsing, not data sent to it.
   */
  independentStreams: boolean;
  /** option h1-case-adjust-bogus-client / -server: the global h1-case-adjust names, to clients / servers. */
  caseAdjustClient: boolean;
  caseAdjustServer: boolean;
  /** option clitcpka / srvtcpka (tcpka sets both): TCP keep-alive probes on that side's sockets. */
  cliTcpKa: boolean;
  srvTcpKa: boolean;
  balance: Balance;
  cookie?: CookiePersistence;
  /** option persist: a request whose cookie names a DOWN server still goes to it. */
  persist: boolean;
  hashType: HashType;
  /** hash-balance-factor: on the ring, no server takes more than this percent of the average load (0: off). */
  hashBalanceFactor: number;
  defaultServer: ServerParams;
  /** The HTTP check's request, from `option httpchk` and `http-check send`. */
  httpchk?: HttpCheckSend;
  httpCheckExpect: HttpCheckExpect[];
  tcpCheckRules: TcpCheckRule[];
  /**
   * The check option in force, the section's last one: `option httpchk`, `option tcp-check` or a canned
   * check (`option redis-check`, ...). Without httpchk, http-check rules are ignored, and tcp-check
   * rules without tcp-check (haproxy warns).
   */
  checkOption?: "httpchk" | "tcp-check" | CannedCheck;
  defaultBackend?: { name: string; where: Where };
  /** `capture cookie`: the first cookie whose name starts with `name`, logged as `name=value` cut to `len`. */
  captureCookie?: CookieCapture;
  /** The frontend's capture slots, in declaration order: a header's, or (no name) a rule's. */
  captureRequestHeaders: CaptureSlot[];
  captureResponseHeaders: CaptureSlot[];
  /** The proxy's error directives in order, its defaults section's first. Shared, never changed. */
  errors: ErrorDirective[];
  /**
   * monitor-uri: a request for it is answered by the frontend itself (200, or 503 under a `monitor
   * fail` condition), before any rule, and not logged. With a leading slash it is compared with the
   * target without scheme and authority, else with the whole target.
   */
  monitorUri?: string;
  /** http-send-name-header: the header (in lower case) that tells each server its own name. */
  sendNameHeader?: string;
  /** `source`: the address its servers' connections leave from, unless a server has its own. */
  source?: SourceAddr;
  /** rate-limit sessions: new sessions per second a frontend takes (0: no limit). */
  rateLimitSessions: number;
  /** `compression algo|type|offload` (offload is not inherited from a defaults section). */
  compression?: CompressionSettings;
}

export interface Proxy extends ProxySettings {
  name: string;
  kind: "frontend" | "backend" | "listen";
  where: Where;
  /** Its number (fe_id, be_id): its `id` line's, or the first free one in declaration order. */
  id: number;
  /** Where its `id` line is, if it has one. */
  idWhere?: Where;
  binds: Bind[];
  acls: Map<string, AclSpec[]>;
  httpRequest: HttpRule<HttpRequestAction>[];
  httpResponse: HttpRule<HttpResponseAction>[];
  /** http-after-response: rules for every response, the server's and the proxy's own. */
  httpAfterResponse: HttpRule<HttpResponseAction>[];
  useBackends: UseBackend[];
  useServers: UseServer[];
  persistRules: PersistRule[];
  servers: Server[];
  /** `redirect` lines: after the http-request rules, the first that applies answers. */
  redirects: HttpRule<Extract<HttpRequestAction, { kind: "redirect" }>>[];
  /** `monitor fail` conditions: a monitor request that meets one gets a 503. */
  monitorFail: Condition[];
  /** tcp-request rules: on each accepted connection, once its PROXY header is read, on each request. */
  tcpConnection: TcpRule[];
  tcpSession: TcpRule[];
  tcpContent: TcpRule[];
  /** What its error directives come to: the response for each status that has one of its own. */
  errorFiles: Map<number, ErrorFile>;
  /** `filter compression` was declared (it changes nothing: Sluice has no other filter). */
  compressionFilter?: true;
  /** Its `stick-table`, named after it. */
  stickTable?: StickTableSpec & { where: Where };
  /** `stick on|match|store-request|store-response` rules, in order. */
  stickRules: StickRule[];
}

/**
 * A `stick` rule: `match` finds the request's server by its key, `store-request` and
 * `store-response` remember the server that answered under the key (`on` both matches and stores).
 */
export interface StickRule {
  kind: "on" | "match" | "store-request" | "store-response";
  expr: string;
  /** The table's name; the rule's proxy's own when not given. */
  table?: string;
  cond?: Condition;
  where: Where;
}

export interface Diagnostic {
  level: "alert" | "warning";
  where?: Where;
  message: string;
  /** haproxy prints this one's place as `parsing [f:l]:`, without its usual blank before the colon. */
  tight?: boolean;
  /** Found by haproxy's checks past parsing, which print the place as `Parsing [f:l]:`. */
  checked?: boolean;
  /** A server line's: haproxy prints its place as `[f:l] :`, without "parsing". */
  bare?: boolean;
  /** An alert that does not stop the configuration from loading (haproxy's "Continuing."). */
  continuing?: boolean;
}

/** Alerts that stop the configuration (haproxy's "Continuing." ones do not). */
export const hasAlerts = (ds: readonly Diagnostic[]): boolean =>
  ds.some((d) => d.level === "alert" && !d.continuing);

export interface Config {
  global: Global;
  frontends: Proxy[];
  backends: Map<string, Proxy>;
  /** Every proxy by name in declaration order (a listen is both a frontend and a backend). */
  proxies: Proxy[];
  httpErrors: Map<string, HttpErrors>;
  userlists: Map<string, Userlist>;
}

/** A named defaults section has TCP or HTTP rules (its ACLs alone are none). */
export const hasRules = (d: DefaultsRules | undefined): d is DefaultsRules =>
  d !== undefined &&
  d.holder.httpRequest.length +
    d.holder.httpResponse.length +
    d.holder.httpAfterResponse.length +
    d.holder.tcpConnection.length +
    d.holder.tcpSession.length +
    d.holder.tcpContent.length >
    0;

export const hasFrontend = (p: Proxy): boolean => p.kind !== "backend";
export const hasBackend = (p: Proxy): boolean => p.kind !== "frontend";

/** A proxy as haproxy names it in its messages: a listen section is a "proxy". */
export const typeName = (p: Proxy): string => `${p.kind === "listen" ? "proxy" : p.kind} '${p.name}'`;

/** `capture cookie <name> len <length>`: what %CC and %CS log. */
export interface CookieCapture {
  name: string;
  len: number;
}

/** A capture slot: `capture request|response header` names its header; `declare capture` and
 * `http-request capture ... len` make one that rules fill. */
export interface CaptureSlot {
  name?: string;
  len: number;
}

/** `http-request|http-response capture <sample> len <n> | id <n>`: the sample into a capture slot. */
export interface CaptureAction {
  kind: "capture";
  expr: string;
  /** The slot: made for the rule (`len`), or a declared one (`id`, checked once the frontend is read). */
  slot: number;
  /** `len`: the slot's length, the slot to be made; undefined for `id`. */
  len?: number;
}
