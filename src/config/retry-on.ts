// retry-on: the failures after which a request is sent again (to the same server, or another with
// option redispatch), as long as `retries` allows. Kept as bits, tested once per failure.

/** One bit per failure kind; the statuses' bits follow. */
export const enum RetryOn {
  /** The connection failed: nothing of the request left. haproxy's default. */
  ConnFailure = 1,
  /** The server closed (or reset) before a whole response head. */
  EmptyResponse = 2,
  /** The server's response head was malformed. */
  JunkResponse = 4,
  /** timeout server lapsed before a response head. */
  ResponseTimeout = 8,
  /** TLS early data refused: Sluice speaks no TLS to servers, so it never happens. */
  ZeroRttRejected = 16,
}

/** The statuses a response may be retried on, in haproxy 2.6's list; each has a bit from 32 on. */
const STATUSES = [401, 403, 404, 408, 425, 500, 501, 502, 503, 504];

/** The bit of a response status, 0 for one never retried. */
export function statusBit(status: number): number {
  const i = STATUSES.indexOf(status);
  return i < 0 ? 0 : 32 << i;
}

/** The failures after the request left, for which it must be kept: all but these two. */
export const AFTER_SENDING = ~(RetryOn.ConnFailure | RetryOn.ZeroRttRejected);

const KEYWORDS = new Map<string, number>([
  ["conn-failure", RetryOn.ConnFailure],
  ["empty-response", RetryOn.EmptyResponse],
  ["junk-response", RetryOn.JunkResponse],
  ["response-timeout", RetryOn.ResponseTimeout],
  ["0rtt-rejected", RetryOn.ZeroRttRejected],
  [
    "all-retryable-errors",
    RetryOn.ConnFailure |
      RetryOn.EmptyResponse |
      RetryOn.JunkResponse |
      RetryOn.ResponseTimeout |
      RetryOn.ZeroRttRejected |
      statusBit(500) |
      statusBit(502) |
      statusBit(503) |
      statusBit(504),
  ],
  ...STATUSES.map((n): [string, number] => [String(n), statusBit(n)]),
]);

/** A `retry-on` line's words (after the keyword) as bits, or haproxy's alert. */
export function parseRetryOn(words: string[]): number | string {
  if (words.length === 0) return `'retry-on' needs at least one keyword to specify when to retry`;
  let bits = 0;
  for (const w of words) {
    // haproxy's own spelling, "keyworld" included.
    if (w === "none") {
      if (words.length > 1) return `'retry-on' 'none' keyworld only usable alone`;
      return 0;
    }
    // A status as haproxy spells it: "0503" is none.
    const bit = KEYWORDS.get(w);
    if (bit === undefined) return `'retry-on': unknown keyword '${w}'`;
    bits |= bit;
  }
  return bits;
}
