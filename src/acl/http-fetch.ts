// Sample fetches of the HTTP messages, as haproxy 2.6 reads them: whether the transaction is its
// connection's first (http_first_req), the target's path with its query (pathq, baseq), its address
// and port (url_ip, url_port), its parameters (url_param, urlp and its derived ACL forms, urlp_val),
// its hashes (url32, url32+src), and the heads' header names and lines (req.hdr_names, res.hdr_names,
// req.hdrs, res.hdrs).
import type { HttpHead } from "../http/message.js";
import type { BodyView } from "../http/body-view.js";
import { LOWER } from "../http/chars.js";
import { fullHash } from "../balance/hash.js";
import type { Arg } from "./args.js";
import type { SampleContext } from "./context.js";
import type { FetchDef } from "./fetch-def.js";
import type { FetchImpl } from "./fetch.js";
import { hdrNext, hdrStart } from "./headers.js";
import { hashAndAddress } from "./ip.js";
import { Sample, T, strl2ic } from "./sample.js";
import { pathStart, urlParam, urlParamEnd, urlParamsStart } from "./uri.js";

type Reader = (ctx: SampleContext, smp: Sample) => boolean;

const HOST = Buffer.from("host");

/** Walks the header values a fetch reads, apart from the sample it sets. */
const walk = new Sample();

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
 * Parameters (`name=value`, separated by '&', ';' or a delimiter) walked as haproxy's
 * http_find_next_url_param walks them: the first one named by the first argument (any, without
 * one), in an ACL each in turn; `number`: as numbers (haproxy's strl2ic). `text` is where they are,
 * found again for each value, and `from` where the first one starts in it.
 */
function paramFetch(
  text: (ctx: SampleContext) => string | undefined,
  from: (text: string, delim: number) => number,
  delimOf: (args: Arg[]) => number,
  number: boolean,
): Pick<FetchDef, "make" | "each"> {
  const each = (args: Arg[]): FetchImpl => {
    const name = args[0] === undefined ? "" : String(args[0]);
    const delim = delimOf(args);
    const walk = (t: string, smp: Sample): boolean => {
      const vs = urlParam(t, smp.j, name, delim);
      if (vs < 0) return false;
      smp.j = urlParamEnd.at;
      if (number) smp.setInt(strl2ic(t, vs, smp.j));
      else smp.setStr(t.slice(vs, smp.j));
      return true;
    };
    return {
      first(ctx, smp) {
        const t = text(ctx);
        smp.j = t === undefined ? -1 : from(t, delim);
        return smp.j >= 0 && walk(t!, smp);
      },
      next(ctx, smp) {
        const t = text(ctx);
        return t !== undefined && walk(t, smp);
      },
    };
  };
  return { make: (args) => each(args).first, each };
}

/**
 * url_param and urlp_val: the target's parameters, after its first '?' or the delimiter the second
 * argument names (an empty one is a NUL, never found).
 */
const urlParamFetch = (number: boolean): Pick<FetchDef, "make" | "each"> =>
  paramFetch(
    (ctx) => ctx.req.uri,
    urlParamsStart,
    (args) => (args[1] === undefined ? 63 : String(args[1]).charCodeAt(0) || 0),
    number,
  );

/** A request's fetch without arguments. */
const requestFetch = (name: string, out: T, read: Reader): FetchDef => ({
  name,
  args: [],
  min: 0,
  acl: false,
  out,
  use: "req",
  make: () => read,
});

/** The request body in the buffer, as req.body and its kin read it. */
const bodyOf = (ctx: SampleContext): BodyView | undefined => ctx.requestBody?.();

/** A number of the request body: its length in the buffer, or the size its framing announces. */
const bodyInt = (name: string, f: (b: BodyView) => number): FetchDef =>
  requestFetch(name, T.Int, (ctx, smp) => {
    const b = bodyOf(ctx);
    if (b === undefined) return false;
    smp.setInt(f(b));
    return true;
  });

// ─── the heads' lines ────────────────────────────────────────────────────────────────────────────

/**
 * Each header line of the head as haproxy holds it: its name in lower case and its value; lines its
 * parser drops (a repeated Host or Content-Length, a Connection left empty) are not there.
 */
function eachLine(h: HttpHead, f: (name: string, value: string) => void): void {
  const b = h.buf;
  hdrStart(walk);
  while (hdrNext(h, null, false, walk)) {
    let name = "";
    for (let k = h.hdr[walk.i * 4]!; k < h.hdr[walk.i * 4 + 1]!; k++)
      name += String.fromCharCode(LOWER[b[k]!]!);
    f(name, walk.getStr());
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

/** haproxy's varint: below 240 one byte; else 4 bits with the top ones set, then 7 bits a byte. */
function varint(n: number): string {
  if (n < 240) return String.fromCharCode(n);
  let out = String.fromCharCode((n & 0xff) | 240);
  for (n = (n - 240) >> 4; n >= 128; n = (n - 128) >> 7) out += String.fromCharCode((n & 0xff) | 128);
  return out + String.fromCharCode(n);
}

/**
 * req.hdrs_bin, res.hdrs_bin: each line as its name and value, each after its length (a varint),
 * then two zero lengths. (haproxy gives none past a buffer's size, which a head that fits in one
 * never reaches in this form.)
 */
function hdrsBinFetch(res: boolean): () => Reader {
  return () => (ctx, smp) => {
    const h = headOf(ctx, res);
    if (h === undefined) return false;
    let out = "";
    eachLine(h, (name, value) => (out += varint(name.length) + name + varint(value.length) + value));
    smp.setStr(out + "\0\0", T.Bin);
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

export function httpFetches(): FetchDef[] {
  const P: ("str" | "int")[] = ["str", "str"];
  const S: ("str" | "int")[] = ["str"];
  const defs: FetchDef[] = [];
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
    { name: "urlp_val", args: P, min: 0, acl: false, out: T.Int, use: "req", ...urlParamFetch(true) },
    { name: "url_param", args: P, min: 0, acl: false, out: T.Str, use: "req", ...urlParamFetch(false) },
    { name: "urlp", args: P, min: 0, out: T.Str, use: "req", derived: true, ...urlParamFetch(false) },
    // The body's bytes, its length and announced size, its parameters (binary).
    requestFetch("req.body", T.Bin, (ctx, smp) => {
      const b = bodyOf(ctx);
      if (b === undefined) return false;
      smp.setBytes(b.data, 0, b.data.length, T.Bin);
      return true;
    }),
    bodyInt("req.body_len", (b) => b.data.length),
    bodyInt("req.body_size", (b) => b.data.length + b.more),
    {
      // Declared binary, read as text.
      name: "req.body_param",
      args: S,
      min: 0,
      acl: false,
      out: T.Bin,
      use: "req",
      ...paramFetch(
        (ctx) => bodyOf(ctx)?.data.toString("latin1"),
        () => 0,
        () => 38,
        false,
      ),
    },
    requestFetch("url32", T.Int, (ctx, smp) => {
      smp.setInt(url32(ctx.req));
      return true;
    }),
    // The hash's 4 bytes, then the client's address (4 or 16).
    requestFetch("url32+src", T.Bin, (ctx, smp) => {
      const v = hashAndAddress(url32(ctx.req), ctx.src);
      if (v === undefined) return false;
      smp.setStr(v, T.Bin);
      return true;
    }),
    { name: "req.hdr_names", args: S, min: 0, out: T.Str, use: "req", make: hdrNamesFetch(false) },
    { name: "res.hdr_names", args: S, min: 0, out: T.Str, use: "res", make: hdrNamesFetch(true) },
    // haproxy declares them binary (an ACL names its method) and gives text.
    { name: "req.hdrs", args: [], min: 0, out: T.Bin, use: "req", make: hdrsFetch(false) },
    { name: "res.hdrs", args: [], min: 0, out: T.Bin, use: "res", make: hdrsFetch(true) },
    { name: "req.hdrs_bin", args: [], min: 0, out: T.Bin, use: "req", make: hdrsBinFetch(false) },
    { name: "res.hdrs_bin", args: [], min: 0, out: T.Bin, use: "res", make: hdrsBinFetch(true) },
  );
  return defs;
}
