// Cookie persistence (a backend's `cookie` line), the way haproxy 2.6 reads and writes it.
//
// The request's Cookie headers may name a server (NAME=SRV, NAME=SRV|last|first with dates, or
// NAME=SRV~value in prefix mode): the request then goes to that server directly. The server's
// Set-Cookie of that name is deleted, rewritten or prefixed per the mode, and in insert mode a
// Set-Cookie naming the server is added when the client did not already name it. The two letters
// haproxy logs after the termination state say what happened on each side. The same walk through the
// cookies makes the frontend's `capture cookie`.
import type { CookieCapture, CookiePersistence } from "../config/model.js";
import type { HttpHead } from "../http/message.js";
import type { HeadEdits } from "../http/serialize.js";
import { headerIndex, headerValue } from "../http/parse.js";
import type { RtServer } from "./backend.js";

/**
 * What the request's cookie said: None, Invalid, Down server, Valid, Expired (maxidle), Old
 * (maxlife), Unused (a use-server or ignore-persist rule had its say first).
 */
export type CookieSeen = "N" | "I" | "D" | "V" | "E" | "O" | "U";
/** What became of the persistence cookie in the response: None, Passed, Deleted, Inserted, Rewritten, Updated. */
export type CookieSet = "N" | "P" | "D" | "I" | "R" | "U";

/** A transaction's persistence state. */
export class Persistence {
  seen: CookieSeen = "N";
  set: CookieSet = "N";
  /** The server the request's cookie named and may go to (haproxy's SF_DIRECT). */
  direct: RtServer | undefined;
  /** Dates the cookie carried, in seconds since the epoch (multiples of 4); 0 when absent. */
  lastDate = 0;
  firstDate = 0;
  /** What `capture cookie` found in the request's Cookie and the response's Set-Cookie (%CC, %CS). */
  readonly captured: { request?: string; response?: string } = {};

  /** `capture`: the frontend's `capture cookie`. */
  constructor(readonly capture?: CookieCapture) {}

  reset(): void {
    this.seen = "N";
    this.set = "N";
    this.direct = undefined;
    this.lastDate = this.firstDate = 0;
    this.captured.request = this.captured.response = undefined;
  }
}

const SP = 0x20;
const HT = 0x09;
const isBlank = (s: string, i: number): boolean => {
  const c = s.charCodeAt(i);
  return c === SP || c === HT;
};

/**
 * Where a cookie's value ends (`;` or `,`), or with `commaOnly` a list item (Set-Cookie2's `,`):
 * outside double quotes, where a backslash escapes; `end` when none comes.
 */
function valueEnd(s: string, from: number, end: number, commaOnly = false): number {
  let quoted = false;
  let escaped = false;
  for (let i = from; i < end; i++) {
    const c = s[i];
    if (escaped) escaped = false;
    else if (quoted) {
      if (c === "\\") escaped = true;
      else if (c === '"') quoted = false;
    } else if (c === '"') quoted = true;
    else if (c === "," || (c === ";" && !commaOnly)) return i;
  }
  return end;
}

/**
 * A cookie header's value with the part from `from` (a delimiter, or 0) up to `next` (a delimiter,
 * or the end) taken out: the delimiter at `next` takes the place of the one at `from`, followed by
 * one space when there is room, as haproxy rewrites it. Also where the part now begins.
 */
function cut(s: string, from: number, next: number): { s: string; from: number; delta: number } {
  const end = s.length;
  let keep = "";
  if (from === 0) {
    if (next < end) next++;
    while (next < end && isBlank(s, next)) next++;
  } else {
    while (isBlank(s, from - 1)) from--;
    if (next < end) {
      keep = s[next]!;
      next++;
      // haproxy writes the space over the bytes it removes: only when there are two of them.
      if (from + 2 < next) keep += " ";
      while (next < end && isBlank(s, next)) next++;
    }
  }
  return { s: s.slice(0, from) + keep + s.slice(next), from, delta: from + keep.length - next };
}

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/** haproxy's 5-character date: the low 30 bits of `n`, six at a time, high ones first. */
export function dateToB64(n: number): string {
  let out = "";
  for (let shift = 24; shift >= 0; shift -= 6) out += B64[(n >>> shift) & 0x3f];
  return out;
}

/** The 30-bit number of a 5-character date at `at`, or -1 when a character is not base64. */
export function b64ToDate(s: string, at: number): number {
  let n = 0;
  for (let i = at; i < at + 5; i++) {
    const v = B64.indexOf(s[i] ?? "=");
    if (v < 0) return -1;
    n = n * 64 + v;
  }
  return n;
}

/** A date of a cookie's value at `at`, in seconds; 0 when it is not a valid one. */
function cookieDate(s: string, at: number): number {
  const d = b64ToDate(s, at);
  return d > 0 ? d * 4 : 0;
}

/**
 * Reads the persistence cookie from the request's Cookie headers and rewrites them as the mode
 * asks (insert+indirect removes it, prefix strips the server's part); sets `p.seen` and `p.direct`.
 * As haproxy does, blanks around a cookie's `=` are taken out of every cookie on the way.
 * `persist`: a DOWN server may be named (option persist, force-persist); `assigned`: the server a
 * use-server rule chose; `ignore`: an ignore-persist rule holds.
 */
export function readRequestCookies(
  req: HttpHead,
  edits: HeadEdits,
  ck: CookiePersistence | undefined,
  servers: readonly RtServer[],
  persist: boolean,
  p: Persistence,
  nowSec: number,
  assigned: RtServer | undefined,
  ignore: boolean,
): void {
  // A use-server rule chose first (haproxy runs them before reading cookies), or an ignore-persist
  // rule holds: the cookie is unused.
  if (assigned) p.direct = assigned;
  const unused = assigned !== undefined || ignore;
  for (let i = headerIndex(req, "cookie"); i >= 0; i = headerIndex(req, "cookie", i + 1)) {
    const value = headerValue(req, i);
    const out = requestCookieLine(value, ck, servers, persist, p, nowSec, unused);
    if (out === value) continue;
    if (out === "") edits.dropHeader(i);
    else edits.rewriteHeader(i, out);
  }
}

/**
 * `capture cookie`: the first cookie whose `name=value` starts with the capture's name (a name
 * ending in `=` asks for that cookie exactly), that text cut to the capture's length.
 */
function capture(p: Persistence, side: "request" | "response", h: string, sp: CookieSpan): void {
  const cap = p.capture;
  if (!cap || p.captured[side] !== undefined) return;
  if (sp.valEnd - sp.attBeg < cap.name.length || !h.startsWith(cap.name, sp.attBeg)) return;
  p.captured[side] = h.slice(sp.attBeg, Math.min(sp.valEnd, sp.attBeg + cap.len));
}

/** Where the parts of one cookie lie in a header value (haproxy's att_beg .. next). */
class CookieSpan {
  attBeg = 0;
  /** Just past the name's last non-blank character. */
  attEnd = 0;
  /** At the `=`, or at the delimiter or end where a cookie without one stops. */
  equal = 0;
  valBeg = 0;
  valEnd = 0;
  /** The delimiter after the cookie, or the end. */
  next = 0;
  hasValue = false;

  /** Reads the cookie that starts at `prev`: the header value's start, or the delimiter before it. */
  scan(h: string, prev: number, first: boolean, commaEndsName: boolean): void {
    let at = first ? prev : prev + 1;
    while (at < h.length && isBlank(h, at)) at++;
    this.attBeg = this.attEnd = at;
    let equal = at;
    while (equal < h.length) {
      const c = h[equal];
      if (c === "=" || c === ";" || (commaEndsName && c === ",")) break;
      if (!isBlank(h, equal++)) this.attEnd = equal;
    }
    this.equal = equal;
    this.hasValue = h[equal] === "=";
    if (!this.hasValue) {
      this.valBeg = this.valEnd = this.next = equal;
      return;
    }
    let v = equal + 1;
    while (v < h.length && isBlank(h, v)) v++;
    this.valBeg = v;
    this.next = this.valEnd = valueEnd(h, v, h.length);
    while (this.valEnd > v && isBlank(h, this.valEnd - 1)) this.valEnd--;
  }

  /** `h` without blanks around the cookie's `=` (haproxy takes them out of every cookie it reads). */
  tighten(h: string): string {
    if (this.attEnd === this.equal && this.valBeg === this.equal + 1) return h;
    const delta = this.attEnd + 1 - this.valBeg;
    this.equal = this.attEnd;
    this.valBeg = this.attEnd + 1;
    this.valEnd += delta;
    this.next += delta;
    return h.slice(0, this.attEnd) + "=" + h.slice(this.valBeg - delta);
  }

  isNamed(h: string, name: string): boolean {
    return this.attEnd - this.attBeg === name.length && h.startsWith(name, this.attBeg);
  }
}

const span = new CookieSpan();

function requestCookieLine(
  h: string,
  ck: CookiePersistence | undefined,
  servers: readonly RtServer[],
  persist: boolean,
  p: Persistence,
  nowSec: number,
  unused: boolean,
): string {
  const sp = span;
  let delFrom = -1;
  let preserve = false;
  for (let prev = 0, first = true; prev < h.length; prev = sp.next, first = false) {
    sp.scan(h, prev, first, true);
    // $Path and friends belong to the cookie before them.
    if (h[sp.attBeg] === "$") continue;
    if (sp.hasValue) {
      h = sp.tighten(h);
      capture(p, "request", h, sp);
    }
    if (!sp.hasValue || !ck || !sp.isNamed(h, ck.name)) {
      // Another cookie (or a word without `=`) is kept; one marked for removal before it goes now.
      preserve = true;
      if (delFrom >= 0) {
        const c = cut(h, delFrom, prev);
        h = c.s;
        sp.next += c.delta;
        delFrom = -1;
      }
      continue;
    }
    const { valBeg, valEnd } = sp;
    let delim = valEnd;
    if (ck.mode === "prefix") {
      delim = h.indexOf("~", valBeg);
      if (delim < 0 || delim > valEnd) delim = valEnd;
    } else {
      const bar = h.indexOf("|", valBeg);
      if (bar >= 0 && bar < valEnd) {
        delim = bar;
        // A date that cannot be read leaves the one an earlier occurrence gave.
        if (valEnd - (bar + 1) >= 5) p.lastDate = cookieDate(h, bar + 1) || p.lastDate;
        const bar2 = h.indexOf("|", bar + 1);
        if (bar2 >= 0 && bar2 < valEnd && valEnd - bar2 > 5)
          p.firstDate = cookieDate(h, bar2 + 1) || p.firstDate;
      }
    }
    // Too old or idle too long (a date more than a day ahead is as bad): as if there were none.
    if (p.firstDate && ck.maxlife && (nowSec - p.firstDate > ck.maxlife || p.firstDate - nowSec > 86400)) {
      p.seen = "O";
      delim = valBeg;
      p.firstDate = p.lastDate = 0;
    } else if (
      p.lastDate &&
      ck.maxidle &&
      (nowSec - p.lastDate > ck.maxidle || p.lastDate - nowSec > 86400)
    ) {
      p.seen = "E";
      delim = valBeg;
      p.firstDate = p.lastDate = 0;
    }
    // The first server of that cookie that is not DOWN (or any, with option persist); an empty
    // value names none, and a later occurrence of the cookie cannot change the choice.
    if (delim !== valBeg && !p.direct && !unused) {
      const id = h.slice(valBeg, delim);
      for (const s of servers) {
        if (s.cfg.cookie !== id) continue;
        const down = !s.up || s.maint;
        if (!down || persist) {
          p.seen = down ? "D" : "V";
          p.direct = s;
          break;
        }
        p.seen = "D";
      }
    }
    if (p.seen === "N" && (unused || !p.direct)) p.seen = unused ? "U" : "I";
    if (ck.mode === "prefix" && delim !== valEnd) {
      // The server never sees its own part.
      h = h.slice(0, valBeg) + h.slice(delim + 1);
      sp.next -= delim + 1 - valBeg;
      preserve = true;
    } else if (delFrom < 0 && ck.mode === "insert" && ck.indirect) delFrom = prev;
  }
  if (delFrom >= 0) h = preserve ? h.slice(0, delFrom) : "";
  return h;
}

/**
 * Handles the server's Set-Cookie (and Set-Cookie2) headers of the persistence cookie: kept with
 * `preserve`, deleted in insert mode or for a direct request with `indirect`, else rewritten to the
 * server's value (rewrite) or prefixed with it (prefix). Sets `p.set`.
 */
export function readServerCookies(
  res: HttpHead,
  edits: HeadEdits,
  ck: CookiePersistence | undefined,
  srv: RtServer,
  p: Persistence,
): void {
  for (const cookie2 of [false, true]) {
    const name = cookie2 ? "set-cookie2" : "set-cookie";
    for (let i = headerIndex(res, name); i >= 0; i = headerIndex(res, name, i + 1)) {
      const value = headerValue(res, i);
      const out = serverCookieLine(value, cookie2, ck, srv, p);
      if (out === value) continue;
      if (out === "") edits.dropHeader(i);
      else edits.rewriteHeader(i, out);
    }
  }
}

function serverCookieLine(
  h: string,
  cookie2: boolean,
  ck: CookiePersistence | undefined,
  srv: RtServer,
  p: Persistence,
): string {
  const sp = span;
  for (let prev = 0, first = true; prev < h.length; prev = sp.next, first = false) {
    sp.scan(h, prev, first, cookie2);
    // Set-Cookie's attributes run to the end of the line (Expires holds a comma); Set-Cookie2
    // lists cookies with commas.
    if (sp.next < h.length) sp.next = cookie2 ? valueEnd(h, sp.next, h.length, true) : h.length;
    if (!sp.hasValue) continue;
    h = sp.tighten(h);
    capture(p, "response", h, sp);
    if (!ck || !sp.isNamed(h, ck.name)) continue;
    p.set = "P";
    if (ck.preserve) continue;
    const { valBeg, valEnd } = sp;
    if (ck.mode === "insert" || (p.direct && ck.indirect)) {
      p.set = "D";
      if (prev === 0 && sp.next === h.length) return "";
      const c = cut(h, prev, sp.next);
      h = c.s;
      sp.next = c.from;
    } else if (srv.cfg.cookie !== undefined && ck.mode === "rewrite") {
      const v = srv.cfg.cookie;
      h = h.slice(0, valBeg) + v + h.slice(valEnd);
      sp.next += v.length - (valEnd - valBeg);
      p.set = "R";
    } else if (srv.cfg.cookie !== undefined && ck.mode === "prefix") {
      const v = srv.cfg.cookie + "~";
      h = h.slice(0, valBeg) + v + h.slice(valBeg);
      sp.next += v.length;
      p.set = "R";
    }
  }
  return h;
}

/** Status codes whose responses a cache may keep without explicit freshness (RFC 7231 6.1). */
const CACHEABLE_STATUS = new Set([200, 203, 204, 206, 300, 301, 404, 405, 410, 414, 501]);
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS", "TRACE"]);

/**
 * Whether a cache could keep this response, as haproxy 2.6 judges it for `nocache`: a safe method
 * and a status cacheable by default, or `Cache-Control: public`; no directive against it; and an
 * expiry (max-age, s-maxage, Expires) or a validator (ETag, Last-Modified) to keep it by.
 */
export function cacheable(method: string, res: HttpHead): boolean {
  let ok = SAFE_METHODS.has(method) && CACHEABLE_STATUS.has(res.status);
  if (res.status < 200) return false;
  const pragma = headerIndex(res, "pragma");
  if (pragma >= 0 && headerValue(res, pragma).toLowerCase() === "no-cache") return false;
  let fresh = false;
  for (let i = headerIndex(res, "cache-control"); i >= 0; i = headerIndex(res, "cache-control", i + 1)) {
    for (const item of listItems(headerValue(res, i))) {
      const v = item.toLowerCase();
      if (v === "public") ok = true;
      else if (
        v === "private" ||
        v === "no-cache" ||
        v === "no-store" ||
        v === "max-age=0" ||
        v === "s-maxage=0"
      )
        ok = false;
      else if (v.startsWith("s-maxage") || v.startsWith("max-age")) fresh = true;
    }
  }
  return (
    ok &&
    (fresh ||
      headerIndex(res, "expires") >= 0 ||
      headerIndex(res, "etag") >= 0 ||
      headerIndex(res, "last-modified") >= 0)
  );
}

/** A header's comma-separated items, blanks around them removed (quoted commas kept). */
function listItems(v: string): string[] {
  const items: string[] = [];
  for (let at = 0; at <= v.length;) {
    const end = valueEnd(v, at, v.length, true);
    items.push(v.slice(at, end).trim());
    at = end + 1;
  }
  return items;
}

/**
 * The Set-Cookie line to add in insert mode, if any: when the request did not come straight to
 * its server by its cookie, when dates need refreshing, and not for other methods than POST with
 * `postonly`. A server without a cookie value gets the cookie deleted. Sets `p.set`.
 */
export function insertedCookie(
  ck: CookiePersistence,
  srv: RtServer,
  method: string,
  p: Persistence,
  nowSec: number,
): string | undefined {
  if (ck.mode !== "insert" || (p.set === "P" && ck.preserve)) return undefined;
  const due =
    !p.direct ||
    ((ck.maxidle || p.lastDate) && (!p.lastDate || p.lastDate - nowSec < 0)) ||
    (ck.maxlife && !p.firstDate) ||
    (!ck.maxlife && p.firstDate);
  if (!due || (ck.postonly && method !== "POST")) return undefined;
  const id = srv.cfg.cookie;
  let line: string;
  if (id === undefined) line = `Set-Cookie: ${ck.name}=; Expires=Thu, 01-Jan-1970 00:00:01 GMT; path=/`;
  else {
    line = `Set-Cookie: ${ck.name}=${id}`;
    if (ck.maxidle || ck.maxlife) {
      const stamp = dateToB64(Math.floor((nowSec + 3) / 4));
      line += "|" + stamp;
      if (ck.maxlife) line += "|" + (p.firstDate ? dateToB64(p.firstDate / 4) : stamp);
    }
    line += "; path=/";
  }
  for (const d of ck.domains) line += `; domain=${d}`;
  if (ck.httponly) line += "; HttpOnly";
  if (ck.secure) line += "; Secure";
  for (const a of ck.attrs) line += `; ${a}`;
  p.set = id !== undefined && p.direct ? "U" : "I";
  return line;
}
