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
    const close = fmt.indexOf("]", i + 2);
    if (close < 0) fail(`missing ']' after '${rest}'`);
    let expr = fmt.slice(i + 2, close);
    // As a sample fetch (not an ACL keyword), hdr reads the headers of the message at hand.
    if (side === "response") expr = expr.replace(/^hdr(?=\(|,|$)/, "res.hdr");
    const parsed = sampleExpression(expr, rest);
    if (typeof parsed === "string") fail(parsed);
    const use = parsed.kw.use;
    if ((side === "request" && use === "res") || (side === "response" && use === "req"))
      fail(unavailable(rest, use));
    if (text !== "") parts.push(text);
    text = "";
    parts.push(parsed.impl);
    i = close;
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
 * A `%[...]` expression (`rest`: the format from it on, as haproxy's messages quote it): the fetch
 * and its converters, or haproxy's reason for refusing it.
 */
export function sampleExpression(expr: string, rest: string): ParsedFetch | string {
  const why = (m: string): string => `failed to parse sample expression <${rest}> : ${m}`;
  if (expr === "") return why("missing fetch method");
  try {
    return parseFetch(expr, { file: "", line: 0 }, false);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    return why(fetchReason(e.message));
  }
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
