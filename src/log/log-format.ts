// `log-format`: a proxy's own log line, made of text and haproxy's variables (%ci, %tr, %{+Q}r ...),
// compiled once into parts that read the finished record. Runs once per request, like the fixed
// formats: no regexes, no Date objects but once per second of log time.
//
// Spaces are separators, as in haproxy: a run of them writes one space, and none at the start of the
// line or right after another separator with nothing written between (an empty %hr). `%{+Q}` quotes a variable that is
// text (not a number); `-Q` takes that back. The variables sluice keeps no data for (`%si`, `%rt`...),
// other flags (`+X`, `+E`) and sample expressions (`%[...]`) are refused for now.
import type { LogRecord } from "./record.js";
import { encodeHeader, encodeRequestLine, logDate, logDateGmt, logDateLocalTz, pad3 } from "./format.js";

/** What a line needs besides the record. */
export interface LineEnv {
  pid: number;
  hostname: string;
}

type Value = (rec: LogRecord, env: LineEnv) => string;

/** A variable: how to write it, and whether it is text (which `+Q` quotes) or a number. */
interface Variable {
  text: boolean;
  value: Value;
  /** What `+Q` writes for it, when not its value in quotes (an absent capture: `""`, not `"-"`). */
  quoted?: Value;
}

const num = (value: Value): Variable => ({ text: false, value });
const str = (value: Value, quoted?: Value): Variable => ({ text: true, value, ...(quoted && { quoted }) });

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
function captureBlock(caps: readonly string[]): string {
  if (caps.length === 0) return "";
  return "{" + caps.map(encodeHeader).join("|") + "}";
}

/** %hrl / %hsl: the captures one after another, `-` for one that was not there (`""` quoted). */
const captureList = (caps: readonly string[], quoted: boolean): string =>
  caps.map((c) => (quoted ? `"${encodeHeader(c)}"` : c === "" ? "-" : encodeHeader(c))).join(" ");

const VARIABLES: Record<string, Variable> = {
  ci: str((r) => r.clientIp),
  cp: num((r) => String(r.clientPort)),
  fi: str((r) => r.frontendIp),
  fp: num((r) => String(r.frontendPort)),
  f: str((r) => r.frontend),
  ft: str((r) => r.frontend),
  b: str((r) => r.backend || r.frontend),
  s: str((r) => r.server || "<NOSRV>"),
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
  ts: str((r) => r.termCause + r.termPhase),
  tsc: str((r) => r.termCause + r.termPhase + r.persistCookie),
  r: str((r) => encodeRequestLine(r.requestLine || "<BADREQ>")),
  HM: str((r) => encodeRequestLine(requestPart(r, "method"))),
  HU: str((r) => encodeRequestLine(requestPart(r, "uri"))),
  HP: str((r) => encodeRequestLine(requestPart(r, "path"))),
  HQ: str((r) => encodeRequestLine(requestPart(r, "query"))),
  HV: str((r) => encodeRequestLine(requestPart(r, "version"))),
  hr: str((r) => captureBlock(r.capturedRequest)),
  hs: str((r) => captureBlock(r.capturedResponse)),
  hrl: str(
    (r) => captureList(r.capturedRequest, false),
    (r) => captureList(r.capturedRequest, true),
  ),
  hsl: str(
    (r) => captureList(r.capturedResponse, false),
    (r) => captureList(r.capturedResponse, true),
  ),
  // Captured cookies and unique ids: sluice has neither yet, as haproxy without them.
  CC: str(
    () => "-",
    () => '""',
  ),
  CS: str(
    () => "-",
    () => '""',
  ),
  ID: str(
    () => "-",
    () => '""',
  ),
  pid: num((_r, env) => String(env.pid)),
  H: str((_r, env) => env.hostname),
  t: str((r) => logDate(r.acceptTime)),
  tr: str((r) => logDate(r.requestTime)),
  trg: str((r) => logDateGmt(r.requestTime)),
  trl: str((r) => logDateLocalTz(r.requestTime)),
  T: str((r) => logDateGmt(r.acceptTime)),
  Tl: str((r) => logDateLocalTz(r.acceptTime)),
  Ts: num((r) => String(Math.floor(r.acceptTime / 1000))),
  ms: num((r) => pad3(r.acceptTime % 1000)),
  Th: num((r) => String(r.Th)),
  Ti: num((r) => String(r.Ti)),
  TR: num((r) => String(r.TR)),
  Tq: num((r) => String(r.TR < 0 ? -1 : r.Th + r.Ti + r.TR)),
  Tw: num((r) => String(r.Tw)),
  Tc: num((r) => String(r.Tc)),
  Tr: num((r) => String(r.Tr)),
  Ta: num((r) => String(r.Ta)),
  Tt: num((r) => String(r.Tt)),
};

/** haproxy's variables sluice does not write yet: said so, rather than "no such variable". */
const LATER = new Set(["si", "sp", "bi", "bp", "rt", "lc", "o", "Td", "Tu", "sslc", "sslv", "fcl", "HPO"]);

export type LogLine = (rec: LogRecord, env: LineEnv) => string;

/** Compiles a log-format string; a string result is haproxy's reason for refusing it. */
export function compileLogLine(fmt: string): LogLine | string {
  const parts: (string | typeof SEPARATOR | Value)[] = [];
  let text = "";
  for (let i = 0; i < fmt.length; i++) {
    const c = fmt[i]!;
    if (c === " ") {
      if (text !== "") parts.push(text);
      text = "";
      parts.push(SEPARATOR);
      while (fmt[i + 1] === " ") i++;
      continue;
    }
    if (c !== "%") {
      text += c;
      continue;
    }
    let j = i + 1;
    if (fmt[j] === undefined) return `truncated line after '%'`;
    if (fmt[j] === "%") {
      text += "%";
      i = j;
      continue;
    }
    let quote = false;
    if (fmt[j] === "{") {
      const close = fmt.indexOf("}", j);
      if (close < 0) return `truncated line after '${fmt.slice(j + 1)}'`;
      for (const flag of fmt.slice(j + 1, close).split(",")) {
        if (flag === "+Q") quote = true;
        else if (flag === "-Q") quote = false;
        else return `log-format flag '${flag}' is not supported by sluice yet (only +Q and -Q are)`;
      }
      j = close + 1;
    }
    if (fmt[j] === "[") return `sample expressions (%[...]) in log lines are not supported by sluice yet`;
    let k = j;
    while (k < fmt.length && /[A-Za-z]/.test(fmt[k]!)) k++;
    const name = fmt.slice(j, k);
    if (name === "") return `parse argument modifier without variable name near '${fmt.slice(i, k)}'`;
    const v = VARIABLES[name];
    if (!v) {
      if (LATER.has(name)) return `log-format variable '%${name}' is not supported by sluice yet`;
      return `no such format variable '${name}'. If you wanted to emit the '%' character verbatim, you need to use '%%'`;
    }
    if (text !== "") parts.push(text);
    text = "";
    parts.push(!quote || !v.text ? v.value : (v.quoted ?? ((r, env) => `"${v.value(r, env)}"`)));
    i = k - 1;
  }
  if (text !== "") parts.push(text);
  return (rec, env) => {
    let out = "";
    let spaced = true;
    for (const p of parts) {
      if (p === SEPARATOR) {
        if (!spaced) out += " ";
        spaced = true;
        continue;
      }
      const s = typeof p === "string" ? p : p(rec, env);
      if (s === "") continue;
      out += s;
      spaced = false;
    }
    return out;
  };
}

/** A run of spaces in the format. */
const SEPARATOR = 0;
