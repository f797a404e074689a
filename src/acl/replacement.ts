// haproxy's regexes in rules and converters: their check as they are read, and the template of a
// replace-* rule or of regsub, filled from a match.

/** haproxy's words for a regex that cannot be compiled (the reason the engine's: haproxy's are PCRE's). */
export function invalidRegex(re: string): string | undefined {
  try {
    new RegExp(re);
    return undefined;
  } catch (e) {
    return `regex '${re}' is invalid (${(e as Error).message})`;
  }
}

/**
 * A regex replacement (replace-* rules, the regsub converter), expanded as haproxy does: `\N` is the match's group N (nothing when
 * it took no part), `\xHH` the byte HH, and `\c` any other c.
 */
export function expandReplacement(template: string, m: RegExpExecArray): string {
  let out = "";
  for (let i = 0; i < template.length; i++) {
    const c = template[i]!;
    if (c !== "\\" || i + 1 === template.length) {
      out += c;
      continue;
    }
    const next = template[++i]!;
    if (next >= "0" && next <= "9") out += m[Number(next)] ?? "";
    else if (next === "x" && /^[0-9a-fA-F]{2}$/.test(template.slice(i + 1, i + 3))) {
      out += String.fromCharCode(parseInt(template.slice(i + 1, i + 3), 16));
      i += 2;
    } else out += next;
  }
  return out;
}
