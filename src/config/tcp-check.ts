// The `tcp-check` rules of a backend, read as haproxy 2.6 reads them: `comment`, `connect`, `send`,
// `send-binary` and `expect`. The variants that need log-format strings, sample expressions,
// variables or TLS are refused by name.
import net from "node:net";
import type {
  ProxySettings,
  TcpCheckConnect,
  TcpCheckErrorStatus,
  TcpCheckExpect,
  TcpCheckStatement,
  TcpCheckOkStatus,
  TcpCheckRule,
  TcpCheckTimeoutStatus,
} from "./model.js";
import { hasBackend } from "./model.js";
import type { KeywordContext } from "./proxy-keywords.js";
import { hexProblem, regexOf } from "../acl/pattern.js";
import { ConfigError } from "./errors.js";
import { atoi } from "./c-numbers.js";

/** Sections (by their settings object) that gave a tcp-check rule themselves. */
const rulesHere = new WeakSet<ProxySettings>();

/** A section's first rule replaces the ones it inherited from its defaults section. */
function ownRules(px: ProxySettings): TcpCheckRule[] {
  if (!rulesHere.has(px)) {
    rulesHere.add(px);
    px.tcpCheckRules = [];
  }
  return px.tcpCheckRules;
}

const OK_STATUSES = new Set(["L7OK", "L6OK", "L4OK"]);
const ERROR_STATUSES = new Set(["L7RSP", "L7STS", "L6RSP", "L4CON"]);
const TIMEOUT_STATUSES = new Set(["L7TOUT", "L6TOUT", "L4TOUT"]);

/** Connect options that need what Sluice lacks (TLS, SOCKS4, other muxes). */
const CONNECT_UNSUPPORTED = new Set(["ssl", "sni", "alpn", "proto", "via-socks4"]);

export function tcpCheckKeyword(c: KeywordContext): void {
  const sub = c.words[1] ?? "";
  const kw = `'tcp-check ${sub}'`;
  let rule: TcpCheckStatement | string | undefined;
  if (sub === "comment")
    rule = c.words[2] ? { action: "comment", comment: c.words[2] } : `${kw} : expects a string as argument.`;
  else if (sub === "connect") rule = connectRule(c, kw);
  else if (sub === "send" || sub === "send-binary") rule = sendRule(c, kw, sub === "send-binary");
  else if (sub === "expect") rule = expectRule(c, kw);
  else if (["send-lf", "send-binary-lf"].includes(sub) || /^(set-var|set-var-fmt|unset-var)\(.*\)$/.test(sub))
    return c.unsupported(
      `${kw} is not supported by sluice yet (supported: comment, connect, send, send-binary, expect).`,
    );
  else
    return c.alert(
      `'tcp-check' only supports 'comment', 'connect', 'send', 'send-binary', 'expect', 'set-var-fmt(*)', 'set-var(*)', 'unset-var(*)'. but got '${sub}'`,
    );
  if (rule === undefined) return;
  if (typeof rule === "string") return c.alert(rule);
  const rules = ownRules(c.px);
  rules.push({ ...rule, index: rules.length, where: c.where });
  // haproxy 2.6 reports a rule it ignores for want of a backend with an empty message of its own.
  if (c.proxy && !hasBackend(c.proxy)) c.warning("(null)");
}

/** `connect [default] [port N] [addr IP] [send-proxy] [linger] [comment C]`. */
function connectRule(c: KeywordContext, kw: string): TcpCheckStatement | string | undefined {
  const rule: TcpCheckConnect & { comment?: string } = {
    action: "connect",
    sendProxy: false,
    useDefault: false,
  };
  for (let i = 2; i < c.words.length; i++) {
    const w = c.words[i]!;
    const v = c.words[i + 1];
    if (w === "default") rule.useDefault = true;
    else if (w === "send-proxy") rule.sendProxy = true;
    else if (w === "linger") rule.linger = true;
    else if (w === "comment") {
      if (!v) return `${kw} : '${w}' expects a string as argument..`;
      rule.comment = v;
      i++;
    } else if (w === "port") {
      if (!v) return `${kw} : '${w}' expects a port number or a sample expression as argument..`;
      if (!/^\d+$/.test(v))
        return void c.unsupported(`${kw} : a sample expression as 'port' is not supported by sluice yet.`);
      const port = Number(v);
      if (port < 1 || port > 65535)
        return `${kw} : expects a valid TCP port (from range 1 to 65535) or a sample expression, got ${v}..`;
      rule.port = port;
      i++;
    } else if (w === "addr") {
      if (!v) return `${kw} : '${w}' expects <ipv4|ipv6> as argument..`;
      const host = checkAddress(v);
      if (host === undefined) return `${kw} : '${w}' : invalid address: '${v}'..`;
      rule.addr = host;
      i++;
    } else if (CONNECT_UNSUPPORTED.has(w))
      return void c.unsupported(`${kw} : '${w}' is not supported by sluice yet (no TLS or SOCKS4).`);
    else
      return `${kw} : expects 'comment', 'port', 'addr', 'send-proxy', 'ssl', 'sni', 'alpn' or 'via-socks4', 'linger', 'default' but got '${w}' as argument..`;
  }
  // Its arguments are read first.
  for (const r of c.px.tcpCheckRules) {
    if (!rulesHere.has(c.px) || r.action === "connect") break;
    if (r.action !== "comment")
      return `${kw} : first step MUST also be a 'connect', optionally preceded by a 'set-var', an 'unset-var' or a 'comment', when there is a 'connect' step in the tcp-check ruleset.`;
  }
  return rule;
}

/** An IP address, with or without a port (which the rule's `port` or the server's replaces). */
function checkAddress(v: string): string | undefined {
  if (net.isIP(v)) return v;
  const m = /^\[?([^\]]+?)\]?:\d+$/.exec(v);
  return m && net.isIP(m[1]!) ? m[1] : undefined;
}

/** `send <string> [comment C]` and `send-binary <hex> [comment C]`. */
function sendRule(c: KeywordContext, kw: string, binary: boolean): TcpCheckStatement | string {
  const v = c.words[2];
  if (!v)
    return binary
      ? `${kw} : 'binary string' expects a send-binary as argument.`
      : `${kw} : 'string' expects a send as argument.`;
  let comment: string | undefined;
  for (let i = 3; i < c.words.length; i += 2) {
    const w = c.words[i]!;
    if (w !== "comment") return `${kw} : expects 'comment' but got '${w}' as argument..`;
    comment = c.words[i + 1];
    if (!comment) return `${kw} : 'comment' expects a string as argument..`;
  }
  let data = v;
  if (binary) {
    const problem = hexProblem(v);
    // haproxy ends this one with a line break before its final dot.
    if (problem) return `${kw} : '${v}' invalid binary string (${problem}).\n.`;
    data = Buffer.from(v, "hex").toString("latin1");
  }
  return { action: "send", data, ...(comment !== undefined && { comment }) };
}

/** `expect [min-recv N] [comment C] [ok|error|tout-status S] [on-success|on-error T] [!] <match> <pattern>`. */
function expectRule(c: KeywordContext, kw: string): TcpCheckStatement | string | undefined {
  const rule: TcpCheckExpect & { comment?: string } = {
    action: "expect",
    kind: "string",
    pattern: "",
    negate: false,
    minRecv: -1,
  };
  let found = false;
  for (let i = 2; i < c.words.length; i++) {
    const w = c.words[i]!;
    const v = c.words[i + 1];
    switch (w) {
      case "!":
        rule.negate = true;
        continue;
      case "min-recv":
        if (!v) return `${kw} : '${w}' expects an integer as argument.`;
        rule.minRecv = atoi(v);
        i++;
        continue;
      case "comment":
      case "on-success":
      case "on-error":
        if (!v) return `${kw} : '${w}' expects a string as argument.`;
        if (w !== "comment" && v.includes("%"))
          return void c.unsupported(`${kw} : a log-format string in '${w}' is not supported by sluice yet.`);
        if (w === "comment") rule.comment = v;
        else if (w === "on-success") rule.onSuccess = v;
        else rule.onError = v;
        i++;
        continue;
      case "ok-status":
        if (!v || !OK_STATUSES.has(v)) {
          if (v === "L7OKC")
            return void c.unsupported(`${kw} : 'ok-status L7OKC' is not supported by sluice yet.`);
          return `${kw} : '${w}' only supports 'L4OK', 'L6OK', 'L7OK' or 'L7OKC' status (got '${v ?? ""}')..`;
        }
        rule.okStatus = v as TcpCheckOkStatus;
        i++;
        continue;
      case "error-status":
        if (!v || !ERROR_STATUSES.has(v))
          return `${kw} : '${w}' only supports 'L4CON', 'L6RSP', 'L7RSP' or 'L7STS' status (got '${v ?? ""}')..`;
        rule.errorStatus = v as TcpCheckErrorStatus;
        i++;
        continue;
      case "tout-status":
        if (!v || !TIMEOUT_STATUSES.has(v))
          return `${kw} : '${w}' only supports 'L4TOUT', 'L6TOUT' or 'L7TOUT' status (got '${v ?? ""}')..`;
        rule.toutStatus = v as TcpCheckTimeoutStatus;
        i++;
        continue;
      case "string":
      case "rstring":
      case "binary":
      case "rbinary": {
        if (!v) return `${kw} : '${w}' expects a <pattern> as argument.`;
        const problem = pattern(w, v);
        if (problem !== undefined) return `${kw} : ${problem}`;
        rule.kind = w;
        rule.pattern = w === "binary" ? Buffer.from(v, "hex").toString("latin1") : v;
        found = true;
        i++;
        continue;
      }
      case "string-lf":
      case "binary-lf":
      case "status-code":
        return void c.unsupported(`${kw} : '${w}' is not supported by sluice yet.`);
      default:
        return `${kw} : 'only supports min-recv, '[!]binary', '[!]string', '[!]rstring', '[!]string-lf''[!]rbinary', '[!]binary-lf' or comment but got '${w}' as argument..`;
    }
  }
  if (!found) return `${kw} : expects at least a matching pattern as arguments.`;
  return rule;
}

/** haproxy's complaint about a pattern, if any. */
function pattern(kind: string, v: string): string | undefined {
  if (kind === "binary") {
    const problem = hexProblem(v);
    return problem && `invalid binary string (${problem}).`;
  }
  if (kind === "string") return undefined;
  try {
    regexOf(v, false, { file: "", line: 0 });
    return undefined;
  } catch (e) {
    if (e instanceof ConfigError) return e.message;
    throw e;
  }
}
