// The keywords of defaults, frontend, backend and listen sections.
import type {
  Balance,
  CannedCheck,
  ForwardFor,
  HttpCheckSend,
  Proxy,
  ProxySettings,
  SetAction,
  Timeouts,
  StickAction,
  TcpRule,
  Where,
} from "./model.js";
import type { HashFunction } from "../balance/hash.js";
import type { UriHashing } from "../balance/request-key.js";
import { hasBackend, hasFrontend, typeName } from "./model.js";
import { parseTime } from "./duration.js";
import { parseHostPort, parseNetwork, parseSource } from "./address.js";
import { parseBind } from "./bind.js";
import { parseLogTarget } from "./log-target.js";
import { parseCookie } from "./cookie.js";
import { parseServerParams, type Reporter } from "./server.js";
import {
  endsReply,
  logFormatError,
  parseHttpRequestAction,
  parseRedirect,
  parseHttpResponseAction,
  parseHttpAfterResponseAction,
  parseCondition,
  splitCondition,
  isStickKeyword,
  stickAction,
  isAddrKeyword,
  isPriorityKeyword,
  setAction,
  type RuleReporter,
} from "./rules.js";
import { stickTableKeyword } from "./stick-table.js";
import { gpFamily } from "./gp-actions.js";
import { NICE_USAGE, niceIgnored, socketOptionRefusal } from "./socket-actions.js";
import {
  errorfileKeyword,
  errorfilesKeyword,
  errorlocKeyword,
  httpErrorKeyword,
  type ErrorFileLoader,
} from "./errorfiles.js";
import type { Condition, Global } from "./model.js";
import { ConfigError } from "./errors.js";
import { compileAcl, PREDEFINED_NAMES } from "../acl/index.js";
import { fetchReason, parseFetch } from "../acl/fetch.js";
import { placeBits, placeWarning, type Place } from "../acl/place.js";
import { atoi, atol, strtol0 } from "./c-numbers.js";
import { COMP_ALGOS } from "../http/compressor.js";
import { tcpCheckKeyword } from "./tcp-check.js";
import { parseRetryOn } from "./retry-on.js";

export interface KeywordContext extends Reporter {
  /** The proxy being built, or the defaults section's settings. */
  px: Proxy | ProxySettings;
  /** Set for frontend/backend/listen, and for a named defaults section's rules; else undefined. */
  proxy?: Proxy;
  /** In a defaults section: it has a name (haproxy takes some settings only in a named one). */
  namedDefaults: boolean;
  sectionName: string;
  words: string[];
  where: Where;
  global: Global;
  errorFiles: ErrorFileLoader;
  /** An alert whose message carries its own place. */
  alertUnplaced(message: string): void;
  /** An alert of a server line, whose place haproxy writes `[f:l] :`. */
  alertBare(message: string): void;
  /**
   * Refuses what haproxy 2.6 does and Sluice lacks; silent on a line haproxy ignores anyway
   * (a keyword on a side the proxy does not have), which Sluice then ignores as well.
   */
  unsupported(message: string): void;
}

type Cap = "fe" | "be" | "any";

interface Keyword {
  cap: Cap;
  /** Whether a defaults section may carry it. */
  defaults: boolean;
  fn: (c: KeywordContext) => void;
  /** What haproxy adds to its warning about a section without the keyword's side. */
  capHint?: string;
  /**
   * What haproxy does with the line past that warning: by default it reads it, its mistakes
   * refused, into what nothing uses; "stops" goes no further; "keeps" sets it on the proxy, where
   * the checks made once every section is read see it.
   */
  ignored?: "stops" | "keeps";
}

/**
 * Each timeout, and the side it belongs to: haproxy ignores it, with a warning, in a proxy without
 * that side.
 */
const TIMEOUT_KEYS: Record<string, { key: keyof Timeouts; cap: Cap }> = {
  client: { key: "client", cap: "fe" },
  connect: { key: "connect", cap: "be" },
  server: { key: "server", cap: "be" },
  tunnel: { key: "tunnel", cap: "be" },
  "http-keep-alive": { key: "httpKeepAlive", cap: "any" },
  "http-request": { key: "httpRequest", cap: "any" },
  queue: { key: "queue", cap: "be" },
  tarpit: { key: "tarpit", cap: "any" },
  "client-fin": { key: "clientFin", cap: "fe" },
  "server-fin": { key: "serverFin", cap: "be" },
  check: { key: "check", cap: "be" },
};

/**
 * `maxconn`, `backlog`, `retries`: one count, read as haproxy reads it (C's atol: `abc` is 0), in
 * haproxy's words when it is missing; a negative one is refused.
 */
function countArg(
  c: KeywordContext,
  missing = `'${c.words[0]}' expects an integer argument.`,
): number | undefined {
  if (!atMostArgs(c, 1)) return undefined;
  const v = c.words[1];
  if (v === undefined || v === "") {
    c.alert(missing);
    return undefined;
  }
  const n = atol(v);
  if (n >= 0) return n;
  c.alert(`'${c.words[0]}' expects an integer argument >= 0, got '${v}'.`);
  return undefined;
}

function timeout(c: KeywordContext): void {
  const kind = c.words[1];
  const known = kind === undefined ? undefined : TIMEOUT_KEYS[kind];
  if (known === undefined) {
    c.alert(
      `'timeout' supports 'client', 'server', 'connect', 'check', 'queue', 'http-keep-alive', 'http-request', 'tunnel', 'tarpit', 'client-fin' and 'server-fin' (got '${kind ?? ""}')`,
    );
    return;
  }
  const v = c.words[2];
  if (v === undefined) return c.alert(`'timeout ${kind}' expects an integer value (in milliseconds)`);
  const ms = parseTime(v, "ms", (m) => c.warning(m));
  if (ms === "over")
    return c.alert(
      `timer overflow in argument '${v}' to 'timeout ${kind}' (maximum value is 2147483647 ms or ~24.8 days)`,
    );
  if (typeof ms === "object") return c.alert(`unexpected character '${ms.bad}' in 'timeout ${kind}'`);
  if (c.words.length > 3)
    return c.alert(`'timeout ${kind}' : unexpected extra argument '${c.words[3]}' after value '${v}'.`);
  if (capOk(c, known.cap, `timeout ${kind}`, true)) c.px.timeouts[known.key] = ms;
}

/** Options that are simple booleans in ProxySettings. */
const BOOL_OPTIONS: Record<string, { key: keyof ProxySettings; cap: Cap }> = {
  dontlognull: { key: "dontlognull", cap: "fe" },
  contstats: { key: "contstats", cap: "fe" },
  "log-separate-errors": { key: "logSeparateErrors", cap: "fe" },
  "dontlog-normal": { key: "dontlogNormal", cap: "fe" },
  "log-health-checks": { key: "logHealthChecks", cap: "be" },
  logasap: { key: "logasap", cap: "fe" },
  allbackups: { key: "allbackups", cap: "be" },
  abortonclose: { key: "abortOnClose", cap: "be" },
  "http-buffer-request": { key: "httpBufferRequest", cap: "any" },
  "http-ignore-probes": { key: "httpIgnoreProbes", cap: "fe" },
  "http-pretend-keepalive": { key: "httpPretendKeepalive", cap: "be" },
  "accept-invalid-http-request": { key: "acceptInvalidHttpRequest", cap: "fe" },
  "accept-invalid-http-response": { key: "acceptInvalidHttpResponse", cap: "be" },
  "idle-close-on-response": { key: "idleCloseOnResponse", cap: "fe" },
  "independent-streams": { key: "independentStreams", cap: "any" },
  "h1-case-adjust-bogus-client": { key: "caseAdjustClient", cap: "fe" },
  "h1-case-adjust-bogus-server": { key: "caseAdjustServer", cap: "be" },
  clitcpka: { key: "cliTcpKa", cap: "fe" },
  srvtcpka: { key: "srvTcpKa", cap: "be" },
  persist: { key: "persist", cap: "be" },
  "prefer-last-server": { key: "preferLastServer", cap: "be" },
  "http-use-proxy-header": { key: "httpUseProxyHeader", cap: "fe" },
};

/** Options that change behaviour sluice does not implement: refused rather than ignored. */
const UNSUPPORTED_OPTIONS = new Set(["checkcache"]);

/** Options that only tune haproxy internals: accepted, with a warning that they change nothing here. */
const NO_EFFECT_OPTIONS = new Set([
  "splice-auto",
  "splice-request",
  "splice-response",
  "http-no-delay",
  "tcp-smart-accept",
  "tcp-smart-connect",
  "socket-stats",
  "nolinger",
  "disable-h2-upgrade",
]);

/** What `no option <mode>` leaves: the default, when `mode` was the one in force. */
const modeUnless = (px: ProxySettings, mode: ProxySettings["httpConnMode"]): ProxySettings["httpConnMode"] =>
  px.httpConnMode === mode ? "keep-alive" : px.httpConnMode;

export function parseOption(c: KeywordContext, negate: boolean): void {
  const name = c.words[1];
  if (name === undefined) return c.alert(`'option' expects an option name.`, true);
  const px = c.px;
  // haproxy's simple options take no argument, which it checks before their section.
  const noArgs = (): boolean => atMostArgs(c, 0, 2);
  const b = BOOL_OPTIONS[name];
  if (b) {
    if (!noArgs() || !capOk(c, b.cap, name)) return;
    (px as unknown as Record<string, boolean>)[b.key] = !negate;
    return;
  }
  if (UNSUPPORTED_OPTIONS.has(name)) return c.alert(`'option ${name}' is not supported by sluice.`);
  if (NO_EFFECT_OPTIONS.has(name)) {
    if (noArgs()) c.warning(`'option ${name}' has no effect in sluice; ignored.`);
    return;
  }
  switch (name) {
    // A negated connection mode goes back to the default only when it was this one.
    case "http-server-close":
      if (noArgs()) px.httpConnMode = negate ? modeUnless(px, "server-close") : "server-close";
      return;
    case "httpclose":
      if (noArgs()) px.httpConnMode = negate ? modeUnless(px, "close") : "close";
      return;
    case "http-keep-alive":
      if (noArgs()) px.httpConnMode = negate ? modeUnless(px, "keep-alive") : "keep-alive";
      return;
    case "redispatch":
      // Its section first, then a C atol of the interval (haproxy 2.6 takes 0 too: then only the
      // rules without an interval apply).
      if (!capOk(c, "be", "redispatch")) return;
      px.redispatch = negate ? undefined : { interval: c.words[2] === undefined ? -1 : atol(c.words[2]) };
      return;
  }
  if (negate) return c.alert(`negation/default is not supported for option '${name}'.`, true);
  switch (name) {
    case "tcpka":
      if (!noArgs()) return;
      if (!c.proxy || hasFrontend(c.proxy)) px.cliTcpKa = true;
      if (!c.proxy || hasBackend(c.proxy)) px.srvTcpKa = true;
      return;
    case "httplog":
      if (c.words[2] !== undefined && c.words[2] !== "clf")
        c.alert(`keyword 'httplog' only supports option 'clf'.`);
      else if (atMostArgs(c, c.words[2] === undefined ? 0 : 1, 2)) {
        if (c.proxy && !hasFrontend(c.proxy))
          c.warning(`backend '${c.proxy.name}' : 'option httplog' directive is ignored in backends.`);
        setLogFormat(c, c.words[2] === "clf" ? "httplog-clf" : "httplog");
        px.httplogWhere = c.where;
      }
      return;
    case "tcplog":
      if (!noArgs()) return;
      if (c.proxy && !hasFrontend(c.proxy))
        c.warning(`backend '${c.proxy.name}' : 'option tcplog' directive is ignored in backends.`);
      setLogFormat(c, "tcplog");
      return;
    case "forwardfor":
    case "originalto": {
      const ff = addressHeader(c, name);
      if (ff === undefined) return;
      if (name === "forwardfor") px.forwardfor = ff;
      else px.originalto = ff;
      return;
    }
    case "httpchk":
      if (!capOk(c, "be", "httpchk")) return;
      px.httpchk = parseHttpchk(c);
      if (!px.httpchk) return;
      // The last check option wins: the tcp-check rules go with `option tcp-check`.
      px.checkOption = "httpchk";
      httpchkHere.add(px);
      px.tcpCheckRules = [];
      return;
    case "tcp-check": {
      // haproxy warns of a missing backend before it looks at the arguments.
      const capable = capOk(c, "be", "tcp-check");
      if (!noArgs() || !capable) return;
      px.checkOption = "tcp-check";
      px.httpchk = undefined;
      px.httpCheckExpect = [];
      return;
    }
    case "redis-check":
    case "ssl-hello-chk":
    case "smtpchk":
    case "pgsql-check":
    case "mysql-check":
    case "ldap-check": {
      // haproxy warns of a missing backend, then still judges the arguments.
      const capable = capOk(c, "be", name);
      const check = cannedCheck(c, name);
      if (!check || !capable) return;
      // A canned check replaces the section's other check option and every rule it had.
      px.checkOption = check;
      px.httpchk = undefined;
      px.httpCheckExpect = [];
      px.tcpCheckRules = [];
      return;
    }
    case "spop-check":
      return c.unsupported(
        `'option ${name}' is not supported by sluice yet (supported check options: httpchk, tcp-check, redis-check, smtpchk, ssl-hello-chk, pgsql-check, mysql-check, ldap-check).`,
      );
    default:
      c.alert(`unknown option '${name}' (or not supported by sluice yet).`);
  }
}

/** A canned check option with its arguments, or undefined once haproxy's alert for them is given. */
function cannedCheck(c: KeywordContext, name: CannedCheck["option"]): CannedCheck | undefined {
  const [, , first, second, third] = c.words;
  switch (name) {
    case "smtpchk":
      return atMostArgs(c, 2, 2) ? { option: name, hello: smtpHello(c.words) } : undefined;
    case "pgsql-check":
      if (!atMostArgs(c, 2, 2)) return undefined;
      if (first !== undefined && first !== "user")
        c.alert(`'option ${name}' only supports optional values: 'user'.`);
      else if (!second) c.alert(`'option ${name}' expects 'user <username>' as argument.`);
      else return { option: name, user: second };
      return undefined;
    case "mysql-check":
      if (!atMostArgs(c, 3, 2)) return undefined;
      if (first === undefined) return { option: name };
      if (first !== "user")
        c.alert(`'option ${name}' only supports optional values: 'user' (got '${first}').`);
      else if (!second) c.alert(`'option ${name} user' expects <username> as argument.`);
      else if (third !== undefined && third !== "post-41" && third !== "pre-41")
        c.alert(`keyword 'user' only supports 'post-41' and 'pre-41' (got '${third}').`);
      else return { option: name, login: { user: second, pre41: third === "pre-41" } };
      return undefined;
    default:
      return atMostArgs(c, 0, 2) ? { option: name } : undefined;
  }
}

/** `option smtpchk [HELO|EHLO <domain>]`: any other command, or one without a domain, is the default. */
function smtpHello(words: readonly string[]): string {
  const [, , hello, domain] = words;
  return (hello === "HELO" || hello === "EHLO") && domain ? `${hello} ${domain}` : "HELO localhost";
}

/**
 * `option forwardfor [except NET] [header NAME] [if-none]` and `option originalto [except NET]
 * [header NAME]`: the header that tells the server the client's address, or the one it connected to.
 */
function addressHeader(c: KeywordContext, name: "forwardfor" | "originalto"): ForwardFor | undefined {
  const ff: ForwardFor = {
    header: name === "forwardfor" ? "X-Forwarded-For" : "X-Original-To",
    ifNone: false,
  };
  for (let i = 2; i < c.words.length; i++) {
    const w = c.words[i];
    if (w === "if-none" && name === "forwardfor") ff.ifNone = true;
    else if (w === "header" || w === "except") {
      const v = c.words[++i];
      const expects =
        w === "header"
          ? `'option ${name} header' expects <header_name> as argument.`
          : `'option ${name} except' expects <address>[/mask] as argument.`;
      if (v === undefined || v === "") return void c.alert(expects);
      if (w === "header") ff.header = v;
      else {
        const net = parseNetwork(v);
        // haproxy takes a dotted mask whose bits are not contiguous; sluice says why it does not.
        if (typeof net === "string")
          return void c.alert(/\/.*\./.test(v) ? `'option ${name}' : ${net}.` : expects);
        ff.except = net;
      }
    } else
      return void c.alert(
        name === "forwardfor"
          ? `'option forwardfor' only supports optional values: 'except', 'header' and 'if-none'.`
          : `'option originalto' only supports optional values: 'except' and 'header'.`,
      );
  }
  return ff;
}

/** haproxy's name for each log format, in its warnings. */
const formatName = (f: NonNullable<ProxySettings["logFormat"]>): string =>
  typeof f === "object"
    ? "log-format"
    : f === "httplog"
      ? "option httplog"
      : f === "httplog-clf"
        ? "option httplog clf"
        : "option tcplog";

/** An http-response or http-after-response rule: their actions differ, not how they are read. */
function responseRule(c: KeywordContext, ruleset: "http-response" | "http-after-response"): void {
  const p = needProxy(c);
  if (!p) return;
  const s = splitCondition(c.words.slice(1), c.where);
  if (typeof s === "string")
    return c.alert(`error detected while parsing an '${ruleset} ${c.words[1]}' condition : ${s}.`);
  const r = replyReporter(c, p);
  const after = ruleset === "http-after-response";
  const action = after ? parseHttpAfterResponseAction(s.head, r) : parseHttpResponseAction(s.head, r);
  // haproxy writes "parsing [file:line]:" tight before these.
  if (typeof action === "string") return c.alert(action, endsReply(action) || action.includes(" but got '"));
  const bad = logFormatError(action, "response", r, ruleset);
  if (bad) return c.alert(bad);
  if (!checkCondition(c, p, s.cond, `an '${ruleset} ${s.head[0]}' condition`, "http-response")) return;
  (after ? p.httpAfterResponse : p.httpResponse).push({ action, cond: s.cond, where: c.where });
}

/**
 * `capture cookie <name> len <length>`: haproxy reads the length as C's atol (a word that is no
 * number is 0) and does not look at the word before it. A later one replaces it.
 */
function captureCookie(c: KeywordContext): void {
  if (c.words.length > 6)
    return c.alert(`'capture cookie' cannot handle unexpected argument '${c.words[6]}'.`);
  if (c.words[4] === undefined || c.words[4] === "")
    return c.alert(`'capture' expects 'cookie' <cookie_name> 'len' <len>.`);
  c.px.captureCookie = { name: c.words[2]!, len: Math.max(atol(c.words[4]), 0) };
}

/** Sets the log format; in a defaults section haproxy warns when one replaces another. */
function setLogFormat(c: KeywordContext, f: NonNullable<ProxySettings["logFormat"]>): void {
  const old = c.px.logFormat;
  if (!c.proxy && old !== undefined)
    c.warning(`'${formatName(f)}' overrides previous '${formatName(old)}' in 'defaults' section.`, true);
  c.px.logFormat = f;
}

const isHashFunction = (f: string): f is HashFunction =>
  f === "sdbm" || f === "djb2" || f === "wt6" || f === "crc32";

/** `balance ALGO [ARGS]`: undefined (with an alert) when refused. */
function parseBalance(c: KeywordContext): Balance | undefined {
  const [, word = "", ...args] = c.words;
  // haproxy takes a `balance` without algorithm as roundrobin.
  const algo = word || "roundrobin";
  if (
    algo === "roundrobin" ||
    algo === "static-rr" ||
    algo === "leastconn" ||
    algo === "first" ||
    algo === "source"
  ) {
    // haproxy reads no further, without a word: Sluice says what goes unread.
    if (args.length > 0)
      c.warning(
        `'balance ${algo}' takes no argument: '${args.join(" ")}' is ignored, as haproxy 2.6 ignores it.`,
      );
    return algo;
  }
  if (algo === "uri") {
    const uri: UriHashing = { len: 0, depth: 0, whole: false, pathOnly: false };
    for (let i = 0; i < args.length; i++) {
      const a = args[i]!;
      if (a === "whole") uri.whole = true;
      else if (a === "path-only") uri.pathOnly = true;
      else if (a === "len" || a === "depth") {
        const n = Number(args[++i]);
        if (!Number.isInteger(n) || n <= 0)
          return void c.alert(`balance uri : '${a}' expects a positive integer (got '${args[i] ?? ""}').`);
        uri[a] = n;
      } else
        return void c.alert(
          `balance uri only accepts parameters 'len', 'depth', 'path-only', and 'whole' (got '${a}').`,
        );
    }
    return { uri };
  }
  if (algo === "url_param") {
    const [name, modifier] = args;
    if (!name) return void c.alert(`balance url_param requires an URL parameter name.`);
    if (modifier === "check_post")
      return void c.unsupported(`'balance url_param' : 'check_post' is not supported by sluice yet.`);
    if (modifier !== undefined || args.length > 2)
      return void c.alert(`balance url_param only accepts 'check_post' modifier (got '${modifier}').`);
    return { urlParam: name };
  }
  if (algo === "hash") {
    if (args[0] === undefined) return void c.alert(`balance hash requires a sample expression.`);
    if (args.length > 1) return void c.alert(`balance hash takes no other argument (got '${args[1]}').`);
    return { hash: args[0] };
  }
  // haproxy reads `random` and anything after it; `(N)` sets the draws (a C number: 010 is 8).
  if (algo.startsWith("random")) {
    if (!algo.startsWith("random(") || algo === "random()") return { random: 2 };
    // strtol's long lands in an int, as in haproxy.
    const { value: long, end } = strtol0(algo.slice(7));
    const value = long | 0;
    const after = algo[7 + end];
    if (after !== ")")
      return void c.alert(
        after === undefined
          ? `balance random : missing closing parenthesis.`
          : `balance random : unexpected character '${after}' after argument.`,
      );
    if (value < 1) return void c.alert(`balance random : number of draws must be at least 1.`);
    return { random: value };
  }
  const hdr = /^hdr\(([^)]*)\)$/.exec(algo);
  if (hdr) {
    if (!hdr[1]) return void c.alert(`balance hdr requires an http header field name.`);
    if (args[0] === "use_domain_only")
      return void c.unsupported(`'balance hdr' : 'use_domain_only' is not supported by sluice yet.`);
    if (args.length > 0)
      return void c.alert(`balance ${algo} only accepts 'use_domain_only' modifier (got '${args[0]}').`);
    return { hdr: hdr[1].toLowerCase() };
  }
  if (/^rdp-cookie(\(|$)/.test(algo))
    c.unsupported(
      `'balance ${algo}' is not supported by sluice yet (supported: roundrobin, static-rr, leastconn, first, source, uri, url_param, hdr(name), random, hash).`,
    );
  else
    c.alert(
      `balance only supports 'roundrobin', 'static-rr', 'leastconn', 'source', 'uri', 'url_param', 'hdr(name)' and 'rdp-cookie(name)' options.`,
    );
  return undefined;
}

/** force-persist / ignore-persist: only a condition, checked where haproxy checks it. */
function persistRule(c: KeywordContext, kind: "force" | "ignore"): void {
  const p = needProxy(c);
  if (!p) return;
  const kw = `${kind}-persist`;
  if (c.words[1] !== "if" && c.words[1] !== "unless")
    return c.alert(`'${kw}' requires either 'if' or 'unless' followed by a condition.`);
  const s = splitCondition(c.words.slice(1), c.where);
  if (typeof s === "string") return c.alert(`error detected while parsing a '${kw}' rule : ${s}.`);
  if (!s.cond || !checkCondition(c, p, s.cond, `a '${kw}' rule`, "persist")) return;
  p.persistRules.push({ kind, cond: s.cond, where: c.where });
}

/** `option httpchk [[METH] URI [VERSION]]`; VERSION may carry extra header lines after `\r\n`. */
function parseHttpchk(c: KeywordContext): HttpCheckSend | undefined {
  // Method, URI and version: three words at most (headers hide in the version's, with \r\n).
  if (!atMostArgs(c, 3, 2)) return undefined;
  const args = c.words.slice(2);
  const send: HttpCheckSend = { method: "OPTIONS", uri: "/", version: "HTTP/1.0", headers: [], body: "" };
  if (args.length === 1) send.uri = args[0]!;
  else if (args.length >= 2) {
    send.method = args[0]!;
    send.uri = args[1]!;
    if (args.length === 3) {
      const lines = args[2]!.split("\r\n");
      send.version = lines[0]!;
      for (const l of lines.slice(1)) if (l !== "") send.headers.push(l);
      if (lines.length > 1)
        c.warning(
          `'option httpchk' : hiding headers or body at the end of the version string is deprecated. Please, consider to use 'http-check send' directive instead.`,
          true,
        );
    }
  }
  if (!/^HTTP\/\d\.\d$/.test(send.version))
    c.warning(
      `'option httpchk' : version '${send.version}' does not look like 'HTTP/x.y'; it is sent as is.`,
    );
  return send;
}

/**
 * Whether the section has the side a keyword belongs to; if not, haproxy's warning. Its timeouts say
 * it in other words ("will be ignored", no final dot).
 */
export function capOk(c: KeywordContext, cap: Cap, what: string, timeout = false, hint = ""): boolean {
  const p = c.proxy;
  if (!p || cap === "any") return true;
  const missing =
    cap === "fe" && !hasFrontend(p) ? "frontend" : cap === "be" && !hasBackend(p) ? "backend" : "";
  if (missing === "") return true;
  const kind = missing === "frontend" ? "backend" : "frontend";
  c.warning(
    `'${what}' ${timeout ? "will be ignored" : "ignored"} because ${kind} '${p.name}' has no ${missing} capability${timeout ? "" : "."}${hint}`,
  );
  return false;
}

/** Each section's rate-limit as it came from its defaults, kept when the section first sets its own. */
const inheritedRateLimit = new WeakMap<ProxySettings, number>();

/** `rate-limit sessions <rate>`: haproxy reads the rate with strtoul (hex and octal too). */
function rateLimit(c: KeywordContext): void {
  const [kw, what, v] = c.words;
  if (what !== "sessions") return c.alert(`'${kw}' only supports 'sessions' (got '${what ?? ""}')`);
  if (v === undefined || v === "")
    return c.alert(`'${kw} ${what}' expects expects an integer value (in sessions/second)`);
  const n = strtol0(v);
  if (n.end !== v.length)
    return c.alert(`'${kw} ${what}' : unexpected character '${v[n.end]}' in integer value '${v}'`);
  const px = c.px;
  if (c.proxy && !hasFrontend(c.proxy))
    c.warning(`${kw} ${what} will be ignored because ${typeName(c.proxy)} has no frontend capability`);
  else {
    if (!inheritedRateLimit.has(px)) inheritedRateLimit.set(px, px.rateLimitSessions);
    if (px.rateLimitSessions !== inheritedRateLimit.get(px))
      c.warning(`overwriting ${kw} ${what} which was already specified`);
  }
  // strtoul wraps a negative number round to a huge one: no limit in practice.
  px.rateLimitSessions = n.value >>> 0;
}

/** Sections (by their settings object) that gave `option httpchk` / an http-check rule themselves. */
const httpchkHere = new WeakSet<ProxySettings>();
const checkRulesHere = new WeakSet<ProxySettings>();

/** The first http-check rule of a section: the rules it inherited no longer apply. */
function ownCheckRules(px: ProxySettings): void {
  if (checkRulesHere.has(px)) return;
  checkRulesHere.add(px);
  px.httpCheckExpect = [];
  // haproxy keeps one list of check rules: http-check rules replace the tcp-check ones.
  px.tcpCheckRules = [];
}

function httpCheck(c: KeywordContext): void {
  const sub = c.words[1];
  if (sub === "expect") {
    let i = 2;
    const negate = c.words[i] === "!";
    if (negate) i++;
    const kind = c.words[i];
    const pattern = c.words[i + 1];
    if (kind === undefined)
      return c.alert(`'http-check expect' : expects at least a matching pattern as arguments.`);
    if (kind !== "status" && kind !== "rstatus" && kind !== "string" && kind !== "rstring") {
      if (!EXPECT_KINDS.has(kind))
        return c.alert(
          `'http-check expect' : 'only supports min-recv, [!]string', '[!]rstring', '[!]string-lf', '[!]status', '[!]rstatus', [!]hdr, [!]fhdr or comment but got '${kind}' as argument..`,
        );
      return c.unsupported(
        `'http-check expect' : '${kind}' is not supported by sluice yet (supported: status, rstatus, string, rstring).`,
      );
    }
    if (pattern === undefined)
      return c.alert(`'http-check expect' : '${kind}' expects a <pattern> as argument.`);
    if (c.words.length > i + 2) return c.alert(`'http-check expect' : unexpected '${c.words[i + 2]}'.`);
    // The first rule of a section replaces the expectations it inherited.
    ownCheckRules(c.px);
    c.px.httpCheckExpect.push({ negate, kind, pattern, where: c.where });
    return;
  }
  if (sub === "send") {
    // haproxy 2.6 takes one send rule per section, before any expect rule; a section's rules replace
    // the inherited ones, so the request starts from this section's `option httpchk` or the default.
    if (checkRulesHere.has(c.px))
      return c.alert(
        `'http-check send' : unable to add http-check send rule at step 2 (missing connect rule)..`,
      );
    ownCheckRules(c.px);
    const send: HttpCheckSend =
      c.px.httpchk && httpchkHere.has(c.px)
        ? c.px.httpchk
        : { method: "OPTIONS", uri: "/", version: "HTTP/1.0", headers: [], body: "" };
    for (let i = 2; i < c.words.length; i += 2) {
      const k = c.words[i]!;
      const v = c.words[i + 1];
      if (k === "hdr" && (v === undefined || v === ""))
        return c.alert(`'http-check send' : 'hdr' expects <name> and <value> as arguments.`);
      // haproxy's own message ends with a dot, and it adds another.
      if ((v === undefined || v === "") && ["meth", "uri", "ver", "body"].includes(k))
        return c.alert(`'http-check send' : '${k}' expects a string as argument..`);
      if (v === undefined) return c.alert(`'http-check send' : '${k}' expects an argument.`);
      if (k === "meth") send.method = v;
      else if (k === "uri") send.uri = v;
      else if (k === "ver") send.version = v;
      else if (k === "body") send.body = v;
      else if (k === "hdr") {
        const value = c.words[i + 2];
        if (value === undefined || value === "")
          return c.alert(`'http-check send' : 'hdr' expects <name> and <value> as arguments.`);
        send.headers.push(`${v}: ${value}`);
        i++;
      } else if (SEND_WORDS.has(k))
        return c.unsupported(`'http-check send' : '${k}' is not supported by sluice yet.`);
      else
        return c.alert(
          `'http-check send' : expects 'comment', 'meth', 'uri', 'uri-lf', 'ver', 'hdr', 'body' or 'body-lf' but got '${k}' as argument..`,
        );
    }
    c.px.httpchk = send;
    return;
  }
  if (
    !/^(disable-on-404|send-state|comment|connect|set-var\(.*\)|set-var-fmt\(.*\)|unset-var\(.*\))$/.test(
      sub ?? "",
    )
  )
    return c.alert(
      `'http-check' only supports 'disable-on-404', 'send-state', 'comment', 'connect', 'send', 'expect', 'set-var-fmt(*)', 'set-var(*)', 'unset-var(*)'. but got '${sub ?? ""}'`,
    );
  if ((sub === "disable-on-404" || sub === "send-state") && !atMostArgs(c, 1)) return;
  c.unsupported(`'http-check ${sub}' is not supported by sluice yet (supported: expect, send).`);
}

/** haproxy 2.6's `http-check expect` matches, and the words of `http-check send`. */
const EXPECT_KINDS = new Set([
  "min-recv",
  "string",
  "rstring",
  "string-lf",
  "status",
  "rstatus",
  "hdr",
  "fhdr",
  "comment",
]);
const SEND_WORDS = new Set(["comment", "meth", "uri", "uri-lf", "ver", "hdr", "body", "body-lf"]);

/**
 * haproxy resolves a condition's ACL names when it reads the rule, so an ACL must be declared
 * before the rules that use it; `what` is haproxy's name for the rule in the message. It also
 * warns when an ACL's sample does not exist where the rule runs (`place`, none for a monitor's).
 */
function checkCondition(
  c: KeywordContext,
  p: Proxy,
  cond: Condition | undefined,
  what: string,
  place: Place | undefined,
): boolean {
  const problem = conditionProblem(p, cond);
  if (problem !== undefined) {
    c.alert(`error detected while parsing ${what} : ${problem}`);
    return false;
  }
  if (place !== undefined) placeCheck(c, p, cond, place);
  return true;
}

/** What is wrong with a condition's ACLs, or undefined. */
function conditionProblem(p: Proxy, cond: Condition | undefined): string | undefined {
  if (!cond) return undefined;
  for (const group of cond.groups)
    for (const t of group) {
      if (t.anon) {
        try {
          compileAcl(t.anon);
        } catch (e) {
          if (!(e instanceof ConfigError)) throw e;
          return e.message;
        }
      } else if (!p.acls.has(t.name!) && !PREDEFINED_NAMES.includes(t.name!))
        return `no such ACL : '${t.name}'.`;
    }
  return undefined;
}

/**
 * haproxy's refusal of words past the `max` a keyword takes after its first `named` ones (which its
 * message quotes: `'http-reuse never' cannot handle...`); true when there are none.
 */
function atMostArgs(c: KeywordContext, max: number, named = 1): boolean {
  const extra = c.words[named + max];
  if (extra === undefined) return true;
  c.alert(`'${c.words.slice(0, named).join(" ")}' cannot handle unexpected argument '${extra}'.`);
  return false;
}

/** A keyword that takes no argument, refused with one in haproxy's words; true when it has none. */
const noArgument = (c: KeywordContext): boolean => atMostArgs(c, 0);

/** haproxy's warning for a condition whose ACLs cannot match where it is used. */
function placeCheck(c: KeywordContext, p: Proxy, cond: Condition | undefined, place: Place): void {
  if (!cond) return;
  const tcpRule = place.startsWith("tcp-request") ? place : undefined;
  const w = placeWarning(cond, p.acls, placeBits(place, hasFrontend(p), hasBackend(p)), tcpRule);
  if (w !== undefined) c.warning(w);
}

type RuleKind =
  | "tcp-request session"
  | "tcp-request content"
  | "monitor fail"
  | "http-request"
  | "redirect"
  | "use_backend"
  | "use-server";

/**
 * haproxy's warning for a rule written after rules that run after it, naming the first kind of
 * those (in the order given) that the proxy already has.
 */
function misplaced(c: KeywordContext, p: Proxy, rule: string, after: RuleKind[]): void {
  const lists: Record<RuleKind, unknown[]> = {
    "tcp-request session": p.tcpSession,
    "tcp-request content": p.tcpContent,
    "monitor fail": p.monitorFail,
    "http-request": p.httpRequest,
    redirect: p.redirects,
    use_backend: p.useBackends,
    "use-server": p.useServers,
  };
  const kind = after.find((k) => lists[k].length > 0);
  if (kind === undefined) return;
  const an = kind === "http-request" ? "an" : "a";
  c.warning(`a '${rule}' rule placed after ${an} '${kind}' rule will still be processed before.`);
}

/** What a rule's reply reports to: this line's warnings, and the proxy as haproxy names it. */
const replyReporter = (c: KeywordContext, p: Proxy): RuleReporter => ({
  warning: (m: string) => c.warning(m),
  load: (path: string) => c.errorFiles.load(path),
  bufsize: c.global.bufsize,
  proxy: typeName(p),
  fe: hasFrontend(p),
  be: hasBackend(p),
});

function needProxy(c: KeywordContext): Proxy | undefined {
  if (!c.proxy) c.alert(`'${c.words[0]}' not allowed in 'defaults' section.`);
  return c.proxy;
}

/** haproxy's `<num | range>` of a server-template: `N` is 1 to N, `L-H` is L to H (L >= 0, H >= L). */
function templateRange(arg: string): { low: number; high: number } | undefined {
  const dash = arg.indexOf("-");
  const low = dash < 0 ? 1 : atoi(arg);
  const high = atoi(dash < 0 ? arg : arg.slice(dash + 1));
  return low < 0 || high < low ? undefined : { low, high };
}

/** haproxy refuses a server line outside a backend, in words that name the place twice. */
function notBackend(c: KeywordContext, p: Proxy): void {
  const at = `[${c.where.file}:${c.where.line}]`;
  c.alertUnplaced(
    `${at} : parsing ${at} : '${c.words[0]}' not allowed because frontend '${p.name}' has no backend capability.`,
  );
}

/**
 * `server <name> <addr> [params]`, or `server-template <prefix> <num | range> <addr> [params]`: the
 * servers <prefix><n>, each with the same address and parameters (a custom `id` goes to the first
 * one only, as in haproxy, whose other servers get the next free ids).
 */
function servers(c: KeywordContext, template: boolean): void {
  const p = needProxy(c);
  if (!p) return;
  const at = `[${c.where.file}:${c.where.line}]`;
  if (!hasBackend(p)) return notBackend(c, p);
  const [, name, ...rest] = c.words;
  const range = template ? rest.shift() : undefined;
  const addr = rest.shift();
  if (name === undefined || addr === undefined)
    return template
      ? c.alertUnplaced(
          `${at} : 'server-template' expects <prefix> <nb | range> <addr>[:<port>] as arguments.`,
        )
      : c.alert(`'server' expects <name> and <addr>[:<port>] as arguments.`);
  // haproxy's names: letters, digits and . : _ - only.
  const bad = /[^A-Za-z0-9.:_-]/.exec(name);
  if (bad)
    return c.alertUnplaced(
      `${at} : character '${bad[0]}' is not permitted in ${template ? "server-template prefix" : "server name"} '${name}'.`,
    );
  const numbers = range === undefined ? undefined : templateRange(range);
  if (template && !numbers)
    return c.alertUnplaced(`${at} : Wrong server-template number or range arg '${range}'.`);
  const hp = parseHostPort(addr, { range: false, env: c.global.env });
  // haproxy names a template's server before it has one.
  const label = `'server ${p.name}/${template ? "(null)" : name}'`;
  if (typeof hp === "string") return c.alertBare(`${label} : ${hp}`);
  if (hp.fd !== undefined)
    return c.alertBare(`${label} : a file descriptor is not acceptable here in '${addr}'`);
  if (hp.port === undefined)
    return c.alertBare(`${label} : a server without a port is not supported by sluice yet.`);
  const params = structuredClone(p.defaultServer);
  parseServerParams(
    rest,
    params,
    {
      alert: (m) => c.alertBare(`${label} : ${m}`),
      warning: (m) => c.warning(`${label} : ${m}`),
      server: template ? "(null)" : name,
    },
    c.global.env,
  );
  const same = params.id === undefined ? undefined : p.servers.find((s) => s.id === params.id);
  if (same)
    return c.alertBare(
      `${label} : 'id' : custom id ${params.id} already used at ${same.where.file}:${same.where.line} ('server ${same.name}').`,
    );
  const host = hp.host === "" ? "0.0.0.0" : hp.host;
  const { low, high } = numbers ?? { low: 0, high: 0 };
  for (let n = low; n <= high; n++)
    p.servers.push({
      // The first takes the parsed parameters, the others copies of them.
      ...(n === low ? params : structuredClone(params)),
      id: n === low ? params.id : undefined,
      name: template ? `${name}${n}` : name,
      host,
      port: hp.port,
      where: c.where,
    });
}

export const PROXY_KEYWORDS: Record<string, Keyword> = {
  mode: {
    cap: "any",
    defaults: true,
    fn: (c) => {
      if (!atMostArgs(c, 1)) return;
      const m = c.words[1];
      if (m === "health")
        return c.alert(
          `'mode health' doesn't exist anymore. Please use 'http-request return status 200' instead.`,
        );
      if (m !== "http" && m !== "tcp") return c.alert(`unknown proxy mode '${m ?? ""}'.`);
      c.px.mode = m;
    },
  },
  timeout: { cap: "any", defaults: true, fn: timeout },
  option: { cap: "any", defaults: true, fn: (c) => parseOption(c, false) },
  retries: {
    cap: "be",
    defaults: true,
    fn: (c) => {
      const n = countArg(c, `'retries' expects an integer argument (dispatch counts for one).`);
      if (n !== undefined) c.px.retries = n;
    },
  },
  "retry-on": {
    cap: "any",
    defaults: true,
    fn: (c) => {
      if (c.proxy && !hasBackend(c.proxy))
        return c.alert(`'retry-on' only available in backend or listen section`);
      const bits = parseRetryOn(c.words.slice(1));
      if (typeof bits === "string") return c.alert(bits);
      c.px.retryOn = bits;
    },
  },
  backlog: {
    cap: "fe",
    defaults: true,
    fn: (c) => {
      const n = countArg(c);
      if (n !== undefined) c.px.backlog = n;
    },
  },
  maxconn: {
    cap: "fe",
    defaults: true,
    capHint: " Maybe you want 'fullconn' instead ?",
    fn: (c) => {
      const n = countArg(c);
      if (n !== undefined) c.px.maxconn = n;
    },
  },
  balance: {
    cap: "be",
    defaults: true,
    fn: (c) => {
      const b = parseBalance(c);
      if (b !== undefined) c.px.balance = b;
    },
  },
  // Read as atol reads: what follows the number is ignored, no number is 0. Any proxy takes it.
  "hash-balance-factor": {
    cap: "any",
    defaults: true,
    fn: (c) => {
      const arg = c.words[1] ?? "";
      if (arg === "") return c.alert(`'hash-balance-factor' expects an integer argument.`);
      const n = atol(arg);
      if (n !== 0 && n <= 100) return c.alert(`'hash-balance-factor' must be 0 or greater than 100.`);
      c.px.hashBalanceFactor = n;
    },
  },
  // hash-type {map-based|consistent} [<function> [avalanche]]: consistent alone is sdbm avalanche.
  "hash-type": {
    cap: "be",
    defaults: true,
    fn: (c) => {
      const [, method = "", fn, modifier = ""] = c.words;
      if (method === "avalanche")
        return c.alert(
          `experimental feature 'hash-type avalanche' is not supported anymore, please use 'hash-type map-based sdbm avalanche' instead.`,
        );
      if (method !== "consistent" && method !== "map-based")
        return c.alert(`'hash-type' only supports 'consistent' and 'map-based'.`);
      if (fn === undefined || fn === "") {
        c.px.hashType = { method, fn: "sdbm", avalanche: method === "consistent" };
        return;
      }
      if (!isHashFunction(fn))
        return c.alert(`'hash-type' only supports 'sdbm', 'djb2', 'crc32', or 'wt6' hash functions.`);
      if (modifier !== "" && modifier !== "avalanche")
        return c.alert(`'hash-type' only supports 'avalanche' as a modifier for hash functions.`);
      c.px.hashType = { method, fn, avalanche: modifier === "avalanche" };
    },
  },
  cookie: { cap: "any", defaults: true, fn: parseCookie },
  disabled: {
    cap: "any",
    defaults: true,
    fn: (c) => {
      if (noArgument(c)) c.px.disabled = true;
    },
  },
  enabled: {
    cap: "any",
    defaults: true,
    fn: (c) => {
      if (noArgument(c)) c.px.disabled = false;
    },
  },
  "bind-process": {
    cap: "any",
    defaults: true,
    fn: (c) =>
      c.warning(`'bind-process' has no effect, is deprecated, and will be removed in version 2.7.`, true),
  },
  grace: {
    cap: "any",
    defaults: true,
    fn: (c) => c.alert(`the 'grace' keyword is not supported any more since HAProxy version 2.5.`, true),
  },
  "http-reuse": {
    cap: "be",
    defaults: true,
    fn: (c) => {
      const m = c.words[1];
      if (m !== "never" && m !== "safe" && m !== "aggressive" && m !== "always")
        return c.alert(`'http-reuse' only supports 'never', 'safe', 'aggressive', 'always'.`);
      if (atMostArgs(c, 0, 2)) c.px.httpReuse = m;
    },
  },
  log: {
    cap: "any",
    defaults: true,
    fn: (c) => {
      if (c.words[1] === "global") {
        if (c.words.length > 2) return c.alert(`'log global' takes no other argument.`);
        c.px.logGlobal = true;
        c.px.logs.push(...c.global.logs);
        return;
      }
      const t = parseLogTarget(c.words.slice(1), c.where, c.global.env);
      if (typeof t === "string") c.alert(`log : ${t}`);
      else c.px.logs.push(t);
    },
  },
  "default-server": {
    cap: "any",
    defaults: true,
    fn: (c) => {
      if (c.proxy && !hasBackend(c.proxy)) return notBackend(c, c.proxy);
      parseServerParams(
        c.words.slice(1),
        c.px.defaultServer,
        { alert: (m) => c.alertBare(m), warning: (m) => c.warning(m), server: "default-server" },
        c.global.env,
      );
      if (c.px.defaultServer.id === undefined) return;
      // haproxy says so as an alert, yet goes on without the id.
      c.warning(`'id' option is not accepted in default-server sections`);
      delete c.px.defaultServer.id;
    },
  },
  default_backend: {
    cap: "fe",
    defaults: true,
    ignored: "keeps",
    fn: (c) => {
      if (c.words[1] === undefined) return c.alert(`'default_backend' expects a backend name.`);
      if (atMostArgs(c, 1)) c.px.defaultBackend = { name: c.words[1], where: c.where };
    },
  },
  "http-check": { cap: "be", defaults: true, fn: httpCheck },
  "tcp-check": { cap: "be", defaults: true, fn: tcpCheckKeyword },
  source: {
    cap: "any",
    defaults: true,
    fn: (c) => {
      const [, addr, ...opts] = c.words;
      if (addr === undefined)
        return c.alert(
          `'source' expects <addr>[:<port>], and optionally 'usesrc' <addr>, and 'interface' <name>.`,
        );
      const src = parseSource(addr, c.global.env);
      if (typeof src === "string") return c.alert(src);
      if (src.range) return c.alert(`'source ${addr}' : port range not permitted here in '${addr}'`);
      const opt = opts[0];
      if (opt === "usesrc")
        return c.alert(`'source ... usesrc' is not supported by sluice (transparent proxying).`);
      if (opt === "interface") return c.alert(`'source ... interface' is not supported by sluice.`);
      if (opt !== undefined)
        return c.alert(`'source' only supports optional keywords 'interface' and 'usesrc'.`);
      if (!capOk(c, "be", "source")) return;
      c.px.source = { host: src.host, port: src.port };
    },
  },
  capture: {
    cap: "fe",
    defaults: false,
    fn: (c) => {
      const [, dir, what, name, lenKw, len] = c.words;
      if (dir === "cookie") return captureCookie(c);
      if ((dir !== "request" && dir !== "response") || what !== "header")
        return c.alert(`'capture' expects 'cookie' or 'request header' or 'response header'.`);
      if (!atMostArgs(c, 4, 2)) return;
      if (name === undefined || name === "" || lenKw !== "len" || len === undefined || len === "")
        return c.alert(`'capture ${dir}' expects 'header' <header_name> 'len' <len>.`);
      const n = Number(len);
      if (!Number.isInteger(n) || n <= 0)
        return c.alert(`'capture ${dir} header' : 'len' expects a positive integer.`);
      const list = dir === "request" ? c.px.captureRequestHeaders : c.px.captureResponseHeaders;
      list.push({ name, len: n });
    },
  },
  "rate-limit": { cap: "any", defaults: true, fn: rateLimit },
  "log-tag": {
    cap: "any",
    defaults: true,
    fn: (c) => {
      if (c.words[1] === undefined) return c.alert(`'log-tag' expects a tag for use in syslog.`);
      c.px.logTag = c.words[1];
    },
  },
  compression: {
    cap: "any",
    defaults: true,
    fn: (c) => {
      const [, what, ...args] = c.words;
      const comp = (c.px.compression ??= { algos: [], types: [], offload: false });
      if (what === "algo") {
        // haproxy's message names its place twice here.
        if (args.length === 0)
          return c.alert(`parsing [${c.where.file}:${c.where.line}] : 'compression' expects <algorithm>.`);
        for (const a of args) {
          const algo = COMP_ALGOS.find((x) => x === a);
          if (!algo) return c.alert(`'compression' : '${a}' is not a supported algorithm.`);
          comp.algos.unshift(algo);
        }
      } else if (what === "type") {
        if (args.length === 0) return c.alert(`'compression' expects <type>.`);
        for (const t of args) comp.types.unshift(t);
      } else if (what === "offload") {
        if (!c.proxy) c.warning(`'compression' : 'offload' ignored in 'defaults' section.`);
        comp.offload = true;
      } else c.alert(`'compression' expects 'algo', 'type' or 'offload'`);
    },
  },
  filter: {
    cap: "any",
    defaults: true,
    fn: (c) => {
      const here = `parsing [${c.where.file}:${c.where.line}] : `;
      if (!c.proxy) return c.alert(`${here}filter is not allowed in a 'default' section.`);
      const [, name, extra] = c.words;
      if (name === undefined) return c.alert(`${here}missing argument for 'filter' in ${typeName(c.proxy)}.`);
      if (name !== "compression")
        return c.alert(`'filter ${name}' is a haproxy keyword that sluice does not support yet.`);
      if (extra !== undefined) return c.alert(`'filter compression' : unknown keyword '${extra}'.`);
      if (c.proxy.compressionFilter)
        return c.alert(`'filter' : '${c.proxy.name}: Proxy supports only one compression filter\n'`);
      c.proxy.compressionFilter = true;
    },
  },
  bind: {
    cap: "fe",
    defaults: false,
    ignored: "keeps",
    fn: (c) => {
      const p = needProxy(c);
      if (p) parseBind(c, p);
    },
  },
  acl: {
    cap: "any",
    defaults: false,
    fn: (c) => {
      const p = needProxy(c);
      if (!p) return;
      const [, name, fetch, ...rest] = c.words;
      if (name === undefined) return c.alert(`'acl' expects an ACL name and a fetch method.`);
      const bad = /[^A-Za-z0-9_.:-]/.exec(name);
      if (bad) return c.alert(`character '${bad[0]}' is not permitted in acl name '${name}'.`);
      if (fetch === undefined)
        return c.alert(
          `error detected while parsing ACL '${name}' : missing fetch method in ACL expression ''.`,
        );
      const spec = { fetch, words: rest, where: c.where };
      try {
        compileAcl(spec, name, c.warning);
      } catch (e) {
        if (!(e instanceof ConfigError)) throw e;
        return c.alert(e.message);
      }
      const list = p.acls.get(name) ?? [];
      list.push(spec);
      p.acls.set(name, list);
    },
  },
  use_backend: {
    cap: "any",
    defaults: false,
    fn: (c) => {
      const p = needProxy(c);
      if (!p) return;
      // haproxy keeps a backend's rule past its warning: it checks the name, though it never runs it.
      capOk(c, "fe", "use_backend");
      const s = splitCondition(c.words.slice(1), c.where);
      if (typeof s === "string") return c.alert(`error detected while parsing switching rule : ${s}.`);
      if (s.head.length !== 1) return c.alert(`'use_backend' expects a backend name.`);
      const name = s.head[0]!;
      if (!checkCondition(c, p, s.cond, "switching rule", "use-backend")) return;
      p.useBackends.push({ backend: name, cond: s.cond, where: c.where });
    },
  },
  "force-persist": { cap: "be", defaults: false, fn: (c) => persistRule(c, "force") },
  "ignore-persist": { cap: "be", defaults: false, fn: (c) => persistRule(c, "ignore") },
  "use-server": {
    // Outside a backend haproxy warns, and keeps the rule: its server is then looked for among the
    // section's own, where there are none (an error, from parse.ts's checks).
    cap: "any",
    defaults: false,
    fn: (c) => {
      const p = needProxy(c);
      if (!p) return;
      capOk(c, "be", "use-server");
      const [, name, kw] = c.words;
      if (!name) return c.alert(`'use-server' expects a server name.`);
      if (kw !== "if" && kw !== "unless")
        return c.alert(`'use-server' requires either 'if' or 'unless' followed by a condition.`);
      if (name.includes("%["))
        return c.alert(`'use-server' with a dynamic name ('${name}') is not supported by sluice yet.`);
      const s = splitCondition(c.words.slice(1), c.where);
      if (typeof s === "string") return c.alert(`error detected while parsing switching rule : ${s}.`);
      if (!s.cond || !checkCondition(c, p, s.cond, "switching rule", "use-server")) return;
      p.useServers.push({ server: name, cond: s.cond, where: c.where });
    },
  },
  "http-request": {
    cap: "any",
    defaults: false,
    fn: (c) => {
      const p = needProxy(c);
      if (!p) return;
      if (c.words[1] === "normalize-uri" && !c.global.experimental)
        return c.alert(
          `'normalize-uri' action is experimental, must be allowed via a global 'expose-experimental-directives'`,
        );
      const s = splitCondition(c.words.slice(1), c.where);
      if (typeof s === "string")
        return c.alert(`error detected while parsing an 'http-request ${c.words[1]}' condition : ${s}.`);
      const r = replyReporter(c, p);
      // haproxy's timeouts of a server or a tunnel belong to a backend: checked once it has its two words.
      if (s.head[0] === "set-timeout" && s.head[1] && s.head[2] && !hasBackend(p))
        return c.alert(
          `error detected in ${typeName(p)} while parsing 'http-request set-timeout' rule : proxy '${p.name}' has no backend capability.`,
        );
      const action = parseHttpRequestAction(s.head, r);
      if (typeof action === "string") return c.alert(action, endsReply(action));
      const bad = logFormatError(action, "request", r);
      if (bad) return c.alert(bad);
      if (action.kind === "capture" && action.len !== undefined) {
        // A slot of its own, after those declared before it.
        if (!hasFrontend(p))
          return c.alert(
            `error detected in ${typeName(p)} while parsing 'http-request capture' rule : proxy '${p.name}' has no frontend capability.`,
          );
        action.slot = p.captureRequestHeaders.length;
        p.captureRequestHeaders.push({ len: action.len });
      }
      const problem = conditionProblem(p, s.cond);
      if (problem !== undefined)
        return c.alert(`error detected while parsing an 'http-request ${s.head[0]}' condition : ${problem}`);
      // haproxy's order: the rule read whole, then its warnings.
      misplaced(c, p, "http-request", ["redirect", "use_backend", "use-server"]);
      placeCheck(c, p, s.cond, "http-request");
      p.httpRequest.push({ action, cond: s.cond, where: c.where });
    },
  },
  "http-response": { cap: "any", defaults: false, fn: (c) => responseRule(c, "http-response") },
  declare: {
    cap: "any",
    defaults: false,
    fn: (c) => {
      if (c.proxy && !hasFrontend(c.proxy))
        return c.alert(`'declare' only available in frontend or listen section`);
      const [, what, dir, lenKw, len] = c.words;
      if (what !== "capture") return c.alert(`'declare' expects 'capture'.`);
      if (dir !== "request" && dir !== "response")
        return c.alert(`'declare capture' requires a direction ('request' or 'response')`);
      if (lenKw !== "len" || len === undefined)
        return c.alert(`'declare capture' requires a capture length ('len')`);
      const n = /^\d+$/.test(len) ? Number(len) : NaN;
      // haproxy names the word before the length in this message.
      if (!(n > 0)) return c.alert(`'declare capture': cannot parse the length '${lenKw}'.`);
      (dir === "request" ? c.px.captureRequestHeaders : c.px.captureResponseHeaders).push({ len: n });
    },
  },
  "http-after-response": { cap: "any", defaults: false, fn: (c) => responseRule(c, "http-after-response") },
  server: { cap: "any", defaults: false, fn: (c) => servers(c, false) },
  "server-template": { cap: "any", defaults: false, fn: (c) => servers(c, true) },
  redirect: {
    cap: "any",
    defaults: false,
    fn: (c) => {
      const p = needProxy(c);
      if (!p) return;
      const s = splitCondition(c.words.slice(1), c.where);
      const fail = (m: string) =>
        c.alert(`error detected in ${typeName(p)} while parsing redirect rule : ${m}.`);
      if (typeof s === "string") return fail(`error in condition: ${s}`);
      const action = parseRedirect(s.head, false);
      if (typeof action === "string") return fail(action);
      const problem = conditionProblem(p, s.cond);
      // The ACL's message ends with haproxy's dot; this one adds its own.
      if (problem !== undefined) return fail(`error in condition: ${problem.replace(/\.$/, "")}`);
      p.redirects.push({ action, cond: s.cond, where: c.where });
      misplaced(c, p, "redirect", ["use_backend", "use-server"]);
      placeCheck(c, p, s.cond, "http-request");
    },
  },
  "log-format": {
    cap: "any",
    defaults: true,
    fn: (c) => {
      if (!c.words[1]) return c.alert(`log-format expects an argument.`);
      if (c.words.length > 2)
        return c.alert(`log-format expects only one argument, don't forget to escape spaces!`);
      setLogFormat(c, { custom: c.words[1], where: c.where });
      if (c.proxy && !hasFrontend(c.proxy))
        c.warning(`backend '${c.proxy.name}' : 'log-format' directive is ignored in backends.`);
    },
  },
  "http-send-name-header": {
    // Outside a backend haproxy warns, and still reads the line (which then does nothing).
    cap: "any",
    defaults: true,
    fn: (c) => {
      capOk(c, "be", "http-send-name-header");
      if (!c.words[1]) return c.alert(`'http-send-name-header' requires a header string.`);
      c.px.sendNameHeader = c.words[1].toLowerCase();
    },
  },
  // haproxy reads both in a backend too, where they do nothing.
  "unique-id-format": {
    cap: "any",
    defaults: true,
    fn: (c) => {
      if (!c.words[1]) return c.alert(`unique-id-format expects an argument.`);
      if (c.words.length > 2)
        return c.alert(`unique-id-format expects only one argument, don't forget to escape spaces!`);
      c.px.uniqueIdFormat = { text: c.words[1], where: c.where };
    },
  },
  "unique-id-header": {
    cap: "any",
    defaults: true,
    fn: (c) => {
      if (!c.words[1]) return c.alert(`unique-id-header expects an argument.`);
      c.px.uniqueIdHeader = c.words[1];
    },
  },
  "monitor-uri": {
    cap: "fe",
    defaults: true,
    fn: (c) => {
      if (c.words.length > 2)
        return c.alert(`'monitor-uri' cannot handle unexpected argument '${c.words[2]}'.`);
      if (!c.words[1]) return c.alert(`'monitor-uri' expects an URI.`);
      c.px.monitorUri = c.words[1];
    },
  },
  monitor: {
    cap: "any",
    defaults: false,
    fn: (c) => {
      const p = needProxy(c);
      if (!p) return;
      // Outside a frontend haproxy warns and keeps the rule, which then never runs.
      capOk(c, "fe", "monitor");
      if (c.words[1] !== "fail") return c.alert(`'monitor' only supports 'fail'.`);
      if (c.words[2] !== "if" && c.words[2] !== "unless")
        return c.alert(`'monitor fail' requires either 'if' or 'unless' followed by a condition.`);
      misplaced(c, p, "monitor fail", ["http-request", "redirect", "use_backend", "use-server"]);
      const s = splitCondition(c.words.slice(2), c.where);
      const what = "a 'monitor fail' condition";
      if (typeof s === "string") return c.alert(`error detected while parsing ${what} : ${s}.`);
      if (!s.cond || !checkCondition(c, p, s.cond, what, undefined)) return;
      p.monitorFail.push(s.cond);
    },
  },
  "tcp-request": { cap: "any", defaults: true, fn: tcpRequest },
  "stick-table": { cap: "any", defaults: true, fn: stickTableKeyword },
  stick: { cap: "be", defaults: false, fn: stickKeyword, ignored: "stops" },
  errorfile: { cap: "any", defaults: true, fn: errorfileKeyword },
  errorloc: { cap: "any", defaults: true, fn: errorlocKeyword },
  errorloc302: { cap: "any", defaults: true, fn: errorlocKeyword },
  errorloc303: { cap: "any", defaults: true, fn: errorlocKeyword },
  errorfiles: { cap: "any", defaults: true, fn: errorfilesKeyword },
  "http-error": { cap: "any", defaults: true, fn: httpErrorKeyword },
  description: {
    cap: "any",
    defaults: false,
    fn: (c) => {
      if (c.words[1] === undefined) c.alert(`'description' expects a string argument.`, true);
    },
  },
  id: {
    cap: "any",
    defaults: false,
    fn: (c) => {
      if (!c.words[1]) return c.alert(`'id' expects an integer argument.`, true);
      if (c.words.length > 2) return c.alert(`'id' cannot handle unexpected argument '${c.words[2]}'.`);
      const id = atol(c.words[1]);
      if (id <= 0) return c.alert(`custom id has to be > 0.`, true);
      c.proxy!.id = id;
      c.proxy!.idWhere = c.where;
    },
  },
};

/** `stick on|match|store-request|store-response EXPR [table NAME] [if|unless COND]`, in haproxy's words. */
function stickKeyword(c: KeywordContext): void {
  const p = c.proxy!;
  const sub = c.words[1];
  const kind = sub === "store" ? "store-request" : sub;
  if (kind !== "on" && kind !== "match" && kind !== "store-request" && kind !== "store-response")
    return c.alert(`'stick' expects 'on', 'match', or 'store'.`);
  const expr = c.words[2];
  if (expr === undefined || expr === "") return c.alert(`'stick' expects a fetch method.`);
  try {
    parseFetch(expr, c.where, false, { responseSide: kind === "store-response" });
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    return c.alert(`'stick': ${fetchReason(e.message)}`);
  }
  let table: string | undefined;
  let i = 3;
  for (; i < c.words.length; i++) {
    const w = c.words[i]!;
    if (w === "if" || w === "unless") break;
    if (w !== "table") return c.alert(`'stick': unknown keyword '${w}'.`);
    table = c.words[++i] ?? "";
  }
  let cond: Condition | undefined;
  if (i < c.words.length) {
    const parsed = parseCondition(c.words.slice(i + 1), c.words[i] === "unless", c.where);
    const problem = typeof parsed === "string" ? parsed : conditionProblem(p, parsed);
    if (problem !== undefined)
      return c.alert(`'stick': error detected while parsing sticking condition : ${problem}`);
    cond = parsed as Condition;
  }
  p.stickRules.push({
    kind,
    expr,
    ...(table !== undefined && { table }),
    ...(cond && { cond }),
    where: c.where,
  });
}

// haproxy 2.6's actions for each kind of tcp-request rule, as its refusal of an unknown one lists them.
const TCP_L4_ACTIONS =
  "'accept', 'reject', 'capture', 'expect-proxy', 'expect-netscaler-cip', 'track-sc0' ... 'track-sc2', 'sc-inc-gpc(*)', 'sc-inc-gpc0(*)', 'sc-inc-gpc1(*)', 'sc-set-gpt(*)', 'sc-set-gpt0(*)', 'set-var-fmt(*)', 'set-var(*)', 'unset-var(*)', 'set-dst', 'set-dst-port', 'set-mark', 'set-src', 'set-src-port', 'set-tos', 'silent-drop'";
const TCP_CONTENT_ACTIONS =
  "'accept', 'reject', 'capture', 'expect-proxy', 'expect-netscaler-cip', 'track-sc0' ... 'track-sc2', 'ot-group', 'set-log-level', 'set-nice', 'switch-mode', 'use-service', 'sc-inc-gpc(*)', 'sc-inc-gpc0(*)', 'sc-inc-gpc1(*)', 'sc-set-gpt(*)', 'sc-set-gpt0(*)', 'send-spoe-group', 'do-resolve(*)', 'set-var-fmt(*)', 'set-var(*)', 'unset-var(*)', 'set-src', 'set-src-port', 'set-dst', 'set-dst-port', 'set-mark', 'set-tos', 'silent-drop', 'set-priority-class', 'set-priority-offset'";

/** An action haproxy knows in that kind of rule ('set-var(*)' stands for any variable's name). */
function knownTcpAction(list: string, action: string): boolean {
  const open = action.indexOf("(");
  const name = open < 0 ? action : `${action.slice(0, open)}(*)`;
  // The counters' actions are known by their names' beginnings, and refused by their own parser.
  return list.includes(`'${name}'`) || /^track-sc[0-2]$/.test(action) || gpFamily(action) !== undefined;
}

/** The actions Sluice runs, besides the stick tables' (set-nice is only known to content rules). */
const TCP_ACTIONS = new Set(["accept", "reject", "silent-drop", "expect-proxy", "set-nice"]);

/** Where the rules run, in their order; a rule written after a later kind still runs first. */
const TCP_AFTER: Record<string, RuleKind[]> = {
  connection: ["tcp-request session", "tcp-request content"],
  session: ["tcp-request content"],
  content: [],
};

/**
 * `tcp-request inspect-delay TIME`, or `tcp-request connection|session|content ACTION [if|unless
 * COND]` with accept, reject, a stick table's action, set-src and its kin, on a connection `expect-proxy
 * layer4`, on a request set-log-level, set-priority-class and set-priority-offset, in haproxy's words.
 */
function tcpRequest(c: KeywordContext): void {
  const p = c.proxy;
  const px = p ? typeName(p) : "defaults section";
  const [, sub, action = "", arg] = c.words;
  if (sub === undefined || sub === "") return c.alert(`missing argument for 'tcp-request' in ${px}`);
  const after = TCP_AFTER[sub];
  if (sub !== "inspect-delay" && after === undefined)
    return c.alert(
      `'tcp-request' expects 'inspect-delay', 'connection', or 'content' in ${px} (got '${sub}')`,
    );
  // A named defaults section keeps its rules apart (a Proxy of their own), its inspect-delay with its
  // settings, for the proxies that use it: only an anonymous one refuses them.
  const anonymous = `tcp-request ${sub} is not allowed in anonymous 'defaults' sections`;
  if (sub === "inspect-delay") {
    if (!p && !c.namedDefaults) return c.alert(anonymous);
    const bad = `'tcp-request inspect-delay' expects a positive delay in milliseconds, in ${px}`;
    if (!action) return c.alert(bad);
    const ms = parseTime(action, "ms", (m) => c.warning(m));
    if (ms === "over")
      return c.alert(`${bad} (timer overflow in '${action}', maximum value is 2147483647 ms or ~24.8 days)`);
    if (typeof ms === "object") return c.alert(`${bad} (unexpected character '${ms.bad}')`);
    if (c.px.inspectDelay !== undefined)
      return c.warning(`ignoring tcp-request inspect-delay (was already defined) in ${px}`);
    c.px.inspectDelay = ms;
    return;
  }
  if (!p) return c.alert(anonymous);
  if (sub !== "content" && !hasFrontend(p))
    return c.alert(`tcp-request ${sub} is not allowed because backend ${p.name} is not a frontend`);
  const rule = `tcp-request ${sub}`;
  const list = sub === "content" ? TCP_CONTENT_ACTIONS : TCP_L4_ACTIONS;
  if (sub !== "connection" && (action === "expect-proxy" || action === "expect-netscaler-cip"))
    return c.alert(`'${action} layer4' is not allowed in '${rule}' rules in ${px}`);
  const sticks = isStickKeyword(action);
  const sets =
    isAddrKeyword(action) || (sub === "content" && (action === "set-log-level" || isPriorityKeyword(action)));
  const known = action !== "" && knownTcpAction(list, action);
  if (!known) return c.alert(`'${rule}' expects ${list} in ${px} (got '${action}').\n`);
  if (!TCP_ACTIONS.has(action) && !sticks && !sets)
    return c.alert(
      socketOptionRefusal(`${rule} ${action}`, action) ??
        `'${rule} ${action}' is not supported by sluice yet.`,
    );
  const reporter = { proxy: px, fe: hasFrontend(p), be: hasBackend(p) };
  let next = 3;
  let stick: StickAction | undefined;
  let set: SetAction | undefined;
  if (action === "set-nice") {
    if (!arg) return c.alert(NICE_USAGE);
    next = 4;
  } else if (action === "expect-proxy") {
    if (arg !== "layer4")
      return c.alert(`'${rule} expect-proxy' only supports 'layer4' in ${px} (got '${arg ?? ""}')`);
    next = 4;
  } else if (sets) {
    const s = setAction(action as SetAction["kind"], arg, `${rule} ${action}`, true, reporter);
    if (typeof s === "string") return c.alert(s);
    set = s;
    next = 4;
  } else if (sticks) {
    const family = gpFamily(action);
    // The counters' actions take their words (sc-set-gpt* its value), the condition's check the rest.
    const end = c.words.findIndex((w, i) => i > 2 && (w === "if" || w === "unless"));
    next = family === "sc-inc-gpc" ? 3 : family === "sc-set-gpt" ? 4 : end < 0 ? c.words.length : end;
    const s = stickAction(
      action,
      c.words.slice(3, next),
      `${rule} ${action}`,
      "request",
      reporter,
      family && (rule as Place),
    );
    if (typeof s === "string") return c.alert(s);
    stick = s;
  }
  const kw = c.words[next];
  if (kw !== undefined && kw !== "if" && kw !== "unless")
    return c.alert(`'${rule} ${action}' only accepts 'if' or 'unless', in ${px} (got '${kw}')`);
  let cond: Condition | undefined;
  if (kw !== undefined) {
    const fail = (problem: string): void =>
      c.alert(
        `'${rule} ${action}' : error detected in ${px} while parsing '${kw}' condition : ${problem.replace(/\.$/, "")}`,
      );
    const parsed = parseCondition(c.words.slice(next + 1), kw === "unless", c.where);
    if (typeof parsed === "string") return fail(parsed);
    const problem = conditionProblem(p, parsed);
    if (problem !== undefined) return fail(problem);
    cond = parsed;
  }
  misplaced(c, p, "tcp-request", [
    ...after!,
    "monitor fail",
    "http-request",
    "redirect",
    "use_backend",
    "use-server",
  ]);
  placeCheck(c, p, cond, rule as Place);
  const rules = sub === "connection" ? p.tcpConnection : sub === "session" ? p.tcpSession : p.tcpContent;
  if (action === "set-nice") c.warning(niceIgnored(`${rule} set-nice`));
  rules.push({
    action: sticks ? "stick" : sets ? "set" : (action as TcpRule["action"]),
    cond,
    where: c.where,
    ...(stick && { stick }),
    ...(set && { set }),
  });
}
