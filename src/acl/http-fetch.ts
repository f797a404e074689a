// Sample fetches of the HTTP messages, as haproxy 2.6 reads them: the response's cookies (res.cook,
// scook and their counts and numbers, cookie in either direction), whether the transaction is its
// connection's first (http_first_req), the target's path with its query (pathq, baseq), its address
// and port (url_ip, url_port), its parameters as numbers (urlp_val), its hashes (url32, url32+src),
// and the heads' header names and lines (req.hdr_names, res.hdr_names, req.hdrs, res.hdrs).
import type { HttpHead } from "../http/message.js";
import { ConnectionWord, connectionWord } from "../http/connection.js";
import { COMMA, LOWER, elementEnd, isBlank } from "../http/chars.js";
import { fullHash } from "../balance/hash.js";
import type { Arg } from "./args.js";
import type { SampleContext } from "./context.js";
import type { FetchDef } from "./fetch-def.js";
import type { MatchName } from "./fetch.js";
import { hdrNext, hdrStart } from "./headers.js";
import { hashAndAddress } from "./ip.js";
import { Sample, T } from "./sample.js";
import { pathStart } from "./uri.js";

type Reader = (ctx: SampleContext, smp: Sample) => boolean;

const COOKIE = Buffer.from("cookie");
const SET_COOKIE = Buffer.from("set-cookie");
const HOST = Buffer.from("host");

/** Walks the header values a fetch reads, apart from the sample it sets. */
const walk = new Sample();

/** The value of the last cookie extractCookie found: buf[cookieStart, cookieEnd). */
let cookieStart = 0;
let cookieEnd = 0;

/**
 * The next cookie named `name` (empty: any) in b[from, end), one value of a Cookie or Set-Cookie
 * header, as haproxy's http_extract_cookie_value finds it: sets cookieStart and cookieEnd to its
 * value and returns where to look on from, or -1. Names starting with '$' and words without '=' are
 * passed over; no cookie is looked for in fewer than the name's length and two bytes. When the value
 * is not a list (`list` false: the response's Set-Cookie), only cookies before the first one of
 * another name count.
 */
function extractCookie(b: Buffer, from: number, end: number, name: Buffer, list: boolean): number {
  const nl = name.length;
  for (let att = from; att + nl + 1 < end;) {
    let s = att;
    while (s < end && isBlank(b[s])) s++;
    let eq = s;
    let nameEnd = s;
    for (; eq < end; eq++) {
      const c = b[eq]!;
      if (c === 61 || c === 59 || (list && c === COMMA)) break;
      if (!isBlank(c)) nameEnd = eq + 1;
    }
    let next = eq;
    let vs = eq;
    let ve = eq;
    if (eq < end && b[eq] === 61) {
      vs = eq + 1;
      while (vs < end && isBlank(b[vs])) vs++;
      next = elementEnd(b, vs, end, 59);
      ve = next;
      while (ve > vs && isBlank(b[ve - 1])) ve--;
    }
    att = next + 1;
    if ((s < end && b[s] === 36) || eq === next) continue;
    if (nl === 0 || (nameEnd - s === nl && b.compare(name, 0, nl, s, nameEnd) === 0)) {
      cookieStart = vs;
      cookieEnd = ve;
      return next + 1;
    }
    if (!list) break;
  }
  return -1;
}

/** Where a cookie fetch reads: the request's Cookie headers, or the response's Set-Cookie ones. */
interface CookieSide {
  head: HttpHead;
  header: Buffer;
  list: boolean;
}

const side = { head: undefined as unknown as HttpHead, header: COOKIE, list: true };

/**
 * The side a cookie fetch reads: res.cook and scook the response's (none before it); cookie the
 * message the rule sees, the response's once there. None once the transaction's messages are gone.
 */
function cookieSide(ctx: SampleContext, res: boolean): CookieSide | undefined {
  if (ctx.ended) return undefined;
  const head = res ? ctx.res : (ctx.res ?? ctx.req);
  if (head === undefined) return undefined;
  side.head = head;
  side.header = head === ctx.res ? SET_COOKIE : COOKIE;
  side.list = head !== ctx.res;
  return side;
}

/**
 * Sets smp to a cookie's value: the last one named `name` on every line, or the first one of any name
 * when `name` is empty (haproxy's smp_fetch_cookie outside ACLs).
 */
function cookieValue(c: CookieSide, name: Buffer, smp: Sample): boolean {
  const h = c.head;
  const b = h.buf;
  let found = false;
  let vs = 0;
  let ve = 0;
  hdrStart(walk);
  while (hdrNext(h, c.header, true, walk)) {
    const end = walk.be;
    if (end - walk.bs < name.length + 1) continue;
    for (let p = walk.bs; (p = extractCookie(b, p, end, name, c.list)) >= 0;) {
      found = true;
      vs = cookieStart;
      ve = cookieEnd;
      if (name.length === 0) {
        smp.setBytes(b, vs, ve);
        return true;
      }
    }
  }
  if (found) smp.setBytes(b, vs, ve);
  return found;
}

/** How many cookies named `name` (empty: of any name) the lines have. */
function cookieCount(c: CookieSide, name: Buffer): number {
  const h = c.head;
  let n = 0;
  hdrStart(walk);
  while (hdrNext(h, c.header, true, walk)) {
    const end = walk.be;
    if (end - walk.bs < name.length + 1) continue;
    for (let p = walk.bs; (p = extractCookie(h.buf, p, end, name, c.list)) >= 0;) n++;
  }
  return n;
}

/**
 * haproxy's strl2ic: a 32-bit integer read from the digits on, stopping at a byte past '9' only
 * (a byte before '0' adds its difference from '0', "1+2" is 52), wrapping as a C int does.
 */
function strl2ic(b: Buffer | string, s: number, e: number): number {
  const at = typeof b === "string" ? (k: number) => b.charCodeAt(k) : (k: number) => b[k]!;
  let i = 0;
  if (s >= e) return 0;
  const neg = at(s) === 45;
  for (let k = neg ? s + 1 : s; k < e; k++) {
    const d = at(k) - 48;
    if (d > 9) break;
    i = (Math.imul(i, 10) + (neg ? -d : d)) | 0;
  }
  return i;
}

const sampleInt32 = (smp: Sample): void => {
  const v = smp.buf !== undefined ? strl2ic(smp.buf, smp.bs, smp.be) : strl2ic(smp.getStr(), 0, smp.strLen());
  smp.setInt(v);
};

const nameArg = (args: Arg[]): Buffer => Buffer.from(args[0] === undefined ? "" : String(args[0]), "latin1");

/** res.cook, scook, cookie: the value; the ACL keyword's derived forms match it otherwise. */
function cookieFetch(res: boolean): (args: Arg[]) => Reader {
  return (args) => {
    const name = nameArg(args);
    return (ctx, smp) => {
      const c = cookieSide(ctx, res);
      return c !== undefined && cookieValue(c, name, smp);
    };
  };
}

function cookieCountFetch(res: boolean): (args: Arg[]) => Reader {
  return (args) => {
    const name = nameArg(args);
    return (ctx, smp) => {
      const c = cookieSide(ctx, res);
      if (c === undefined) return false;
      smp.setInt(cookieCount(c, name));
      return true;
    };
  };
}

function cookieValFetch(res: boolean): (args: Arg[]) => Reader {
  return (args) => {
    const name = nameArg(args);
    return (ctx, smp) => {
      const c = cookieSide(ctx, res);
      if (c === undefined || !cookieValue(c, name, smp)) return false;
      sampleInt32(smp);
      return true;
    };
  };
}

// ─── the request's target ────────────────────────────────────────────────────────────────────────

/**
 * The head a header-list fetch reads: the request's (fetch.ts gives a "req" fetch no sample once the
 * response is there), or the response's until its line is logged.
 */
const headOf = (ctx: SampleContext, res: boolean): HttpHead | undefined =>
  res ? (ctx.ended ? undefined : ctx.res) : ctx.req;

/** The path and its query: from the path's '/' to the target's end; none in "*", "host:port", "http://host". */
function pathq(uri: string): string | undefined {
  const s = pathStart(uri);
  return s < 0 ? undefined : uri.slice(s);
}

/** The first value of the first Host header (walk holds it), or false. */
const firstHost = (h: HttpHead): boolean => {
  hdrStart(walk);
  return hdrNext(h, HOST, true, walk);
};

/**
 * The address and port an absolute target names, as haproxy's url2sa reads it past the first "://":
 * a scheme http or https (the last eight bytes before it, in any case), then an IPv4 address (four
 * numbers up to 255, read up to the first byte that is neither a digit nor a dot), then ':' and a
 * port read as a 32-bit number and kept to 16 bits, else the scheme's own. A name, an IPv6 address or
 * userinfo give none.
 */
function urlAddress(uri: string): { ip: string; port: number } | undefined {
  const sep = uri.indexOf("://");
  if (sep < 0) return undefined;
  // haproxy keeps the scheme's last eight bytes in a 64-bit word and sets the lower-case bit of each.
  let scheme = "";
  for (let k = sep - 8; k < sep; k++)
    scheme += String.fromCharCode((k < 0 ? 0 : uri.charCodeAt(k) & 255) | 0x20);
  const port0 = scheme === "    http" ? 80 : scheme === "   https" ? 443 : 0;
  if (port0 === 0) return undefined;
  let p = sep + 3;
  if (uri.charCodeAt(p) === 91) return undefined;
  const octets = [0, 0, 0, 0];
  let n = 0;
  let digit = false;
  for (; p < uri.length; p++) {
    const c = uri.charCodeAt(p);
    if (c >= 48 && c <= 57) {
      if (!digit) {
        if (++n > 4) return undefined;
        digit = true;
      }
      const v = octets[n - 1]! * 10 + (c - 48);
      if (v > 255) return undefined;
      octets[n - 1] = v;
    } else if (c === 46) {
      if (!digit || n === 4) return undefined;
      digit = false;
    } else break;
  }
  if (n < 4) return undefined;
  let port = port0;
  if (uri.charCodeAt(p) === 58) {
    let v = 0;
    for (p++; p < uri.length; p++) {
      const d = uri.charCodeAt(p) - 48;
      if (d < 0 || d > 9) break;
      v = (v * 10 + d) >>> 0;
    }
    port = v & 0xffff;
  }
  return { ip: octets.join("."), port };
}

/** sdbm over text's bytes as haproxy's url32 adds them: as signed chars. */
function sdbmSigned(h: number, text: Buffer | string, s: number, e: number): number {
  for (let k = s; k < e; k++) {
    let c = typeof text === "string" ? text.charCodeAt(k) & 255 : text[k]!;
    if (c > 127) c -= 256;
    h = (c + (h << 6) + (h << 16) - h) >>> 0;
  }
  return h;
}

/** url32: the whole first Host line, then the path and query when there is a path, hashed. */
function url32(h: HttpHead): number {
  let hash = 0;
  hdrStart(walk);
  if (hdrNext(h, HOST, false, walk)) hash = sdbmSigned(hash, h.buf, walk.bs, walk.be);
  const path = pathq(h.uri);
  if (path !== undefined && path.charCodeAt(0) === 47) hash = sdbmSigned(hash, path, 0, path.length);
  return fullHash(hash);
}

/**
 * url_param's walk: the first parameter named `name` (any with an empty one) after the target's first
 * `delim`, its value up to '&', ';' or `delim` (haproxy's http_find_next_url_param); undefined for none.
 */
function urlParam(uri: string, name: string, delim: number): string | undefined {
  const start = uri.indexOf(String.fromCharCode(delim));
  if (start < 0) return undefined;
  const isDelim = (c: number): boolean => c === 38 || c === 59 || c === delim;
  const end = uri.length;
  let value: number;
  if (name === "") {
    const eq = uri.indexOf("=", start + 1);
    if (eq < 0) return undefined;
    value = eq + 1;
  } else {
    let pos = start + 1;
    for (;;) {
      if (pos >= end || pos + name.length >= end) return undefined;
      if (uri.charCodeAt(pos + name.length) === 61) {
        if (uri.startsWith(name, pos)) break;
        pos += name.length + 1;
      }
      while (pos < end && !isDelim(uri.charCodeAt(pos))) pos++;
      if (pos >= end) return undefined;
      pos++;
    }
    value = pos + name.length + 1;
  }
  let ve = value;
  while (ve < end && !isDelim(uri.charCodeAt(ve))) ve++;
  return uri.slice(value, ve);
}

// ─── the heads' lines ────────────────────────────────────────────────────────────────────────────

/**
 * A Connection value as haproxy's parser keeps it: without its close and keep-alive words (the bytes
 * before the first one as they were, the words after it each after a bare comma), "" when none is
 * left; undefined when it has neither.
 */
function connectionKept(b: Buffer, s: number, e: number): string | undefined {
  let kept = s;
  let out: string | undefined;
  for (let p = s; p < e;) {
    while (p < e && isBlank(b[p])) p++;
    let n = p;
    while (n < e && b[n] !== COMMA) n++;
    const w = connectionWord(b, p, n);
    if (w === ConnectionWord.Close || w === ConnectionWord.KeepAlive) out ??= b.toString("latin1", s, kept);
    else if (out === undefined) kept = n;
    else {
      let we = n;
      while (we > p && isBlank(b[we - 1])) we--;
      out += (out === "" ? "" : ",") + b.toString("latin1", p, we);
    }
    p = n + 1;
  }
  return out;
}

const CONNECTION = Buffer.from("connection");

/**
 * Each header line of the head as haproxy holds it: its name in lower case and its value; lines its
 * parser drops (a repeated Host or Content-Length, a Connection left empty) are not there.
 */
function eachLine(h: HttpHead, f: (name: string, value: string) => void): void {
  const b = h.buf;
  const clean = h.connClose || h.connKeepAlive;
  for (let i = 0; i < h.count; i++) {
    if (h.repeats?.includes(i)) continue;
    const ns = h.hdr[i * 4]!;
    const ne = h.hdr[i * 4 + 1]!;
    let name = "";
    for (let k = ns; k < ne; k++) name += String.fromCharCode(LOWER[b[k]!]!);
    const vs = h.hdr[i * 4 + 2]!;
    const ve = h.hdr[i * 4 + 3]!;
    let value: string | undefined;
    if (clean && ne - ns === CONNECTION.length && name === "connection") {
      value = connectionKept(b, vs, ve);
      if (value === "") continue;
    }
    f(name, value ?? b.toString("latin1", vs, ve));
  }
}

function hdrNamesFetch(res: boolean): (args: Arg[]) => Reader {
  return (args) => {
    // Only the argument's first byte counts; an empty one gives a NUL.
    const delim = args[0] === undefined ? "," : (String(args[0])[0] ?? "\0");
    return (ctx, smp) => {
      const h = headOf(ctx, res);
      if (h === undefined) return false;
      let out = "";
      let first = true;
      eachLine(h, (name) => {
        out += first ? name : delim + name;
        first = false;
      });
      smp.setStr(out);
      return true;
    };
  };
}

function hdrsFetch(res: boolean): () => Reader {
  return () => (ctx, smp) => {
    const h = headOf(ctx, res);
    if (h === undefined) return false;
    let out = "";
    eachLine(h, (name, value) => (out += `${name}: ${value}\r\n`));
    smp.setStr(out + "\r\n");
    return true;
  };
}

// ─── the table ───────────────────────────────────────────────────────────────────────────────────

const str = (f: (ctx: SampleContext) => string | undefined) => (): Reader => (ctx, smp) => {
  const v = f(ctx);
  if (v === undefined) return false;
  smp.setStr(v);
  return true;
};

/** url_ip, url_port: a part of the address an absolute target names. */
function urlAddressFetch(
  name: string,
  out: T,
  set: (a: { ip: string; port: number }, smp: Sample) => void,
): FetchDef {
  return {
    name,
    args: [],
    min: 0,
    acl: false,
    out,
    use: "req",
    make: () => (ctx, smp) => {
      const a = urlAddress(ctx.req.uri);
      if (a === undefined) return false;
      set(a, smp);
      return true;
    },
  };
}

/** The ACL keyword's derived forms: <base>_beg, _dir, ... each with its match method. */
const DERIVED: MatchName[] = ["beg", "dir", "dom", "end", "len", "reg", "sub"];

export function httpFetches(): FetchDef[] {
  const S: ("str" | "int")[] = ["str"];
  const defs: FetchDef[] = [];
  // Of these only scook and its derived forms are ACL keywords; the others' errors name a fetch method.
  for (const name of ["res.cook", "scook"])
    defs.push({ name, args: S, min: 0, out: T.Str, use: "res", make: cookieFetch(true) });
  for (const match of DERIVED)
    defs.push({
      name: `scook_${match}`,
      args: S,
      min: 0,
      out: T.Str,
      use: "res",
      match,
      make: cookieFetch(true),
    });
  for (const name of ["res.cook_cnt", "scook_cnt"])
    defs.push({ name, args: S, min: 0, out: T.Int, use: "res", acl: false, make: cookieCountFetch(true) });
  for (const name of ["res.cook_val", "scook_val"])
    defs.push({ name, args: S, min: 0, out: T.Int, use: "res", acl: false, make: cookieValFetch(true) });
  // cookie reads whichever message the rule sees: haproxy declares it on both sides.
  defs.push({ name: "cookie", args: S, min: 0, out: T.Str, acl: false, make: cookieFetch(false) });
  defs.push(
    {
      name: "http_first_req",
      args: [],
      min: 0,
      acl: false,
      out: T.Bool,
      make: () => (ctx, smp) => {
        if (ctx.firstRequest === undefined) return false;
        smp.setInt(ctx.firstRequest ? 1 : 0, T.Bool);
        return true;
      },
    },
    {
      name: "pathq",
      args: [],
      min: 0,
      acl: false,
      out: T.Str,
      use: "req",
      make: str((ctx) => pathq(ctx.req.uri)),
    },
    {
      name: "baseq",
      args: [],
      min: 0,
      acl: false,
      out: T.Str,
      use: "req",
      make: str((ctx) => {
        const path = pathq(ctx.req.uri);
        if (!firstHost(ctx.req) || walk.be === walk.bs) return path;
        return walk.getStr() + (path?.charCodeAt(0) === 47 ? path : "");
      }),
    },
    urlAddressFetch("url_ip", T.Ip, (a, smp) => smp.setStr(a.ip, T.Ip)),
    urlAddressFetch("url_port", T.Int, (a, smp) => smp.setInt(a.port)),
    {
      name: "urlp_val",
      args: ["str", "str"],
      min: 0,
      acl: false,
      out: T.Int,
      use: "req",
      make: (args) => {
        const name = args[0] === undefined ? "" : String(args[0]);
        // Another delimiter than '?' stands for it; an empty one is a NUL, never found.
        const delim = args[1] === undefined ? 63 : String(args[1]).charCodeAt(0) || 0;
        return (ctx, smp) => {
          const v = urlParam(ctx.req.uri, name, delim);
          if (v === undefined) return false;
          smp.setInt(strl2ic(v, 0, v.length));
          return true;
        };
      },
    },
    {
      name: "url32",
      args: [],
      min: 0,
      acl: false,
      out: T.Int,
      use: "req",
      make: () => (ctx, smp) => {
        smp.setInt(url32(ctx.req));
        return true;
      },
    },
    {
      // Binary: the hash's 4 bytes, then the client's address (4 or 16); an ACL names its method.
      name: "url32+src",
      args: [],
      min: 0,
      acl: false,
      out: T.Str,
      match: undefined,
      use: "req",
      make: () => (ctx, smp) => {
        const v = hashAndAddress(url32(ctx.req), ctx.src);
        if (v === undefined) return false;
        smp.setStr(v);
        return true;
      },
    },
    { name: "req.hdr_names", args: S, min: 0, out: T.Str, use: "req", make: hdrNamesFetch(false) },
    { name: "res.hdr_names", args: S, min: 0, out: T.Str, use: "res", make: hdrNamesFetch(true) },
    // haproxy declares them binary, an ACL names its method.
    { name: "req.hdrs", args: [], min: 0, out: T.Str, match: undefined, use: "req", make: hdrsFetch(false) },
    { name: "res.hdrs", args: [], min: 0, out: T.Str, match: undefined, use: "res", make: hdrsFetch(true) },
  );
  return defs;
}
