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
