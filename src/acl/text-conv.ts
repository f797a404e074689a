// Converters that write or read text: dates (http_date, ltime, utime: time-text.ts), JSON (json,
// json_query: json-text.ts), JSON Web Tokens (jwt_header_query, jwt_payload_query, jwt_verify:
// jwt.ts), and iif, add_item, language, debug, each as haproxy 2.6 computes it, its quirks included.
import type { Converter } from "./converters.js";
import type { Arg } from "./args.js";
import type { SampleContext } from "./context.js";
import { Sample, T, TRASH_SIZE } from "./sample.js";
import { parseVarName, varArgument, varText, type VarRef } from "./vars.js";
import { UNITS, breakDown, httpDate, loadZone, local, strftime, timeFormat } from "./time-text.js";
import { JSON_CODES, isDigit, jsonEscape, jsonQuery, outputTypeCheck } from "./json-text.js";
import { jwtQuery, jwtVerify, jwtVerifyCheck } from "./jwt.js";

const str = (s: Sample, v: string): boolean => (s.setStr(v), true);

/** An argument's text: a variable's value as text (undefined when it is not set), or the literal. */
const argText = (arg: Arg, ref: VarRef | undefined, ctx: SampleContext): string | undefined =>
  ref ? varText(ref, ctx) : String(arg);

// ---------------------------------------------------------------------------------------------
// language: the preferred of some languages in an Accept-Language value

const isSpace = (c: string | undefined): boolean => c !== undefined && " \t\n\v\f\r".includes(c);

/** http_language_range_match: the range equals the tag, or is the tag followed by a dash. */
function rangeMatches(range: string, tag: string): boolean {
  let t = 0;
  for (let r = 0; r < range.length; r++, t++) {
    if (range[r] === "-" && t === tag.length) return true;
    if (t === tag.length || range[r] !== tag[t]) return false;
  }
  return t === tag.length;
}

/** http_parse_qvalue: q times 1000 and where it stops (one digit, a dot, three digits). */
function qvalue(s: string, i: number): [number, number] {
  const digit = (k: number): boolean => k < s.length && isDigit(s.charCodeAt(k));
  if (!digit(i)) return [1000, i];
  let q = (s.charCodeAt(i++) - 48) * 1000;
  // haproxy steps over the character after the first digit whatever it is.
  if (s[i++] === ".") {
    for (const mul of [100, 10, 1]) {
      if (!digit(i)) break;
      q += (s.charCodeAt(i++) - 48) * mul;
    }
  }
  return [Math.min(q, 1000), i];
}

/** The q of a listed language's parameters, and where its reading stopped. */
function languageQ(al: string, i: number): [number, number] {
  const skip = (): void => {
    while (i < al.length && isSpace(al[i])) i++;
  };
  skip();
  if (i >= al.length || al[i] === ",") return [1000, i];
  if (al[i] !== ";") return [-1, i];
  i++;
  skip();
  if (i >= al.length || al[i] !== "q") return [1000, i];
  i++;
  skip();
  if (i >= al.length || al[i] !== "=") return [1000, i];
  i++;
  skip();
  if (i >= al.length) return [1000, i];
  return qvalue(al, i);
}

function language(al: string, list: string[]): string {
  let best = "";
  let bestQ = 0;
  for (let i = 0; ;) {
    while (i < al.length && isSpace(al[i])) i++;
    if (i >= al.length) break;
    const start = i;
    while (i < al.length && al[i] !== ";" && al[i] !== "," && !isSpace(al[i])) i++;
    const tag = list.find((l) => i > start && rangeMatches(al.slice(start, i), l));
    if (tag !== undefined) {
      const [q, end] = languageQ(al, i);
      i = end;
      if (q > bestQ) {
        best = tag;
        if (q >= 1000) break;
        bestQ = q;
      }
    }
    while (i < al.length && al[i] !== ",") i++;
    if (i >= al.length) break;
    i++;
  }
  return best;
}

// ---------------------------------------------------------------------------------------------
// debug

/** haproxy's names of sample types, as debug prints them. */
function typeName(smp: Sample): string {
  switch (smp.type) {
    case T.Int:
      return "sint";
    case T.Bool:
      return "bool";
    case T.Ip:
      return smp.getStr().includes(":") ? "ipv6" : "ipv4";
    case T.Meth:
      return "meth";
    case T.Bin:
      return "bin";
    default:
      return "str";
  }
}

/** debug's line: the prefix, the type, the text with unprintable bytes as dots. */
const debugLine = (prefix: string, smp: Sample): string =>
  `[debug] ${prefix}: type=${typeName(smp)} <${smp.getStr().replace(/[^\x20-\x7e]/g, ".")}>`;

// ---------------------------------------------------------------------------------------------

export function textConverters(): [string, Converter][] {
  return [
    [
      "http_date",
      {
        args: ["int", "str"],
        min: 0,
        in: "int",
        out: T.Str,
        check: (args) =>
          args[1] === undefined || UNITS[String(args[1])] !== undefined
            ? undefined
            : `expects 's', 'ms' or 'us', got '${args[1]}'`,
        make: (args) => {
          const offset = Number(args[0] ?? 0);
          const unit = UNITS[String(args[1] ?? "s")]!;
          return (smp) => str(smp, httpDate(smp.num, offset, unit));
        },
      },
    ],
    ["ltime", timeFormat(local)],
    ["utime", timeFormat(() => undefined)],
    [
      "json",
      {
        args: ["str"],
        min: 1,
        in: "str",
        out: T.Str,
        check: (args) =>
          args[0] === "" || JSON_CODES.includes(String(args[0]))
            ? undefined
            : "Unexpected input code type. Allowed value are 'ascii', 'utf8', 'utf8s', 'utf8p' and 'utf8ps'",
        make: (args) => {
          const code = Math.max(0, JSON_CODES.indexOf(String(args[0])));
          return (smp) => {
            const v = jsonEscape(smp.getStr(), code);
            return v !== undefined && str(smp, v);
          };
        },
      },
    ],
    [
      "json_query",
      {
        args: ["str", "str"],
        min: 1,
        in: "str",
        out: T.Str,
        anyType: true,
        check: (args) => (args[0] === "" ? "json_path must not be empty" : outputTypeCheck(args[1])),
        make: (args) => {
          const path = String(args[0]);
          const asInt = args[1] === "int";
          return (smp) => jsonQuery(smp, smp.getStr(), path, asInt);
        },
      },
    ],
    ["jwt_header_query", jwtQuery(0)],
    ["jwt_payload_query", jwtQuery(1)],
    [
      "jwt_verify",
      {
        args: ["str", "str"],
        min: 2,
        in: "bin",
        out: T.Int,
        check: jwtVerifyCheck,
        make: (args) => {
          const [alg, key] = [varArgument(args[0]), varArgument(args[1])];
          return (smp, ctx) => {
            const a = argText(args[0]!, alg, ctx);
            const k = a === undefined ? undefined : argText(args[1]!, key, ctx);
            if (a === undefined || k === undefined) return false;
            smp.setInt(jwtVerify(smp.rawBytes(), a, k));
            return true;
          };
        },
      },
    ],
    [
      // A true input gives the first text, any other the second.
      "iif",
      {
        args: ["str", "str"],
        min: 2,
        in: "bool",
        out: T.Str,
        make: (args) => (smp) => str(smp, String(smp.num !== 0 ? args[0] : args[1])),
      },
    ],
    [
      // The delimiter only between a non-empty input and a non-empty variable value or suffix.
      "add_item",
      {
        args: ["str", "str", "str"],
        min: 2,
        in: "str",
        out: T.Str,
        check: (args) => {
          const v = args[1];
          if (v !== undefined && v !== "" && typeof parseVarName(String(v)) === "string")
            return `failed to register variable name '${v}'`;
          if ((v ?? "") === "" && (args[2] ?? "") === "")
            return "one of the optional arguments has to be nonempty";
          return undefined;
        },
        make: (args) => {
          const [delim, ref, suffix] = [String(args[0]), varArgument(args[1]), String(args[2] ?? "")];
          return (smp, ctx) => {
            const input = smp.getStr();
            const value = varText(ref, ctx);
            const sep = input !== "" && ((value ?? "") !== "" || suffix !== "") ? delim : "";
            const out = input + sep + (value ?? "") + suffix;
            return str(smp, out.slice(0, TRASH_SIZE - 1));
          };
        },
      },
    ],
    [
      "language",
      {
        args: ["str", "str"],
        min: 1,
        in: "str",
        out: T.Str,
        make: (args) => {
          const list = String(args[0]).split(";");
          const dflt = String(args[1] ?? "");
          return (smp) => {
            const v = language(smp.getStr(), list) || dflt;
            return v !== "" && str(smp, v);
          };
        },
      },
    ],
    [
      // The sample passes unchanged; its line goes to stdout or stderr. haproxy's default sink is
      // the buf0 ring, read with "show events" on its CLI, which Sluice has not: the line is dropped.
      "debug",
      {
        args: ["str", "str"],
        min: 0,
        in: "any",
        out: T.Str,
        anyType: true,
        check: (args) => {
          const sink = String(args[1] ?? "buf0");
          return ["buf0", "stdout", "stderr"].includes(sink) ? undefined : `No such sink '${sink}'`;
        },
        make: (args) => {
          const prefix = String(args[0] ?? "");
          const sink = String(args[1] ?? "buf0");
          const out = sink === "stdout" ? process.stdout : sink === "stderr" ? process.stderr : undefined;
          return (smp) => {
            out?.write(debugLine(prefix, smp) + "\n");
            return true;
          };
        },
      },
    ],
  ];
}

/** ltime's text for a date in the zone a TZ value names (what a process started with it would give). */
export function ltimeIn(fmt: string, t: bigint, tz: string | undefined): string {
  const zone = loadZone(tz);
  return strftime(fmt, breakDown(t, zone(t)), () => t);
}
