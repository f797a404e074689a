// Numbers read as haproxy's C reads them, for the keywords where its leniency shows: atol takes
// what digits there are (`200x` is 200, `abc` 0), strtol with base 0 also hex and octal.

/** atol: leading blanks, a sign and decimal digits; 0 without any. */
export const atol = (s: string): number => Number(/^\s*[+-]?\d+/.exec(s)?.[0] ?? 0);

/** atoi: atol cut to a C int, as it wraps. */
export const atoi = (s: string): number => atol(s) | 0;

/** strtol(s, &end, 10): leading blanks, a sign and decimal digits; 0 and end 0 without any. */
export function strtol10(s: string): { value: number; end: number } {
  const m = /^\s*[+-]?\d+/.exec(s);
  return m ? { value: Number(m[0]), end: m[0].length } : { value: 0, end: 0 };
}

/** strtol(s, &end, 0): leading blanks, a sign, then hex (0x), octal (0) or decimal digits; 0 and end 0 without any. */
export function strtol0(s: string): { value: number; end: number } {
  const m = /^\s*([+-]?)(?:0[xX]([0-9a-fA-F]+)|(0[0-7]*)|([1-9]\d*))/.exec(s);
  if (!m) return { value: 0, end: 0 };
  const v = m[2] !== undefined ? parseInt(m[2], 16) : m[3] !== undefined ? parseInt(m[3], 8) : Number(m[4]);
  return { value: m[1] === "-" ? -v : v, end: m[0].length };
}
