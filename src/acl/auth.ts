// HTTP authentication as haproxy 2.6 reads it: the first value of the first Authorization header,
// its scheme (Basic or Bearer), a Basic one's user and password, checked against a userlist
// (http_auth, http_auth_group) or only read (http_auth_type, http_auth_user, http_auth_pass,
// http_auth_bearer).
import { createHmac, randomBytes } from "node:crypto";
import type { AuthUser, Userlist } from "../config/model.js";
import type { SampleContext } from "./context.js";
import type { Arg } from "./args.js";
import type { FetchDef } from "./fetch-def.js";
import { hdrOcc } from "./headers.js";
import { Sample, T } from "./sample.js";
import type { Matcher } from "./match.js";
import { findUserlist } from "./scope.js";
import { crypt } from "../util/crypt.js";
import { wireText } from "../http/chars.js";

/** What an Authorization value says: its scheme, and a Basic one's user and password (as bytes, latin1). */
interface Credentials {
  scheme: "Basic" | "Bearer";
  /** The text after the scheme and its spaces. */
  data: string;
  user: string;
  pass: string;
}

const AUTHORIZATION = Buffer.from("authorization");
const PROXY_AUTHORIZATION = Buffer.from("proxy-authorization");
const scratch = new Sample();

/**
 * The credentials of the request's first Authorization value (up to a comma), Proxy-Authorization's
 * in a proxy's request (option http-use-proxy-header). haproxy takes a scheme
 * written shorter as the one it begins ("B" is Basic, "Bea" Bearer); a Basic value that does not
 * decode, or has no colon, gives none.
 */
function credentials(ctx: SampleContext): Credentials | undefined {
  if (!hdrOcc(ctx.req, ctx.proxied ? PROXY_AUTHORIZATION : AUTHORIZATION, true, 1, scratch)) return undefined;
  const value = scratch.getStr();
  const sp = value.indexOf(" ");
  if (sp <= 0) return undefined;
  const scheme = value.slice(0, sp).toLowerCase();
  let d = sp;
  while (value.charCodeAt(d) === 32) d++;
  const data = value.slice(d);
  if ("bearer".startsWith(scheme) && !"basic".startsWith(scheme))
    return { scheme: "Bearer", data, user: "", pass: "" };
  if (!"basic".startsWith(scheme)) return undefined;
  const decoded = base64Decode(data);
  if (decoded === undefined) return undefined;
  // haproxy reads the decoded text as a C string.
  const nul = decoded.indexOf("\0");
  const text = nul < 0 ? decoded : decoded.slice(0, nul);
  const colon = text.indexOf(":");
  if (colon < 0) return undefined;
  return { scheme: "Basic", data, user: text.slice(0, colon), pass: text.slice(colon + 1) };
}

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/**
 * Base64 as haproxy's decoder takes it: groups of four characters, each of which may end in '='
 * (not its first), "YQ==Yg==" is "ab". Returns the bytes as latin1 text.
 */
function base64Decode(s: string): string | undefined {
  if (s.length % 4 !== 0) return undefined;
  let out = "";
  for (let g = 0; g < s.length; g += 4) {
    let bits = 0;
    let pad = 0;
    for (let k = 0; k < 4; k++) {
      const c = s[g + k]!;
      if (c === "=") {
        // haproxy's decoder takes "X===" (nothing) but no group that starts with one.
        if (k === 0 || (pad > 0 && k < 2)) return undefined;
        pad++;
        bits <<= 6;
        continue;
      }
      const v = B64.indexOf(c);
      if (v < 0 || pad > 0) return undefined;
      bits = (bits << 6) | v;
    }
    const bytes = [(bits >> 16) & 255, (bits >> 8) & 255, bits & 255].slice(0, 3 - pad);
    out += String.fromCharCode(...bytes);
  }
  return out;
}

const byWireName = new WeakMap<Userlist, Map<string, AuthUser>>();

/** The user the client names (bytes, latin1) in a list the configuration wrote (UTF-8): bytes compared. */
function userOf(list: Userlist, name: string): AuthUser | undefined {
  let users = byWireName.get(list);
  if (users === undefined) {
    users = new Map([...list.users].map(([n, u]) => [wireText(n), u]));
    byWireName.set(list, users);
  }
  return users.get(name);
}

/**
 * The users and passwords that passed, by list (crypt(3) costs milliseconds), as an HMAC of both: no
 * password stays in memory as it came.
 */
const verified = new WeakMap<Userlist, Set<string>>();
/** The digest's key, this process's own: what it remembers cannot be tried against elsewhere. */
const SECRET = randomBytes(32);
const VERIFIED_MAX = 1024;

/** Whether `user` is in `list` with this password (haproxy's check_user). */
function checkUser(list: Userlist, user: string, pass: string): boolean {
  const u = userOf(list, user);
  if (u === undefined || u.password === undefined) return false;
  if (u.insecure) return pass === wireText(u.password);
  let known = verified.get(list);
  if (known === undefined) verified.set(list, (known = new Set()));
  const key = createHmac("sha256", SECRET)
    .update(user, "latin1")
    .update("\0")
    .update(pass, "latin1")
    .digest("base64");
  if (known.has(key)) return true;
  const ok = crypt(Buffer.from(pass, "latin1"), u.password) === u.password;
  // Only successes: a flood of wrong guesses would push them out.
  if (ok) {
    if (known.size >= VERIFIED_MAX) known.clear();
    known.add(key);
  }
  return ok;
}

function userlistArg(args: Arg[], keyword: string): Userlist | undefined {
  const l = findUserlist(String(args[0] ?? ""), keyword);
  return l && !("error" in l) ? l : undefined;
}

function userlistError(args: Arg[], keyword: string): string | undefined {
  const l = findUserlist(String(args[0] ?? ""), keyword);
  return l && "error" in l ? l.error : undefined;
}

const basic = (ctx: SampleContext): Credentials | undefined => {
  const c = credentials(ctx);
  return c?.scheme === "Basic" ? c : undefined;
};

const str =
  (f: (c: Credentials) => string) =>
  (ctx: SampleContext, smp: Sample): boolean => {
    const c = basic(ctx);
    if (c === undefined) return false;
    smp.setStr(f(c));
    return true;
  };

export function authFetches(): FetchDef[] {
  return [
    {
      name: "http_auth",
      args: ["str"],
      min: 1,
      out: T.Bool,
      use: "req",
      resolve: (args) => userlistError(args, "http_auth"),
      make: (args) => {
        const list = userlistArg(args, "http_auth");
        return (ctx, smp) => {
          const c = basic(ctx);
          if (c === undefined || list === undefined) return false;
          smp.setInt(checkUser(list, c.user, c.pass) ? 1 : 0, T.Bool);
          return true;
        };
      },
    },
    {
      name: "http_auth_group",
      args: ["str"],
      min: 1,
      out: T.Str,
      use: "req",
      groups: (args, patterns) => groupMatcher(userlistArg(args, "http_auth_group"), patterns),
      resolve: (args) => userlistError(args, "http_auth_group"),
      make: (args) => {
        const list = userlistArg(args, "http_auth_group");
        return (ctx, smp) => {
          const c = basic(ctx);
          if (c === undefined || list === undefined || !checkUser(list, c.user, c.pass)) return false;
          smp.setStr(c.user);
          return true;
        };
      },
    },
    {
      name: "http_auth_type",
      args: [],
      min: 0,
      out: T.Str,
      use: "req",
      make: () => (ctx, smp) => {
        const c = credentials(ctx);
        if (c === undefined) return false;
        smp.setStr(c.scheme);
        return true;
      },
    },
    { name: "http_auth_user", args: [], min: 0, out: T.Str, use: "req", make: () => str((c) => c.user) },
    { name: "http_auth_pass", args: [], min: 0, out: T.Str, use: "req", make: () => str((c) => c.pass) },
    {
      name: "http_auth_bearer",
      args: ["str"],
      min: 0,
      out: T.Str,
      use: "req",
      make: (args) => {
        const header = args[0] === undefined || args[0] === "" ? undefined : String(args[0]).toLowerCase();
        if (header === undefined)
          return (ctx, smp) => {
            const c = credentials(ctx);
            if (c?.scheme !== "Bearer") return false;
            smp.setStr(c.data);
            return true;
          };
        const name = Buffer.from(header, "latin1");
        // From another header, the scheme is spelled out, and a value without one is an empty token.
        return (ctx, smp) => {
          let token = "";
          if (hdrOcc(ctx.req, name, true, 1, scratch)) {
            const value = scratch.getStr();
            const sp = value.indexOf(" ");
            if (sp >= 0 && value.slice(0, sp).toLowerCase() === "bearer")
              token = value.slice(sp).replace(/^ +/, "");
          }
          smp.setStr(token);
          return true;
        };
      },
    },
  ];
}

/**
 * How http_auth_group's ACL matches: the user's groups against the patterns. haproxy refuses an ACL
 * without a group, or with one its userlist does not have (which could never match).
 */
function groupMatcher(list: Userlist | undefined, patterns: string[]): Matcher | string {
  if (list !== undefined) {
    if (patterns.length === 0) return "no groups specified.";
    const unknown = patterns.find((p) => !list.groups.has(p));
    if (unknown !== undefined) return `invalid group '${unknown}'.`;
  }
  return {
    match: (smp: Sample) => {
      const u = list && userOf(list, smp.getStr());
      return u !== undefined && patterns.some((p) => u.groups.has(p));
    },
  };
}
