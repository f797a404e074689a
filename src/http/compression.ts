// When a response is compressed, as haproxy 2.6's compression filter decides it: the request
// chooses an algorithm (Accept-Encoding, User-Agent), the response's head says whether it may be
// compressed (version, method, status, framing, Content-Encoding, Cache-Control, ETag,
// Content-Type), and a compressed response's head changes accordingly.
import { encodingName, type CompAlgo } from "./compressor.js";
import { BodyKind, type HttpHead } from "./message.js";
import { headerIndex, headerValue } from "./parse.js";
import { elementEnd, isBlank, latin1 } from "./chars.js";
import type { HeadEdits } from "./serialize.js";

/**
 * `compression algo|type|offload` of a proxy. Lists are in the order haproxy checks them: each
 * word goes before the ones already there, the proxy's own before its defaults section's.
 */
export interface CompressionSettings {
  algos: CompAlgo[];
  types: string[];
  offload: boolean;
}

/** Where the blanks from `i` on end. */
function skipBlanks(s: string, i: number): number {
  while (i < s.length && isBlank(s.charCodeAt(i))) i++;
  return i;
}

/**
 * The elements of every line named `lowerName`, as haproxy reads a list (hdr): split at the commas
 * outside quoted strings, trimmed of blanks.
 */
function elements(head: HttpHead, lowerName: string): string[] {
  const out: string[] = [];
  const { buf, hdr } = head;
  for (let i = headerIndex(head, lowerName); i >= 0; i = headerIndex(head, lowerName, i + 1)) {
    const end = hdr[(i << 2) + 3]!;
    for (let s = hdr[(i << 2) + 2]!; ;) {
      const next = elementEnd(buf, s, end);
      let a = s;
      let e = next;
      while (a < e && isBlank(buf[a])) a++;
      while (e > a && isBlank(buf[e - 1])) e--;
      out.push(latin1(buf, a, e));
      if (next >= end) break;
      s = next + 1;
    }
  }
  return out;
}

/** The first line named `lowerName`, whole; undefined when there is none. */
function firstValue(head: HttpHead, lowerName: string): string | undefined {
  const i = headerIndex(head, lowerName);
  return i < 0 ? undefined : headerValue(head, i);
}

/** haproxy's word_match: `word` in any case, then nothing but blanks. */
function wordIs(text: string, word: string): boolean {
  if (text.length < word.length) return false;
  for (let i = 0; i < word.length; i++) {
    const x = text.charCodeAt(i) ^ word.charCodeAt(i);
    if (x !== 0 && x !== 0x20) return false;
  }
  return /^[ \t]*$/.test(text.slice(word.length));
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]*/;

/** An element's q-value in thousandths (1000 when it has none), as haproxy reads it. */
function qValue(element: string, tokenEnd: number): number {
  let p = tokenEnd;
  for (;;) {
    p = skipBlanks(element, p);
    if (element[p] !== ";") return 1000;
    p = skipBlanks(element, p + 1);
    if (p >= element.length) return 1000;
    // haproxy compares "q=" with what is left, however short.
    if (element.startsWith("q=", p) || "q=".startsWith(element.slice(p))) break;
    const semi = element.indexOf(";", p);
    if (semi < 0) return 1000;
    p = semi;
  }
  const m = /^(\d)(?:\.(\d)(?:(\d)(?:(\d))?)?)?/.exec(element.slice(p + 2, p + 7));
  if (!m) return 1000;
  const q = Number(m[1]) * 1000 + Number(m[2] ?? 0) * 100 + Number(m[3] ?? 0) * 10 + Number(m[4] ?? 0);
  return Math.min(q, 1000);
}

/**
 * Old browsers that say "Mozilla/4" get nothing compressed, unless they are MSIE 6 with XP SP2
 * ("SV1"), or MSIE 7 and later.
 */
function oldBrowser(ua: string | undefined): boolean {
  if (ua === undefined || ua.length < 9 || !ua.startsWith("Mozilla/4")) return false;
  if (ua.length < 31 || ua.slice(25, 30) !== "MSIE ") return true;
  const major = ua.charCodeAt(30);
  if (major < 0x36) return true;
  return major === 0x36 && (ua.length < 54 || ua.slice(51, 54) !== "SV1");
}

/**
 * The algorithm for the response to `req`: the one of `algos` the client accepts with the highest
 * q-value (its earliest element first; `*` takes the first algorithm), `accepted`; or identity,
 * not accepted, when it is configured and nothing else is; undefined for none.
 */
export function chooseAlgo(
  req: HttpHead,
  algos: readonly CompAlgo[],
): { algo: CompAlgo; accepted: boolean } | undefined {
  if (algos.length === 0 || oldBrowser(firstValue(req, "user-agent"))) return undefined;
  let chosen: CompAlgo | undefined;
  let best = 0;
  for (const e of elements(req, "accept-encoding")) {
    const tokenEnd = TOKEN.exec(e)![0].length;
    const q = qValue(e, tokenEnd);
    if (q <= best) continue;
    const token = e.slice(0, tokenEnd);
    const a = algos.find((x) => e[0] === "*" || wordIs(token, encodingName(x)));
    if (a === undefined) continue;
    chosen = a;
    best = q;
  }
  if (chosen) return { algo: chosen, accepted: true };
  return algos.includes("identity") ? { algo: "identity", accepted: false } : undefined;
}

/** haproxy's ETag check: `"..."` or `W/"..."`. */
const validETag = (v: string): boolean =>
  v.length >= 2 && v.endsWith('"') && (v[0] === '"' || v.startsWith('W/"'));

/**
 * Whether the response `res` to `req` may be compressed: both HTTP/1.1, not HEAD, 200 to 203, a
 * body of known length (not an empty one), no Content-Encoding, no `no-transform`, a single valid
 * ETag if any, and a Content-Type that is not multipart and starts with one of `types` when some
 * are configured (then a response without one is not compressed).
 */
export function compressible(res: HttpHead, req: HttpHead, types: readonly string[]): boolean {
  if (res.versionMinor !== 1 || req.versionMinor !== 1 || req.method === "HEAD") return false;
  if (res.status < 200 || res.status > 203) return false;
  if (res.body === BodyKind.UntilClose || res.body === BodyKind.None) return false;
  if (res.body === BodyKind.Length && res.contentLength === 0) return false;
  if (headerIndex(res, "content-encoding") >= 0) return false;
  if (elements(res, "cache-control").some((e) => wordIs(e, "no-transform"))) return false;
  const etag = headerIndex(res, "etag");
  if (etag >= 0 && (!validETag(headerValue(res, etag)) || headerIndex(res, "etag", etag + 1) >= 0))
    return false;
  const type = firstValue(res, "content-type");
  if (type === undefined) return types.length === 0;
  const lower = type.toLowerCase();
  if (lower.startsWith("multipart")) return false;
  return types.length === 0 || types.some((t) => lower.startsWith(t.toLowerCase()));
}

/**
 * The head of a response compressed with `algo`, as haproxy 2.6 writes it: no Content-Length, a
 * strong ETag made weak, then (after every other header) `Transfer-Encoding: chunked` unless it is
 * chunked already (or the status, 204, has no framing), `Vary: Accept-Encoding` and the
 * Content-Encoding (none for identity).
 */
export function compressedHead(res: HttpHead, edits: HeadEdits, algo: CompAlgo, framed: boolean): void {
  for (let i = headerIndex(res, "content-length"); i >= 0; i = headerIndex(res, "content-length", i + 1))
    edits.dropHeader(i);
  const etag = headerIndex(res, "etag");
  if (etag >= 0 && !edits.isDropped(etag)) {
    const v = edits.valueOf(etag) ?? headerValue(res, etag);
    if (v[0] === '"') edits.rewriteHeader(etag, `W/${v}`);
  }
  if (framed && res.body !== BodyKind.Chunked) edits.add.push("Transfer-Encoding: chunked");
  edits.add.push("Vary: Accept-Encoding");
  if (algo !== "identity") edits.add.push(`Content-Encoding: ${encodingName(algo)}`);
}
