// Map converters: `map(file[,default])`, `map_<match>` and `map_<match>_<output>`, which look the
// sample up among a file's keys by a match method and give the value of the entry found, as
// haproxy's pattern code chooses it: an exact string as first written, the longest prefix (beg) or
// network (ip), else the first entry that matches, in the file's order.
import { ConfigError } from "../config/errors.js";
import type { Arg } from "./args.js";
import type { Converter } from "./converters.js";
import { buildMatcher, parseIpPattern, parseRange, regexOf } from "./pattern.js";
import { patternRef, type PatternEntry } from "./pattern-ref.js";
import { expandReplacement } from "./replacement.js";
import { IntMatcher, type IpPat, type Matcher } from "./match.js";
import { parseIpv4, parseIpv6, shortIpv6, v6ToV4 } from "./ip.js";
import { Sample, T, readWholeInt } from "./sample.js";

type Input = "str" | "beg" | "sub" | "dir" | "dom" | "end" | "reg" | "regm" | "int" | "ip";
type Output = "str" | "int" | "ip";

const INPUTS: Input[] = ["str", "beg", "sub", "dir", "dom", "end", "reg", "int", "ip"];
const OUT_TYPE: Record<Output, T> = { str: T.Str, int: T.Int, ip: T.Ip };

/** A value in the output's type, as haproxy reads one (an address up to what follows it), or undefined. */
function outputValue(text: string | number, out: Output): Sample | undefined {
  const smp = new Sample();
  if (out === "str") smp.setStr(String(text));
  else if (out === "int") {
    const n = typeof text === "number" ? text : readWholeInt(text);
    if (n === undefined) return undefined;
    smp.setInt(n);
  } else {
    const t = String(text);
    const v4 = /^[0-9.]*/.exec(t)![0];
    if (parseIpv4(v4, ADDR)) smp.setStr(Array.from(ADDR.subarray(0, 4)).join("."), T.Ip);
    else if (parseIpv6(t, ADDR)) smp.setStr(shortIpv6(t), T.Ip);
    else return undefined;
  }
  return smp;
}

const ADDR = new Uint8Array(16);

/** The lookup of one map: the value found for a sample, or undefined. */
type Lookup = (smp: Sample) => Sample | undefined;

function lookupFor(input: Input, entries: readonly PatternEntry[], values: Sample[], path: string): Lookup {
  const at = (e: PatternEntry, m: string): string => `${m} at line ${e.line} of file '${path}'`;
  switch (input) {
    case "str": {
      const byKey = new Map<string, Sample>();
      entries.forEach((e, i) => {
        if (!byKey.has(e.key)) byKey.set(e.key, values[i]!);
      });
      return (smp) => byKey.get(smp.getStr());
    }
    case "beg": {
      // The longest key first (the first written among equals): the first that begins the sample.
      const order = entries
        .map((_, i) => i)
        .sort((a, b) => entries[b]!.key.length - entries[a]!.key.length || a - b);
      const keys = order.map((i) => entries[i]!.key);
      const found = order.map((i) => values[i]!);
      return (smp) => {
        const s = smp.getStr();
        for (let k = 0; k < keys.length; k++) if (s.startsWith(keys[k]!)) return found[k];
        return undefined;
      };
    }
    case "ip": {
      // Each family's networks, the most specific first; a sample is looked up in its own family first.
      const nets = entries.map((e, i) => {
        let pat: IpPat;
        try {
          pat = parseIpPattern(e.key, true, NOWHERE);
        } catch {
          throw new ConfigError(at(e, `'${e.key}' is not a valid IPv4 or IPv6 address`));
        }
        return { pat, bits: pat.mask.reduce((n, b) => n + popcount(b), 0), value: values[i]! };
      });
      const family = (v4: boolean) => nets.filter((n) => n.pat.v4 === v4).sort((a, b) => b.bits - a.bits);
      const v4 = family(true);
      const v6 = family(false);
      const a4 = new Uint8Array(4);
      const a6 = new Uint8Array(16);
      const first = (list: typeof nets, a: Uint8Array, len: number): Sample | undefined => {
        for (const n of list) if (inNet(a, n.pat, len)) return n.value;
        return undefined;
      };
      return (smp) => {
        const s = smp.getStr();
        if (parseIpv4(s, a4)) {
          a6.fill(0, 0, 10);
          a6[10] = a6[11] = 0xff;
          a6.set(a4, 12);
          return first(v4, a4, 4) ?? first(v6, a6, 16);
        }
        if (!parseIpv6(s, a6)) return undefined;
        return first(v6, a6, 16) ?? (v6ToV4(a6, a4) ? first(v4, a4, 4) : undefined);
      };
    }
    case "regm": {
      // The first key that matches, its value given the key's groups for \1...\9.
      const res = entries.map((e) => {
        try {
          return regexOf(e.key, false, NOWHERE);
        } catch (err) {
          if (!(err instanceof ConfigError)) throw err;
          throw new ConfigError(at(e, err.message.replace(/\.$/, "")));
        }
      });
      const found = new Sample();
      return (smp) => {
        const s = smp.getStr();
        for (let i = 0; i < res.length; i++) {
          const m = res[i]!.exec(s);
          if (!m) continue;
          // A key that add-acl put there has no value to fill.
          const v = values[i]!;
          return v.type === T.Int ? v : (found.setStr(expandReplacement(v.str!, m)), found);
        }
        return undefined;
      };
    }
    default: {
      const matchers: Matcher[] = entries.map((e) => {
        try {
          // An integer key is a number or a range, as an ACL's.
          if (input === "int") return new IntMatcher([parseRange(e.key, NOWHERE)], false);
          return buildMatcher(input, [e.key], false, true, NOWHERE);
        } catch (err) {
          if (!(err instanceof ConfigError)) throw err;
          throw new ConfigError(at(e, err.message.replace(/\.$/, "")));
        }
      });
      return (smp) => {
        for (let i = 0; i < matchers.length; i++) if (matchers[i]!.match(smp)) return values[i];
        return undefined;
      };
    }
  }
}

/** Whether address `a` (4 or 16 bytes) is in the network. */
function inNet(a: Uint8Array, pat: IpPat, len: number): boolean {
  for (let k = 0; k < len; k++) if ((a[k]! & pat.mask[k]!) !== (pat.addr[k]! & pat.mask[k]!)) return false;
  return true;
}

const NOWHERE = { file: "", line: 0 };

const popcount = (b: number): number => {
  let n = 0;
  for (let v = b; v; v &= v - 1) n++;
  return n;
};

/** haproxy's value for a key that add-acl put in a map's file: the integer 1. */
const ONE = new Sample();
ONE.setInt(1);

/** The lookup over a map's entries; a ConfigError names an entry that cannot be read. */
function buildLookup(input: Input, out: Output, entries: readonly PatternEntry[], path: string): Lookup {
  const values = entries.map((e) => {
    if (e.value === undefined) return ONE;
    const v = outputValue(e.value, out);
    if (!v) throw new ConfigError(`unable to parse '${e.value}' at line ${e.line} of file '${path}'`);
    return v;
  });
  return lookupFor(input, entries, values, path);
}

interface LoadedMap {
  lookup: Lookup;
  fallback: Sample | undefined;
}

/**
 * Loads a map for a converter; haproxy's reason (an "invalid args" one) when it cannot. Its lookup
 * follows the changes of the file's entries (set-map, del-map...).
 */
function loadMap(input: Input, out: Output, args: Arg[]): LoadedMap {
  const path = String(args[0]);
  const ref = patternRef(path, true);
  const lookup = buildLookup(input, out, ref.entries, path);
  const fallback = args[1] === undefined ? undefined : outputValue(args[1], out);
  // An integer default was read as one with the arguments; an address is read here.
  if (args[1] !== undefined && !fallback)
    throw new ConfigError(`map: cannot parse default ip <${String(args[1])}>.`);
  const map: LoadedMap = { lookup, fallback };
  ref.read((entries) => {
    const next = buildLookup(input, out, entries, path);
    return () => (map.lookup = next);
  });
  return map;
}

/** Copies a looked-up value into the sample. */
function put(smp: Sample, v: Sample): true {
  if (v.type === T.Int) smp.setInt(v.num);
  else smp.setStr(v.str!, v.type);
  return true;
}

function mapConverter(input: Input, out: Output): Converter {
  // A map is read once, when its converter is checked, and kept for the converter it makes.
  const loaded = new WeakMap<Arg[], LoadedMap>();
  const load = (args: Arg[]) => {
    let m = loaded.get(args);
    if (!m) loaded.set(args, (m = loadMap(input, out, args)));
    return m;
  };
  return {
    args: out === "int" ? ["str", "int"] : ["str", "str"],
    min: 1,
    in: input === "int" ? "int" : input === "ip" ? "ip" : "str",
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
      const map = load(args);
      const fallback = map.fallback;
      return (smp) => {
        const v = map.lookup(smp) ?? fallback;
        return v !== undefined && put(smp, v);
      };
    },
  };
}

/**
 * Every map converter haproxy 2.6 has: `map_<match>` gives text, `_int` and `_ip` those; `map_regm`
 * fills its value with what the key's groups caught.
 */
export function mapConverters(): [string, Converter][] {
  const out: [string, Converter][] = [
    ["map", mapConverter("str", "str")],
    ["map_regm", mapConverter("regm", "str")],
  ];
  for (const i of INPUTS) {
    out.push([`map_${i}`, mapConverter(i, "str")]);
    out.push([`map_${i}_int`, mapConverter(i, "int")]);
    out.push([`map_${i}_ip`, mapConverter(i, "ip")]);
  }
  return out;
}
