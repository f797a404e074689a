// Header and cookie walks over a parsed head's bytes, in place: names are compared byte by byte and
// values are handed out as byte ranges. The cursor lives in the Sample (i: line, j: position; p, pe:
// a cookie walk within one value).
import type { HttpHead } from "../http/message.js";
import { COMMA, elementEnd, isBlank } from "../http/chars.js";
import { withoutHopWords } from "../http/connection.js";
import type { Sample } from "./sample.js";

/** Whether header line i is named `lc` (lower-case ASCII), ignoring case. */
export function nameIs(h: HttpHead, i: number, lc: Buffer): boolean {
  const s = h.hdr[i * 4]!;
  const e = h.hdr[i * 4 + 1]!;
  if (e - s !== lc.length) return false;
  const b = h.buf;
  for (let k = 0; k < lc.length; k++) {
    let c = b[s + k]!;
    if (c >= 65 && c <= 90) c += 32;
    if (c !== lc[k]) return false;
  }
  return true;
}

/** Starts a walk over the values of header `lc` (null: every header). */
export function hdrStart(smp: Sample): void {
  smp.i = -1;
  smp.j = -1;
}

const CONNECTION = Buffer.from("connection");

/**
 * A Connection line as haproxy's parser keeps it, without its close and keep-alive words (that
 * parser takes them out of the head it hands the rules), or undefined when it has none of them.
 */
function keptConnection(h: HttpHead, i: number): Buffer | undefined {
  if (!(h.connClose || h.connKeepAlive) || !nameIs(h, i, CONNECTION)) return undefined;
  const v = withoutHopWords(h.buf, h.hdr[i * 4 + 2]!, h.hdr[i * 4 + 3]!);
  return v === undefined ? undefined : Buffer.from(v, "latin1");
}

/**
 * Next value of header `lc`; `split` cuts values at commas (hdr) or not (fhdr). A Connection line
 * reads as haproxy's parser left it, and one it emptied is not there.
 */
export function hdrNext(h: HttpHead, lc: Buffer | null, split: boolean, smp: Sample): boolean {
  let b = h.buf;
  let kept: Buffer | undefined;
  if (smp.j < 0) {
    let i = smp.i;
    for (;;) {
      i++;
      if (i >= h.count) return false;
      if ((lc !== null && !nameIs(h, i, lc)) || h.repeats?.includes(i)) continue;
      kept = lc === null || lc.length === CONNECTION.length ? keptConnection(h, i) : undefined;
      if (kept === undefined || kept.length > 0) break;
    }
    smp.i = i;
    smp.j = kept === undefined ? h.hdr[i * 4 + 2]! : 0;
  } else if (lc === null || lc.length === CONNECTION.length) kept = keptConnection(h, smp.i);
  let ve = h.hdr[smp.i * 4 + 3]!;
  if (kept !== undefined) {
    b = kept;
    ve = kept.length;
  }
  let s = smp.j;
  let e: number;
  if (split) {
    e = elementEnd(b, s, ve);
    smp.j = e < ve ? e + 1 : -1;
  } else {
    e = ve;
    smp.j = -1;
  }
  while (s < e && isBlank(b[s]!)) s++;
  while (e > s && isBlank(b[e - 1]!)) e--;
  smp.setBytes(b, s, e);
  return true;
}

/** Number of values of header `lc` (null: all headers). */
export function hdrCount(h: HttpHead, lc: Buffer | null, split: boolean, smp: Sample): number {
  hdrStart(smp);
  let n = 0;
  while (hdrNext(h, lc, split, smp)) n++;
  return n;
}

/** Sets the sample to occurrence `occ` (1 = first, -1 = last) of header `lc`. */
export function hdrOcc(h: HttpHead, lc: Buffer | null, split: boolean, occ: number, smp: Sample): boolean {
  let want = occ;
  if (occ < 0) {
    want = hdrCount(h, lc, split, smp) + occ + 1;
    if (want < 1) return false;
  }
  hdrStart(smp);
  for (let n = 1; hdrNext(h, lc, split, smp); n++) if (n === want) return true;
  return false;
}

/** Starts a walk over the cookies of a head's Cookie (or Set-Cookie) lines. */
export function cookStart(smp: Sample): void {
  hdrStart(smp);
  smp.p = -1;
}

/**
 * Next cookie named `name` (empty: any) on the `header` lines, as haproxy's smp_fetch_cookie walks
 * them: each comma-separated value at least as long as the name and '=', then its cookies one by
 * one (extractCookie); the sample gets the cookie's value. `list`: the value is a list of cookies
 * (a request's), rather than one cookie and its attributes (a response's Set-Cookie).
 */
export function cookNext(h: HttpHead, header: Buffer, name: Buffer, list: boolean, smp: Sample): boolean {
  for (;;) {
    if (smp.p < 0) {
      if (!hdrNext(h, header, true, smp)) return false;
      if (smp.be - smp.bs < name.length + 1) continue;
      smp.p = smp.bs;
      smp.pe = smp.be;
    }
    const b = h.buf;
    smp.p = extractCookie(b, smp.p, smp.pe, name, list);
    if (smp.p >= 0) {
      smp.setBytes(b, cookieStart, cookieEnd);
      return true;
    }
  }
}

/** The value of the last cookie extractCookie found: buf[cookieStart, cookieEnd). */
let cookieStart = 0;
let cookieEnd = 0;

/**
 * The next cookie named `name` (empty: any) in b[from, end), as haproxy's http_extract_cookie_value
 * finds it: sets cookieStart and cookieEnd to its value and returns where to look on from, or -1.
 * A value may be quoted; names starting with '$' and words without '=' are passed over; no cookie
 * is looked for in fewer than the name's length and two bytes. When the value is not a list, only
 * cookies before the first one of another name count.
 */
function extractCookie(b: Buffer, from: number, end: number, name: Buffer, list: boolean): number {
  const nl = name.length;
  for (let att = from; att + nl + 1 < end;) {
    let s = att;
    while (s < end && isBlank(b[s])) s++;
    let eq = s;
    let nameEnd = s;
    for (; eq < end; eq++) {
      const c = b[eq]!;
      if (c === 61 || c === 59 || (list && c === COMMA)) break;
      if (!isBlank(c)) nameEnd = eq + 1;
    }
    let next = eq;
    let vs = eq;
    let ve = eq;
    if (eq < end && b[eq] === 61) {
      vs = eq + 1;
      while (vs < end && isBlank(b[vs])) vs++;
      next = elementEnd(b, vs, end, 59);
      ve = next;
      while (ve > vs && isBlank(b[ve - 1])) ve--;
    }
    att = next + 1;
    if ((s < end && b[s] === 36) || eq === next) continue;
    if (nl === 0 || (nameEnd - s === nl && b.compare(name, 0, nl, s, nameEnd) === 0)) {
      cookieStart = vs;
      cookieEnd = ve;
      return next + 1;
    }
    if (!list) break;
  }
  return -1;
}
