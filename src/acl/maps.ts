// Map converters: `map(file[,default])`, `map_<match>` and `map_<match>_<output>`, which look the
// sample up among a file's keys by a match method and give the value of the entry found, as
// haproxy's pattern code chooses it: an exact string as first written, the longest prefix (beg) or
// network (ip), else the first entry that matches, in the file's order.
import { readFileSync } from "node:fs";
import { ConfigError } from "../config/errors.js";
import type { Arg } from "./args.js";
import type { Converter } from "./converters.js";
import { buildMatcher, parseIpPattern } from "./pattern.js";
import type { Matcher } from "./match.js";
import { Sample, T } from "./sample.js";

type Input = "str" | "beg" | "sub" | "dir" | "dom" | "end" | "reg" | "int" | "ip";
type Output = "str" | "int" | "ip";

const INPUTS: Input[] = ["str", "beg", "sub", "dir", "dom", "end", "reg", "int", "ip"];
const OUT_TYPE: Record<Output, T> = { str: T.Str, int: T.Int, ip: T.Ip };

interface Entry {
  key: string;
  value: string;
  line: number;
}

/** A map file's entries: `key value...` per line, blanks around dropped, `#` lines and empty ones skipped. */
function readEntries(path: string): Entry[] {
  let text: string;
  try {
    text = readFileSync(path, "latin1");
  } catch {
    throw new ConfigError(`failed to open pattern file <${path}>`);
  }
  const out: Entry[] = [];
  text.split("\n").forEach((raw, i) => {
    const line = raw.replace(/\r.*$/, "").replace(/^[ \t]+/, "");
    if (line === "" || line.startsWith("#")) return;
    const m = /^([^ \t]*)[ \t]*(.*?)[ \t]*$/.exec(line)!;
    out.push({ key: m[1]!, value: m[2]!, line: i + 1 });
  });
  return out;
}

/** A value in the output's type, or undefined when it has none. */
function outputValue(text: string, out: Output): Sample | undefined {
  const smp = new Sample();
  if (out === "str") smp.setStr(text);
  else if (out === "int") {
    if (!/^[-+]?\d+$/.test(text)) return undefined;
    smp.setInt(Number(text));
  } else {
    try {
      parseIpPattern(text, true, { file: "", line: 0 });
    } catch {
      return undefined;
    }
    smp.setStr(text, T.Ip);
  }
  return smp;
}

/** The lookup of one map: the value found for a sample, or undefined. */
type Lookup = (smp: Sample) => Sample | undefined;

function lookupFor(input: Input, entries: Entry[], values: Sample[], path: string): Lookup {
  const at = (e: Entry, m: string): string => `${m} at line ${e.line} of file '${path}'`;
  switch (input) {
    case "str": {
      const byKey = new Map<string, Sample>();
      entries.forEach((e, i) => {
        if (!byKey.has(e.key)) byKey.set(e.key, values[i]!);
      });
      return (smp) => byKey.get(smp.getStr());
    }
    case "beg":
      return (smp) => {
        const s = smp.getStr();
        let best = -1;
        entries.forEach((e, i) => {
          if (s.startsWith(e.key) && (best < 0 || e.key.length > entries[best]!.key.length)) best = i;
        });
        return best < 0 ? undefined : values[best];
      };
    case "ip": {
      const matchers = entries.map((e) => {
        try {
          const pat = parseIpPattern(e.key, true, { file: "", line: 0 });
          const bits = pat.mask.reduce((n, b) => n + popcount(b), 0);
          return { m: buildMatcher("ip", [e.key], false, true, { file: "", line: 0 }), bits };
        } catch {
          throw new ConfigError(at(e, `'${e.key}' is not a valid IPv4 or IPv6 address`));
        }
      });
      return (smp) => {
        let best = -1;
        matchers.forEach((x, i) => {
          if ((best < 0 || x.bits > matchers[best]!.bits) && x.m.match(smp)) best = i;
        });
        return best < 0 ? undefined : values[best];
      };
    }
    default: {
      const matchers: Matcher[] = entries.map((e) => {
        if (input === "int" && !/^[-+]?\d+(:[-+]?\d*)?$|^:[-+]?\d+$/.test(e.key))
          throw new ConfigError(at(e, `'${e.key}' is not a number`));
        try {
          return buildMatcher(input, [e.key], false, true, { file: "", line: 0 });
        } catch (err) {
          if (!(err instanceof ConfigError)) throw err;
          throw new ConfigError(at(e, err.message.replace(/\.$/, "")));
        }
      });
      return (smp) => {
        const i = matchers.findIndex((m) => m.match(smp));
        return i < 0 ? undefined : values[i];
      };
    }
  }
}

const popcount = (b: number): number => {
  let n = 0;
  for (let v = b; v; v &= v - 1) n++;
  return n;
};

/** Loads a map for a converter; haproxy's reason (an "invalid args" one) when it cannot. */
function loadMap(input: Input, out: Output, args: Arg[]): { lookup: Lookup; fallback: Sample | undefined } {
  const path = String(args[0]);
  const entries = readEntries(path);
  const values = entries.map((e) => {
    const v = outputValue(e.value, out);
    if (!v) throw new ConfigError(`unable to parse '${e.value}' at line ${e.line} of file '${path}'`);
    return v;
  });
  const lookup = lookupFor(input, entries, values, path);
  const fallback = args[1] === undefined ? undefined : outputValue(String(args[1]), out);
  // An integer default was read as one with the arguments; an address is read here.
  if (args[1] !== undefined && !fallback)
    throw new ConfigError(`map: cannot parse default ip <${String(args[1])}>.`);
  return { lookup, fallback };
}

/** Copies a looked-up value into the sample. */
function put(smp: Sample, v: Sample): true {
  if (v.type === T.Int) smp.setInt(v.num);
  else smp.setStr(v.str!, v.type);
  return true;
}

function mapConverter(input: Input, out: Output): Converter {
  // A map is read once, when its converter is checked, and kept for the converter it makes.
  const loaded = new WeakMap<Arg[], ReturnType<typeof loadMap>>();
  const load = (args: Arg[]) => {
    let m = loaded.get(args);
    if (!m) loaded.set(args, (m = loadMap(input, out, args)));
    return m;
  };
  return {
    args: out === "int" ? ["str", "int"] : ["str", "str"],
    min: 1,
    in: input === "int" ? "int" : "str",
    out: OUT_TYPE[out],
    check: (args) => {
      try {
        load(args);
      } catch (e) {
        if (!(e instanceof ConfigError)) throw e;
        return e.message;
      }
      return undefined;
    },
    make: (args) => {
      const { lookup, fallback } = load(args);
      return (smp) => {
        const v = lookup(smp) ?? fallback;
        return v !== undefined && put(smp, v);
      };
    },
  };
}

/** Every map converter haproxy 2.6 has but map_regm: `map_<match>` gives text, `_int` and `_ip` those. */
export function mapConverters(): [string, Converter][] {
  const out: [string, Converter][] = [["map", mapConverter("str", "str")]];
  for (const i of INPUTS) {
    out.push([`map_${i}`, mapConverter(i, "str")]);
    out.push([`map_${i}_int`, mapConverter(i, "int")]);
    out.push([`map_${i}_ip`, mapConverter(i, "ip")]);
  }
  return out;
}
