// A `%[...]` sample expression inside a log-format string, as haproxy reads it, and haproxy's words
// for a sample a format cannot reach.
import { fetchReason, parseFetch, type FetchUse, type ParsedFetch } from "./fetch.js";
import { ConfigError } from "../config/errors.js";

/**
 * The `%[...]` expression that `rest` (a format from after its `%[`) starts with: the fetch and its
 * converters, and where its `]` is; or haproxy's reason for refusing it. As in haproxy, the
 * expression ends where its last term does, and a `]` must follow: `unclosed` says why there is
 * none, which haproxy reports after its checks of the sample. `responseSide`: `hdr` is the
 * response's.
 */
export function sampleExpression(
  rest: string,
  responseSide = false,
): { parsed: ParsedFetch; close: number; unclosed?: string } | string {
  let parsed: ParsedFetch;
  try {
    parsed = parseFetch(rest, { file: "", line: 0 }, false, { open: true, responseSide });
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    return `failed to parse sample expression <${rest}> : ${fetchReason(e.message)}`;
  }
  const close = parsed.end;
  const c = close < rest.length ? rest[close]! : undefined;
  if (c === "]") return { parsed, close };
  const unclosed =
    c !== undefined && c >= " " && c <= "~"
      ? `expected ']' after '${rest.slice(0, close)}', but found '${c}'`
      : `missing ']' after '${rest}'`;
  return { parsed, close, unclosed };
}

/** What a sample's source is called when a format cannot use it. */
const SOURCE: Partial<Record<FetchUse, string>> = {
  req: "HTTP request headers",
  res: "HTTP response headers",
  buffer: "request buffer",
  be: "backend",
  srv: "server",
  srvconn: "server address",
};

/** What haproxy calls a sample's source in its messages. */
export const sourceName = (use: FetchUse): string | undefined => SOURCE[use];

/** haproxy's refusal of a sample whose source a format cannot reach. */
export const unavailable = (rest: string, use: FetchUse): string =>
  `sample fetch <${rest}> may not be reliably used here because it needs '${SOURCE[use]}' which is not available here`;
