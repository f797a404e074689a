// haproxy's time values: a number with an optional unit (us, ms, s, m, h, d); a bare number is ms.

const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** haproxy keeps timers in a signed 32-bit millisecond count. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** Milliseconds, or a string saying what is wrong (haproxy's wording where it has one). */
export function parseDuration(text: string, defaultUnit = "ms"): number | string {
  const m = /^(\d+)([a-z]*)$/.exec(text);
  if (!m) return `unexpected character '${firstBad(text)}' in time value '${text}'`;
  const unit = m[2] === "" ? defaultUnit : m[2]!;
  const scale = UNIT_MS[unit];
  if (scale === undefined) return `unexpected character '${m[2]![0]}' in time value '${text}'`;
  const ms = Math.ceil(Number(m[1]) * scale);
  if (ms > MAX_TIMER_MS)
    return `timer overflow in argument '${text}' (maximum value is 2147483647 ms or ~24.8 days)`;
  return ms;
}

function firstBad(text: string): string {
  const m = /[^0-9]/.exec(text);
  return m ? m[0] : text.slice(0, 1);
}
