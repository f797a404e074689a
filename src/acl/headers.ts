// Header and cookie walks over a parsed head's bytes, in place: names are compared byte by byte and
// values are handed out as byte ranges. The cursor lives in the Sample (i: line, j: position).
import type { HttpHead } from "../http/message.js";
import { elementEnd, isBlank } from "../http/chars.js";
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

/** Next value of header `lc`; `split` cuts values at commas (hdr) or not (fhdr). */
export function hdrNext(h: HttpHead, lc: Buffer | null, split: boolean, smp: Sample): boolean {
  const b = h.buf;
  if (smp.j < 0) {
    let i = smp.i + 1;
    while (i < h.count && ((lc !== null && !nameIs(h, i, lc)) || h.repeats?.includes(i))) i++;
    if (i >= h.count) return false;
    smp.i = i;
    smp.j = h.hdr[i * 4 + 2]!;
  }
  const ve = h.hdr[smp.i * 4 + 3]!;
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

const COOKIE = Buffer.from("cookie");

/** Starts a walk over the request's cookies. */
export function cookStart(smp: Sample): void {
  smp.i = -1;
  smp.j = -1;
}

/**
 * Next cookie named `name` (empty: any) on the Cookie lines; the sample gets its value. Cookies are
 * separated by ';' or ',' (haproxy accepts both), and a cookie without '=' is skipped.
 */
export function cookNext(h: HttpHead, name: Buffer, smp: Sample): boolean {
  const b = h.buf;
  for (;;) {
    if (smp.j < 0) {
      let i = smp.i + 1;
      while (i < h.count && !nameIs(h, i, COOKIE)) i++;
      if (i >= h.count) return false;
      smp.i = i;
      smp.j = h.hdr[i * 4 + 2]!;
    }
    const ve = h.hdr[smp.i * 4 + 3]!;
    let s = smp.j;
    let e = s;
    while (e < ve && b[e] !== 59 && b[e] !== 44) e++;
    smp.j = e < ve ? e + 1 : -1;
    while (s < e && isBlank(b[s]!)) s++;
    let eq = s;
    while (eq < e && b[eq] !== 61) eq++;
    if (eq === e) continue;
    let ne = eq;
    while (ne > s && isBlank(b[ne - 1]!)) ne--;
    if (name.length > 0) {
      if (ne - s !== name.length || b.compare(name, 0, name.length, s, ne) !== 0) continue;
    }
    let vs = eq + 1;
    while (vs < e && isBlank(b[vs]!)) vs++;
    while (e > vs && isBlank(b[e - 1]!)) e--;
    smp.setBytes(b, vs, e);
    return true;
  }
}
