// Converters: what follows a sample fetch after its commas (`path,field(2,/),lower`), each taking
// the sample in the type it needs (haproxy's casts: a number as its decimal text, a text as the
// integer it starts with) and giving one of its own type; one that fails leaves no sample.
import type { SampleContext } from "./context.js";
import type { Arg, ArgType } from "./args.js";
import { Sample, T, binaryOf, fromBig, readWholeInt, toBig } from "./sample.js";
import { ipv6Text, parseIpv4, parseIpv6, parseMask4, parseMask6, v6ToV4 } from "./ip.js";
import { fullHash, hashKey, type HashFunction } from "../balance/hash.js";
import { lowerAscii } from "./match.js";
import { expandReplacement, invalidRegex } from "./replacement.js";
import { parseVarName, varArgument, varText, type VarRef } from "./vars.js";
import { mapConverters } from "./maps.js";
import { stickConverters } from "./stick-fetch.js";
import { stateConverters } from "./state-fetch.js";
import { digestConverters } from "./digest-conv.js";
import { textConverters } from "./text-conv.js";

/**
 * What a converter needs its sample to be: text, bytes (text of bytes here: an integer's 8
 * big-endian, an address's 4 or 16), an integer, a boolean (an integer, not from an address), or an
 * address (text that is none gives no sample).
 */
type In = "str" | "bin" | "int" | "bool" | "ip" | "any";

export interface Converter {
  args: ArgType[];
  min: number;
  in: In;
  /** What it gives; bytes (T.Bin) leave an ACL after it to name its match method. */
  out: T;
  /**
   * haproxy declares its output of any type (SMP_T_ANY): every converter may follow it, as `out`
   * T.Str allows, but an ACL after it names its match method, as after bytes.
   */
  anyType?: true;
  /** Why its arguments cannot be taken (haproxy's "invalid args in converter"), or undefined. */
  check?: (args: Arg[]) => string | undefined;
  /** haproxy's refusal of a table argument that names none, or undefined. */
  resolve?: (args: Arg[]) => string | undefined;
  /** The conversion for these arguments: false when it gives no sample. */
  make(args: Arg[]): (smp: Sample, ctx: SampleContext) => boolean;
}

const str = (s: Sample, v: string): boolean => (s.setStr(v), true);
const int = (s: Sample, v: number): boolean => (s.setInt(v), true);
const bool = (s: Sample, v: boolean): boolean => (s.setInt(v ? 1 : 0, T.Bool), true);

/** An operation on haproxy's 64-bit integers, exact even at the caps its results stop at. */
const big =
  (f: (a: bigint, b: bigint) => bigint) =>
  (a: number, b: number): number =>
    fromBig(f(toBig(a), toBig(b)));
const CAP_HI = 0x7fffffffffffffffn;
const CAP_LO = -0x8000000000000000n;
const clamp = (v: bigint): bigint => (v > CAP_HI ? CAP_HI : v < CAP_LO ? CAP_LO : v);

/** An arithmetic operand: an integer, or a variable's value as an integer. */
type Operand = number | VarRef;
const operandSample = new Sample();

function operand(arg: Arg): Operand {
  const ref = parseVarName(String(arg));
  return typeof ref === "string" ? readWholeInt(String(arg))! : ref;
}

const operandCheck = (args: Arg[]): string | undefined =>
  typeof parseVarName(String(args[0])) !== "string" || readWholeInt(String(args[0])) !== undefined
    ? undefined
    : "expects an integer or a variable name";

function operandValue(op: Operand, ctx: SampleContext): number | undefined {
  if (typeof op === "number") return op;
  if (!ctx.vars?.get(op, operandSample, undefined)) return undefined;
  return operandSample.getInt();
}

function arith(f: (a: number, b: number) => number): Converter {
  return {
    args: ["str"],
    min: 1,
    in: "int",
    out: T.Int,
    check: operandCheck,
    make: (args) => {
      const op = operand(args[0]!);
      return (smp, ctx) => {
        const b = operandValue(op, ctx);
        return b !== undefined && int(smp, f(smp.num, b));
      };
    },
  };
}

const unary = (out: T, f: (smp: Sample, n: number) => boolean): Converter => ({
  args: [],
  min: 0,
  in: "int",
  out,
  make: () => (smp) => f(smp, smp.num),
});

const text = (f: (s: string) => string): Converter => ({
  args: [],
  min: 0,
  in: "str",
  out: T.Str,
  make: () => (smp) => str(smp, f(smp.getStr())),
});

/** ltrim, rtrim: one argument, the characters to take off. */
const trim = (f: (s: string, chars: string) => string): Converter => ({
  args: ["str"],
  min: 1,
  in: "str",
  out: T.Str,
  make: (args) => {
    const chars = String(args[0]);
    return (smp) => str(smp, f(smp.getStr(), chars));
  },
});

function fieldCheck(args: Arg[]): string | undefined {
  if (args[0] === 0) return "Unexpected value 0 for index";
  if (args[1] === "") return "Empty separators list";
  return undefined;
}

/** haproxy walks a negative index from the end: the same walk over the reversed text, reversed back. */
const reversed = (s: string): string => s.split("").reverse().join("");

/**
 * field: the index-th field (from the end when negative) between separators, with the count-1
 * fields after it (before it, from the end); no sample when there are not that many.
 */
function field(s: string, index: number, seps: string, count: number): string | undefined {
  if (index < 0) {
    const v = field(reversed(s), -index, seps, count);
    return v === undefined ? undefined : reversed(v);
  }
  let n = 1;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    if (!seps.includes(s[i]!)) continue;
    if (n === index) {
      if (count === 1) return s.slice(start, i);
      if (count > 1) count--;
    } else {
      start = i + 1;
      n++;
    }
  }
  return n === index ? s.slice(start) : undefined;
}

/**
 * word: the index-th run of characters that are not separators (from the end when negative), with
 * the count-1 words after it (before it, from the end) and what separates them; the empty string
 * when there are not that many.
 */
function word(s: string, index: number, seps: string, count: number): string {
  if (index < 0) return reversed(word(reversed(s), -index, seps, count));
  let n = 0;
  let inWord = false;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const sep = seps.includes(s[i]!);
    if (!inWord) {
      if (!sep) {
        if (n !== index) {
          n++;
          start = i;
        }
        inWord = true;
      }
    } else if (sep) {
      if (n === index) {
        if (count === 1) return s.slice(start, i);
        if (count > 1) count--;
      }
      inWord = false;
    }
  }
  return n === index ? s.slice(start) : "";
}

/** regsub's flags: i and g only. */
function regsubCheck(args: Arg[]): string | undefined {
  const bad = [...String(args[2] ?? "")].find((c) => c !== "i" && c !== "g");
  if (bad !== undefined) return `invalid regex flag '${bad}', only 'i' and 'g' are supported`;
  return invalidRegex(String(args[0]));
}

/**
 * regsub: each match replaced by the template (the first only without g), as haproxy's loop does it:
 * past the first match `^` no longer matches, and an empty match copies the character it stands
 * before.
 */
function regsub(s: string, re: RegExp, template: string, global: boolean): string {
  let out = "";
  let start = 0;
  for (let first = true; ; first = false) {
    let m: RegExpExecArray | null = null;
    if (global || first) {
      re.lastIndex = start;
      m = re.exec(s);
    }
    const so = m ? m.index : s.length;
    out += s.slice(start, so);
    if (!m) break;
    out += expandReplacement(template, m);
    if (start >= s.length) break;
    let eo = m.index + m[0].length;
    if (eo === start) {
      out += s[eo] ?? "";
      eo++;
    }
    start = eo;
  }
  return out;
}

/** crc32, djb2, sdbm, wt6: the hash of the sample's bytes, through haproxy's full avalanche if asked. */
const hashing = (fn: HashFunction): Converter => ({
  args: ["int"],
  min: 0,
  in: "bin",
  out: T.Int,
  make: (args) => {
    const avalanche = Boolean(args[0]);
    return (smp) => {
      const h = hashKey(fn, smp.getStr());
      return int(smp, avalanche ? fullHash(h) : h);
    };
  },
});

/**
 * url_dec: %XX sequences decoded (a malformed one gives no sample), `+` a space after a `?`, or
 * everywhere when `in_form` is set; the text ends at a decoded NUL, as haproxy's C string does.
 */
function urlDecode(s: string, inForm: boolean): string | undefined {
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === "\0") break;
    if (c === "%") {
      const hex = s.slice(i + 1, i + 3);
      if (!/^[0-9A-Fa-f]{2}$/.test(hex)) return undefined;
      out += String.fromCharCode(parseInt(hex, 16));
      i += 2;
    } else if (c === "+") out += inForm ? " " : "+";
    else {
      if (c === "?") inForm = true;
      out += c;
    }
  }
  const nul = out.indexOf("\0");
  return nul < 0 ? out : out.slice(0, nul);
}

const ipBytes = new Uint8Array(16);
const ipv4 = new Uint8Array(4);

/** ipmask(mask4[,mask6]): the network of the address (a v4-mapped IPv6 one taken as IPv4). */
function ipmask(smp: Sample, m4: Uint8Array, m6: Uint8Array | undefined): boolean {
  const a = smp.getStr();
  if (parseIpv4(a, ipv4) || (parseIpv6(a, ipBytes) && v4Mapped(ipBytes) && v6ToV4(ipBytes, ipv4))) {
    for (let i = 0; i < 4; i++) ipv4[i]! &= m4[i]!;
    smp.setStr(`${ipv4[0]}.${ipv4[1]}.${ipv4[2]}.${ipv4[3]}`, T.Ip);
    return true;
  }
  if (!m6 || !parseIpv6(a, ipBytes)) return false;
  for (let i = 0; i < 16; i++) ipBytes[i]! &= m6[i]!;
  smp.setStr(ipv6Text(ipBytes), T.Ip);
  return true;
}

const v4Mapped = (a: Uint8Array): boolean =>
  a.subarray(0, 10).every((b) => b === 0) && a[10] === 0xff && a[11] === 0xff;

/** A variable argument at `at`, which `required` says may not be empty, in haproxy's words. */
const varCheck =
  (at: number, required: boolean) =>
  (args: Arg[]): string | undefined => {
    const a = args[at];
    if (a === undefined || a === "") return required ? "missing variable name" : undefined;
    return typeof parseVarName(String(a)) === "string"
      ? `failed to register variable name '${a}'`
      : undefined;
  };

/**
 * haproxy's strcmp: strncmp over the shorter length (the first differing bytes' difference, none
 * past a NUL), then the shorter one first (-1 or 1).
 */
function compareBytes(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i) & 255;
    const d = x - (b.charCodeAt(i) & 255);
    if (d !== 0) return d;
    if (x === 0) return 0;
  }
  return Math.sign(a.length - b.length);
}

const toHex = (s: string): string => Buffer.from(s, "latin1").toString("hex").toUpperCase();

const trimmer =
  (left: boolean) =>
  (s: string, chars: string): string => {
    let a = 0;
    let b = s.length;
    if (left) while (a < b && chars.includes(s[a]!)) a++;
    else while (b > a && chars.includes(s[b - 1]!)) b--;
    return s.slice(a, b);
  };

export const CONVERTERS = new Map<string, Converter>([
  // ASCII letters only, as C's tolower and toupper.
  ["lower", text(lowerAscii)],
  ["upper", text((s) => s.replace(/[a-z]+/g, (m) => m.toUpperCase()))],
  ["length", { args: [], min: 0, in: "str", out: T.Int, make: () => (smp) => int(smp, smp.strLen()) }],
  [
    // The bytes from an offset on, as many as a length says; none from a negative offset, and a
    // negative length takes all (haproxy compares them unsigned).
    "bytes",
    {
      args: ["int", "int"],
      min: 1,
      in: "bin",
      out: T.Bin,
      make: (args) => {
        const off = Number(args[0]);
        const len = args[1] === undefined ? -1 : Number(args[1]);
        return (smp) => {
          const s = smp.getStr();
          const rest = off < 0 || s.length <= off ? "" : s.slice(off);
          smp.setStr(len >= 0 && len < rest.length ? rest.slice(0, len) : rest, T.Bin);
          return true;
        };
      },
    },
  ],
  ["hex", { ...text(toHex), in: "bin" }],
  ["base64", { ...text((s) => Buffer.from(s, "latin1").toString("base64")), in: "bin" }],
  ["ltrim", trim(trimmer(true))],
  ["rtrim", trim(trimmer(false))],
  [
    "field",
    {
      args: ["int", "str", "int"],
      min: 2,
      in: "str",
      out: T.Str,
      check: fieldCheck,
      make: (args) => {
        const [index, seps, count] = [Number(args[0]), String(args[1]), Number(args[2] ?? 1)];
        return (smp) => {
          const v = field(smp.getStr(), index, seps, count);
          return v !== undefined && str(smp, v);
        };
      },
    },
  ],
  [
    "word",
    {
      args: ["int", "str", "int"],
      min: 2,
      in: "str",
      out: T.Str,
      check: fieldCheck,
      make: (args) => {
        const [index, seps, count] = [Number(args[0]), String(args[1]), Number(args[2] ?? 1)];
        return (smp) => str(smp, word(smp.getStr(), index, seps, count));
      },
    },
  ],
  [
    "regsub",
    {
      args: ["str", "str", "str"],
      min: 2,
      in: "str",
      out: T.Str,
      check: regsubCheck,
      make: (args) => {
        const flags = String(args[2] ?? "");
        const re = new RegExp(String(args[0]), flags.includes("i") ? "gi" : "g");
        const template = String(args[1]);
        const global = flags.includes("g");
        return (smp) => str(smp, regsub(smp.getStr(), re, template, global));
      },
    },
  ],
  ["add", arith(big((a, b) => clamp(a + b)))],
  ["sub", arith(big((a, b) => clamp(a - b)))],
  ["mul", arith(big((a, b) => clamp(a * b)))],
  // Division by zero gives the largest integer, its remainder 0; LLONG_MIN / -1 the largest too.
  ["div", arith(big((a, b) => (b === 0n ? CAP_HI : clamp(a / b))))],
  ["mod", arith(big((a, b) => (b === 0n ? 0n : a % b)))],
  ["and", arith(big((a, b) => a & b))],
  ["or", arith(big((a, b) => a | b))],
  ["xor", arith(big((a, b) => a ^ b))],
  ["neg", unary(T.Int, (smp, n) => int(smp, fromBig(clamp(-toBig(n)))))],
  ["cpl", unary(T.Int, (smp, n) => int(smp, fromBig(~toBig(n))))],
  ["bool", unary(T.Bool, (smp, n) => bool(smp, n !== 0))],
  ["not", unary(T.Bool, (smp, n) => bool(smp, n === 0))],
  ["odd", unary(T.Bool, (smp, n) => bool(smp, (toBig(n) & 1n) !== 0n))],
  ["even", unary(T.Bool, (smp, n) => bool(smp, (toBig(n) & 1n) === 0n))],
  ["crc32", hashing("crc32")],
  ["djb2", hashing("djb2")],
  ["sdbm", hashing("sdbm")],
  ["wt6", hashing("wt6")],
  [
    "url_dec",
    {
      args: ["int"],
      min: 0,
      in: "str",
      out: T.Str,
      make: (args) => {
        const inForm = Boolean(args[0]);
        return (smp) => {
          const v = urlDecode(smp.getStr(), inForm);
          return v !== undefined && str(smp, v);
        };
      },
    },
  ],
  [
    "ipmask",
    {
      args: ["msk4", "msk6"],
      min: 1,
      in: "ip",
      out: T.Ip,
      make: (args) => {
        const m4 = new Uint8Array(4);
        parseMask4(String(args[0]), m4);
        let m6: Uint8Array | undefined;
        if (args[1] !== undefined) parseMask6(String(args[1]), (m6 = new Uint8Array(16)));
        return (smp) => ipmask(smp, m4, m6);
      },
    },
  ],
  [
    "concat",
    {
      args: ["str", "str", "str"],
      min: 0,
      in: "str",
      out: T.Str,
      check: varCheck(1, false),
      make: (args) => {
        const [start, ref, end] = [String(args[0] ?? ""), varArgument(args[1]), String(args[2] ?? "")];
        return (smp, ctx) => str(smp, smp.getStr() + start + (varText(ref, ctx) ?? "") + end);
      },
    },
  ],
  [
    "strcmp",
    {
      args: ["str"],
      min: 1,
      in: "str",
      out: T.Int,
      check: varCheck(0, true),
      make: (args) => {
        const ref = varArgument(args[0]);
        return (smp, ctx) => {
          const other = varText(ref, ctx);
          return other !== undefined && int(smp, compareBytes(smp.getStr(), other));
        };
      },
    },
  ],
  ...mapConverters(),
  ...stateConverters(),
  ...digestConverters(),
  ...textConverters(),
  ...stickConverters().map((c): [string, Converter] => [
    c.name,
    { args: c.args, min: c.min, in: "any", out: c.out, resolve: c.resolve, make: c.make },
  ]),
]);

const addr = new Uint8Array(16);

/**
 * Whether haproxy casts a sample of type `from` to what the converter takes (its sample_casts):
 * bytes and methods are no integer, boolean nor address, a boolean no address, an address no
 * boolean (though an IPv4 one is an integer).
 */
export function castable(from: T, to: Converter["in"]): boolean {
  if (from === T.Bin || from === T.Meth) return to !== "int" && to !== "bool" && to !== "ip";
  if (to === "ip") return from !== T.Bool;
  return to !== "bool" || from !== T.Ip;
}

/**
 * Takes the sample in the type the converter needs (haproxy's casts); false when it cannot be.
 * Bytes come as text holding every byte, NULs too.
 */
export function castFor(conv: Converter, smp: Sample): boolean {
  switch (conv.in) {
    case "any":
      return true;
    case "str":
      if (smp.type !== T.Str) smp.setStr(smp.getStr());
      return true;
    case "bin":
      if (smp.type !== T.Str) smp.setStr(binaryOf(smp));
      return true;
    case "ip": {
      if (smp.type === T.Ip) return true;
      if (smp.type === T.Int) {
        const n = Number(BigInt.asUintN(32, toBig(smp.num)));
        smp.setStr(`${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`, T.Ip);
        return true;
      }
      const a = smp.getStr();
      if (!parseIpv4(a, addr) && !parseIpv6(a, addr)) return false;
      smp.setStr(a, T.Ip);
      return true;
    }
    case "bool":
    case "int": {
      // A variable's address, which the expression's parse could not refuse, is no boolean.
      if (conv.in === "bool" && smp.type === T.Ip) return false;
      if (smp.type === T.Int) return true;
      const n = smp.getInt();
      return n !== undefined && int(smp, n);
    }
  }
}
