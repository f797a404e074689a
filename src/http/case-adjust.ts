// h1-case-adjust: the case some header names leave with, for peers that read names case-sensitively
// (`option h1-case-adjust-bogus-client` on a frontend, `-bogus-server` on a backend). haproxy sends
// every other name in lower case; Sluice sends it as it came.
import { readFileSync } from "node:fs";
import { COLON, CR, LF } from "./chars.js";

/** A lower-case header name and the name it leaves as; the two differ only in case. */
export type CaseMap = ReadonlyMap<string, string>;

/**
 * `bytes` with the names of its head's header lines (up to the blank line) in the case `cases` gives:
 * a copy when any changes, else `bytes` itself. The head's lines end in CRLF, as Sluice sends them.
 */
export function adjustCase(bytes: Buffer, cases: CaseMap): Buffer {
  let out: Buffer | undefined;
  let p = bytes.indexOf(LF) + 1;
  while (p > 0 && p < bytes.length && bytes[p] !== CR) {
    const end = bytes.indexOf(LF, p);
    const colon = bytes.indexOf(COLON, p);
    if (end < 0 || colon < 0 || colon > end) break;
    const to = cases.get(bytes.toString("latin1", p, colon).toLowerCase());
    if (to !== undefined) (out ??= Buffer.from(bytes)).write(to, p, "latin1");
    p = end + 1;
  }
  return out ?? bytes;
}

/**
 * Adds `from` → `to` to `cases`: the problem as haproxy words it, or undefined. A `from` with upper-case
 * letters is kept, and never matches, as in haproxy.
 */
export function addCase(cases: Map<string, string>, from: string, to: string): string | undefined {
  if (from.toLowerCase() !== to.toLowerCase()) return "<from> and <to> must not differ execpt the case";
  if (cases.has(from)) return `duplicate entry '${from}'`;
  cases.set(from, to);
  return undefined;
}

/** h1-case-adjust-file: two names a line, '#' comments and blank lines skipped. Throws haproxy's message. */
export function readCaseFile(path: string, cases: Map<string, string>): void {
  let text: string;
  try {
    text = readFileSync(path, "latin1");
  } catch {
    throw new Error(`h1-headers-case-adjust-file '${path}': failed to open file.`);
  }
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === "" || line.startsWith("#")) continue;
    // The first word, and the rest of the line (haproxy does not split it further).
    const blank = line.search(/[ \t]/);
    const from = blank < 0 ? line : line.slice(0, blank);
    const to = blank < 0 ? "" : line.slice(blank).trim();
    if (to === "") throw new Error(`h1-headers-case-adjust-file '${path}' : expect <to> at line ${i + 1}.`);
    const problem = addCase(cases, from, to);
    if (problem) throw new Error(`h1-headers-case-adjust-file '${path}' : ${problem} at line ${i + 1}.`);
  }
}
