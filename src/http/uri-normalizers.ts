// `http-request normalize-uri`: haproxy 2.6's normalizers, each on its part of a request-target.
import type { NormalizeUri } from "../config/model.js";
import { pathStart } from "../acl/uri.js";

/**
 * The request-target once `n` normalized it (the same string when it had nothing to change, or no
 * path: "*", "http://h", authority-form), or the status haproxy answers instead: 400 for a
 * malformed `%XX` under `strict`, 500 for a query of more parameters than it has room to sort. The
 * dot-segment and slash normalizers see the path up to its first `?`; the percent and fragment
 * ones the path and the query (a `#` is one of their characters); query-sort-by-name what follows
 * the first `?`.
 */
export function normalizedTarget(n: NormalizeUri, uri: string): string | 400 | 500 {
  const start = pathStart(uri);
  if (start < 0) return uri;
  const q = uri.indexOf("?", start);
  const pathEnd = q < 0 ? uri.length : q;
  const path = (f: (p: string) => string): string =>
    uri.slice(0, start) + f(uri.slice(start, pathEnd)) + uri.slice(pathEnd);
  const pathq = (f: (p: string) => string | undefined): string | 400 => {
    const out = f(uri.slice(start));
    return out === undefined ? 400 : uri.slice(0, start) + out;
  };
  switch (n.normalizer) {
    case "path-strip-dot":
      return path(stripDot);
    case "path-strip-dotdot":
      return path((p) => stripDotdot(p, n.full));
    case "path-merge-slashes":
      return path((p) => p.replace(SLASHES, "/"));
    case "percent-decode-unreserved":
      return pathq((p) => percentDecodeUnreserved(p, n.strict));
    case "percent-to-uppercase":
      return pathq((p) => percentToUppercase(p, n.strict));
    case "fragment-strip":
      return pathq((p) => {
        const hash = p.indexOf("#");
        return hash < 0 ? p : p.slice(0, hash);
      });
    case "fragment-encode":
      return pathq((p) => p.replace(HASHES, "%23"));
    case "query-sort-by-name": {
      const sorted = q < 0 ? "" : sortQuery(uri.slice(q + 1), n.maxParams);
      return sorted === undefined ? 500 : q < 0 ? uri : uri.slice(0, q + 1) + sorted;
    }
  }
}

const SLASHES = /\/{2,}/g;
const HASHES = /#/g;

/** A path without its `.` segments; one at the end leaves its slash (`/a/.` is `/a/`). */
function stripDot(path: string): string {
  const segments = path.split("/");
  const out = [""];
  for (let i = 1; i < segments.length; i++) {
    if (segments[i] !== ".") out.push(segments[i]!);
    else if (i === segments.length - 1) out.push("");
  }
  return out.join("/");
}

/**
 * A path whose `..` segments took their parent segment (an empty one too) away with them; a `..` at
 * the end stands for a directory (`/a/b/..` is `/a/`). A `..` with no parent left stays, or with
 * `full` goes.
 */
function stripDotdot(path: string, full: boolean): string {
  const segments = path.slice(1).split("/");
  if (segments[segments.length - 1] === "..") segments.push("");
  const out: string[] = [];
  // The `..` kept at the start, which no later `..` may take away.
  let kept = 0;
  for (const s of segments) {
    if (s !== "..") out.push(s);
    else if (out.length > kept) out.pop();
    else if (!full) kept = out.push("..");
  }
  return "/" + out.join("/");
}

const hexValue = (c: number): number =>
  c >= 48 && c <= 57 ? c - 48 : c >= 65 && c <= 70 ? c - 55 : c >= 97 && c <= 102 ? c - 87 : -1;

/** RFC 3986's unreserved characters: letters, digits, `-`, `.`, `_` and `~`. */
const isUnreserved = (c: number): boolean =>
  (c >= 65 && c <= 90) ||
  (c >= 97 && c <= 122) ||
  (c >= 48 && c <= 57) ||
  c === 45 ||
  c === 46 ||
  c === 95 ||
  c === 126;

/**
 * Each `%XX` of `text` rewritten by `f` (its byte, and the sequence as written); a `%` without two
 * hex digits after it is kept, the scan going on right after it, or with `strict` makes undefined.
 */
function eachPercent(
  text: string,
  strict: boolean,
  f: (byte: number, seq: string) => string,
): string | undefined {
  let out = "";
  let from = 0;
  for (let at = text.indexOf("%"); at >= 0; at = text.indexOf("%", at)) {
    const hi = hexValue(text.charCodeAt(at + 1));
    const lo = hexValue(text.charCodeAt(at + 2));
    if (hi < 0 || lo < 0) {
      if (strict) return undefined;
      at++;
      continue;
    }
    out += text.slice(from, at) + f(hi * 16 + lo, text.slice(at, at + 3));
    from = at += 3;
  }
  return from === 0 ? text : out + text.slice(from);
}

const percentDecodeUnreserved = (text: string, strict: boolean): string | undefined =>
  eachPercent(text, strict, (byte, seq) => (isUnreserved(byte) ? String.fromCharCode(byte) : seq));

const percentToUppercase = (text: string, strict: boolean): string | undefined =>
  eachPercent(text, strict, (_byte, seq) => seq.toUpperCase());

/**
 * The query's `&`-separated parameters in the order of their names (what comes before a `=`),
 * compared byte by byte, a name before the longer ones it begins; parameters of the same name keep
 * their order. A `&` at the end separates nothing: it goes. Undefined past `maxParams`.
 */
function sortQuery(query: string, maxParams: number): string | undefined {
  const params = query.split("&");
  if (params[params.length - 1] === "") params.pop();
  if (params.length > maxParams) return undefined;
  const name = (p: string): string => {
    const eq = p.indexOf("=");
    return eq < 0 ? p : p.slice(0, eq);
  };
  // Array.prototype.sort is stable.
  return params
    .sort((a, b) => {
      const x = name(a);
      const y = name(b);
      return x < y ? -1 : x > y ? 1 : 0;
    })
    .join("&");
}
