// Sample fetches: the keywords an ACL or a `%[...]` expression starts with, their arguments, what
// they return and how an ACL matches them by default (haproxy's tables in http_fetch.c / acl.c).
import { ConfigError } from "../config/errors.js";
import type { Where } from "../config/model.js";
import type { HttpHead } from "../http/message.js";
import type { Inspection, SampleContext } from "./context.js";
import { hdrCount, hdrNext, hdrOcc, hdrStart } from "./headers.js";
import { hashAndAddress, parseIpv4Prefix, parseIpv6 } from "./ip.js";
import { localAddressTest } from "./local-address.js";
import { HAPROXY_CONVERTERS, HAPROXY_FETCHES } from "./haproxy-keywords.js";
import type { SockAddr } from "../util/tcp-socket.js";
import { fullHash, hashKey } from "../balance/hash.js";
import { Sample, T, readIntBytes } from "./sample.js";
import { pathEnd, pathStart } from "./uri.js";
import { NOT_TLS, TOO_SHORT, tlsHelloType, tlsServerName } from "./tls-hello.js";
import { parseVarName, type VarRef } from "./vars.js";
import { readArgs, type Arg, type ArgType } from "./args.js";
import { proxyError } from "./scope.js";
import { CONVERTERS, castFor, castable, type Converter } from "./converters.js";
import { stickFetches } from "./stick-fetch.js";
import { authFetches } from "./auth.js";
import { internalFetches } from "./internal-fetch.js";
import { httpFetches } from "./http-fetch.js";
import { cookieFetches } from "./cookie-fetch.js";
import { stateFetches } from "./state-fetch.js";
import type { Matcher } from "./match.js";
import { noteRead } from "../log/reads.js";
import type { LogRecord } from "../log/record.js";
import { requestLinePart } from "../log/request-line.js";

export type MatchName =
  | "found"
  | "bool"
  | "int"
  | "ip"
  | "bin"
  | "len"
  | "str"
  | "beg"
  | "sub"
  | "dir"
  | "dom"
  | "end"
  | "reg"
  | "meth";

/** A fetch ready to run: `first` produces the first value, `next` the following ones (ACL mode). */
export interface FetchImpl {
  first(ctx: SampleContext, smp: Sample): boolean;
  next(ctx: SampleContext, smp: Sample): boolean;
}

type Maker = (args: Arg[], iterate: boolean) => FetchImpl;

interface Keyword {
  /** Argument types, in order; all optional unless `min` says otherwise. */
  args: ArgType[];
  min: number;
  out: T;
  /** Undefined: an ACL must name its match method (haproxy's rule for binary samples). */
  match: MatchName | undefined;
  /** A legacy ACL keyword (errors say "ACL keyword") rather than a sample fetch. */
  acl: boolean;
  /** Where its sample exists (FetchUse). */
  use: FetchUse;
  /** Why its arguments cannot be taken (haproxy's "invalid args"), or undefined. */
  check?: (args: Arg[]) => string | undefined;
  /** haproxy's refusal of a table or userlist argument that names none, or undefined. */
  resolve?: (args: Arg[]) => string | undefined;
  /** http_auth_group: an ACL matches the patterns with the user's groups (haproxy's "auth" method). */
  groups?: (args: Arg[], patterns: string[]) => Matcher | string;
  make: Maker;
}

/**
 * haproxy's sample sources, as far as http rules and use_backend tell them apart (its warnings
 * follow them): the request's head, gone by the response (such fetches fail there); the response's,
 * not there yet in the request; the buffer's bytes, declared with the request but read from whichever
 * message is in it; the backend, known past use_backend; the server, known once connected (the
 * response on), and its connection (its addresses: haproxy names the two apart in its messages);
 * anywhere a stream exists; or from the accepted connection on (its addresses, the frontend,
 * constants: tcp-request connection rules).
 */
export type FetchUse = "req" | "res" | "buffer" | "be" | "srv" | "srvconn" | "any" | "conn";

const none = (): boolean => false;

/** No sample yet: the data that would give one may still come. */
function mayChange(insp: Inspection): false {
  insp.mayChange = true;
  return false;
}

/** A fetch of the request's head: once the response is there, haproxy no longer has it. */
function requestOnly(make: Maker): Maker {
  return (args, iterate) => {
    const f = make(args, iterate);
    // mode tcp has no request head (haproxy would parse one from the inspected bytes).
    return {
      first: (ctx, smp) => ctx.res === undefined && !ctx.ended && ctx.req !== undefined && f.first(ctx, smp),
      next: f.next,
    };
  };
}

/** The methods haproxy keeps as a number past the request; another one is gone with its head. */
const KNOWN_METHODS = new Set(["OPTIONS", "GET", "HEAD", "POST", "PUT", "DELETE", "TRACE", "CONNECT"]);

function single(f: (ctx: SampleContext, smp: Sample) => boolean): FetchImpl {
  return { first: f, next: none };
}

const lc = (a: Arg | undefined): Buffer | null =>
  a === undefined || a === "" ? null : Buffer.from(String(a).toLowerCase(), "latin1");

type Side = (ctx: SampleContext) => HttpHead | undefined;
const reqSide: Side = (ctx) => ctx.req;
const resSide: Side = (ctx) => ctx.res;

/** hdr / fhdr: every value in ACL mode (occurrence 0), the given or last occurrence otherwise. */
function hdrFetch(side: Side, split: boolean): Maker {
  return (args, iterate) => {
    const name = lc(args[0]);
    let occ = (args[1] as number | undefined) ?? 0;
    if (occ === 0 && !iterate) occ = -1;
    if (occ !== 0) {
      return single((ctx, smp) => {
        const h = side(ctx);
        return h !== undefined && hdrOcc(h, name, split, occ, smp);
      });
    }
    return {
      first(ctx, smp) {
        const h = side(ctx);
        if (h === undefined) return false;
        hdrStart(smp);
        return hdrNext(h, name, split, smp);
      },
      next(ctx, smp) {
        return hdrNext(side(ctx)!, name, split, smp);
      },
    };
  };
}

function hdrCntFetch(side: Side, split: boolean): Maker {
  return (args) => {
    const name = lc(args[0]);
    return single((ctx, smp) => {
      const h = side(ctx);
      if (h === undefined) return false;
      smp.setInt(hdrCount(h, name, split, smp));
      return true;
    });
  };
}

/** Wraps a string fetch to turn each value into something else, skipping values that do not convert. */
function mapValues(inner: Maker, conv: (smp: Sample) => boolean): Maker {
  return (args, iterate) => {
    const f = inner(args, iterate);
    return {
      first(ctx, smp) {
        if (!f.first(ctx, smp)) return false;
        while (!conv(smp)) if (!iterate || !f.next(ctx, smp)) return false;
        return true;
      },
      next(ctx, smp) {
        do if (!f.next(ctx, smp)) return false;
        while (!conv(smp));
        return true;
      },
    };
  };
}

const toVal = (smp: Sample): boolean => {
  smp.setInt(smp.buf !== undefined ? (readIntBytes(smp.buf, smp.bs, smp.be) ?? 0) : 0);
  return true;
};

const scratch = new Uint8Array(16);
/** A port after "a.b.c.d:" as haproxy 2.6's strl2irc reads it: digits (0..65535), or '-' and zeros. */
const PORT = /^(?:\d+|-0*)$/;
/**
 * hdr_ip as in haproxy 2.6: the whole value is an IPv4 address, or one followed by ':' and a valid
 * port ("1.2.3.4:80" gives 1.2.3.4, "1.2.3.4x" and "1.2.3.4 5.6.7.8" give nothing), else the whole
 * value is an IPv6 address. The IPv4 result is in canonical form ("010.1.2.3" gives "10.1.2.3").
 */
const toIp = (smp: Sample): boolean => {
  const s = smp.getStr();
  const n = parseIpv4Prefix(s, scratch);
  if (n > 0) {
    const port = n === s.length ? "" : s.slice(n + 1);
    if (n === s.length || (s.charCodeAt(n) === 58 && PORT.test(port) && !(Number(port) > 65535))) {
      const canonical = n === s.length && !/(?:^|\.)0\d/.test(s);
      smp.setStr(canonical ? s : `${scratch[0]}.${scratch[1]}.${scratch[2]}.${scratch[3]}`, T.Ip);
      return true;
    }
  }
  if (parseIpv6(s, scratch)) {
    smp.setStr(s, T.Ip);
    return true;
  }
  return false;
};

/** A part of the request line the log keeps; none when it is not kept (a request not read). */
function keptLine(part: "method" | "uri"): Maker {
  return (args, iterate) => {
    noteRead("r");
    return strFetch((ctx) => {
      const line = ctx.logRecord?.().requestLine;
      return line === undefined || line === "" || line === "<BADREQ>"
        ? undefined
        : requestLinePart(line, part);
    })(args, iterate);
  };
}

/** A capture slot's value; none for a slot that captured nothing or does not exist. */
function capturedSlot(side: "req" | "res"): Maker {
  return (args, iterate) => {
    noteRead(side === "req" ? "hr" : "hs");
    const slot = Number(args[0]);
    return strFetch((ctx) => {
      const rec = ctx.logRecord?.();
      const caps = side === "req" ? rec?.capturedRequest : rec?.capturedResponse;
      return caps?.[slot] || undefined;
    })(args, iterate);
  };
}

function strFetch(f: (ctx: SampleContext) => string | undefined): Maker {
  return () =>
    single((ctx, smp) => {
      const v = f(ctx);
      if (v === undefined) return false;
      smp.setStr(v);
      return true;
    });
}

function pathOf(ctx: SampleContext): string | undefined {
  const u = ctx.req.uri;
  const s = pathStart(u);
  if (s < 0) return undefined;
  return s === 0 && u.indexOf("?") < 0 ? u : u.slice(s, pathEnd(u, s));
}

const HOST = Buffer.from("host");
function baseOf(ctx: SampleContext, smp: Sample): string | undefined {
  const path = pathOf(ctx);
  hdrStart(smp);
  if (!hdrNext(ctx.req, HOST, true, smp) || smp.be === smp.bs) return path;
  return smp.getStr() + (path ?? "");
}

function queryOf(ctx: SampleContext): string | undefined {
  const u = ctx.req.uri;
  const q = u.indexOf("?");
  return q < 0 ? undefined : u.slice(q + 1);
}

/** What follows the version's first slash, as haproxy reads it: "2.0" of HTTP/2.0, none of "X" or "X/". */
function ver(h: HttpHead | undefined): string | undefined {
  const v = h?.version;
  const slash = v === undefined ? -1 : v.indexOf("/");
  return slash < 0 || slash === v!.length - 1 ? undefined : v!.slice(slash + 1);
}

const boolFetch =
  (f: (ctx: SampleContext) => boolean): Maker =>
  () =>
    single((ctx, smp) => {
      smp.setInt(f(ctx) ? 1 : 0, T.Bool);
      return true;
    });

const intFetch =
  (f: (ctx: SampleContext) => number | undefined): Maker =>
  () =>
    single((ctx, smp) => {
      const v = f(ctx);
      if (v === undefined) return false;
      smp.setInt(v);
      return true;
    });

/**
 * How an ACL matches a sample of this type when it names no method (haproxy's default per type);
 * bytes have none, an ACL names its method.
 */
const matchFor = (out: T): MatchName | undefined =>
  out === T.Int ? "int" : out === T.Ip ? "ip" : out === T.Bool ? "bool" : out === T.Bin ? undefined : "str";

const KW = new Map<string, Keyword>();
function def(names: string[], k: Partial<Keyword> & { out: T; make: Maker }): void {
  for (const n of names)
    KW.set(n, {
      args: k.args ?? [],
      min: k.min ?? 0,
      out: k.out,
      match: "match" in k ? k.match : matchFor(k.out),
      acl: k.acl ?? !n.includes("."),
      use: k.use ?? "any",
      check: k.check,
      resolve: k.resolve,
      groups: k.groups,
      make: k.use === "req" ? requestOnly(k.make) : k.make,
    });
}

/** The legacy ACL keywords derived from a fetch: <base>_beg, _dir, ..., each matched by its method. */
const DERIVED: MatchName[] = ["beg", "dir", "dom", "end", "len", "reg", "sub"];
function withDerived(base: string, k: Partial<Keyword> & { out: T; make: Maker }): void {
  def([base], k);
  for (const match of DERIVED) def([`${base}_${match}`], { ...k, match, acl: true });
}

const HS: ("str" | "int")[] = ["str", "int"];
withDerived("hdr", { use: "req", args: HS, out: T.Str, make: hdrFetch(reqSide, true) });
def(["req.hdr"], { use: "req", args: HS, out: T.Str, make: hdrFetch(reqSide, true) });
def(["req.fhdr"], { use: "req", args: HS, out: T.Str, make: hdrFetch(reqSide, false) });
def(["hdr_cnt", "req.hdr_cnt"], { use: "req", args: ["str"], out: T.Int, make: hdrCntFetch(reqSide, true) });
def(["req.fhdr_cnt"], { use: "req", args: ["str"], out: T.Int, make: hdrCntFetch(reqSide, false) });
def(["hdr_val", "req.hdr_val"], {
  use: "req",
  args: HS,
  out: T.Int,
  make: mapValues(hdrFetch(reqSide, true), toVal),
});
def(["hdr_ip", "req.hdr_ip"], {
  use: "req",
  args: HS,
  out: T.Ip,
  make: mapValues(hdrFetch(reqSide, true), toIp),
});

withDerived("shdr", { use: "res", args: HS, out: T.Str, make: hdrFetch(resSide, true) });
def(["res.hdr"], { use: "res", args: HS, out: T.Str, make: hdrFetch(resSide, true) });
def(["res.fhdr"], { use: "res", args: HS, out: T.Str, make: hdrFetch(resSide, false) });
def(["shdr_cnt", "res.hdr_cnt"], { use: "res", args: ["str"], out: T.Int, make: hdrCntFetch(resSide, true) });
def(["res.fhdr_cnt"], { use: "res", args: ["str"], out: T.Int, make: hdrCntFetch(resSide, false) });
def(["shdr_val", "res.hdr_val"], {
  use: "res",
  args: HS,
  out: T.Int,
  make: mapValues(hdrFetch(resSide, true), toVal),
});
def(["shdr_ip", "res.hdr_ip"], {
  use: "res",
  args: HS,
  out: T.Ip,
  make: mapValues(hdrFetch(resSide, true), toIp),
});
// Gone with the response's head, before the log line is written.
def(["status"], {
  use: "res",
  out: T.Int,
  acl: false,
  make: intFetch((ctx) => (ctx.ended ? undefined : ctx.res?.status)),
});
def(["res.ver", "resp_ver"], { use: "res", out: T.Str, make: strFetch((ctx) => ver(ctx.res)) });
// Decided with the response's head, before its rules run.
def(["res.comp"], { use: "res", out: T.Bool, make: boolFetch((ctx) => ctx.resCompAlgo !== undefined) });
def(["res.comp_algo"], { use: "res", out: T.Str, make: strFetch((ctx) => ctx.resCompAlgo) });

withDerived("path", { use: "req", out: T.Str, make: strFetch(pathOf) });
withDerived("url", { use: "req", out: T.Str, make: strFetch((ctx) => ctx.req.uri) });
withDerived("base", {
  use: "req",
  out: T.Str,
  make: () =>
    single((ctx, smp) => {
      const v = baseOf(ctx, smp);
      if (v === undefined) return false;
      smp.setStr(v);
      return true;
    }),
});
/** base32: haproxy's full hash of the sdbm hash of the first Host value and the path (if it is one). */
function base32Of(ctx: SampleContext, smp: Sample): number {
  const path = pathOf(ctx);
  hdrStart(smp);
  const host = hdrNext(ctx.req, HOST, true, smp) ? smp.getStr() : "";
  return fullHash(hashKey("sdbm", host + (path?.[0] === "/" ? path : "")));
}
const base32Sample = new Sample();
def(["base32"], { use: "req", out: T.Int, acl: false, make: intFetch((ctx) => base32Of(ctx, base32Sample)) });
// base32 as 4 bytes, then the client's address (4 or 16): per-client, per-URL counters.
def(["base32+src"], {
  use: "req",
  out: T.Bin,
  acl: false,
  make: () =>
    single((ctx, smp) => {
      const v = hashAndAddress(base32Of(ctx, smp), ctx.src);
      if (v === undefined) return false;
      smp.setStr(v, T.Bin);
      return true;
    }),
});
def(["query"], { use: "req", out: T.Str, acl: false, make: strFetch(queryOf) });
def(["method"], {
  out: T.Meth,
  match: "meth",
  make: () =>
    single((ctx, smp) => {
      if ((ctx.res !== undefined || ctx.ended) && !KNOWN_METHODS.has(ctx.req.method)) return false;
      smp.setStr(ctx.req.method, T.Meth);
      return true;
    }),
});
def(["req.ver", "req_ver"], { use: "req", out: T.Str, make: strFetch((ctx) => ver(ctx.req)) });

def(["src"], {
  use: "conn",
  out: T.Ip,
  acl: false,
  make: () =>
    single((ctx, smp) => {
      smp.setStr(ctx.src, T.Ip);
      return true;
    }),
});
def(["dst"], {
  use: "conn",
  out: T.Ip,
  acl: false,
  make: () =>
    single((ctx, smp) => {
      smp.setStr(ctx.dst, T.Ip);
      return true;
    }),
});
// A port 0 (set-src-port's) is none, as in haproxy.
def(["src_port"], { use: "conn", out: T.Int, acl: false, make: intFetch((ctx) => ctx.srcPort || undefined) });
def(["dst_port"], { use: "conn", out: T.Int, acl: false, make: intFetch((ctx) => ctx.dstPort || undefined) });

// The client's own connection (fc_*): its ends as the socket has them, where src and dst are what a
// PROXY header said.
type End = "peer" | "local";
const endOf = (ctx: SampleContext, end: End): SockAddr | undefined => ctx.frontConn?.[end]();
const connAddress = (ctx: SampleContext, end: End): string | undefined =>
  ctx.frontConn ? endOf(ctx, end)?.address : end === "peer" ? ctx.src : ctx.dst;
const connPort = (ctx: SampleContext, end: End): number | undefined =>
  (ctx.frontConn ? endOf(ctx, end)?.port : end === "peer" ? ctx.srcPort : ctx.dstPort) || undefined;
for (const [name, end] of [
  ["fc_src", "peer"],
  ["fc_dst", "local"],
] as const) {
  def([name], {
    use: "conn",
    out: T.Ip,
    acl: false,
    make: () =>
      single((ctx, smp) => {
        const a = connAddress(ctx, end);
        return a !== undefined && (smp.setStr(a, T.Ip), true);
      }),
  });
  def([`${name}_port`], { use: "conn", out: T.Int, acl: false, make: intFetch((ctx) => connPort(ctx, end)) });
}
def(["fc_rcvd_proxy"], {
  use: "conn",
  out: T.Bool,
  acl: false,
  make: () => single((ctx, smp) => (smp.setInt(ctx.frontConn?.proxied ? 1 : 0, T.Bool), true)),
});
for (const [name, read] of [
  ["src_is_local", (ctx: SampleContext) => ctx.src],
  ["dst_is_local", (ctx: SampleContext) => ctx.dst],
  ["fc_src_is_local", (ctx: SampleContext) => connAddress(ctx, "peer")],
  ["fc_dst_is_local", (ctx: SampleContext) => connAddress(ctx, "local")],
] as const)
  def([name], {
    use: "conn",
    out: T.Bool,
    acl: false,
    make: () => {
      const isLocal = localAddressTest();
      return single((ctx, smp) => {
        const a = read(ctx);
        return a !== undefined && a !== "" && (smp.setInt(isLocal(a) ? 1 : 0, T.Bool), true);
      });
    },
  });
/** What the log record says of the server's connection, once the response is there. */
const serverRecord = (ctx: SampleContext): LogRecord | undefined =>
  ctx.res === undefined ? undefined : ctx.logRecord?.();
// The server connection's ends, once it is made: its own address, read of the kernel only where a
// configuration asks (as for %bi), and the server's. haproxy declares them integers (an ACL on them
// matches numbers) and gives an address and a port.
for (const [name, ip, port] of [
  ["bc_src", "sourceIp", "sourcePort"],
  ["bc_dst", "serverIp", "serverPort"],
] as const) {
  const noting =
    (m: Maker): Maker =>
    (args, iterate) => {
      if (name === "bc_src") noteRead("bi");
      return m(args, iterate);
    };
  def([name], {
    use: "srvconn",
    out: T.Int,
    acl: false,
    make: noting(() =>
      single((ctx, smp) => {
        const a = serverRecord(ctx)?.[ip];
        return a !== undefined && a !== "" && (smp.setStr(a, T.Ip), true);
      }),
    ),
  });
  def([`${name}_port`], {
    use: "srvconn",
    out: T.Int,
    acl: false,
    make: noting(intFetch((ctx) => serverRecord(ctx)?.[port] || undefined)),
  });
}
// The rule that last ended its list in this stream (an allow, a deny, a redirect...).
def(["last_rule_file"], { use: "any", out: T.Str, acl: false, make: strFetch((ctx) => ctx.lastRule?.file) });
def(["last_rule_line"], { use: "any", out: T.Int, acl: false, make: intFetch((ctx) => ctx.lastRule?.line) });
// HTTP/1 on both sides, the only version Sluice speaks; none in mode tcp (haproxy's raw connections
// have no HTTP version: an inspection says the mode) nor before the request, nor for the server's
// connection before one is made (a proxy's own answer has none).
const http1 = (ctx: SampleContext): number | undefined =>
  ctx.req === undefined || ctx.inspect !== undefined ? undefined : 1;
def(["fc_http_major"], { use: "conn", out: T.Int, acl: false, make: intFetch(http1) });
def(["bc_http_major"], {
  use: "srvconn",
  out: T.Int,
  acl: false,
  make: intFetch((ctx) => (serverRecord(ctx)?.serverIp ? http1(ctx) : undefined)),
});
def(["fe_name"], { use: "conn", out: T.Str, acl: false, make: strFetch((ctx) => ctx.feName) });
def(["be_name"], {
  use: "be",
  out: T.Str,
  acl: false,
  // Before a backend is chosen, haproxy's stream has the frontend as its backend.
  make: strFetch((ctx) => ctx.beName || ctx.feName),
});
def(["nbsrv"], {
  use: "conn",
  args: ["str"],
  out: T.Int,
  acl: false,
  resolve: (args) => proxyError(args, "backend", "nbsrv"),
  make: (args) => {
    const be = args[0] === undefined || args[0] === "" ? undefined : String(args[0]);
    return single((ctx, smp) => {
      const n = ctx.nbsrv(be ?? ctx.beName);
      if (n < 0) return false;
      smp.setInt(n);
      return true;
    });
  },
});
def(["srv_name"], { use: "srv", out: T.Str, acl: false, make: strFetch((ctx) => ctx.srvName) });
def(["unique-id"], { out: T.Str, acl: false, make: strFetch((ctx) => ctx.uniqueId?.()) });
// What the log keeps of the request (its line, its captures): there on the response's side too.
for (const part of ["method", "uri"] as const)
  def([`capture.req.${part}`], { out: T.Str, acl: false, make: keptLine(part) });
def(["capture.req.ver"], {
  out: T.Str,
  acl: false,
  make: strFetch((ctx) => (ctx.req.versionMinor === 1 ? "HTTP/1.1" : "HTTP/1.0")),
});
// The version of the server's response: none before it, nor for the proxy's own answers.
def(["capture.res.ver"], {
  out: T.Str,
  acl: false,
  make: strFetch((ctx) =>
    ctx.res === undefined ? undefined : ctx.res.versionMinor === 1 ? "HTTP/1.1" : "HTTP/1.0",
  ),
});
for (const side of ["req", "res"] as const)
  def([`capture.${side}.hdr`], { args: ["int"], min: 1, out: T.Str, acl: false, make: capturedSlot(side) });
def(["always_true"], { use: "conn", out: T.Bool, acl: false, make: boolFetch(() => true) });
def(["always_false"], { use: "conn", out: T.Bool, acl: false, make: boolFetch(() => false) });
// Constants. str's ACLs match as strings, int's as integers.
def(["str"], {
  use: "conn",
  args: ["str"],
  min: 1,
  out: T.Str,
  acl: false,
  make: (args) => {
    const v = String(args[0]);
    return single((_ctx, smp) => (smp.setStr(v), true));
  },
});
def(["int"], {
  use: "conn",
  args: ["int"],
  min: 1,
  out: T.Int,
  acl: false,
  make: (args) => {
    const v = Number(args[0]);
    return single((_ctx, smp) => (smp.setInt(v), true));
  },
});
// The fetches of their own modules.
for (const f of [
  ...authFetches(),
  ...internalFetches(),
  ...cookieFetches(),
  ...httpFetches(),
  ...stateFetches(),
]) {
  const each = f.each;
  const k = {
    ...f,
    make: (args: Arg[], iterate: boolean) => (iterate && each ? each(args) : single(f.make(args))),
  };
  if (f.derived) withDerived(f.name, k);
  else def([f.name], k);
}
// A variable has the type it was stored with: an ACL must say how to match it.
for (const f of stickFetches())
  def([f.name], {
    use: "conn",
    args: f.args,
    min: f.min,
    out: f.out,
    resolve: f.resolve,
    make: (args) => f.make(args),
  });
def(["var"], {
  use: "conn",
  args: ["str", "str"],
  min: 1,
  out: T.Str,
  match: undefined,
  acl: false,
  check: (args) => {
    const ref = parseVarName(String(args[0]));
    return typeof ref === "string" ? ref : undefined;
  },
  make: (args) => {
    const ref = parseVarName(String(args[0])) as VarRef;
    const fallback = args[1] === undefined ? undefined : String(args[1]);
    return single((ctx, smp) => ctx.vars !== undefined && ctx.vars.get(ref, smp, fallback));
  },
});
// In mode tcp it waits: no sample until the inspection is final.
def(["wait_end"], {
  use: "conn",
  out: T.Bool,
  acl: false,
  make: () =>
    single((ctx, smp) => {
      if (ctx.inspect && !ctx.inspect.final) return mayChange(ctx.inspect);
      smp.setInt(1, T.Bool);
      return true;
    }),
});
// haproxy declares it usable anywhere, but finds no request to tell about in the response.
def(["req.proto_http", "req_proto_http"], {
  out: T.Bool,
  make: () =>
    single((ctx, smp) => {
      if (ctx.res !== undefined) return false;
      smp.setInt(1, T.Bool);
      return true;
    }),
});
// In HTTP mode haproxy counts the parsed head in req.len, so it is never 0 once rules run; in the
// response it counts the response's, which is then in the buffer.
def(["req.len", "req_len"], {
  use: "buffer",
  out: T.Int,
  make: intFetch((ctx) => {
    const insp = ctx.inspect;
    if (insp) {
      // More may come: a comparison it fails now may pass later.
      insp.mayChange = true;
      return insp.buf.length;
    }
    const h = ctx.res ?? ctx.req;
    return h.end - h.start;
  }),
});
// The request's raw bytes exist in mode tcp only (haproxy's HTTP streams hold no raw buffer).
def(["req.payload"], {
  use: "buffer",
  args: ["int", "int"],
  min: 2,
  out: T.Bin,
  make: (args) => {
    const off = Number(args[0]);
    const len = Number(args[1]);
    return single((ctx, smp) => {
      const insp = ctx.inspect;
      if (!insp) return false;
      // Past the buffer's size it will never come.
      if (len > insp.max || off + len > insp.max) return false;
      const buf = insp.buf;
      if (off + len > buf.length) return mayChange(insp);
      smp.setBytes(buf, off, len === 0 ? buf.length : off + len, T.Bin);
      if (len === 0) insp.mayChange = true;
      return true;
    });
  },
});
def(["req.ssl_hello_type", "req_ssl_hello_type"], {
  use: "buffer",
  out: T.Int,
  make: () =>
    single((ctx, smp) => {
      const insp = ctx.inspect;
      if (!insp) return false;
      const t = tlsHelloType(insp.buf);
      if (t === TOO_SHORT) return mayChange(insp);
      if (t === NOT_TLS) return false;
      smp.setInt(t);
      return true;
    }),
});
def(["req.ssl_sni", "req_ssl_sni"], {
  use: "buffer",
  out: T.Str,
  make: () =>
    single((ctx, smp) => {
      const insp = ctx.inspect;
      if (!insp) return false;
      const sni = tlsServerName(insp.buf);
      if (sni === TOO_SHORT) return mayChange(insp);
      if (sni === NOT_TLS) return false;
      smp.setBytes(insp.buf, sni[0], sni[1]);
      return true;
    }),
});

/** Where a fetch keyword's sample exists ("any" for a name that is not one). */
export const fetchUse = (name: string): FetchUse => KW.get(name)?.use ?? "any";

export interface ParsedFetch {
  name: string;
  kw: Keyword;
  impl: FetchImpl;
  /** Type after converters. */
  out: T;
  /** The default match method: the keyword's, or a converter's output's. */
  match: MatchName | undefined;
  /** Where the expression ends in the text parsed. */
  end: number;
  /** An ACL's matcher in place of its method's, given its patterns: http_auth_group's without converters. */
  groups?: (patterns: string[]) => Matcher | string;
}

/** What haproxy's sample parser takes as a keyword's characters. */
const isIdChar = (c: string | undefined): boolean => c !== undefined && /[A-Za-z0-9._\-+:]/.test(c);

/** The end of the keyword starting at `from`. */
function idEnd(text: string, from: number): number {
  let i = from;
  while (isIdChar(text[i])) i++;
  return i;
}

/**
 * Parses `name(args),conv,...` and builds the fetch; `iterate` is true for ACLs. `open`: the
 * expression is the start of `expr` (a log-format's `%[` onwards), and ends where its last term
 * does, as haproxy's sample parser ends it. `responseSide`: a sample expression of a response rule,
 * where `hdr` is the response's.
 */
export function parseFetch(
  expr: string,
  where: Where,
  iterate: boolean,
  opts: { open?: boolean; responseSide?: boolean } = {},
): ParsedFetch {
  const open = opts.open === true;
  let i = 0;
  if (open) i = idEnd(expr, 0);
  else while (i < expr.length && expr[i] !== "(" && expr[i] !== ",") i++;
  const name = expr.slice(0, i);
  if (open && name === "") throw new ConfigError("missing fetch method", where);
  const kw = KW.get(opts.responseSide && name === "hdr" ? "res.hdr" : name);
  if (kw === undefined) {
    const what = HAPROXY_FETCHES.has(name)
      ? `fetch method '${name}' is not supported by sluice yet`
      : `unknown fetch method '${name}'`;
    throw new ConfigError(`${what} in ACL expression '${expr}'.`, where);
  }
  const desc = kw.acl ? `ACL keyword '${name}'` : `fetch method '${name}'`;
  const tail = kw.acl ? "." : ` in ACL expression '${expr}'.`;
  const read = readArgs(expr, i, kw.args, kw.min);
  if ("error" in read) throw new ConfigError(`${desc} : ${read.error}${tail}`, where);
  const args = read.args;
  i = read.end;
  const invalid = kw.check?.(args);
  if (invalid !== undefined) throw new ConfigError(`invalid args in ${desc} : ${invalid}${tail}`, where);
  const unresolved = kw.resolve?.(args);
  if (unresolved !== undefined) throw new ConfigError(unresolved, where, true);
  let impl = kw.make(args, iterate);
  let out = kw.out;
  let match = kw.match;
  const groupsOf = kw.groups;
  let groups = groupsOf && ((patterns: string[]) => groupsOf(args, patterns));
  while (i < expr.length) {
    // An open expression ends at the first character that continues no term.
    if (open && expr[i] !== ",") break;
    // A sample fetch's messages are haproxy's sample parser's: they name no method first.
    if (expr[i] !== ",")
      throw new ConfigError(
        kw.acl
          ? `${desc} : missing comma after fetch keyword${tail}`
          : `missing comma after fetch keyword '${name}'${tail}`,
        where,
      );
    if (open) while (expr[i + 1] === ",") i++;
    let j = i + 1;
    if (open) j = idEnd(expr, j);
    else while (j < expr.length && expr[j] !== "," && expr[j] !== "(") j++;
    const cname = expr.slice(i + 1, j);
    const conv = CONVERTERS.get(cname);
    // An ACL keyword's message names it, and ends with two dots.
    const convError = (m: string) => new ConfigError(kw.acl ? `${desc} : ${m}..` : `${m}${tail}`, where);
    if (conv === undefined)
      throw convError(
        HAPROXY_CONVERTERS.has(cname)
          ? `converter '${cname}' is not supported by sluice yet`
          : `unknown converter '${cname}'`,
      );
    if (!castable(out, conv.in)) throw convError(`converter '${cname}' cannot be applied`);
    const cread = readArgs(expr, j, conv.args, conv.min);
    if ("error" in cread)
      throw convError(`invalid arg ${cread.pos + 1} in converter '${cname}' : ${cread.error}`);
    const bad = conv.check?.(cread.args);
    if (bad !== undefined) throw convError(`invalid args in converter '${cname}' : ${bad}`);
    const noTable = conv.resolve?.(cread.args);
    if (noTable !== undefined) throw new ConfigError(noTable, where, true);
    impl = converted(impl, conv, conv.make(cread.args));
    out = conv.out;
    match = conv.anyType ? undefined : matchFor(out);
    groups = undefined;
    i = cread.end;
  }
  return { name, kw, impl, out, match, end: i, groups };
}

function converted(
  inner: FetchImpl,
  conv: Converter,
  apply: (smp: Sample, ctx: SampleContext) => boolean,
): FetchImpl {
  return {
    first: (ctx, smp) => inner.first(ctx, smp) && castFor(conv, smp) && apply(smp, ctx),
    next: (ctx, smp) => inner.next(ctx, smp) && castFor(conv, smp) && apply(smp, ctx),
  };
}

/**
 * A parseFetch error as haproxy's sample expressions word it: without the ACL expression it came
 * from, a keyword named as a fetch method (`fetch method 'int' : failed to parse 'x' as type 'integer'
 * at position 1`, `unknown fetch method 'x'`).
 */
export function fetchReason(message: string): string {
  // A converter's message in an ACL: the keyword named first, two dots after.
  const conv = /^ACL keyword '[^']*' : ((?:unknown )?converter .*|invalid args? .*)\.\.$/s.exec(message);
  if (conv) return conv[1]!;
  return message
    .replace(
      /^ACL keyword '([^']*)' : missing comma after fetch keyword\.$/,
      "missing comma after fetch keyword '$1'",
    )
    .replace(/^ACL keyword '/, "fetch method '")
    .replace(/ in ACL expression '.*'\.$|\.$/s, "");
}

/** Whether `name` is a fetch keyword this build knows. */
export const isFetch = (name: string): boolean => KW.has(name);
