// Matchers: one compiled pattern list and its method (-m str, beg, ..., ip, int). Patterns are
// prepared once (lower-cased for -i, Sets for exact strings, RegExp built once); matching a sample
// compares header bytes in place where the method allows it.
import { parseIpv4Prefix, parseIpv6, v6ToV4 } from "./ip.js";
import { Sample, T, binaryOf } from "./sample.js";
import type { MatchName } from "./fetch.js";

export interface Matcher {
  match(smp: Sample): boolean;
}

export const FOUND: Matcher = { match: () => true };

export const BOOL: Matcher = {
  match(smp) {
    const v = smp.getInt();
    return v !== undefined && v !== 0;
  },
};

/** An integer range; absent bounds are infinite. */
export interface Range {
  min: number;
  max: number;
}

export class IntMatcher implements Matcher {
  constructor(
    private readonly ranges: Range[],
    private readonly len: boolean,
  ) {}
  match(smp: Sample): boolean {
    const v = this.len ? smp.strLen() : smp.getInt();
    if (v === undefined) return false;
    for (const r of this.ranges) if (v >= r.min && v <= r.max) return true;
    return false;
  }
}

const lowerByte = (c: number): number => (c >= 65 && c <= 90 ? c + 32 : c);

/** Compares b[s..s+p.length) with p (already lower-cased when icase). */
function bytesAt(b: Buffer, s: number, p: Buffer, icase: boolean): boolean {
  if (!icase) return b.compare(p, 0, p.length, s, s + p.length) === 0;
  for (let k = 0; k < p.length; k++) if (lowerByte(b[s + k]!) !== p[k]) return false;
  return true;
}

function charsAt(str: string, s: number, p: string, icase: boolean): boolean {
  if (!icase) return str.startsWith(p, s);
  for (let k = 0; k < p.length; k++) if (lowerByte(str.charCodeAt(s + k)) !== p.charCodeAt(k)) return false;
  return true;
}

const SMALL = 8;

/** str, beg, end, sub: in place on bytes, or on the string form. */
export class StrMatcher implements Matcher {
  private readonly bufs: Buffer[];
  private readonly set: Set<string> | undefined;
  constructor(
    private readonly how: "str" | "beg" | "end" | "sub",
    private readonly pats: string[],
    private readonly icase: boolean,
  ) {
    if (icase) this.pats = pats.map(lowerAscii);
    this.bufs = this.pats.map((p) => Buffer.from(p, "latin1"));
    this.set = how === "str" && pats.length > SMALL ? new Set(this.pats) : undefined;
  }

  match(smp: Sample): boolean {
    if (this.set !== undefined) {
      const s = smp.getStr();
      return this.set.has(this.icase ? lowerAscii(s) : s);
    }
    if (smp.str === undefined && smp.buf !== undefined && smp.type !== T.Bin)
      return this.matchBytes(smp.buf, smp.bs, smp.be);
    return this.matchStr(smp.getStr());
  }

  private matchBytes(b: Buffer, s: number, e: number): boolean {
    const n = e - s;
    const icase = this.icase;
    for (const p of this.bufs) {
      const l = p.length;
      switch (this.how) {
        case "str":
          if (l === n && bytesAt(b, s, p, icase)) return true;
          break;
        case "beg":
          if (l <= n && bytesAt(b, s, p, icase)) return true;
          break;
        case "end":
          if (l <= n && bytesAt(b, e - l, p, icase)) return true;
          break;
        case "sub":
          if (!icase) {
            if (b.subarray(s, e).indexOf(p) >= 0) return true;
          } else for (let k = s; k + l <= e; k++) if (bytesAt(b, k, p, true)) return true;
          break;
      }
    }
    return false;
  }

  private matchStr(str: string): boolean {
    const n = str.length;
    const icase = this.icase;
    for (const p of this.pats) {
      const l = p.length;
      switch (this.how) {
        case "str":
          if (l === n && charsAt(str, 0, p, icase)) return true;
          break;
        case "beg":
          if (l <= n && charsAt(str, 0, p, icase)) return true;
          break;
        case "end":
          if (l <= n && charsAt(str, n - l, p, icase)) return true;
          break;
        case "sub":
          if (!icase) {
            if (str.includes(p)) return true;
          } else for (let k = 0; k + l <= n; k++) if (charsAt(str, k, p, true)) return true;
          break;
      }
    }
    return false;
  }
}

export const lowerAscii = (s: string): string => s.replace(/[A-Z]+/g, (m) => m.toLowerCase());

/**
 * dom and dir: the pattern must appear as whole words, bounded by delimiters or the ends of the
 * sample ('/', '?', '.', ':' for dom; '/', '?' for dir). Delimiters around the pattern are ignored.
 */
export class WordMatcher implements Matcher {
  private readonly pats: string[];
  private readonly delim: (c: number) => boolean;
  constructor(dom: boolean, pats: string[], icase: boolean) {
    this.delim = dom ? (c) => c === 47 || c === 63 || c === 46 || c === 58 : (c) => c === 47 || c === 63;
    this.pats = pats.map((p) => {
      let s = 0;
      let e = p.length;
      while (s < e && this.delim(p.charCodeAt(s))) s++;
      while (e > s && this.delim(p.charCodeAt(e - 1))) e--;
      const w = p.slice(s, e);
      return icase ? lowerAscii(w) : w;
    });
    this.icase = icase;
  }
  private readonly icase: boolean;

  match(smp: Sample): boolean {
    const str = smp.getStr();
    for (const p of this.pats) if (p.length > 0 && this.word(str, p)) return true;
    return false;
  }

  private word(str: string, p: string): boolean {
    const last = str.length - p.length;
    let atStart = true;
    for (let k = 0; k <= last; k++) {
      if (this.delim(str.charCodeAt(k))) {
        atStart = true;
        continue;
      }
      if (!atStart) continue;
      atStart = false;
      if (charsAt(str, k, p, this.icase) && (k === last || this.delim(str.charCodeAt(k + p.length))))
        return true;
    }
    return false;
  }
}

/** -m bin: every byte of the sample (an integer's 8, big-endian), NULs too, against the patterns'. */
export class BinMatcher implements Matcher {
  private readonly pats: Set<string>;
  constructor(pats: string[]) {
    this.pats = new Set(pats);
  }
  match(smp: Sample): boolean {
    return this.pats.has(binaryOf(smp));
  }
}

export class RegMatcher implements Matcher {
  constructor(private readonly res: RegExp[]) {}
  match(smp: Sample): boolean {
    const s = smp.getStr();
    for (const re of this.res) if (re.test(s)) return true;
    return false;
  }
}

/** An address pattern: 16 bytes and a 16-byte mask; v4 ones use the first 4 bytes. */
export interface IpPat {
  v4: boolean;
  addr: Uint8Array;
  mask: Uint8Array;
}

export class IpMatcher implements Matcher {
  private readonly v4: IpPat[];
  private readonly v6: IpPat[];
  private last: string | undefined = undefined;
  private lastKind = 0; // 0: not an address, 4, 6
  private readonly a4 = new Uint8Array(4);
  private readonly a6 = new Uint8Array(16);
  private readonly alt = new Uint8Array(16);

  constructor(pats: IpPat[]) {
    this.v4 = pats.filter((p) => p.v4);
    this.v6 = pats.filter((p) => !p.v4);
  }

  match(smp: Sample): boolean {
    if (smp.type === T.Int || smp.type === T.Bool) {
      const n = smp.num >>> 0;
      this.a4[0] = n >>> 24;
      this.a4[1] = (n >>> 16) & 255;
      this.a4[2] = (n >>> 8) & 255;
      this.a4[3] = n & 255;
      this.last = undefined;
      return this.match4(this.a4);
    }
    const s = smp.getStr();
    if (s !== this.last) {
      this.last = s;
      // haproxy's cast: a leading IPv4 address (what follows it is ignored), else a whole IPv6 one.
      this.lastKind = parseIpv4Prefix(s, this.a4) > 0 ? 4 : parseIpv6(s, this.a6) ? 6 : 0;
    }
    if (this.lastKind === 4) return this.match4(this.a4);
    if (this.lastKind === 6) return this.match6(this.a6);
    return false;
  }

  private match4(a: Uint8Array): boolean {
    if (test(this.v4, a, 4)) return true;
    if (this.v6.length === 0) return false;
    const m = this.alt;
    m.fill(0, 0, 10);
    m[10] = 0xff;
    m[11] = 0xff;
    m.set(a, 12);
    return test(this.v6, m, 16);
  }

  private match6(a: Uint8Array): boolean {
    if (test(this.v6, a, 16)) return true;
    return this.v4.length > 0 && v6ToV4(a, this.alt) && test(this.v4, this.alt, 4);
  }
}

function test(pats: IpPat[], a: Uint8Array, n: number): boolean {
  outer: for (const p of pats) {
    for (let k = 0; k < n; k++) if ((a[k]! & p.mask[k]!) !== (p.addr[k]! & p.mask[k]!)) continue outer;
    return true;
  }
  return false;
}

const KNOWN_METHODS = new Set(["OPTIONS", "GET", "HEAD", "POST", "PUT", "DELETE", "TRACE", "CONNECT"]);

/**
 * haproxy's method match: a pattern naming a known method (exact case) matches that method only;
 * other patterns are compared as strings (with -i, case-insensitively) to methods it does not know.
 * So `method -i get` does not match GET (checked against haproxy 2.6).
 */
export class MethMatcher implements Matcher {
  private readonly known: Set<string>;
  private readonly other: StrMatcher;
  constructor(pats: string[], icase: boolean) {
    this.known = new Set(pats.filter((p) => KNOWN_METHODS.has(p)));
    this.other = new StrMatcher(
      "str",
      pats.filter((p) => !KNOWN_METHODS.has(p)),
      icase,
    );
  }
  match(smp: Sample): boolean {
    const m = smp.getStr();
    if (KNOWN_METHODS.has(m)) return this.known.has(m);
    return this.other.match(smp);
  }
}

export type { MatchName };
