// What haproxy 2.6's request hashing algorithms hash: part of the URI (balance uri), a query-string
// parameter's value (balance url_param), a header's first value (balance hdr). Undefined when the
// request has none: haproxy then falls back to taking the servers in turn.
import type { HttpHead } from "../http/message.js";
import { hdrNext, hdrStart } from "../acl/headers.js";
import { Sample } from "../acl/sample.js";

export interface UriHashing {
  /** Hash at most this many characters (0: no limit). */
  len: number;
  /** Stop before the (depth + 1)th slash (0: no limit). */
  depth: number;
  /** Keep the query string. */
  whole: boolean;
  /** Leave out an absolute URI's scheme and authority. */
  pathOnly: boolean;
}

/** The part of the URI that balance uri hashes. */
export function uriKey(uri: string, o: UriHashing): string {
  let u = uri;
  if (o.pathOnly) u = pathOf(u);
  if (o.len > 0) u = u.slice(0, o.len);
  let slashes = 0;
  let end = 0;
  for (; end < u.length; end++) {
    const c = u.charCodeAt(end);
    if (c === 0x2f) {
      if (++slashes === o.depth + 1 && o.depth > 0) break;
    } else if (c === 0x3f && !o.whole) break;
  }
  return u.slice(0, end);
}

/** The path of a request-target: from the first slash after an absolute URI's authority, to the end. */
function pathOf(uri: string): string {
  if (uri.startsWith("/")) return uri;
  const scheme = uri.indexOf("://");
  if (scheme < 0) return "";
  const slash = uri.indexOf("/", scheme + 3);
  return slash < 0 ? "" : uri.slice(slash);
}

/** The value of query-string parameter `name` (up to the next `&`), or undefined. */
export function urlParamKey(uri: string, name: string): string | undefined {
  const q = uri.indexOf("?");
  if (q < 0) return undefined;
  for (let p = q + 1; p < uri.length;) {
    if (uri.length - p > name.length && uri.charCodeAt(p + name.length) === 0x3d && uri.startsWith(name, p)) {
      const start = p + name.length + 1;
      const amp = uri.indexOf("&", start);
      return uri.slice(start, amp < 0 ? uri.length : amp);
    }
    const amp = uri.indexOf("&", p);
    if (amp < 0) return undefined;
    p = amp + 1;
  }
  return undefined;
}

const sample = new Sample();

/** The first comma-separated value of header `lowerName` (the Buffer of its lower-case name), if not empty. */
export function hdrKey(req: HttpHead, lowerName: Buffer): string | undefined {
  hdrStart(sample);
  if (!hdrNext(req, lowerName, true, sample)) return undefined;
  const v = sample.getStr();
  return v === "" ? undefined : v;
}
