// Converters: what follows a sample fetch after its commas (`path,field(2,/),lower`), each taking
// the sample in the type it needs (haproxy's casts: a number as its decimal text, a text as the
// integer it starts with) and giving one of its own type; one that fails leaves no sample.
import type { SampleContext } from "./context.js";
import type { Arg, ArgType } from "./args.js";
import { INT_LIMIT, Sample, T } from "./sample.js";
import { expandReplacement } from "./replacement.js";
import { parseVarName, type VarRef } from "./vars.js";
import { mapConverters } from "./maps.js";

/** What a converter needs its sample to be: text (binary data is text of bytes here), or an integer. */
type In = "str" | "int";

export interface Converter {
  args: ArgType[];
  min: number;
  in: In;
  out: T;
  /** Why its arguments cannot be taken (haproxy's "invalid args in converter"), or undefined. */
  check?: (args: Arg[]) => string | undefined;
  /** The conversion for these arguments: false when it gives no sample. */
  make(args: Arg[]): (smp: Sample, ctx: SampleContext) => boolean;
}

const str = (s: Sample, v: string): boolean => (s.setStr(v), true);
const int = (s: Sample, v: number): boolean => (s.setInt(v), true);
const bool = (s: Sample, v: boolean): boolean => (s.setInt(v ? 1 : 0, T.Bool), true);

/** haproxy's 64-bit integers: a result past them is capped. */
const MAX = INT_LIMIT;
const MIN = -INT_LIMIT;
const cap = (n: number): number => (n > MAX ? MAX : n < MIN ? MIN : n);

/** An arithmetic operand: an integer, or a variable's value as an integer. */
type Operand = number | VarRef;
const operandSample = new Sample();

function operand(arg: Arg): Operand {
  const ref = parseVarName(String(arg));
  return typeof ref === "string" ? readOperand(String(arg))! : ref;
}

/** An integer written whole, as check_operator wants it ("" is 0). */
function readOperand(text: string): number | undefined {
  return /^[-+]?\d*$/.test(text) ? Number(text.replace(/^\+/, "")) || 0 : undefined;
}

const operandCheck = (args: Arg[]): string | undefined =>
  typeof parseVarName(String(args[0])) !== "string" || readOperand(String(args[0])) !== undefined
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

const text = (f: (s: string, args: Arg[]) => string): Converter => ({
  args: [],
  min: 0,
  in: "str",
  out: T.Str,
  make: (args) => (smp) => str(smp, f(smp.getStr(), args)),
});

function fieldCheck(args: Arg[]): string | undefined {
  if (args[0] === 0) return "Unexpected value 0 for index";
  if (args[1] === "") return "Empty separators list";
  return undefined;
}

/**
 * field: the index-th field (from the end when negative) between separators, with the count-1
 * fields after it; no sample when there are not that many.
 */
function field(s: string, index: number, seps: string, count: number): string | undefined {
  if (index > 0) {
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
  let n = -1;
  let end = s.length;
  for (let i = s.length; i > 0; i--) {
    if (!seps.includes(s[i - 1]!)) continue;
    if (n === index) {
      if (count === 1) return s.slice(i, end);
      if (count > 1) count--;
    } else {
      end = i - 1;
      n--;
    }
  }
  return n === index ? s.slice(0, end) : undefined;
}

/**
 * word: the index-th run of characters that are not separators (from the end when negative), with
 * the count-1 words after it and what separates them; the empty string when there are not that many.
 */
function word(s: string, index: number, seps: string, count: number): string {
  let n = 0;
  let inWord = false;
  if (index > 0) {
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
  let end = s.length;
  for (let i = s.length; i > 0; i--) {
    const sep = seps.includes(s[i - 1]!);
    if (!inWord) {
      if (!sep) {
        if (n !== index) {
          n--;
          end = i;
        }
        inWord = true;
      }
    } else if (sep) {
      if (n === index) {
        if (count === 1) return s.slice(i, end);
        if (count > 1) count--;
      }
      inWord = false;
    }
  }
  return n === index ? s.slice(0, end) : "";
}

/** regsub's flags: i and g only. */
function regsubCheck(args: Arg[]): string | undefined {
  const bad = [...String(args[2] ?? "")].find((c) => c !== "i" && c !== "g");
  if (bad !== undefined) return `invalid regex flag '${bad}', only 'i' and 'g' are supported`;
  try {
    new RegExp(String(args[0]));
  } catch (e) {
    return `regex '${String(args[0])}' is invalid (${(e as Error).message})`;
  }
  return undefined;
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

const toHex = (s: string): string => Buffer.from(s, "latin1").toString("hex").toUpperCase();

const trimmer =
  (left: boolean) =>
  (s: string, args: Arg[]): string => {
    const chars = String(args[0]);
    let a = 0;
    let b = s.length;
    if (left) while (a < b && chars.includes(s[a]!)) a++;
    else while (b > a && chars.includes(s[b - 1]!)) b--;
    return s.slice(a, b);
  };

export const CONVERTERS = new Map<string, Converter>([
  ["lower", text((s) => s.toLowerCase())],
  ["upper", text((s) => s.toUpperCase())],
  ["length", { args: [], min: 0, in: "str", out: T.Int, make: () => (smp) => int(smp, smp.strLen()) }],
  ["hex", text(toHex)],
  ["base64", text((s) => Buffer.from(s, "latin1").toString("base64"))],
  ["ltrim", { ...text(trimmer(true)), args: ["str"], min: 1 }],
  ["rtrim", { ...text(trimmer(false)), args: ["str"], min: 1 }],
  [
    "field",
    {
      args: ["int", "str", "int"],
      min: 2,
      in: "str",
      out: T.Str,
      check: fieldCheck,
      make: (args) => (smp) => {
        const v = field(smp.getStr(), Number(args[0]), String(args[1]), Number(args[2] ?? 1));
        return v !== undefined && str(smp, v);
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
      make: (args) => (smp) =>
        str(smp, word(smp.getStr(), Number(args[0]), String(args[1]), Number(args[2] ?? 1))),
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
  ["add", arith((a, b) => cap(a + b))],
  ["sub", arith((a, b) => cap(a - b))],
  ["mul", arith((a, b) => cap(a * b))],
  // Division by zero gives the largest integer, its remainder 0.
  ["div", arith((a, b) => (b === 0 ? MAX : cap(Math.trunc(a / b))))],
  ["mod", arith((a, b) => (b === 0 ? 0 : a % b || 0))],
  ["and", arith((a, b) => Number(BigInt.asIntN(64, BigInt(a) & BigInt(b))))],
  ["or", arith((a, b) => Number(BigInt.asIntN(64, BigInt(a) | BigInt(b))))],
  ["xor", arith((a, b) => Number(BigInt.asIntN(64, BigInt(a) ^ BigInt(b))))],
  ["neg", unary(T.Int, (smp, n) => int(smp, n === MIN ? MAX : -n || 0))],
  ["cpl", unary(T.Int, (smp, n) => int(smp, -n - 1))],
  ["bool", unary(T.Bool, (smp, n) => bool(smp, n !== 0))],
  ["not", unary(T.Bool, (smp, n) => bool(smp, n === 0))],
  ["odd", unary(T.Bool, (smp, n) => bool(smp, (n & 1) !== 0))],
  ["even", unary(T.Bool, (smp, n) => bool(smp, (n & 1) === 0))],
  ...mapConverters(),
]);

/** Takes the sample in the type the converter needs; false when it cannot be. */
export function castFor(conv: Converter, smp: Sample): boolean {
  if (conv.in === "str") {
    if (smp.type !== T.Str) smp.setStr(smp.getStr());
    return true;
  }
  if (smp.type === T.Int) return true;
  const n = smp.getInt();
  return n !== undefined && int(smp, n);
}
