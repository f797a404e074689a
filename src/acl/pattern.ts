// Pattern parsing: the words after an ACL's fetch and flags, turned into a Matcher.
import { readFileSync } from "node:fs";
import { ConfigError } from "../config/errors.js";
import type { Where } from "../config/model.js";
import type { MatchName } from "./fetch.js";
import { parseIpv4, parseIpv6 } from "./ip.js";
import {
  BOOL,
  FOUND,
  BinMatcher,
  ExactMatcher,
  IntMatcher,
  IpMatcher,
  MethMatcher,
  PrefixMatcher,
  RegMatcher,
  StrMatcher,
  WordMatcher,
  type IdPattern,
  type IpPat,
  type Matcher,
  type Range,
} from "./match.js";

export const MATCH_NAMES: readonly MatchName[] = [
  "found",
  "bool",
  "int",
  "ip",
  "bin",
  "len",
  "str",
  "beg",
  "sub",
  "dir",
  "dom",
  "end",
  "reg",
];

const OPS = new Set(["eq", "ge", "gt", "le", "lt"]);
const NUM = /^\d+$/;

/**
 * The lines of a pattern or map file as haproxy reads them: a `#` in the first column makes a
 * comment, leading blanks go, empty lines are skipped; each with its line number. Undefined when
 * the file cannot be read.
 */
export function patternFileLines(path: string): { text: string; line: number }[] | undefined {
  let raw: string;
  try {
    raw = readFileSync(path, "latin1");
  } catch {
    return undefined;
  }
  const out: { text: string; line: number }[] = [];
  raw.split("\n").forEach((l, i) => {
    if (l.startsWith("#")) return;
    const text = l.replace(/\r.*$/, "").replace(/^[ \t]+/, "");
    if (text !== "") out.push({ text, line: i + 1 });
  });
  return out;
}

/** One integer pattern: "n", "a:b", "a:", ":b" ('-' works as the separator too, as in haproxy). */
export function parseRange(text: string, where: Where): Range {
  const sep = text.search(/[:-]/);
  if (sep < 0) {
    if (!NUM.test(text)) throw new ConfigError(`'${text}' is not a number.`, where);
    const v = parseInt(text, 10);
    return { min: v, max: v };
  }
  const bad = (): never => {
    throw new ConfigError(`'${text}' is not a valid number range.`, where);
  };
  const lo = text.slice(0, sep);
  const hi = text.slice(sep + 1);
  if (lo === "" && hi === "") return bad();
  if ((lo !== "" && !NUM.test(lo)) || (hi !== "" && !NUM.test(hi))) return bad();
  const r = { min: lo === "" ? -Infinity : parseInt(lo, 10), max: hi === "" ? Infinity : parseInt(hi, 10) };
  if (r.min > r.max) bad();
  return r;
}

/**
 * Integer patterns with haproxy's operators: `eq|ge|gt|le|lt` apply to the plain numbers that follow
 * them (until the next operator); a word holding ':' or '-' is always a range, so `lt -3` means "<= 3".
 */
export function parseInts(words: string[], where: Where): Range[] {
  let op = "eq";
  const out: Range[] = [];
  for (const w of words) {
    if (OPS.has(w)) {
      op = w;
      continue;
    }
    if (op === "eq" || /[:-]/.test(w)) {
      out.push(parseRange(w, where));
      continue;
    }
    if (!NUM.test(w)) throw new ConfigError(`'${w}' is neither a number nor a supported operator.`, where);
    const v = parseInt(w, 10);
    if (op === "ge") out.push({ min: v, max: Infinity });
    else if (op === "gt") out.push({ min: v + 1, max: Infinity });
    else if (op === "le") out.push({ min: -Infinity, max: v });
    else out.push({ min: -Infinity, max: v - 1 });
  }
  return out;
}

/** An address or network: a.b.c.d[/len|/mask] (inet_aton forms) or an IPv6 one [/len]. */
export function parseIpPattern(text: string, noDns: boolean, where: Where): IpPat {
  const bad = (): never => {
    throw new ConfigError(`'${text}' is not a valid IPv4 or IPv6 address.`, where);
  };
  const slash = text.indexOf("/");
  let host = slash < 0 ? text : text.slice(0, slash);
  const len = slash < 0 ? undefined : text.slice(slash + 1);
  const addr = new Uint8Array(16);
  const mask = new Uint8Array(16);
  if (!noDns && host === "localhost") host = "127.0.0.1";
  if (!host.includes(":") && parseIpv4(host, addr)) {
    if (len === undefined) mask.fill(255, 0, 4);
    else if (/^\d+$/.test(len)) {
      const n = parseInt(len, 10);
      if (n > 32) bad();
      prefixMask(mask, n);
    } else if (!parseIpv4(len, mask)) bad();
    return { v4: true, addr, mask };
  }
  if (parseIpv6(host, addr)) {
    let n = 128;
    if (len !== undefined) {
      if (!/^\d+$/.test(len)) bad();
      n = parseInt(len, 10);
      if (n > 128) bad();
    }
    prefixMask(mask, n);
    return { v4: false, addr, mask };
  }
  // haproxy would resolve a host name here; Sluice does not query DNS while parsing.
  return bad();
}

function prefixMask(mask: Uint8Array, n: number): void {
  for (let k = 0; k < 16; k++) {
    const bits = Math.max(0, Math.min(8, n - k * 8));
    mask[k] = bits === 0 ? 0 : (0xff << (8 - bits)) & 0xff;
  }
}

/** What haproxy finds wrong with a string of hex digits, without the final dot; undefined if nothing. */
export function hexProblem(hex: string): string | undefined {
  if (hex.length % 2 !== 0) return "an even number of hex digit is expected";
  const bad = /[^0-9a-fA-F]/.exec(hex);
  return bad ? `an hex digit is expected (found '${bad[0]}')` : undefined;
}

/** A `-m bin` pattern: its bytes as a latin1 string, or haproxy's refusal. */
function hexBytes(hex: string, where: Where): string {
  const problem = hexProblem(hex);
  if (problem) throw new ConfigError(`${problem}.`, where);
  return Buffer.from(hex, "hex").toString("latin1");
}

/** A regex pattern, or haproxy's refusal of it. */
export function regexOf(p: string, icase: boolean, where: Where): RegExp {
  try {
    return new RegExp(p, icase ? "i" : "");
  } catch (e) {
    const why = (e as Error).message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /, "");
    throw new ConfigError(`regex '${p}' is invalid (error=${why}).`, where);
  }
}

/** Past this many patterns, exact strings and prefixes are indexed rather than compared in turn. */
const SMALL = 8;

/** Builds the matcher for method `how` over patterns `ids` (each with its identity). */
export function buildMatcher(
  how: MatchName,
  ids: readonly IdPattern[],
  icase: boolean,
  noDns: boolean,
  where: Where,
): Matcher {
  const pats = ids.map((p) => p.text);
  switch (how) {
    case "found":
      return FOUND;
    case "bool":
      return BOOL;
    case "int":
      return new IntMatcher(parseInts(pats, where), false);
    case "len":
      return new IntMatcher(parseInts(pats, where), true);
    case "ip":
      return new IpMatcher(ids, (p) => parseIpPattern(p, noDns, where));
    case "bin":
      // Hexadecimal patterns, compared byte for byte with the sample.
      return new BinMatcher(pats.map((p) => hexBytes(p, where)));
    case "str":
      return pats.length > SMALL ? new ExactMatcher(ids, icase) : new StrMatcher(how, pats, icase);
    case "beg":
      // haproxy keeps case-sensitive prefixes in a tree, and the others in a list.
      return pats.length > SMALL && !icase ? new PrefixMatcher(ids) : new StrMatcher(how, pats, icase);
    case "end":
    case "sub":
      return new StrMatcher(how, pats, icase);
    case "dom":
    case "dir":
      return new WordMatcher(how === "dom", pats, icase);
    case "reg":
      return new RegMatcher(pats.map((p) => regexOf(p, icase, where)));
    case "meth":
      return new MethMatcher(pats, icase);
  }
}
