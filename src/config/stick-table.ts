// The `stick-table` keyword, read as haproxy 2.6 reads it: options in any order, a later one
// overriding an earlier one, `store` lists adding up; its refusals in haproxy's words.
import { DATA_NAMES, isRate, type KeyType, type StickTableSpec } from "../stick/table.js";
import { parseTime } from "./duration.js";
import type { Reporter } from "./server.js";
import type { Proxy, Where } from "./model.js";
import { typeName } from "./model.js";

/** haproxy's data types that Sluice does not store yet: refused by name rather than "unknown". */
const LATER_DATA = new Set(["server_id", "server_key", "server_name", "gpt", "gpc", "gpc_rate"]);

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
        const bad = readStore(value ?? "", store, (m) => c.warning(m, true));
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
  const spec: StickTableSpec = { name: p.name, type, keyLen, size, expire, nopurge, store };
  p.stickTable = { ...spec, where: c.where };
}

/** One `store` word: data types separated by commas, a rate with its period in parentheses. */
function readStore(
  list: string,
  store: (number | undefined)[],
  warn: (m: string) => void,
): string | undefined {
  let i = 0;
  // An empty word stores nothing; a trailing comma is no empty element.
  while (i < list.length) {
    let j = i;
    while (j < list.length && list[j] !== "," && list[j] !== "(") j++;
    const name = list.slice(i, j);
    let arg: string | undefined;
    if (list[j] === "(") {
      const close = list.indexOf(")", j);
      if (close < 0) return `missing closing parenthesis after store option '${name}'`;
      arg = list.slice(j + 1, close);
      j = close + 1;
    }
    i = j + 1;
    if (LATER_DATA.has(name)) return `store option '${name}' is not supported by sluice yet`;
    const d = DATA_NAMES.indexOf(name);
    if (d < 0) return `unknown store option '${name}'`;
    let period = 0;
    if (isRate(d)) {
      if (arg === undefined) return `missing argument to store option '${name}'`;
      const t = parseTime(arg, "ms");
      if (typeof t !== "number") return `error when processing store option '${name}'`;
      period = t;
    } else if (arg !== undefined) return `unexpected argument to store option '${name}'`;
    if (store[d] !== undefined) warn(`stick-table: store option '${name}' already enabled, ignored.`);
    else store[d] = period;
  }
  return undefined;
}
