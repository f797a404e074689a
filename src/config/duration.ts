// haproxy's time values: digits and an optional unit (us, ms, s, m, h, d), read as its
// parse_time_err reads them; what follows a known unit is warned about and ignored.

/** haproxy keeps timers in a signed 32-bit count. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** Each unit in microseconds, exact. */
const MICROS: Record<string, bigint> = {
  us: 1n,
  ms: 1000n,
  s: 1_000_000n,
  m: 60_000_000n,
  h: 3_600_000_000n,
  d: 86_400_000_000n,
};

/**
 * A count of `unit` (rounded up; a bare number is already one), "over" past 2^31 - 1, or the
 * character that cannot be read. `warn` hears of characters after the unit.
 */
export function parseTime(
  text: string,
  unit: "ms" | "s",
  warn?: (message: string) => void,
): number | "over" | { bad: string } {
  const m = /^(\d+)(us|ms|m|s|h|d)?/.exec(text);
  if (!m) return { bad: text[0] ?? "" };
  const rest = text.slice(m[0].length);
  if (m[2] === undefined && rest !== "") return { bad: rest[0]! };
  if (rest !== "")
    warn?.(
      `unexpected character '${rest[0]}' after the timer value '${text}', only (us=microseconds,ms=milliseconds,s=seconds,m=minutes,h=hours,d=days) are supported. This will be reported as an error in next versions.`,
    );
  const n = BigInt(m[1]!);
  const to = MICROS[unit]!;
  const v = m[2] === undefined ? n : (n * MICROS[m[2]]! + to - 1n) / to;
  return v > BigInt(MAX_TIMER_MS) ? "over" : Number(v);
}

/** Milliseconds, or a string saying what is wrong (haproxy's wording where it has one). */
export function parseDuration(text: string, warn?: (message: string) => void): number | string {
  const t = parseTime(text, "ms", warn);
  if (t === "over")
    return `timer overflow in argument '${text}' (maximum value is 2147483647 ms or ~24.8 days)`;
  if (typeof t === "object") return `unexpected character '${t.bad}' in time value '${text}'`;
  return t;
}
