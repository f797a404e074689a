// Matchers: one compiled pattern list and its method (-m str, beg, ..., ip, int). Patterns are
// prepared once (lower-cased for -i, indexed for exact strings, prefixes and addresses, RegExp built
// once); matching a sample compares header bytes in place where the method allows it.
import { IpIndex, ipv4Number } from "./ip-index.js";
import { parseIpv4Prefix, parseIpv6 } from "./ip.js";
import { ExactIndex, PrefixIndex, type PatternIndex } from "./pattern-index.js";
import { Sample, T, binaryOf } from "./sample.js";
import type { MatchName } from "./fetch.js";

export interface Matcher {
  match(smp: Sample): boolean;
}

/** A matcher whose patterns are indexed: add-acl and del-acl change them in place. */
export interface IndexedMatcher extends Matcher {
  readonly index: PatternIndex<unknown, true>;
}

export const isIndexed = (m: Matcher): m is IndexedMatcher => "index" in m;

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

/** end, sub, and str or beg of a few patterns: in place on bytes, or on the string form. */
export class StrMatcher implements Matcher {
  private readonly bufs: Buffer[];
  constructor(
    private readonly how: "str" | "beg" | "end" | "sub",
    private readonly pats: string[],
    private readonly icase: boolean,
  ) {
    if (icase) this.pats = pats.map(lowerAscii);
    this.bufs = this.pats.map((p) => Buffer.from(p, "latin1"));
  }

  match(smp: Sample): boolean {
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

/** A pattern and who it is: an entry's id, or one of its own for a pattern written on the ACL's line. */
export interface IdPattern {
  id: number;
  text: string;
}

function fill<P>(index: PatternIndex<P, true>, pats: readonly IdPattern[]): void {
  for (const p of pats) index.add(index.keyOf(p.text), p.id, true);
}

/** Exact strings (-m str, many of them). */
export class ExactMatcher implements IndexedMatcher {
  readonly index: ExactIndex<true>;
  constructor(pats: readonly IdPattern[], icase: boolean) {
    this.index = new ExactIndex(icase ? lowerAscii : undefined);
    fill(this.index, pats);
  }
  match(smp: Sample): boolean {
    return this.index.find(smp.getStr()) !== undefined;
  }
}

/** Prefixes (-m beg, many of them, case sensitive). */
export class PrefixMatcher implements IndexedMatcher {
  readonly index = new PrefixIndex<true>();
  constructor(pats: readonly IdPattern[]) {
    fill(this.index, pats);
  }
  match(smp: Sample): boolean {
    return this.index.find(smp.getStr()) !== undefined;
  }
}

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

/** Addresses and networks (-m ip), as haproxy indexes them (see ip-index.ts). */
export class IpMatcher implements IndexedMatcher {
  readonly index: IpIndex<true>;
  private last: string | undefined = undefined;
  private lastKind = 0; // 0: not an address, 4, 6
  private readonly a4 = new Uint8Array(4);
  private readonly a6 = new Uint8Array(16);

  constructor(pats: readonly IdPattern[], parse: (text: string) => IpPat) {
    this.index = new IpIndex(parse);
    fill(this.index, pats);
  }

  match(smp: Sample): boolean {
    if (smp.type === T.Int || smp.type === T.Bool) {
      this.last = undefined;
      return this.index.find4(smp.num >>> 0) !== undefined;
    }
    const s = smp.getStr();
    if (s !== this.last) {
      this.last = s;
      // haproxy's cast: a leading IPv4 address (what follows it is ignored), else a whole IPv6 one.
      this.lastKind = parseIpv4Prefix(s, this.a4) > 0 ? 4 : parseIpv6(s, this.a6) ? 6 : 0;
    }
    if (this.lastKind === 4) return this.index.find4(ipv4Number(this.a4)) !== undefined;
    return this.lastKind === 6 && this.index.find6(this.a6) !== undefined;
  }
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
