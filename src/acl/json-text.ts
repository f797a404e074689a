// JSON as haproxy reads and writes it: the json converter's escaping (its UTF-8 decoder's rules) and
// json_query's path lookup, mjson's as haproxy embeds it, quirks included.
import type { Arg } from "./args.js";
import { Sample, T, TRASH_SIZE } from "./sample.js";

const str = (s: Sample, v: string): boolean => (s.setStr(v), true);

// json: a text escaped for a JSON string

export const JSON_CODES = ["ascii", "utf8", "utf8s", "utf8p", "utf8ps"];
const BADSEQ = 0x40;
const INVRANGE = 0x20;
const OVERLONG = 0x10;

/** haproxy's utf8_next: the code point at i, the bytes it took and its error flags. */
function utf8Next(s: string, i: number): [number, number, number] {
  const b = s.charCodeAt(i);
  const len = s.length - i;
  let dec: number;
  let c: number;
  if (b < 0x80) return [b, 1, 0];
  if (b < 0xc0 || b >= 0xfe) return [b, 1, BADSEQ];
  if (b < 0xe0) [c, dec] = [b & 0x1f, 1];
  else if (b < 0xf0) [c, dec] = [b & 0x0f, 2];
  else if (b < 0xf8) [c, dec] = [b & 0x07, 3];
  else if (b < 0xfc) [c, dec] = [b & 0x03, 4];
  else [c, dec] = [b & 0x01, 5];
  if (len < dec + 1) return [b, 1, BADSEQ];
  let p = 1;
  for (; dec > 0; dec--, p++) {
    const n = s.charCodeAt(i + p);
    if ((n & 0xc0) !== 0x80) return [c, p, BADSEQ];
    c = c * 64 + (n & 0x3f);
  }
  let code = 0;
  if ((c <= 0x7f && p > 1) || (c >= 0x80 && c <= 0x7ff && p > 2) || (c >= 0x800 && c <= 0xffff && p > 3))
    code |= OVERLONG;
  if (c >= 0x10000 && c <= 0x1fffff && p > 4) code |= OVERLONG;
  if ((c >= 0xd800 && c <= 0xdfff) || (c >= 0xfffe && c <= 0xffff)) code |= INVRANGE;
  return [c, p, code];
}

const JSON_ESCAPES: Record<number, string> = {
  34: '\\"',
  92: "\\\\",
  47: "\\/",
  8: "\\b",
  12: "\\f",
  13: "\\r",
  10: "\\n",
  9: "\\t",
};

/** json: the escaped text, or undefined when the decoder refuses the input or the result is too long. */
export function jsonEscape(s: string, code: number): string | undefined {
  let out = "";
  for (let i = 0; i < s.length;) {
    let c: number;
    if (code === 0) c = s.charCodeAt(i++);
    else {
      const [cp, n, err] = utf8Next(s, i);
      i += n;
      c = cp;
      const strict = code === 1 || code === 3;
      // utf8 refuses any error, utf8p all but overlong ones; the s variants drop them instead.
      const fatal = code === 1 || code === 2 ? err !== 0 : (err & (INVRANGE | BADSEQ)) !== 0;
      if (fatal) {
        if (strict) return undefined;
        continue;
      }
      if (c > 0xffff) {
        if (strict) return undefined;
        continue;
      }
    }
    const esc = JSON_ESCAPES[c];
    if (esc !== undefined) out += esc;
    else if (c > 0xff || c < 0x20 || c > 0x7e) out += "\\u" + c.toString(16).padStart(4, "0");
    else out += String.fromCharCode(c);
    if (out.length > TRASH_SIZE) return undefined;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// json_query: mjson's path lookup, as haproxy embeds it

const TOK_INVALID = 0;
const TOK_KEY = 1;
const TOK_STRING = 11;
const TOK_NUMBER = 12;
const TOK_TRUE = 13;
const TOK_FALSE = 14;
const TOK_NULL = 15;
const MAX_DEPTH = 20;

export const isDigit = (c: number): boolean => c >= 48 && c <= 57;

/** mjson's strtod: its own digit loops (not correctly rounded), and where it stops. */
function mystrtod(s: string, at: number): [number, number] {
  const ch = (k: number): number => (k < s.length ? s.charCodeAt(k) : 0);
  let d = 0;
  let sign = 1;
  let p = at;
  let a = at;
  if (ch(p) === 45) {
    sign = -1;
    p++;
  } else if (ch(p) === 43) p++;
  if (isDigit(ch(p))) {
    d = ch(p++) - 48;
    while (isDigit(ch(p))) d = d * 10 + (ch(p++) - 48);
    a = p;
  } else if (ch(p) !== 46) return [d, a];
  d *= sign;
  if (ch(p) === 46) {
    let f = 0;
    let base = 0.1;
    p++;
    while (isDigit(ch(p))) {
      f += base * (ch(p++) - 48);
      base /= 10;
    }
    d += f * sign;
    a = p;
  }
  if (ch(p) === 69 || ch(p) === 101) {
    let e = 0;
    p++;
    const neg = ch(p) === 45;
    if (neg) p++;
    if (ch(p) === 43) p++;
    while (isDigit(ch(p))) e = e * 10 + ch(p++) - 48;
    if (neg) e = -e;
    for (let k = 0; k < e; k++) d *= 10;
    for (let k = 0; k < -e; k++) d /= 10;
    a = p;
  } else if (p > at && !isDigit(ch(p - 1))) a = at;
  return [d, a];
}

const ESC_RAW = '\b\f\n\r\t\\"';
const ESC_NAME = 'bfnrt\\"';

/** Where a string's closing quote is (from after the opening one), or -1. */
function passString(s: string, from: number): number {
  for (let i = from; i < s.length; i++) {
    const c = s[i]!;
    if (c === "\\" && i + 1 < s.length && ESC_RAW.includes(s[i + 1]!)) i++;
    else if (c === "\0") return -1;
    else if (c === '"') return i - from;
  }
  return -1;
}

/** mjson's walk state for one path (msjon_get_data). */
interface Walk {
  path: string;
  pos: number;
  d1: number;
  d2: number;
  i1: number;
  i2: number;
  obj: number;
  tok: number;
  off: number;
  len: number;
}

/** A path's character, NUL past its end as in C. */
const pc = (w: Walk, k: number): string => w.path[k] ?? "\0";

/** The key length a path element names (escapes counting one), and the characters it spans. */
function pathElement(path: string, at: number): [number, number] {
  let i = at;
  let n = 0;
  while (i < path.length && path[i] !== "." && path[i] !== "[") {
    n++;
    i += path[i] === "\\" ? 2 : 1;
  }
  return [n, i - at];
}

function keyEquals(s: string, at: number, path: string, pat: number, n: number): boolean {
  for (let i = 0, j = 0; j < n; i++, j++) {
    if (path[pat + i] === "\\") i++;
    if (s[at + j] !== (path[pat + i] ?? "\0")) return false;
  }
  return true;
}

/** mjson_get_cb: true once the walk is over (found, or the path cannot match any more). */
function onToken(w: Walk, tok: number, s: string, off: number, len: number): boolean {
  if (w.tok !== TOK_INVALID) return true;
  const c = pc(w, w.pos);
  if (tok === 123) {
    if (c === "\0" && w.d1 === w.d2) w.obj = off;
    w.d1++;
  } else if (tok === 91) {
    if (w.d1 === w.d2 && c === "[") {
      w.i1 = 0;
      w.i2 = Math.trunc(mystrtod(w.path, w.pos + 1)[0]);
      if (w.i1 === w.i2) {
        w.d2++;
        w.pos += 3;
      }
    }
    if (pc(w, w.pos) === "\0" && w.d1 === w.d2) w.obj = off;
    w.d1++;
  } else if (tok === 44) {
    if (w.d1 === w.d2 + 1) {
      w.i1++;
      if (w.i1 === w.i2) {
        while (pc(w, w.pos) !== "]") w.pos++;
        w.pos++;
        w.d2++;
      }
    }
  } else if (tok === TOK_KEY && w.d1 === w.d2 + 1 && c === "." && keyMatches(w, s, off, len)) {
    w.d2++;
    w.pos += pathElement(w.path, w.pos + 1)[1] + 1;
  } else if (tok === TOK_KEY && w.d1 === w.d2) {
    return true;
  } else if (tok === 125 || tok === 93) {
    w.d1--;
    if (c === "\0" && w.d1 === w.d2 && w.obj !== -1) {
      w.tok = tok - 2;
      [w.off, w.len] = [w.obj, off - w.obj + 1];
      return true;
    }
  } else if (tok > 10 && tok < 20 && w.d1 === w.d2 && c === "\0") {
    [w.tok, w.off, w.len] = [tok, off, len];
    return true;
  }
  return false;
}

function keyMatches(w: Walk, s: string, off: number, len: number): boolean {
  return (
    s[off] === '"' &&
    s[off + len - 1] === '"' &&
    pathElement(w.path, w.pos + 1)[0] === len - 2 &&
    keyEquals(s, off + 1, w.path, w.pos + 1, len - 2)
  );
}

/** mjson's tokenizer feeding the walk; false on invalid JSON met before the walk ended. */
function mjsonScan(s: string, w: Walk): boolean {
  const nesting: number[] = [];
  let expecting: "value" | "key" | "colon" | "comma" = "value";
  for (let i = 0; i < s.length; i++) {
    const start = i;
    const c = s.charCodeAt(i);
    let tok = c;
    if (c === 32 || c === 9 || c === 10 || c === 13) continue;
    // The end of an object or array: at depth 0 the document is over.
    const closes = (): boolean | undefined => {
      if (c !== nesting[nesting.length - 1]! + 2) return false;
      nesting.pop();
      if (nesting.length === 0) {
        onToken(w, tok, s, start, i - start + 1);
        return true;
      }
      return undefined;
    };
    switch (expecting) {
      case "value":
        if (c === 123 || c === 91) {
          if (nesting.length >= MAX_DEPTH) return false;
          nesting.push(c);
          if (c === 123) expecting = "key";
          break;
        }
        if (c === 93 && nesting.length > 0) {
          const r = closes();
          if (r !== undefined) return r;
        } else if (c === 116 && i + 3 < s.length && s.startsWith("true", i)) {
          i += 3;
          tok = TOK_TRUE;
        } else if (c === 110 && i + 3 < s.length && s.startsWith("null", i)) {
          i += 3;
          tok = TOK_NULL;
        } else if (c === 102 && i + 4 < s.length && s.startsWith("false", i)) {
          i += 4;
          tok = TOK_FALSE;
        } else if (c === 45 || isDigit(c)) {
          i += mystrtod(s, i)[1] - i - 1;
          tok = TOK_NUMBER;
        } else if (c === 34) {
          const n = passString(s, i + 1);
          if (n < 0) return false;
          i += n + 1;
          tok = TOK_STRING;
        } else return false;
        if (nesting.length === 0) {
          onToken(w, tok, s, start, i - start + 1);
          return true;
        }
        expecting = "comma";
        break;
      case "key":
        if (c === 34) {
          const n = passString(s, i + 1);
          if (n < 0) return false;
          i += n + 1;
          tok = TOK_KEY;
          expecting = "colon";
        } else if (c === 125) {
          const r = closes();
          if (r !== undefined) return r;
          expecting = "comma";
        } else return false;
        break;
      case "colon":
        if (c !== 58) return false;
        expecting = "value";
        break;
      case "comma":
        if (nesting.length === 0) return false;
        if (c === 44) expecting = nesting[nesting.length - 1] === 123 ? "key" : "value";
        else if (c === 93 || c === 125) {
          const r = closes();
          if (r !== undefined) return r;
        } else return false;
        break;
    }
    if (onToken(w, tok, s, start, i - start + 1)) return true;
  }
  return false;
}

/** mjson_find: the token the path names, its type, offset and length. */
function mjsonFind(s: string, path: string): Walk {
  const w: Walk = { path, pos: 1, d1: 0, d2: 0, i1: 0, i2: 0, obj: -1, tok: TOK_INVALID, off: 0, len: 0 };
  if (path[0] !== "$" || !mjsonScan(s, w)) w.tok = TOK_INVALID;
  return w;
}

/** mjson's unescaping: \u00XX only (one byte), the short escapes but not \/; undefined otherwise. */
function mjsonUnescape(s: string): string | undefined {
  let out = "";
  for (let i = 0; i < s.length; i++) {
    if (s[i] === "\\" && i + 5 < s.length && s[i + 1] === "u") {
      if (s[i + 2] !== "0" || s[i + 3] !== "0") return undefined;
      out += String.fromCharCode((nibble(s.charCodeAt(i + 4)) * 16 + nibble(s.charCodeAt(i + 5))) & 0xff);
      i += 5;
    } else if (s[i] === "\\" && i + 1 < s.length) {
      const k = ESC_NAME.indexOf(s[i + 1]!);
      if (k < 0) return undefined;
      out += ESC_RAW[k];
      i++;
    } else out += s[i];
  }
  return out.length < TRASH_SIZE ? out : undefined;
}

const nibble = (c: number): number => (c >= 48 && c <= 57 ? c - 48 : c >= 65 && c <= 70 ? c - 55 : c - 87);

/** JSON's interoperable integers (RFC 7159): haproxy refuses others with output type int. */
const JSON_INT_MAX = 2n ** 53n - 1n;

/** C's strtoll(s, NULL, 0): an optional sign, 0x for hex, a leading 0 for octal, saturated. */
function strtoll0(s: string): bigint {
  const m = /^[ \t\n\v\f\r]*([+-]?)(0[xX](?=[0-9a-fA-F])|0)?([0-9a-fA-F]*)/.exec(s)!;
  const base = m[2] === undefined ? 10 : m[2].length > 1 ? 16 : 8;
  const digits = /^[0-9a-fA-F]*/.exec(m[3]!)![0];
  let v = 0n;
  for (const d of digits) {
    const n = parseInt(d, 16);
    if (n >= base) break;
    v = v * BigInt(base) + BigInt(n);
    if (v > 2n ** 63n) break;
  }
  if (m[1] === "-") return v > 2n ** 63n ? -(2n ** 63n) : -v;
  return v > 2n ** 63n - 1n ? 2n ** 63n - 1n : v;
}

/** C's printf("%g"): 6 significant digits, correctly rounded (ties to even, as glibc). */
export function formatG(d: number): string {
  if (!Number.isFinite(d)) return Number.isNaN(d) ? "nan" : d < 0 ? "-inf" : "inf";
  if (d === 0) return Object.is(d, -0) ? "-0" : "0";
  const [digits, exp] = roundDigits(Math.abs(d), 6);
  const sign = d < 0 ? "-" : "";
  const trim = (s: string): string => (s.includes(".") ? s.replace(/0+$/, "").replace(/\.$/, "") : s);
  if (exp < -4 || exp >= 6) {
    const m = trim(`${digits[0]}.${digits.slice(1)}`);
    return `${sign}${m}e${exp < 0 ? "-" : "+"}${String(Math.abs(exp)).padStart(2, "0")}`;
  }
  if (exp >= 0) return sign + trim(`${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`);
  return sign + trim(`0.${"0".repeat(-exp - 1)}${digits}`);
}

/** The first n significant digits of a positive double, exactly rounded half to even, and its exponent. */
function roundDigits(d: number, n: number): [string, number] {
  const buf = new DataView(new ArrayBuffer(8));
  buf.setFloat64(0, d);
  const bits = buf.getBigUint64(0);
  const e = Number((bits >> 52n) & 0x7ffn);
  let mant = bits & 0xfffffffffffffn;
  if (e !== 0) mant |= 1n << 52n;
  const shift = (e === 0 ? 1 : e) - 1075;
  // The exact value as an integer over a power of ten.
  let num = shift >= 0 ? mant << BigInt(shift) : mant * 5n ** BigInt(-shift);
  const scale = shift >= 0 ? 0 : -shift;
  let s = num.toString();
  const exp = s.length - 1 - scale;
  if (s.length > n) {
    const keep = BigInt(s.slice(0, n));
    const rest = s.slice(n);
    const half = "5" + "0".repeat(rest.length - 1);
    const up = rest > half || (rest === half && keep % 2n === 1n);
    num = keep + (up ? 1n : 0n);
    s = num.toString();
    if (s.length > n) return [s.slice(0, n), exp + 1];
    return [s, exp];
  }
  return [s.padEnd(n, "0"), exp];
}

/** json_query's result for one path: a number as %g (or an integer), a boolean, a string. */
export function jsonQuery(smp: Sample, doc: string, path: string, asInt: boolean): boolean {
  const w = mjsonFind(doc, path);
  const token = doc.slice(w.off, w.off + w.len);
  switch (w.tok) {
    case TOK_NUMBER: {
      if (asInt) {
        // strtoll reads on past the token: only digits could follow a number in the text.
        const v = strtoll0(doc.slice(w.off));
        if (v < -JSON_INT_MAX || v > JSON_INT_MAX) return false;
        smp.setInt(Number(v));
        return true;
      }
      return str(smp, formatG(mystrtod(doc, w.off)[0]));
    }
    case TOK_TRUE:
    case TOK_FALSE:
      smp.setInt(w.tok === TOK_TRUE ? 1 : 0, T.Bool);
      return true;
    case TOK_STRING: {
      const v = mjsonUnescape(token.slice(1, -1));
      return v !== undefined && str(smp, v);
    }
    default:
      return false;
  }
}

export const outputTypeCheck = (arg: Arg | undefined): string | undefined =>
  arg === undefined || arg === "" || arg === "int"
    ? undefined
    : 'output_type only supports "int" as argument';
