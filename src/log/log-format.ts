// haproxy's log-format strings, compiled once into parts: text, haproxy's variables (%ci, %tr,
// %{+Q}r ...) and sample expressions (%[src,lower]). haproxy reads four kinds of them alike and
// writes them by different rules:
//
// - a log line (`log-format`): a run of spaces writes one space (none at the start of the line, or
//   right after another separator with nothing written between: captures the proxy does not make),
//   and a value that is not there writes `-`;
// - a unique id (`unique-id-format`): spaces as in a log line, a value not there writes nothing;
// - a rule's argument (a header's value, a path, a redirect, a reply): spaces as written, nothing for
//   a value not there, and the control bytes of a sample `%`-escaped, so that it cannot break the
//   message it goes into; a sample there is never quoted;
// - a backend's name made per request (use_backend) and `set-var-fmt`: as a rule's argument, but a
//   sample keeps its bytes and may be quoted.
//
// `%{+Q}` quotes a variable that is text (not a number, a date or a state); `%{+X}` writes
// addresses, ports, %Ts, %ms, %rt, %lc and %pid in hexadecimal; `%{+M}` writes `-` for a value
// that is not there, `%{-M}` nothing; `-Q`, `-X` take theirs back, and `%{...}o` sets them for
// every variable after it. The flag +E is refused for now. A line runs once per request: no
// regexes, no Date objects but once per second of log time.
import { hostname } from "node:os";
import { newLogRecord, type LogRecord } from "./record.js";
import {
  encodeHeader,
  encodeHttpSample,
  encodeRequestLine,
  logDate,
  logDateGmt,
  logDateLocalTz,
  pad3,
} from "./format.js";
import { sampleExpression, unavailable } from "../acl/sample-expression.js";
import { reachable } from "../acl/place.js";
import { Sample } from "../acl/sample.js";
import type { SampleContext } from "../acl/context.js";
import { parseIpv4, parseIpv6 } from "../acl/ip.js";
import { noteRead } from "./reads.js";
import { requestLinePart } from "./request-line.js";

/** What a line needs besides the record. */
export interface LineEnv {
  pid: number;
  hostname: string;
}

/** A value, or undefined when it is not there (written `-`, `""` or nothing, by the kind of format). */
type Value = (rec: LogRecord, env: LineEnv) => string | undefined;

/** A variable: how to write it, and how haproxy treats it. */
interface Variable {
  value: Value;
  /** `+Q` puts it in quotes (text, addresses); numbers, dates and states never are. */
  quotable: boolean;
  /** haproxy refuses it outside mode http ("reserved for HTTP mode"). */
  http: boolean;
  /** What `+Q` writes (captures quote each of their values, not the whole). */
  quoted?: (rec: LogRecord) => string;
  /** Writes nothing at all when empty (captures the proxy does not make): no separator is due after it. */
  optional?: boolean;
  /** What `+X` writes (addresses, ports, some numbers); others ignore the flag. */
  hex?: Value;
}

const text = (value: Value): Variable => ({ value, quotable: true, http: false });
const num = (value: Value): Variable => ({ value, quotable: false, http: false });
const httpText = (value: Value): Variable => ({ value, quotable: true, http: true });
const httpNum = (value: Value): Variable => ({ value, quotable: false, http: true });

/** The request line's parts; a request that could not be read gives `<BADREQ>` for each. */
function requestPart(rec: LogRecord, part: "method" | "uri" | "path" | "query" | "version"): string {
  const line = rec.requestLine;
  return line === "" || line === "<BADREQ>" ? "<BADREQ>" : requestLinePart(line, part);
}

/**
 * %HPO: the path alone, without a scheme and authority before it nor a query after it; nothing for
 * `*` or an authority (CONNECT).
 */
function pathOnly(rec: LogRecord): string {
  const path = requestPart(rec, "path");
  if (path === "<BADREQ>" || path.startsWith("/")) return path;
  const scheme = path.indexOf("://");
  if (scheme < 0) return "";
  const slash = path.indexOf("/", scheme + 3);
  return slash < 0 ? "" : path.slice(slash);
}

/** %hr / %hs: `{a|b}` when the proxy captures headers, nothing otherwise. */
const captureBlock = (caps: readonly string[]): string =>
  caps.length === 0 ? "" : "{" + caps.map(encodeHeader).join("|") + "}";

/** %hrl / %hsl: the captures one after another, `-` for one that was not there (`""` quoted). */
const captureList = (caps: readonly string[], quoted: boolean): string =>
  caps.map((c) => (quoted ? `"${encodeHeader(c)}"` : c === "" ? "-" : encodeHeader(c))).join(" ");

const captures = (side: (r: LogRecord) => readonly string[], list: boolean): Variable => ({
  value: (r) => (list ? captureList(side(r), false) : captureBlock(side(r))),
  quoted: (r) =>
    list ? captureList(side(r), true) : side(r).length === 0 ? "" : `"${captureBlock(side(r))}"`,
  quotable: true,
  http: false,
  optional: true,
});

/** `%04X`, as haproxy writes numbers under +X. */
const hex4 = (n: number): string => (n >>> 0).toString(16).toUpperCase().padStart(4, "0");

/** An address's bytes in upper-case hexadecimal, as haproxy's +X: 8 digits for IPv4, 32 for IPv6. */
export function hexAddress(ip: string): string {
  const v6 = ip.includes(":");
  const bytes = new Uint8Array(v6 ? 16 : 4);
  if (v6) parseIpv6(ip, bytes);
  else parseIpv4(ip, bytes);
  return Buffer.from(bytes).toString("hex").toUpperCase();
}

/** An address, not there when empty (no server connection, a client gone before its accept). */
const address = (f: (r: LogRecord) => string): Variable => ({
  ...text((r) => f(r) || undefined),
  hex: (r) => (f(r) === "" ? undefined : hexAddress(f(r))),
});
/** A port, not there without its address. */
const port = (f: (r: LogRecord) => number, ip: (r: LogRecord) => string): Variable => ({
  ...num((r) => (ip(r) === "" ? undefined : String(f(r)))),
  hex: (r) => (ip(r) === "" ? undefined : hex4(f(r))),
});

const clientIp = (r: LogRecord): string => r.clientIp;
const frontendIp = (r: LogRecord): string => r.frontendIp;
const serverIp = (r: LogRecord): string => r.serverIp;
const sourceIp = (r: LogRecord): string => r.sourceIp;

/**
 * %Td: the time the data took once the response began (the connection's, in mode tcp), -1 before;
 * the times before it add up from the accept.
 */
function dataTime(r: LogRecord, http: boolean): number {
  // In mode tcp, Tw counts from the accept.
  if (!http) return r.Tc < 0 ? -1 : r.Tt - Math.max(r.Tw, 0) - r.Tc;
  return r.Tr < 0 ? -1 : r.Tt - (r.Th + r.Ti + Math.max(r.TR, 0) + Math.max(r.Tw, 0) + r.Tc + r.Tr);
}

const VARIABLES: Record<string, Variable> = {
  ci: address(clientIp),
  cp: port((r) => r.clientPort, clientIp),
  fi: address(frontendIp),
  fp: port((r) => r.frontendPort, frontendIp),
  si: address(serverIp),
  sp: port((r) => r.serverPort, serverIp),
  bi: address(sourceIp),
  bp: port((r) => r.sourcePort, sourceIp),
  f: text((r) => r.frontend),
  ft: text((r) => r.frontend),
  b: text((r) => r.backend || r.frontend),
  s: text((r) => r.server || "<NOSRV>"),
  ac: num((r) => String(r.actconn)),
  fc: num((r) => String(r.feconn)),
  bc: num((r) => String(r.beconn)),
  sc: num((r) => String(r.srvConn)),
  rc: num((r) => (r.redispatched ? "+" : "") + r.retries),
  sq: num((r) => String(r.srvQueue)),
  bq: num((r) => String(r.backendQueue)),
  lc: {
    ...num((r) => String(r.frontendLogs.logCount)),
    hex: (r) => hex4(r.frontendLogs.logCount),
  },
  ST: num((r) => String(r.status)),
  B: num((r) => String(r.bytesOut)),
  U: num((r) => String(r.bytesIn)),
  ts: num((r) => r.termCause + r.termPhase),
  tsc: num((r) => r.termCause + r.termPhase + r.persistCookie),
  r: httpText((r) => encodeRequestLine(r.requestLine || "<BADREQ>")),
  HM: httpText((r) => encodeRequestLine(requestPart(r, "method"))),
  HU: httpText((r) => encodeRequestLine(requestPart(r, "uri"))),
  HP: httpText((r) => encodeRequestLine(requestPart(r, "path"))),
  HPO: httpText((r) => encodeRequestLine(pathOnly(r))),
  HQ: httpText((r) => encodeRequestLine(requestPart(r, "query"))),
  HV: httpText((r) => encodeRequestLine(requestPart(r, "version"))),
  hr: captures((r) => r.capturedRequest, false),
  hs: captures((r) => r.capturedResponse, false),
  hrl: captures((r) => r.capturedRequest, true),
  hsl: captures((r) => r.capturedResponse, true),
  CC: httpText((r) => r.capturedCookie || undefined),
  CS: httpText((r) => r.capturedSetCookie || undefined),
  ID: text((r) => r.uniqueId || undefined),
  rt: { ...num((r) => String(r.requestCounter)), hex: (r) => hex4(r.requestCounter) },
  pid: { ...num((_r, env) => String(env.pid)), hex: (_r, env) => hex4(env.pid) },
  H: text((_r, env) => env.hostname),
  t: num((r) => logDate(r.acceptTime)),
  tr: httpNum((r) => logDate(r.requestTime)),
  trg: httpNum((r) => logDateGmt(r.requestTime)),
  trl: httpNum((r) => logDateLocalTz(r.requestTime)),
  T: num((r) => logDateGmt(r.acceptTime)),
  Tl: num((r) => logDateLocalTz(r.acceptTime)),
  Ts: {
    ...num((r) => String(Math.floor(r.acceptTime / 1000))),
    hex: (r) => hex4(Math.floor(r.acceptTime / 1000)),
  },
  ms: {
    ...num((r) => pad3(r.acceptTime % 1000)),
    hex: (r) => (r.acceptTime % 1000).toString(16).toUpperCase().padStart(2, "0"),
  },
  Th: num((r) => String(r.Th)),
  Ti: httpNum((r) => String(r.Ti)),
  TR: httpNum((r) => String(r.TR)),
  Tq: httpNum((r) => String(r.TR < 0 ? -1 : r.Th + r.Ti + r.TR)),
  Tw: num((r) => String(r.Tw)),
  Tc: num((r) => String(r.Tc)),
  Tr: httpNum((r) => String(r.Tr)),
  Ta: httpNum((r) => String(r.Ta)),
  Tt: num((r) => String(r.Tt)),
  Td: num((r) => String(dataTime(r, true))),
  Tu: num((r) => String(r.Tt - Math.max(r.Ti, 0))),
};

/** `option logasap` marks what is not final yet with a "+": the times to the end, the bytes. */
const LOGASAP = new Set(["Ta", "Tt", "Tu", "B"]);

/** haproxy's variables sluice does not write yet: said so, rather than "no such variable". */
const LATER = new Set(["sslc", "sslv"]);

export type LogLine = (rec: LogRecord, env: LineEnv) => string;

/**
 * What a format is for (see the top of this file): a log line, written as the transaction ends; a
 * unique id, built as its request leaves; a rule's argument, or a name or variable made per request,
 * on the request's side or the response's.
 */
export type FormatPurpose = "log" | "unique-id" | "rule" | "name";

/** How a proxy writes its formats: its mode, `option logasap`, and what the format is for. */
export interface LineOptions {
  http: boolean;
  logasap: boolean;
  purpose?: FormatPurpose;
  /** A rule's or a name's: which message its samples may read. */
  side?: "request" | "response";
  /** Where the format is made (placeBits): a sample whose source is not there yet is refused. */
  place?: number;
}

/** How one variable or sample is written: the flags in force where it stands. */
interface Flags {
  quote: boolean;
  hexa: boolean;
  /** Not there: `-` (haproxy's "mandatory"), else nothing. */
  mandatory: boolean;
}

/** A part of a compiled line: a variable or sample as it will be written. */
interface Written {
  write: LogLine;
  /** Nothing written, no separator due after it (captures the proxy does not make). */
  optional: boolean;
  /** A variable, which reads the log record (a sample reads only the stream it points at). */
  variable: boolean;
}

/** A run of spaces in a log line or unique id. */
const SEPARATOR = 0;

/**
 * Compiles a format. When it cannot, haproxy's reason, and whether anything came before the error
 * (haproxy's half-built format then still counts as one).
 */
export function compileLogLine(fmt: string, o: LineOptions): LogLine | { error: string; partial: boolean } {
  const parts = compileParts(fmt, o);
  return Array.isArray(parts) ? lineOf(parts) : parts;
}

type Part = string | typeof SEPARATOR | Written;

/** A format's parts, or haproxy's reason for refusing it (see compileLogLine). */
function compileParts(fmt: string, o: LineOptions): Part[] | { error: string; partial: boolean } {
  const purpose = o.purpose ?? "log";
  const merge = purpose === "log" || purpose === "unique-id";
  const parts: Part[] = [];
  let literal = "";
  const fail = (error: string) => ({ error, partial: parts.length > 0 || literal !== "" });
  // What `%{...}o` set for the variables after it.
  let all: Flags = { quote: false, hexa: false, mandatory: purpose === "log" };
  for (let i = 0; i < fmt.length; i++) {
    const c = fmt[i]!;
    if (c === " " && merge) {
      if (literal !== "") parts.push(literal);
      literal = "";
      parts.push(SEPARATOR);
      while (fmt[i + 1] === " ") i++;
      continue;
    }
    if (c !== "%") {
      literal += c;
      continue;
    }
    let j = i + 1;
    const next = fmt[j];
    if (next === undefined) return fail(`truncated line after '%'`);
    if (next === "%") {
      literal += "%";
      i = j;
      continue;
    }
    if (/[0-9 \t]/.test(next))
      return fail(
        `unexpected variable name near '${next}' at position ${j} line : '${fmt}'. Maybe you want to write a single '%', use the syntax '%%'`,
      );
    const flags = { ...all };
    if (next === "{") {
      const close = fmt.indexOf("}", j);
      if (close < 0) return fail(`truncated line after '${fmt.slice(j + 1)}'`);
      const words = fmt.slice(j + 1, close);
      // haproxy acts on the flags it knows and ignores the others.
      for (const flag of words.split(",")) {
        const on = flag[0] === "+";
        if (flag === "+Q" || flag === "-Q") flags.quote = on;
        else if (flag === "+X" || flag === "-X") flags.hexa = on;
        else if (flag === "+M" || flag === "-M") flags.mandatory = on;
        else if (flag === "+E")
          return fail(`log-format flag '+E' is not supported by sluice yet (+Q, +X and +M are)`);
      }
      j = close + 1;
      if (fmt[j] !== "[" && !/[A-Za-z0-9]/.test(fmt[j] ?? ""))
        return fail(`parse argument modifier without variable name near '%{${words}}'`);
    } else if (next !== "[" && !/[A-Za-z]/.test(next)) {
      // Any other character: haproxy drops the '%' and takes the rest as text.
      continue;
    }
    if (literal !== "") parts.push(literal);
    literal = "";
    if (fmt[j] === "[") {
      const smp = sampleVariable(fmt.slice(j + 1), o, flags);
      if (typeof smp === "string") return fail(smp);
      parts.push({ write: smp.write, optional: false, variable: false });
      i = j + 1 + smp.close;
      continue;
    }
    let k = j;
    while (k < fmt.length && /[A-Za-z0-9]/.test(fmt[k]!)) k++;
    const name = fmt.slice(j, k);
    i = k - 1;
    if (name === "o") {
      all = flags;
      continue;
    }
    const v = VARIABLES[name];
    if (!v) {
      if (LATER.has(name)) return fail(`log-format variable '%${name}' is not supported by sluice yet`);
      return fail(
        `no such format variable '${name}'. If you wanted to emit the '%' character verbatim, you need to use '%%'`,
      );
    }
    if (v.http && !o.http) return fail(`format variable '${name}' is reserved for HTTP mode`);
    noteRead(name);
    parts.push({ write: written(name, v, flags, o), optional: v.optional === true, variable: true });
  }
  if (literal !== "") parts.push(literal);
  return parts;
}

/** What writes a line of these parts; without separators, each part as it comes. */
function lineOf(parts: Part[]): LogLine {
  if (!parts.includes(SEPARATOR)) {
    return (rec, env) => {
      let out = "";
      for (const p of parts) out += typeof p === "string" ? p : (p as Written).write(rec, env);
      return out;
    };
  }
  return (rec, env) => {
    let line = "";
    let spaced = true;
    for (const p of parts) {
      if (p === SEPARATOR) {
        if (!spaced) line += " ";
        spaced = true;
        continue;
      }
      const s = typeof p === "string" ? p : p.write(rec, env);
      if (s === "" && (typeof p === "string" || p.optional)) continue;
      line += s;
      spaced = false;
    }
    return line;
  };
}

/** How variable `name` is written under `flags`. */
function written(name: string, v: Variable, flags: Flags, o: LineOptions): LogLine {
  // Without a transaction (mode tcp), there is no status: haproxy writes 0.
  if (name === "ST" && !o.http) return () => "0";
  if (name === "Td" && !o.http) return (r) => String(dataTime(r, false));
  const quote = flags.quote && v.quotable;
  const absent = quote ? '""' : flags.mandatory ? "-" : "";
  let write: LogLine;
  // In hexadecimal a value is never quoted; one not there is written as any other.
  if (flags.hexa && v.hex) {
    const hex = v.hex;
    write = (r, env) => hex(r, env) ?? absent;
  } else if (quote && v.quoted) write = v.quoted;
  else if (quote) {
    const value = v.value;
    write = (r, env) => {
      const s = value(r, env);
      return s === undefined ? absent : `"${s}"`;
    };
  } else {
    const value = v.value;
    write = (r, env) => value(r, env) ?? absent;
  }
  if (o.logasap && LOGASAP.has(name)) {
    const bare = write;
    write = (r, env) => "+" + bare(r, env);
  }
  return write;
}

/**
 * `%[expr]`: checked as haproxy checks it for its purpose, read from the stream's sample context.
 * A log line is written once the messages are gone: of the request only its method is left, and no
 * status; a unique id is built with the request's head at hand; a rule's argument or a name reads
 * the message of its side.
 *
 * haproxy logs an error met before any request head (a bad request, a timeout) without a stream,
 * so only the connection's samples are there then. A sample that is not there is written as any
 * value that is not there, but for a unique id and a rule's argument, which write nothing for it,
 * never quote and escape the control bytes of what they write.
 */
function sampleVariable(
  rest: string,
  o: LineOptions,
  flags: Flags,
): { write: LogLine; close: number } | string {
  const purpose = o.purpose ?? "log";
  const side = o.side ?? "request";
  const sample = sampleExpression(rest, side === "response");
  if (typeof sample === "string") return sample;
  const { parsed, close } = sample;
  const use = parsed.kw.use;
  const refused =
    purpose === "unique-id"
      ? use === "res"
      : purpose === "log"
        ? (use === "req" && parsed.name !== "method") ||
          (use === "res" && parsed.name !== "status") ||
          use === "buffer"
        : (side === "request" && use === "res") || (side === "response" && use === "req");
  if (refused || (o.place !== undefined && !reachable(use, o.place))) return unavailable(rest, use);
  if (purpose === "unique-id" && use === "buffer")
    return `sample fetch <${rest}> in a unique-id-format is not supported by sluice yet`;
  if (sample.unclosed !== undefined) return sample.unclosed;
  const smp = new Sample();
  const impl = parsed.impl;
  const afterHead = purpose === "log" && use !== "conn" && o.http;
  const read = (r: LogRecord): string | undefined => {
    const ctx = r.ctx;
    if (ctx === undefined) return undefined;
    if (afterHead && (r.requestLine === "" || r.requestLine === "<BADREQ>")) return undefined;
    return impl.first(ctx, smp) ? smp.getStr() : undefined;
  };
  if (purpose === "unique-id" || purpose === "rule") {
    const write: LogLine = (r) => {
      const v = read(r);
      return v === undefined ? "" : encodeHttpSample(v);
    };
    return { write, close };
  }
  const absent = flags.mandatory ? "-" : "";
  const write: LogLine = flags.quote
    ? (r) => `"${read(r) ?? ""}"`
    : (r) => {
        const v = read(r);
        return v === undefined || v === "" ? absent : v;
      };
  return { write, close };
}

/** A compiled format for a rule or a name: its text when it has no variable, else what builds it. */
export type LogFormat = string | ((ctx: SampleContext) => string);

/** What %pid and %H say where the stream does not say it. */
const PROCESS: LineEnv = { pid: process.pid, hostname: hostname() };

/** The record a format of samples only is written with: they read the stream it points at, nothing else. */
const STREAM_ONLY = newLogRecord();

/**
 * Compiles a rule's argument on the request's side or the response's, or with `name`, a name or a
 * variable made per request; `fail` gets haproxy's reason for refusing it.
 */
export function compileLogFormat(
  fmt: string,
  side: "request" | "response",
  fail: (message: string) => never,
  purpose: "rule" | "name" = "rule",
  place?: number,
): LogFormat {
  const parts = compileParts(fmt, { http: true, logasap: false, purpose, side, place });
  if (!Array.isArray(parts)) return fail(parts.error);
  if (parts.every((p) => typeof p === "string")) return parts.join("");
  const line = lineOf(parts);
  // Samples alone need no log record brought up to date: most rules' formats (`%[src]`).
  if (!parts.some((p) => typeof p === "object" && p.variable))
    return (ctx) => {
      const before = STREAM_ONLY.ctx;
      STREAM_ONLY.ctx = ctx;
      const out = line(STREAM_ONLY, PROCESS);
      STREAM_ONLY.ctx = before;
      return out;
    };
  return (ctx) => line(ctx.logRecord?.() ?? { ...newLogRecord(), ctx }, ctx.lineEnv ?? PROCESS);
}

/** A compiled format's text for this request. */
export const formatFor = (f: LogFormat, ctx: SampleContext): string => (typeof f === "string" ? f : f(ctx));
