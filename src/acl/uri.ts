// Pieces of a request-target, as haproxy's http_get_path and friends cut them.

/** Start of the path in a request-target, or -1 ("*", authority-form, "http://host" without a path). */
export function pathStart(uri: string): number {
  if (uri.length === 0) return -1;
  const c = uri.charCodeAt(0);
  if (c === 47) return 0;
  if (c === 42) return -1;
  const sch = uri.indexOf("://");
  if (sch < 0) return -1;
  const slash = uri.indexOf("/", sch + 3);
  return slash;
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
  let start = 0;
  if (isAlpha(c)) {
    let p = 1;
    while (p < uri.length && isSchemeChar(uri.charCodeAt(p))) p++;
    if (uri.startsWith("://", p)) start = p + 3;
  }
  let from = start;
  let end = start;
  for (; end < uri.length && uri.charCodeAt(end) !== 47; end++)
    if (uri.charCodeAt(end) === 64) from = end + 1;
  return [from, end];
}

const isAlpha = (c: number): boolean => (c | 0x20) >= 97 && (c | 0x20) <= 122;
const isSchemeChar = (c: number): boolean =>
  isAlpha(c) || (c >= 48 && c <= 57) || c === 43 || c === 45 || c === 46;
