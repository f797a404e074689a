// A log-format argument of an http rule (a header's value, a replacement, a path, a method, a
// redirect's target): literal text, `%%` for a percent sign, and `%[fetch,converter...]` sample
// expressions evaluated for each request; a sample that is not there adds nothing. haproxy's log
// variables (`%ci`, `%{+Q}...`) are refused: sluice does not evaluate them yet.
import type { SampleContext } from "./context.js";
import { fetchReason, parseFetch, type FetchUse, type ParsedFetch } from "./fetch.js";
import { ConfigError } from "../config/errors.js";
import { Sample } from "./sample.js";

/** A compiled log-format: its text when it has no expression, else what builds it for a request. */
export type LogFormat = string | ((ctx: SampleContext) => string);

type Part = string | { first(ctx: SampleContext, smp: Sample): boolean };

/**
 * Compiles `fmt` for a rule on the request's side or the response's; `fail` gets haproxy's reason
 * for refusing it.
 */
export function compileLogFormat(
  fmt: string,
  side: "request" | "response",
  fail: (message: string) => never,
): LogFormat {
  const parts: Part[] = [];
  let text = "";
  for (let i = 0; i < fmt.length; i++) {
    const c = fmt[i]!;
    if (c !== "%") {
      text += c;
      continue;
    }
    const next = fmt[i + 1];
    if (next === undefined) fail(`truncated line after '%'`);
    if (next === "%") {
      text += "%";
      i++;
      continue;
    }
    if (next !== "[")
      fail(
        `log-format variable '${fmt.slice(i).replace(/^(%\{[^}]*\}|%)([A-Za-z]*).*$/s, "$1$2")}' is not supported by sluice yet; only %[...] sample expressions and %% are`,
      );
    const rest = fmt.slice(i + 2);
    // As a sample fetch (not an ACL keyword), hdr reads the headers of the message at hand.
    const sample = sampleExpression(rest, side === "response");
    if (typeof sample === "string") fail(sample);
    const use = sample.parsed.kw.use;
    if ((side === "request" && use === "res") || (side === "response" && use === "req"))
      fail(unavailable(rest, use));
    if (sample.unclosed !== undefined) fail(sample.unclosed);
    if (text !== "") parts.push(text);
    text = "";
    parts.push(sample.parsed.impl);
    i += 2 + sample.close;
  }
  if (parts.length === 0) return text;
  if (text !== "") parts.push(text);
  const smp = new Sample();
  return (ctx) => {
    let out = "";
    for (const p of parts) out += typeof p === "string" ? p : p.first(ctx, smp) ? smp.getStr() : "";
    return out;
  };
}

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
};

/** What haproxy calls a sample's source in its messages. */
export const sourceName = (use: FetchUse): string | undefined => SOURCE[use];

/** haproxy's refusal of a sample whose source a format cannot reach. */
export const unavailable = (rest: string, use: FetchUse): string =>
  `sample fetch <${rest}> may not be reliably used here because it needs '${SOURCE[use]}' which is not available here`;

/** A compiled log-format's text for this request. */
export const formatFor = (f: LogFormat, ctx: SampleContext): string => (typeof f === "string" ? f : f(ctx));
