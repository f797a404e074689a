// Pieces of a request-target, as haproxy's http_get_path and friends cut them.

/**
 * Start of the path in a request-target, as haproxy's http_parse_path finds it, or -1: none in "*",
 * in a target without a scheme (authority-form), nor in "http://host" or "http://host?q".
 */
export function pathStart(uri: string): number {
  if (uri.length === 0) return -1;
  const c = uri.charCodeAt(0);
  if (c === 47) return 0;
  if (c === 42) return -1;
  const start = afterScheme(uri);
  return start === 0 ? -1 : uri.indexOf("/", start);
}

/** End of the path: the first '?' after start, or the end. */
export function pathEnd(uri: string, start: number): number {
  const q = uri.indexOf("?", start);
  return q < 0 ? uri.length : q;
}

/** The path part of a request-target, or undefined. */
export function uriPath(uri: string): string | undefined {
  const s = pathStart(uri);
  if (s < 0) return undefined;
  return uri.slice(s, pathEnd(uri, s));
}

/**
 * Where a request-target's authority is, as haproxy's http_parse_authority finds it: none in "*",
 * an origin-form or an empty target; else after a scheme's "://" when there is one, up to the first
 * "/", past any userinfo.
 */
export function authorityRange(uri: string): [number, number] | undefined {
  const c = uri.charCodeAt(0);
  if (uri.length === 0 || c === 47 || c === 42) return undefined;
  const start = afterScheme(uri);
  let from = start;
  let end = start;
  for (; end < uri.length && uri.charCodeAt(end) !== 47; end++)
    if (uri.charCodeAt(end) === 64) from = end + 1;
  return [from, end];
}

/** Just past a target's `scheme://` (a letter, then letters, digits, "+", "-" or "."), or 0 without one. */
function afterScheme(uri: string): number {
  if (!isAlpha(uri.charCodeAt(0))) return 0;
  let p = 1;
  while (p < uri.length && isSchemeChar(uri.charCodeAt(p))) p++;
  return uri.startsWith("://", p) ? p + 3 : 0;
}

const isAlpha = (c: number): boolean => (c | 0x20) >= 97 && (c | 0x20) <= 122;
const isSchemeChar = (c: number): boolean =>
  isAlpha(c) || (c >= 48 && c <= 57) || c === 43 || c === 45 || c === 46;

/** Where the value urlParam found last ends: uri[start, urlParamEnd.at). */
export const urlParamEnd = { at: 0 };

/**
 * haproxy's http_find_next_url_param: the next parameter named `name` (any, with an empty name)
 * from `pos` on, `pos` being just past the target's first `delim` to start with (a '?' unless
 * url_param names another); parameters are separated by '&', ';' or `delim`. Returns where its value
 * starts, and sets urlParamEnd, where a walk goes on from; -1 when there is none.
 */
export function urlParam(uri: string, pos: number, name: string, delim: number): number {
  const end = uri.length;
  const isDelim = (c: number): boolean => c === 38 || c === 59 || c === delim;
  let value: number;
  if (name === "") {
    const eq = pos < end ? uri.indexOf("=", pos) : -1;
    if (eq < 0) return -1;
    value = eq + 1;
  } else {
    for (;;) {
      if (pos >= end || pos + name.length >= end) return -1;
      if (uri.charCodeAt(pos + name.length) === 61) {
        if (uri.startsWith(name, pos)) break;
        pos += name.length + 1;
      }
      while (pos < end && !isDelim(uri.charCodeAt(pos))) pos++;
      if (pos >= end) return -1;
      pos++;
    }
    value = pos + name.length + 1;
  }
  let ve = value;
  while (ve < end && !isDelim(uri.charCodeAt(ve))) ve++;
  urlParamEnd.at = ve;
  return value;
}

/** Where url_param's parameters start: past the target's first `delim`, or -1 without one. */
export function urlParamsStart(uri: string, delim: number): number {
  const d = uri.indexOf(String.fromCharCode(delim));
  return d < 0 ? -1 : d + 1;
}
