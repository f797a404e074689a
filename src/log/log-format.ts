// `log-format`: a proxy's own log line, made of text and haproxy's variables (%ci, %tr, %{+Q}r ...),
// compiled once into parts that read the finished record. Runs once per request, like the fixed
// formats: no regexes, no Date objects but once per second of log time.
//
// Spaces are separators, as in haproxy: a run of them writes one space, and none at the start of the
// line or right after another separator with nothing written between (captures the proxy does not
// make). `%{+Q}` quotes a variable that is text (not a number, a date or a state); `-Q` takes that
// back. The variables sluice keeps no data for (`%si`, `%rt`...), the flags +X and +E and sample
// expressions (`%[...]`) are refused for now.
import type { LogRecord } from "./record.js";
import { encodeHeader, encodeRequestLine, logDate, logDateGmt, logDateLocalTz, pad3 } from "./format.js";

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

const VARIABLES: Record<string, Variable> = {
  ci: text((r) => r.clientIp),
  cp: num((r) => String(r.clientPort)),
  fi: text((r) => r.frontendIp),
  fp: num((r) => String(r.frontendPort)),
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
    () => "-",
    () => '""',
  ),
  pid: num((_r, env) => String(env.pid)),
  H: text((_r, env) => env.hostname),
  t: num((r) => logDate(r.acceptTime)),
  tr: httpNum((r) => logDate(r.requestTime)),
  trg: httpNum((r) => logDateGmt(r.requestTime)),
  trl: httpNum((r) => logDateLocalTz(r.requestTime)),
  T: num((r) => logDateGmt(r.acceptTime)),
  Tl: num((r) => logDateLocalTz(r.acceptTime)),
  Ts: num((r) => String(Math.floor(r.acceptTime / 1000))),
  ms: num((r) => pad3(r.acceptTime % 1000)),
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
const LATER = new Set(["si", "sp", "bi", "bp", "rt", "lc", "o", "Td", "Tu", "sslc", "sslv", "HPO"]);

export type LogLine = (rec: LogRecord, env: LineEnv) => string;

/** How a proxy writes its lines: its mode, and `option logasap`. */
export interface LineOptions {
  http: boolean;
  logasap: boolean;
}

/**
 * Compiles a log-format string. When it cannot, haproxy's reason, and whether anything came before
 * the error (haproxy's half-built format then still counts as one).
 */
export function compileLogLine(fmt: string, o: LineOptions): LogLine | { error: string; partial: boolean } {
  const parts: (string | typeof SEPARATOR | Variable)[] = [];
  let literal = "";
  const fail = (error: string) => ({ error, partial: parts.length > 0 || literal !== "" });
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
    let quote = false;
    if (next === "{") {
      const close = fmt.indexOf("}", j);
      if (close < 0) return fail(`truncated line after '${fmt.slice(j + 1)}'`);
      const flags = fmt.slice(j + 1, close);
      // haproxy acts on the flags it knows and ignores the others.
      for (const flag of flags.split(",")) {
        if (flag === "+Q") quote = true;
        else if (flag === "-Q") quote = false;
        else if (/^[+-][XE]$/.test(flag))
          return fail(`log-format flag '${flag}' is not supported by sluice yet (only +Q and -Q are)`);
      }
      j = close + 1;
      if (fmt[j] !== "[" && !/[A-Za-z0-9]/.test(fmt[j] ?? ""))
        return fail(`parse argument modifier without variable name near '%{${flags}}'`);
    } else if (next !== "[" && !/[A-Za-z]/.test(next)) {
      // Any other character: haproxy drops the '%' and takes the rest as text.
      continue;
    }
    if (fmt[j] === "[")
      return fail(`sample expressions (%[...]) in log lines are not supported by sluice yet`);
    let k = j;
    while (k < fmt.length && /[A-Za-z0-9]/.test(fmt[k]!)) k++;
    const name = fmt.slice(j, k);
    const v = VARIABLES[name];
    if (!v) {
      if (LATER.has(name)) return fail(`log-format variable '%${name}' is not supported by sluice yet`);
      return fail(
        `no such format variable '${name}'. If you wanted to emit the '%' character verbatim, you need to use '%%'`,
      );
    }
    if (v.http && !o.http) return fail(`format variable '${name}' is reserved for HTTP mode`);
    if (literal !== "") parts.push(literal);
    literal = "";
    let out = v;
    if (quote && v.quotable) {
      const quoted = v.quoted ?? ((r: LogRecord, env: LineEnv) => `"${v.value(r, env)}"`);
      out = { ...v, value: quoted };
    }
    // Without a transaction (mode tcp), there is no status: haproxy writes 0.
    if (name === "ST" && !o.http) out = num(() => "0");
    if (o.logasap && LOGASAP.has(name)) out = { ...out, value: (r, env) => "+" + v.value(r, env) };
    parts.push(out);
    i = k - 1;
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

/** A run of spaces in the format. */
const SEPARATOR = 0;
