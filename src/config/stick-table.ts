// The `stick-table` keyword, read as haproxy 2.6 reads it: options in any order, a later one
// overriding an earlier one, `store` lists adding up; its refusals in haproxy's words.
import { D, DATA_NAMES, isRate, type KeyType, type StickTableSpec } from "../stick/table.js";
import { atoi } from "./c-numbers.js";
import { parseTime } from "./duration.js";
import type { Reporter } from "./server.js";
import type { Proxy, Where } from "./model.js";
import { typeName } from "./model.js";

/** haproxy's data types that Sluice does not store yet: refused by name rather than "unknown". */
const LATER_DATA = new Set(["server_id", "server_key", "server_name"]);

/** A string key's default length: 32 bytes with C's terminating NUL. */
const STRING_LEN = 31;
const BINARY_LEN = 32;

/** `size`: digits and one k, m or g suffix (powers of 1024), as haproxy's parse_size_err reads it. */
export function parseSize(text: string): number | { bad: string } {
  const m = /^(\d*)([kKmMgG]?)/.exec(text)!;
  const rest = text.slice(m[0].length);
  if (rest !== "") return { bad: rest[0]! };
  const mul = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2]!.toLowerCase()]!;
  const v = Number(m[1] || "0") * mul;
  return v >= 2 ** 32 ? { bad: text[text.length - 1]! } : v;
}

/** `stick-table type T [len N] size S [expire E] [nopurge] [store LIST]...` in a proxy. */
export function stickTableKeyword(c: Reporter & { proxy?: Proxy; words: string[]; where: Where }): void {
  const p = c.proxy;
  if (!p) return c.alert(`'stick-table' is not supported in 'defaults' section.`);
  if (p.stickTable)
    return c.alert(
      `stick-table name '${p.name}' conflicts with table declared in ${typeName(p)} '${p.name}' at ${p.stickTable.where.file}:${p.stickTable.where.line}.`,
    );
  const w = c.words;
  const fail = (m: string): void => c.alert(`stick-table: ${m}.`);
  let type: KeyType | undefined;
  let keyLen = 0;
  let size = 0;
  let expire = 0;
  let nopurge = false;
  const store: (number | undefined)[] = [];
  const arrays: StoredArrays = { gpt: 0, gpc: 0, gpcRate: 0, gpcPeriod: 0 };
  for (let i = 1; i < w.length; i++) {
    const opt = w[i]!;
    const value = w[i + 1];
    if ((opt === "size" || opt === "expire" || opt === "peers") && value === undefined)
      return fail(`missing argument after '${opt}'`);
    switch (opt) {
      case "size": {
        const v = parseSize(value!);
        if (typeof v === "object") return fail(`unexpected character '${v.bad}' in argument of 'size'`);
        size = v;
        i++;
        break;
      }
      case "expire": {
        const t = parseTime(value!, "ms", (m) => c.warning(m));
        if (t === "over")
          return c.alert(
            `stick-table: timer overflow in argument <${value}> to <expire>, maximum value is 2147483647 ms (~24.8 days).`,
            true,
          );
        if (typeof t === "object") return fail(`unexpected character '${t.bad}' in argument of 'expire'`);
        expire = t;
        i++;
        break;
      }
      case "nopurge":
        nopurge = true;
        break;
      case "type": {
        const t = value ?? "";
        i++;
        if (t === "string" || t === "binary") {
          // haproxy reads `len` with atol: no number is no type.
          if (w[i + 1] === "len") {
            const n = parseInt(w[i + 2] ?? "", 10);
            if (!(n > 0)) return fail(`unknown type '${w[i + 2] ?? ""}'`);
            keyLen = n;
            i += 2;
          } else keyLen = t === "string" ? STRING_LEN : BINARY_LEN;
        } else if (t !== "ip" && t !== "ipv6" && t !== "integer") return fail(`unknown type '${t}'`);
        type = t as KeyType;
        break;
      }
      case "store": {
        i++;
        const bad = readStore(value ?? "", store, arrays, (m) => c.warning(m, true));
        if (bad !== undefined) return fail(bad);
        break;
      }
      case "peers":
      case "srvkey":
        return c.alert(`'stick-table ... ${opt}' is not supported by sluice yet.`);
      default:
        return fail(`unknown argument '${opt}'`);
    }
  }
  if (size === 0) return fail("missing size");
  if (type === undefined) return fail("missing type");
  const spec: StickTableSpec = { name: p.name, type, keyLen, size, expire, nopurge, store, ...arrays };
  p.stickTable = { ...spec, where: c.where };
}

/** The arrays a `store` list may hold, by their elements' legacy names (which a table cannot store too). */
const ARRAYS = {
  gpt: { legacy: [D.Gpt0], shown: "gpt0" },
  gpc: { legacy: [D.Gpc0, D.Gpc1], shown: "gpc[0/1]" },
  gpc_rate: { legacy: [D.Gpc0Rate, D.Gpc1Rate], shown: "gpc[0/1]_rate" },
} as const;
type ArrayName = keyof typeof ARRAYS;
const isArray = (name: string): name is ArrayName => name in ARRAYS;

/** A table's arrays as a `store` list gives them: their elements (0: not stored), gpc_rate's period. */
export type StoredArrays = Pick<StickTableSpec, "gpt" | "gpc" | "gpcRate" | "gpcPeriod">;

/**
 * One `store` word: data types separated by commas, an argument in parentheses, as haproxy reads
 * them: a comma in parentheses starts a second argument (the last one counts), another pair of
 * parentheses replaces the first argument, and what follows a closing one up to a comma is ignored.
 */
function readStore(
  list: string,
  store: (number | undefined)[],
  arrays: StoredArrays,
  warn: (m: string) => void,
): string | undefined {
  let i = 0;
  // An empty word stores nothing; a trailing comma is no empty element.
  while (i < list.length) {
    let j = i;
    while (j < list.length && list[j] !== "," && list[j] !== "(") j++;
    const name = list.slice(i, j);
    let arg: string | undefined;
    let arg2: string | undefined;
    while (j < list.length && list[j] !== ",") {
      if (list[j] !== "(") {
        j++;
        continue;
      }
      const close = list.indexOf(")", j);
      if (close < 0) return `missing closing parenthesis after store option '${name}'`;
      const parts = list.slice(j + 1, close).split(",");
      arg = parts[0];
      if (parts.length > 1) arg2 = parts[parts.length - 1];
      j = close + 1;
    }
    i = j + 1;
    const bad = isArray(name)
      ? storeArray(name, arg, arg2, store, arrays, warn)
      : storeOne(name, arg, store, arrays, warn);
    if (bad !== undefined) return bad;
  }
  return undefined;
}

/** A data type that is no array: a rate takes its period, any other type nothing. */
function storeOne(
  name: string,
  arg: string | undefined,
  store: (number | undefined)[],
  arrays: StoredArrays,
  warn: (m: string) => void,
): string | undefined {
  if (LATER_DATA.has(name)) return `store option '${name}' is not supported by sluice yet`;
  const d = DATA_NAMES.indexOf(name);
  if (d < 0) return `unknown store option '${name}'`;
  if (store[d] !== undefined) return alreadyEnabled(name, warn);
  let period = 0;
  if (isRate(d)) {
    if (arg === undefined) return `missing argument to store option '${name}'`;
    const t = parseTime(arg, "ms");
    if (typeof t !== "number") return `error when processing store option '${name}'`;
    period = t;
  } else if (arg !== undefined) return `unexpected argument to store option '${name}'`;
  const array = (Object.keys(ARRAYS) as ArrayName[]).find((a) => ARRAYS[a].legacy.some((l) => l === d));
  if (array !== undefined && arrays[ARRAY_FIELD[array]] > 0) return overrides(array);
  store[d] = period;
  return undefined;
}

function alreadyEnabled(name: string, warn: (m: string) => void): undefined {
  warn(`stick-table: store option '${name}' already enabled, ignored.`);
  return undefined;
}

const ARRAY_FIELD = { gpt: "gpt", gpc: "gpc", gpc_rate: "gpcRate" } as const;

const overrides = (a: ArrayName): string =>
  `simultaneous usage of '${a}' and '${ARRAYS[a].shown}' in a same table is not permitted as '${a}' overrides '${ARRAYS[a].shown}'`;

/** gpt(N), gpc(N) or gpc_rate(N,P): 1 to 100 elements (read as atoi reads them), gpc_rate's period. */
function storeArray(
  name: ArrayName,
  arg: string | undefined,
  arg2: string | undefined,
  store: (number | undefined)[],
  arrays: StoredArrays,
  warn: (m: string) => void,
): string | undefined {
  const field = ARRAY_FIELD[name];
  if (arrays[field] > 0) return alreadyEnabled(name, warn);
  if (arg === undefined) return `missing argument to store option '${name}'`;
  const n = atoi(arg);
  if (n < 1 || n > MAX_ELEMENTS)
    return `array size is out of allowed range (1-${MAX_ELEMENTS}) for store option '${name}'`;
  if (name === "gpc_rate") {
    if (arg2 === undefined) return `missing argument to store option '${name}'`;
    const t = parseTime(arg2, "ms");
    if (typeof t !== "number") return `error when processing store option '${name}'`;
    arrays.gpcPeriod = t;
  } else if (arg2 !== undefined) return `unexpected argument to store option '${name}'`;
  if (ARRAYS[name].legacy.some((d) => store[d] !== undefined)) return overrides(name);
  arrays[field] = n;
  return undefined;
}

/** haproxy's limit, so that a peers message holds a whole array. */
const MAX_ELEMENTS = 100;
