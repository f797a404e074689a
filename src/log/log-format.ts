// `log-format` and `unique-id-format`: a line made of text and haproxy's variables (%ci, %tr,
// %{+Q}r ...) and sample expressions (%[src,lower]), compiled once into parts that read the record.
// Runs once per request, like the fixed formats: no regexes, no Date objects but once per second of
// log time.
//
// Spaces are separators, as in haproxy: a run of them writes one space, and none at the start of the
// line or right after another separator with nothing written between (captures the proxy does not
// make). `%{+Q}` quotes a variable that is text (not a number, a date or a state); `%{+X}` writes
// addresses, ports, %Ts, %ms, %rt and %pid in hexadecimal; `-Q`, `-X` take them back, and `%{...}o`
// sets them for every variable after it. The variables sluice keeps no data for (`%si`, `%lc`...)
// and the flag +E are refused for now.
import type { LogRecord } from "./record.js";
import { encodeHeader, encodeRequestLine, logDate, logDateGmt, logDateLocalTz, pad3 } from "./format.js";
import { sampleExpression, unavailable } from "../acl/log-format.js";
import { Sample } from "../acl/sample.js";
import { parseIpv4, parseIpv6 } from "../acl/ip.js";

/** What a line needs besides the record. */
export interface LineEnv {
  pid: number;
  hostname: string;
}

type Value = (rec: LogRecord, env: LineEnv) => string;

/** A variable: how to write it, and how haproxy treats it. */
interface Variable {
  value: Value;
  /** `+Q` puts it in quotes (text, addresses); numbers, dates and states never are. */
  quotable: boolean;
  /** haproxy refuses it outside mode http ("reserved for HTTP mode"). */
  http: boolean;
  /** What `+Q` writes when not the value in quotes (an absent cookie: `""`, not `"-"`). */
  quoted?: Value;
  /** Writes nothing at all when empty (captures the proxy does not make): no separator is due after it. */
  optional?: boolean;
  /** What `+X` writes (addresses, ports, some numbers); others ignore the flag. */
  hex?: Value;
}

const text = (value: Value, quoted?: Value): Variable => ({ value, quotable: true, http: false, quoted });
const num = (value: Value): Variable => ({ value, quotable: false, http: false });
const httpText = (value: Value): Variable => ({ value, quotable: true, http: true });
const httpNum = (value: Value): Variable => ({ value, quotable: false, http: true });

/** The request line's parts; a request that could not be read gives `<BADREQ>` for each. */
function requestPart(rec: LogRecord, part: "method" | "uri" | "path" | "query" | "version"): string {
  const line = rec.requestLine;
  if (line === "" || line === "<BADREQ>") return "<BADREQ>";
  const sp1 = line.indexOf(" ");
  const sp2 = line.lastIndexOf(" ");
  if (part === "method") return line.slice(0, sp1);
  if (part === "version") return line.slice(sp2 + 1);
  const uri = line.slice(sp1 + 1, sp2);
  const q = uri.indexOf("?");
  if (part === "uri") return uri;
  if (part === "path") return q < 0 ? uri : uri.slice(0, q);
  return q < 0 ? "" : uri.slice(q);
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

const address = (f: (r: LogRecord) => string): Variable => ({
  ...text(f),
  hex: (r) => (f(r) === "" ? "-" : hexAddress(f(r))),
});
const port = (f: (r: LogRecord) => number): Variable => ({
  ...num((r) => String(f(r))),
  hex: (r) => hex4(f(r)),
});

const VARIABLES: Record<string, Variable> = {
  ci: address((r) => r.clientIp),
  cp: port((r) => r.clientPort),
  fi: address((r) => r.frontendIp),
  fp: port((r) => r.frontendPort),
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
  ST: num((r) => String(r.status)),
  B: num((r) => String(r.bytesOut)),
  U: num((r) => String(r.bytesIn)),
  ts: num((r) => r.termCause + r.termPhase),
  tsc: num((r) => r.termCause + r.termPhase + r.persistCookie),
  r: httpText((r) => encodeRequestLine(r.requestLine || "<BADREQ>")),
  HM: httpText((r) => encodeRequestLine(requestPart(r, "method"))),
  HU: httpText((r) => encodeRequestLine(requestPart(r, "uri"))),
  HP: httpText((r) => encodeRequestLine(requestPart(r, "path"))),
  HQ: httpText((r) => encodeRequestLine(requestPart(r, "query"))),
  HV: httpText((r) => encodeRequestLine(requestPart(r, "version"))),
  hr: captures((r) => r.capturedRequest, false),
  hs: captures((r) => r.capturedResponse, false),
  hrl: captures((r) => r.capturedRequest, true),
  hsl: captures((r) => r.capturedResponse, true),
  // Captured cookies and unique ids: sluice has neither yet, as haproxy without them.
  CC: { ...httpText(() => "-"), quoted: () => '""' },
  CS: { ...httpText(() => "-"), quoted: () => '""' },
  ID: text(
    (r) => r.uniqueId || "-",
    (r) => `"${r.uniqueId ?? ""}"`,
  ),
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
};

/** `option logasap` marks what is not final yet with a "+": the times to the end, the bytes. */
const LOGASAP = new Set(["Ta", "Tt", "B"]);

/** haproxy's variables sluice does not write yet: said so, rather than "no such variable". */
const LATER = new Set(["si", "sp", "bi", "bp", "lc", "Td", "Tu", "sslc", "sslv", "HPO"]);

export type LogLine = (rec: LogRecord, env: LineEnv) => string;

/**
 * How a proxy writes its lines: its mode, `option logasap`, and what the format is for: a log line,
 * written as the transaction ends, or a unique id, built as its request leaves.
 */
export interface LineOptions {
  http: boolean;
  logasap: boolean;
  purpose?: "log" | "unique-id";
}

/**
 * Compiles a log-format string. When it cannot, haproxy's reason, and whether anything came before
 * the error (haproxy's half-built format then still counts as one).
 */
export function compileLogLine(fmt: string, o: LineOptions): LogLine | { error: string; partial: boolean } {
  const parts: (string | typeof SEPARATOR | Variable)[] = [];
  let literal = "";
  const fail = (error: string) => ({ error, partial: parts.length > 0 || literal !== "" });
  // What `%{...}o` set for the variables after it.
  let quoteAll = false;
  let hexAll = false;
  for (let i = 0; i < fmt.length; i++) {
    const c = fmt[i]!;
    if (c === " ") {
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
    let quote: boolean = quoteAll;
    let hexa: boolean = hexAll;
    if (next === "{") {
      const close = fmt.indexOf("}", j);
      if (close < 0) return fail(`truncated line after '${fmt.slice(j + 1)}'`);
      const flags = fmt.slice(j + 1, close);
      // haproxy acts on the flags it knows and ignores the others.
      for (const flag of flags.split(",")) {
        if (flag === "+Q" || flag === "-Q") quote = flag === "+Q";
        else if (flag === "+X" || flag === "-X") hexa = flag === "+X";
        else if (flag === "+E")
          return fail(`log-format flag '+E' is not supported by sluice yet (+Q and +X are)`);
      }
      j = close + 1;
      if (fmt[j] !== "[" && !/[A-Za-z0-9]/.test(fmt[j] ?? ""))
        return fail(`parse argument modifier without variable name near '%{${flags}}'`);
    } else if (next !== "[" && !/[A-Za-z]/.test(next)) {
      // Any other character: haproxy drops the '%' and takes the rest as text.
      continue;
    }
    if (literal !== "") parts.push(literal);
    literal = "";
    if (fmt[j] === "[") {
      const rest = fmt.slice(j + 1);
      const smp = sampleVariable(rest, o, quote);
      if (typeof smp === "string") return fail(smp);
      parts.push(smp.variable);
      i = j + 1 + smp.close;
      continue;
    }
    let k = j;
    while (k < fmt.length && /[A-Za-z0-9]/.test(fmt[k]!)) k++;
    const name = fmt.slice(j, k);
    i = k - 1;
    if (name === "o") {
      quoteAll = quote;
      hexAll = hexa;
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
    let out = v;
    if (hexa && v.hex) out = { ...v, value: v.hex };
    else if (quote && v.quotable) {
      const quoted = v.quoted ?? ((r: LogRecord, env: LineEnv) => `"${v.value(r, env)}"`);
      out = { ...v, value: quoted };
    }
    // Without a transaction (mode tcp), there is no status: haproxy writes 0.
    if (name === "ST" && !o.http) out = num(() => "0");
    if (o.logasap && LOGASAP.has(name)) out = { ...out, value: (r, env) => "+" + v.value(r, env) };
    parts.push(out);
  }
  if (literal !== "") parts.push(literal);
  return (rec, env) => {
    let line = "";
    let spaced = true;
    for (const p of parts) {
      if (p === SEPARATOR) {
        if (!spaced) line += " ";
        spaced = true;
        continue;
      }
      const s = typeof p === "string" ? p : p.value(rec, env);
      if (s === "" && (typeof p === "string" || p.optional)) continue;
      line += s;
      spaced = false;
    }
    return line;
  };
}

/**
 * `%[expr]`: checked as haproxy checks it for its purpose (a log line is written once the messages
 * are gone: of the request only its method is left, and no status; a unique id is built with the
 * request's head at hand), read from the stream's sample context.
 *
 * In a log line a sample that is not there is `-` (`""` quoted). haproxy logs an error met before
 * any request head (a bad request, a timeout) without a stream, so only the connection's samples
 * are there then. A unique id writes what it finds, never quoted, and nothing for a missing sample.
 */
function sampleVariable(
  rest: string,
  o: LineOptions,
  quote: boolean,
): { variable: Variable; close: number } | string {
  const sample = sampleExpression(rest);
  if (typeof sample === "string") return sample;
  const { parsed, close } = sample;
  const use = parsed.kw.use;
  const forId = o.purpose === "unique-id";
  const refused = forId
    ? use === "res"
    : (use === "req" && parsed.name !== "method") ||
      (use === "res" && parsed.name !== "status") ||
      use === "buffer";
  if (refused) return unavailable(rest, use);
  if (forId && use === "buffer")
    return `sample fetch <${rest}> in a unique-id-format is not supported by sluice yet`;
  if (sample.unclosed !== undefined) return sample.unclosed;
  const smp = new Sample();
  const read = (r: LogRecord): string => {
    const ctx = r.ctx;
    if (ctx === undefined) return "";
    if (!forId && use !== "conn" && o.http && (r.requestLine === "" || r.requestLine === "<BADREQ>"))
      return "";
    return parsed.impl.first(ctx, smp) ? smp.getStr() : "";
  };
  if (forId) return { variable: { value: read, quotable: false, http: false }, close };
  const value: Value = quote
    ? (r) => `"${read(r)}"`
    : (r) => {
        const v = read(r);
        return v === "" ? "-" : v;
      };
  return { variable: { value, quotable: false, http: false }, close };
}

/** A run of spaces in the format. */
const SEPARATOR = 0;
