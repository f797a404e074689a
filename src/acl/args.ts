// The arguments between a sample fetch's or a converter's parentheses, read as haproxy's argument
// parser reads them: commas and the closing parenthesis end an argument unless quoted ('...' or
// "..."), a backslash protects a quote, a blank or itself and makes \r, \n and \t, and each argument
// is then taken as its type says.

import { readWholeInt } from "./sample.js";
import { parseMask4, parseMask6 } from "./ip.js";

/** A string, an integer, a netmask (kept as its text once checked), or a stick table's name. */
export type ArgType = "str" | "int" | "msk4" | "msk6" | "tbl";
export type Arg = string | number;

const TYPE_NAME: Record<ArgType, string> = {
  str: "string",
  int: "integer",
  msk4: "IPv4 mask",
  msk6: "IPv6 mask",
  tbl: "table",
};
const mask = new Uint8Array(16);

/** The arguments and where the text after them starts, or haproxy's reason and the argument it names. */
export type ArgsRead = { args: Arg[]; end: number } | { error: string; pos: number };

/**
 * Reads the arguments of `types` (the first `min` mandatory) from `src` at `at`: a `(` there opens
 * them; without one there are none, unless some are mandatory (then one empty argument is read).
 */
export function readArgs(src: string, at: number, types: ArgType[], min: number): ArgsRead {
  const empty = src[at] !== "(";
  let i = empty ? at : at + 1;
  // Without parentheses there is nothing more to read.
  const limit = empty ? at : src.length;
  const args: Arg[] = [];
  let pos = 0;
  if (types.length > 0 && !(empty && min === 0)) {
    while (pos < types.length) {
      let word = "";
      let squote = false;
      let dquote = false;
      for (; i < limit; i++) {
        const c = src[i]!;
        if (c === '"' && !squote) dquote = !dquote;
        else if (c === "'" && !dquote) squote = !squote;
        else if (c === "\\" && !squote && i + 1 < limit) {
          const n = src[i + 1]!;
          const esc =
            n === "r" ? "\r" : n === "n" ? "\n" : n === "t" ? "\t" : "\\ \"'".includes(n) ? n : undefined;
          if (esc === undefined) word += c;
          else {
            word += esc;
            i++;
          }
        } else if (!squote && !dquote && (c === "," || c === ")")) break;
        else word += c;
      }
      const type = types[pos]!;
      if (type !== "str" && type !== "tbl" && word === "") {
        // An empty number ends the list when the mandatory ones are there, itself a 0 (none at all
        // for empty parentheses).
        if (pos >= min) {
          if (pos > 0 && type === "int") args.push(0);
          break;
        }
        return { error: `expected type '${TYPE_NAME[type]}' at position ${pos + 1}, but got nothing`, pos };
      }
      const n = type === "int" ? readWholeInt(word) : undefined;
      const bad =
        (type === "int" && n === undefined) ||
        (type === "msk4" && !parseMask4(word, mask)) ||
        (type === "msk6" && !parseMask6(word, mask));
      if (bad)
        return {
          error: `failed to parse '${word}' as type '${TYPE_NAME[type]}' at position ${pos + 1}`,
          pos,
        };
      args.push(n ?? word);
      pos++;
      if (i >= limit || src[i] === ")" || pos >= types.length) break;
      i++;
    }
  }
  if (pos < min)
    return { error: `missing arguments (got ${pos}/${min}), type '${TYPE_NAME[types[pos]!]}' expected`, pos };
  if (empty) return { args, end: at };
  if (src[i] === ")") return { args, end: i + 1 };
  const rest = src.slice(i);
  // The empty part before a missing parenthesis made one argument more.
  return { error: rest ? `expected ')' before '${rest}'` : `expected ')'`, pos: pos > 1 ? pos - 1 : pos };
}
