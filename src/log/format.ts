// haproxy's fixed log formats: the line body that follows the syslog header.
//
//   httplog  %ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %CC %CS %tsc %ac/%fc/%bc/%sc/%rc %sq/%bq %hr %hs %{+Q}r
//   clf      %{+Q}o %{-Q}ci - - [%trg] %r %ST %B "" "" %cp %ms %ft %b %s %TR %Tw %Tc %Tr %Ta %tsc %ac %fc %bc %sc
//            %rc %sq %bq %CC %CS %hrl %hsl
//   tcplog   %ci:%cp [%t] %ft %b/%s %Tw/%Tc/%Tt %B %ts %ac/%fc/%bc/%sc/%rc %sq/%bq
//   (none)   Connect from %ci:%cp to %fi:%fp (%f/%Mode)
//
// Runs once per request: no regexes, no Intl, no Date objects except once per second of log time.
import type { LogRecord } from "./record.js";

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

export function pad2(n: number): string {
  return n < 10 ? "0" + n : "" + n;
}

export function pad3(n: number): string {
  return n < 10 ? "00" + n : n < 100 ? "0" + n : "" + n;
}

/** A one-second cache of a date prefix, two slots so that records of two adjacent seconds don't thrash. */
class SecondCache {
  private secA = NaN;
  private strA = "";
  private secB = NaN;
  private strB = "";
  constructor(private readonly make: (sec: number) => string) {}
  get(sec: number): string {
    if (sec === this.secA) return this.strA;
    if (sec === this.secB) return this.strB;
    const s = this.make(sec);
    this.secB = this.secA;
    this.strB = this.strA;
    this.secA = sec;
    this.strA = s;
    return s;
  }
}

/** "24/Nov/2026:06:08:51" from a date's fields, local or UTC. */
function dateText(day: number, month: number, year: number, h: number, m: number, sec: number): string {
  return `${pad2(day)}/${MONTHS[month]}/${year}:${pad2(h)}:${pad2(m)}:${pad2(sec)}`;
}

// "24/Nov/2026:06:08:51." in local time (haproxy's %t / %tr).
const localDate = new SecondCache((sec) => {
  const d = new Date(sec * 1000);
  return (
    dateText(d.getDate(), d.getMonth(), d.getFullYear(), d.getHours(), d.getMinutes(), d.getSeconds()) + "."
  );
});

// "24/Nov/2026:06:08:51 +0000" in GMT (haproxy's %trg, used by clf).
const gmtDate = new SecondCache((sec) => {
  const d = new Date(sec * 1000);
  const t = dateText(
    d.getUTCDate(),
    d.getUTCMonth(),
    d.getUTCFullYear(),
    d.getUTCHours(),
    d.getUTCMinutes(),
    d.getUTCSeconds(),
  );
  return t + " +0000";
});

// "24/Nov/2026:06:08:51 +0100" in local time, with its offset (haproxy's %trl, %Tl).
const localDateTz = new SecondCache((sec) => {
  const d = new Date(sec * 1000);
  const off = -d.getTimezoneOffset();
  const a = Math.abs(off);
  const tz = `${off < 0 ? "-" : "+"}${pad2(Math.floor(a / 60))}${pad2(a % 60)}`;
  return `${dateText(d.getDate(), d.getMonth(), d.getFullYear(), d.getHours(), d.getMinutes(), d.getSeconds())} ${tz}`;
});

/** `24/Nov/2026:06:08:51 +0100`: local time and its offset, no milliseconds. */
export function logDateLocalTz(ms: number): string {
  return localDateTz.get(Math.floor(ms / 1000));
}

/** haproxy's log date with milliseconds, local time: `24/Nov/2026:06:08:51.123`. */
export function logDate(ms: number): string {
  const sec = Math.floor(ms / 1000);
  return localDate.get(sec) + pad3(ms - sec * 1000);
}

/** `24/Nov/2026:06:08:51 +0000` (GMT, no milliseconds). */
export function logDateGmt(ms: number): string {
  return gmtDate.get(Math.floor(ms / 1000));
}

const HEX = "0123456789ABCDEF";

// haproxy's escape maps (log.c): control bytes and bytes >= 127 always; `"` and `#` in the request
// line (url_encode_map); `"#{|}` in captured headers (hdr_encode_map). Escapes are `#` and two hex digits.
const URL_ESC = new Uint8Array(256);
const HDR_ESC = new Uint8Array(256);
for (let i = 0; i < 256; i++) {
  if (i < 32 || i >= 127) URL_ESC[i] = HDR_ESC[i] = 1;
}
for (const c of '"#') URL_ESC[c.charCodeAt(0)] = 1;
for (const c of '"#{|}') HDR_ESC[c.charCodeAt(0)] = 1;
// A sample in a format that makes HTTP (a rule's header value, a unique id): the control bytes a
// header value cannot hold but the tab (http_encode_map), escaped with `%`.
const HTTP_ESC = new Uint8Array(256);
for (let i = 0; i < 32; i++) if (i !== 9) HTTP_ESC[i] = 1;
HTTP_ESC[127] = 1;

function escapeByte(b: number, esc: string): string {
  return esc + HEX[b >> 4] + HEX[b & 15];
}

/**
 * Escapes a latin1 string (each char one byte, as the data path decodes heads) with a map.
 * Returns the string itself when nothing needs escaping, the common case.
 */
export function encodeWith(s: string, map: Uint8Array, esc = "#"): string {
  const n = s.length;
  let i = 0;
  for (; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c > 255 || map[c] === 1) break;
  }
  if (i === n) return s;
  let out = s.slice(0, i);
  for (; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 256) {
      out += map[c] === 1 ? escapeByte(c, esc) : s[i];
    } else if (map[0x80] === 1) {
      // Not from the wire (the data path decodes latin1): escape its UTF-8 bytes.
      const cp = s.codePointAt(i)!;
      if (cp > 0xffff) i++;
      for (const b of Buffer.from(String.fromCodePoint(cp), "utf8")) out += escapeByte(b, esc);
    } else out += s[i];
  }
  return out;
}

export const encodeRequestLine = (s: string): string => encodeWith(s, URL_ESC);
export const encodeHeader = (s: string): string => encodeWith(s, HDR_ESC);
export const encodeHttpSample = (s: string): string => encodeWith(s, HTTP_ESC, "%");

/** `{a|b}`: haproxy's %hr/%hs (an absent header is empty between the bars). */
function captureBlock(caps: readonly string[]): string {
  let s = "{";
  for (let i = 0; i < caps.length; i++) {
    if (i > 0) s += "|";
    s += encodeHeader(caps[i]!);
  }
  return s + "}";
}

/** `"a" "b"`: haproxy's %hrl/%hsl under the Q option, as clf prints them. */
function captureList(caps: readonly string[]): string {
  let s = "";
  for (let i = 0; i < caps.length; i++) {
    if (i > 0) s += " ";
    s += '"' + encodeHeader(caps[i]!) + '"';
  }
  return s;
}

/**
 * The httplog line body (or clf with `clf`). `logasap` prefixes %Ta and %B with "+" as `option logasap`
 * does. Captured headers appear only when the record carries captures (the frontend declared some and
 * the request got far enough to capture them), as in haproxy.
 */
export function formatHttplog(rec: LogRecord, clf: boolean, logasap = false): string {
  if (clf) return formatClf(rec, logasap);
  const plus = logasap ? "+" : "";
  let s =
    rec.clientIp +
    ":" +
    rec.clientPort +
    " [" +
    logDate(rec.requestTime) +
    "] " +
    rec.frontend +
    " " +
    (rec.backend || rec.frontend) +
    "/" +
    (rec.server || "<NOSRV>") +
    " " +
    rec.TR +
    "/" +
    rec.Tw +
    "/" +
    rec.Tc +
    "/" +
    rec.Tr +
    "/" +
    plus +
    rec.Ta +
    " " +
    rec.status +
    " " +
    plus +
    rec.bytesOut +
    " " +
    (rec.capturedCookie || "-") +
    " " +
    (rec.capturedSetCookie || "-") +
    " " +
    rec.termCause +
    rec.termPhase +
    rec.persistCookie +
    " " +
    rec.actconn +
    "/" +
    rec.feconn +
    "/" +
    rec.beconn +
    "/" +
    rec.srvConn +
    "/" +
    (rec.redispatched ? "+" : "") +
    rec.retries +
    " " +
    rec.srvQueue +
    "/" +
    rec.backendQueue +
    " ";
  if (rec.capturedRequest.length > 0) s += captureBlock(rec.capturedRequest) + " ";
  if (rec.capturedResponse.length > 0) s += captureBlock(rec.capturedResponse) + " ";
  return s + '"' + encodeRequestLine(rec.requestLine || "<BADREQ>") + '"';
}

function formatClf(rec: LogRecord, logasap: boolean): string {
  const plus = logasap ? "+" : "";
  const sec = Math.floor(rec.acceptTime / 1000);
  let s =
    rec.clientIp +
    " - - [" +
    logDateGmt(rec.requestTime) +
    '] "' +
    encodeRequestLine(rec.requestLine || "<BADREQ>") +
    '" ' +
    rec.status +
    " " +
    plus +
    rec.bytesOut +
    ' "" "" ' +
    rec.clientPort +
    " " +
    pad3(rec.acceptTime - sec * 1000) +
    ' "' +
    rec.frontend +
    '" "' +
    (rec.backend || rec.frontend) +
    '" "' +
    (rec.server || "<NOSRV>") +
    '" ' +
    rec.TR +
    " " +
    rec.Tw +
    " " +
    rec.Tc +
    " " +
    rec.Tr +
    " " +
    plus +
    rec.Ta +
    " " +
    rec.termCause +
    rec.termPhase +
    rec.persistCookie +
    " " +
    rec.actconn +
    " " +
    rec.feconn +
    " " +
    rec.beconn +
    " " +
    rec.srvConn +
    " " +
    (rec.redispatched ? "+" : "") +
    rec.retries +
    " " +
    rec.srvQueue +
    " " +
    rec.backendQueue +
    ' "' +
    (rec.capturedCookie ?? "") +
    '" "' +
    (rec.capturedSetCookie ?? "") +
    '" ';
  // haproxy collapses the separator after an empty %hrl, so a line without captures ends with a space.
  if (rec.capturedRequest.length > 0) {
    s += captureList(rec.capturedRequest);
    if (rec.capturedResponse.length > 0) s += " " + captureList(rec.capturedResponse);
    else s += " ";
  } else if (rec.capturedResponse.length > 0) s += captureList(rec.capturedResponse);
  return s;
}

/** The tcplog line body; `logasap` prefixes %Tt and %B with "+". */
export function formatTcplog(rec: LogRecord, logasap = false): string {
  const plus = logasap ? "+" : "";
  return (
    rec.clientIp +
    ":" +
    rec.clientPort +
    " [" +
    logDate(rec.acceptTime) +
    "] " +
    rec.frontend +
    " " +
    (rec.backend || rec.frontend) +
    "/" +
    (rec.server || "<NOSRV>") +
    " " +
    rec.Tw +
    "/" +
    rec.Tc +
    "/" +
    plus +
    rec.Tt +
    " " +
    plus +
    rec.bytesOut +
    " " +
    rec.termCause +
    rec.termPhase +
    " " +
    rec.actconn +
    "/" +
    rec.feconn +
    "/" +
    rec.beconn +
    "/" +
    rec.srvConn +
    "/" +
    (rec.redispatched ? "+" : "") +
    rec.retries +
    " " +
    rec.srvQueue +
    "/" +
    rec.backendQueue
  );
}

/** The line haproxy logs at accept time for a proxy without a log format option. */
export function formatConnect(rec: LogRecord, mode: "http" | "tcp"): string {
  return (
    "Connect from " +
    rec.clientIp +
    ":" +
    rec.clientPort +
    " to " +
    rec.frontendIp +
    ":" +
    rec.frontendPort +
    " (" +
    rec.frontend +
    (mode === "http" ? "/HTTP)" : "/TCP)")
  );
}

/**
 * haproxy's "interesting" sessions, which `option log-separate-errors` logs at level err: a
 * redispatch, a termination cause other than none or local, retries on an otherwise clean session,
 * or an HTTP status of 500 and above.
 */
export function isErrorRecord(rec: LogRecord, http: boolean): boolean {
  const c = rec.termCause;
  return (
    rec.redispatched ||
    (c !== "-" && c !== "L") ||
    (c === "-" && rec.retries > 0) ||
    (http && rec.status >= 500)
  );
}
