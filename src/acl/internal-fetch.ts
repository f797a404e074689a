// Sample fetches of the process's internal state and constants (haproxy 2.6's manual, 7.3.2): typed
// constants (bool, bin, ipv4, ipv6, meth), the clock (date, date_us), the environment (env), the host
// (hostname), random values (rand, uuid) and the process (stopping, proc, thread, nbproc). All exist
// from the accepted connection on.
//
// bin has no type of its own here: its bytes are a string of one character per byte (latin1), as
// the converters that take bytes read them (binaryOf), and like haproxy's binary samples an ACL must
// name how to match it. haproxy's cast of bytes to text stops at the first NUL; this one keeps them.
import { randomUUID } from "node:crypto";
import { hostname as systemHostname } from "node:os";
import { performance } from "node:perf_hooks";
import type { Arg } from "./args.js";
import type { SampleContext } from "./context.js";
import type { FetchDef } from "./fetch-def.js";
import { ipv6Text, parseIpv6 } from "./ip.js";
import { INT_LIMIT, T, fromBig, toBig, type Sample } from "./sample.js";
import { wireText } from "../http/chars.js";

/** A fetch's sample may differ when asked again (haproxy's SMP_F_MAY_CHANGE): a failed test waits. */
function mayChange(ctx: SampleContext): void {
  if (ctx.inspect) ctx.inspect.mayChange = true;
}

// ---- The clock ----

let clockUs: number | undefined;

/**
 * The wall clock in microseconds, read once per turn of the event loop: like haproxy's `date`,
 * which its poller updates between tasks, every fetch of one rule or format sees the same instant.
 */
function nowUs(): number {
  if (clockUs === undefined) {
    const ms = Date.now();
    const fine = Math.floor((performance.timeOrigin + performance.now()) * 1000);
    // The finer clock is monotonic and may drift from the wall clock: keep the wall clock's millisecond.
    clockUs = Math.floor(fine / 1000) === ms ? fine : ms * 1000 + (fine % 1000);
    queueMicrotask(() => (clockUs = undefined));
  }
  return clockUs;
}

const UNITS = new Map([
  ["s", 1],
  ["ms", 1000],
  ["us", 1_000_000],
]);

/** haproxy's 64-bit arithmetic wraps: the date plus an offset past the range turns around. */
const add64 = (a: number, b: number): number => {
  const sum = a + b;
  return Math.abs(sum) < Number.MAX_SAFE_INTEGER && Math.abs(b) < INT_LIMIT
    ? sum
    : fromBig(BigInt.asIntN(64, BigInt(a) + toBig(b)));
};

// ---- Arguments ----

/** haproxy's %lld of an argument read as a 64-bit integer (read capped at its bounds). */
const int64Text = (n: number): string =>
  n >= INT_LIMIT ? "9223372036854775807" : n <= -INT_LIMIT ? "-9223372036854775808" : String(n);

const BOOLS = new Map([
  ["true", 1],
  ["1", 1],
  ["false", 0],
  ["0", 0],
]);

/** parse_binary: pairs of hexadecimal digits. Its refusal of nothing at all says "(null)". */
function hexError(hex: string): string | undefined {
  if (hex.length % 2 !== 0) return "an even number of hex digit is expected";
  for (const c of hex) if (!/[0-9a-fA-F]/.test(c)) return `an hex digit is expected (found '${c}')`;
  return hex === "" ? "(null)" : undefined;
}

const hexToBytes = (hex: string): string => Buffer.from(hex, "hex").toString("latin1");

/** An HTTP token's characters (RFC 7230 tchar). */
const TOKEN = /^[-!#$%&'*+.^_`|~0-9A-Za-z]*$/;

/** inet_pton(AF_INET): four decimal octets, no leading zeros. */
const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]\d|\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]\d|\d)$/;

/** inet_pton(AF_INET6) into `out`: groups of hex digits, one "::", a strict dotted quad last. */
function ipv6Bytes(s: string, out: Uint8Array): boolean {
  if (s.includes(".") && !IPV4.test(s.slice(s.lastIndexOf(":") + 1))) return false;
  return parseIpv6(s, out);
}

const addr6 = new Uint8Array(16);

// ---- Definitions ----

/** A fetch without arguments that always has a sample. */
const constant = (name: string, out: T, set: (ctx: SampleContext, smp: Sample) => void): FetchDef => ({
  name,
  args: [],
  min: 0,
  out,
  use: "conn",
  acl: false,
  make: () => (ctx, smp) => (set(ctx, smp), true),
});

const str = (a: Arg | undefined): string => (a === undefined ? "" : String(a));

/** ipv4(<address>), ipv6(<address>): the address, as `read` gives it back, or haproxy's refusal. */
function address(name: string, type: string, read: (a: string) => string | undefined): FetchDef {
  return {
    name,
    args: ["str"],
    min: 1,
    out: T.Ip,
    use: "conn",
    acl: false,
    check: (args) => {
      const a = str(args[0]);
      if (a === "") return `expected type '${type}' at position 1, but got nothing`;
      return read(a) === undefined ? `failed to parse '${a}' as type '${type}' at position 1` : undefined;
    },
    make: (args) => {
      const a = read(str(args[0]))!;
      return (_ctx, smp) => (smp.setStr(a, T.Ip), true);
    },
  };
}

export function internalFetches(): FetchDef[] {
  const defs: FetchDef[] = [
    {
      name: "bool",
      args: ["str"],
      min: 1,
      out: T.Bool,
      use: "conn",
      acl: false,
      check: (args) =>
        BOOLS.has(str(args[0]).toLowerCase()) ? undefined : "Expects 'true', 'false', '0' or '1'",
      make: (args) => {
        const v = BOOLS.get(str(args[0]).toLowerCase())!;
        return (_ctx, smp) => (smp.setInt(v, T.Bool), true);
      },
    },
    {
      // Bytes: an ACL must name its method (-m bin, -m str, -m len, ...), as haproxy asks.
      name: "bin",
      args: ["str"],
      min: 1,
      out: T.Bin,
      use: "conn",
      acl: false,
      check: (args) => hexError(wireText(str(args[0]))),
      make: (args) => {
        const bytes = hexToBytes(str(args[0]));
        return (_ctx, smp) => (smp.setStr(bytes, T.Bin), true);
      },
    },
    address("ipv4", "IPv4 address", (a) => (IPV4.test(a) ? a : undefined)),
    // Written back as haproxy writes an IPv6 sample (inet_ntop).
    address("ipv6", "IPv6 address", (a) => (ipv6Bytes(a, addr6) ? ipv6Text(addr6) : undefined)),
    {
      // A method: one haproxy knows (exact case) or any token, even an empty one. No default match.
      name: "meth",
      args: ["str"],
      min: 1,
      out: T.Meth,
      use: "conn",
      acl: false,
      match: undefined,
      check: (args) => (TOKEN.test(str(args[0])) ? undefined : "expects valid method."),
      make: (args) => {
        const m = str(args[0]);
        return (_ctx, smp) => (smp.setStr(m, T.Meth), true);
      },
    },
    {
      // Seconds since the epoch, or milliseconds or microseconds, plus the offset.
      name: "date",
      args: ["int", "str"],
      min: 0,
      out: T.Int,
      use: "conn",
      acl: false,
      check: (args) =>
        args[1] === undefined || UNITS.has(String(args[1]))
          ? undefined
          : `expects 's', 'ms' or 'us', got '${String(args[1])}'`,
      make: (args) => {
        const offset = args[0] === undefined ? 0 : Number(args[0]);
        const per = UNITS.get(str(args[1]) || "s")!;
        return (ctx, smp) => {
          const us = nowUs();
          const v = per === 1 ? Math.floor(us / 1e6) : per === 1000 ? Math.floor(us / 1000) : us;
          smp.setInt(add64(v, offset));
          mayChange(ctx);
          return true;
        };
      },
    },
    {
      name: "date_us",
      args: [],
      min: 0,
      out: T.Int,
      use: "conn",
      acl: false,
      make: () => (ctx, smp) => {
        smp.setInt(nowUs() % 1e6);
        mayChange(ctx);
        return true;
      },
    },
    {
      // The process's environment as the global section left it (setenv, presetenv, unsetenv,
      // resetenv); no sample for a variable it does not have.
      name: "env",
      args: ["str"],
      min: 1,
      out: T.Str,
      use: "conn",
      acl: false,
      make: (args) => {
        const name = str(args[0]);
        return (ctx, smp) => {
          const env = ctx.environment ?? process.env;
          // Its own variables only: a plain object also answers "toString" and "__proto__".
          const v = Object.hasOwn(env, name) ? env[name] : undefined;
          if (v === undefined) return false;
          smp.setStr(wireText(v));
          return true;
        };
      },
    },
    constant("hostname", T.Str, (ctx, smp) => smp.setStr(ctx.lineEnv?.hostname ?? systemHostname())),
    {
      // A 32-bit random number, scaled into [0, range) as haproxy does: (r * range) >> 32 in
      // unsigned 64-bit arithmetic (a negative or huge range wraps as there).
      name: "rand",
      args: ["int"],
      min: 0,
      out: T.Int,
      use: "conn",
      acl: false,
      make: (args) => {
        const range = args[0] === undefined ? undefined : Number(args[0]);
        const big = range === undefined ? 0n : BigInt.asUintN(64, toBig(range));
        const exact = range !== undefined && range >= 0 && range <= 2 ** 20;
        return (ctx, smp) => {
          const r = Math.floor(Math.random() * 2 ** 32);
          let v = r;
          if (range !== undefined)
            v = exact
              ? Math.floor((r * range) / 2 ** 32)
              : Number(BigInt.asUintN(64, BigInt(r) * big) >> 32n);
          smp.setInt(v);
          mayChange(ctx);
          return true;
        };
      },
    },
    {
      // A random (version 4) UUID; haproxy 2.6 knows no other version.
      name: "uuid",
      args: ["int"],
      min: 0,
      out: T.Str,
      use: "conn",
      acl: false,
      check: (args) =>
        args[0] === undefined || args[0] === 4
          ? undefined
          : `Unsupported UUID version: '${int64Text(Number(args[0]))}'`,
      make: () => (ctx, smp) => {
        smp.setStr(randomUUID());
        mayChange(ctx);
        return true;
      },
    },
    constant("stopping", T.Bool, (ctx, smp) => smp.setInt(ctx.stopping ? 1 : 0, T.Bool)),
    // One process, one thread: haproxy 2.6's proc and nbproc always say 1, thread counts from 0.
    constant("proc", T.Int, (_ctx, smp) => smp.setInt(1)),
    constant("nbproc", T.Int, (_ctx, smp) => smp.setInt(1)),
    constant("thread", T.Int, (_ctx, smp) => smp.setInt(0)),
  ];
  return defs;
}
