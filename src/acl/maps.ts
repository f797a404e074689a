// Map converters: `map(file[,default])`, `map_<match>` and `map_<match>_<output>`, which look the
// sample up among a file's keys by a match method and give the value of the entry found, as
// haproxy's pattern code chooses it: an exact string as first written, the longest prefix (beg) or
// network (ip, see ip-index.ts), else the first entry that matches, in the file's order.
import { ConfigError } from "../config/errors.js";
import type { Arg } from "./args.js";
import type { Converter } from "./converters.js";
import { buildMatcher, parseIpPattern, parseRange, regexOf } from "./pattern.js";
import { patternRef, type PatternEntry } from "./pattern-ref.js";
import { ExactIndex, PrefixIndex, prepareChange, type PatternIndex } from "./pattern-index.js";
import { IpIndex, ipv4Number } from "./ip-index.js";
import { expandReplacement } from "./replacement.js";
import { IntMatcher, type Matcher } from "./match.js";
import { parseIpv4, parseIpv6, shortIpv6 } from "./ip.js";
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

/** A map's keys as haproxy indexes them (str, beg, ip): set-map and del-map change one in place. */
interface IndexedLookup {
  find: Lookup;
  index: PatternIndex<unknown, Sample>;
}

/** haproxy's message for an entry that cannot be read, naming its line. */
function atLine(e: PatternEntry, path: string, err: unknown): ConfigError {
  if (!(err instanceof ConfigError)) throw err;
  return new ConfigError(`${err.message.replace(/\.$/, "")} at line ${e.line} of file '${path}'`);
}

function indexedLookup(input: Input): IndexedLookup | undefined {
  switch (input) {
    case "str": {
      const index = new ExactIndex<Sample>();
      return { index, find: (smp) => index.find(smp.getStr()) };
    }
    case "beg": {
      const index = new PrefixIndex<Sample>();
      return { index, find: (smp) => index.find(smp.getStr()) };
    }
    case "ip": {
      const index = new IpIndex<Sample>((text) => parseIpPattern(text, true, NOWHERE));
      const a4 = new Uint8Array(4);
      const a6 = new Uint8Array(16);
      const find: Lookup = (smp) => {
        const s = smp.getStr();
        if (parseIpv4(s, a4)) return index.find4(ipv4Number(a4));
        return parseIpv6(s, a6) ? index.find6(a6) : undefined;
      };
      return { index, find };
    }
    default:
      return undefined;
  }
}

/** The other methods: the first entry, in the file's order, that matches. */
function listLookup(input: Input, entries: readonly PatternEntry[], values: Sample[], path: string): Lookup {
  if (input === "regm") {
    // The first key that matches, its value given the key's groups for \1...\9.
    const res = entries.map((e) => {
      try {
        return regexOf(e.key, false, NOWHERE);
      } catch (err) {
        throw atLine(e, path, err);
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
  const matchers: Matcher[] = entries.map((e) => {
    try {
      // An integer key is a number or a range, as an ACL's.
      if (input === "int") return new IntMatcher([parseRange(e.key, NOWHERE)], false);
      return buildMatcher(input, [{ id: e.id, text: e.key }], false, true, NOWHERE);
    } catch (err) {
      throw atLine(e, path, err);
    }
  });
  return (smp) => {
    for (let i = 0; i < matchers.length; i++) if (matchers[i]!.match(smp)) return values[i];
    return undefined;
  };
}

const NOWHERE = { file: "", line: 0 };

/** haproxy's value for a key that add-acl put in a map's file: the integer 1. */
const ONE = new Sample();
ONE.setInt(1);

/** An entry's value in the output's type; a ConfigError when it is none. */
function valueOf(e: PatternEntry, out: Output, path: string): Sample {
  if (e.value === undefined) return ONE;
  const v = outputValue(e.value, out);
  if (!v) throw new ConfigError(`unable to parse '${e.value}' at line ${e.line} of file '${path}'`);
  return v;
}

/**
 * The lookup over a map's entries, and its index when it has one; a ConfigError names an entry
 * that cannot be read.
 */
function buildLookup(
  input: Input,
  out: Output,
  entries: readonly PatternEntry[],
  path: string,
): { find: Lookup; index?: IndexedLookup["index"] } {
  const values = entries.map((e) => valueOf(e, out, path));
  const indexed = indexedLookup(input);
  if (!indexed) return { find: listLookup(input, entries, values, path) };
  const keys = entries.map((e) => {
    try {
      return indexed.index.keyOf(e.key);
    } catch (err) {
      throw atLine(e, path, err);
    }
  });
  entries.forEach((e, i) => indexed.index.add(keys[i], e.id, values[i]!));
  return indexed;
}

interface LoadedMap {
  lookup: Lookup;
  fallback: Sample | undefined;
}

/**
 * Loads a map for a converter; haproxy's reason (an "invalid args" one) when it cannot. Its lookup
 * follows the changes of the file's entries (set-map, del-map...): in place for an indexed one.
 */
function loadMap(input: Input, out: Output, args: Arg[]): LoadedMap {
  const path = String(args[0]);
  const ref = patternRef(path, true);
  const built = buildLookup(input, out, ref.entries, path);
  const fallback = args[1] === undefined ? undefined : outputValue(args[1], out);
  // An integer default was read as one with the arguments; an address is read here.
  if (args[1] !== undefined && !fallback)
    throw new ConfigError(`map: cannot parse default ip <${String(args[1])}>.`);
  const map: LoadedMap = { lookup: built.find, fallback };
  const index = built.index;
  ref.read((change) => {
    if (index) return prepareChange(index, change, (e) => valueOf(e, out, path));
    const next = buildLookup(input, out, change.after(), path).find;
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
