// The cookie fetches, as haproxy 2.6 reads them: the request's (req.cook, cook and its derived ACL
// forms, their counts and numbers), the response's Set-Cookie (res.cook, scook, ...), and `cookie`,
// which reads the message the rule sees. Outside ACLs a fetch gives the last cookie of its name (the
// first of any name when it names none); an ACL tries each in turn.
import type { HttpHead } from "../http/message.js";
import type { Arg } from "./args.js";
import type { SampleContext } from "./context.js";
import type { FetchDef } from "./fetch-def.js";
import { cookNext, cookStart } from "./headers.js";
import { Sample, T, strl2ic } from "./sample.js";

const COOKIE = Buffer.from("cookie");
const SET_COOKIE = Buffer.from("set-cookie");

/** Whose cookies: the request's, the response's, or those of the message the rule sees. */
type From = "req" | "res" | "seen";

/** Where a cookie fetch reads: a head, the header its cookies are in, whether they come as a list. */
const side = { head: undefined as unknown as HttpHead, header: COOKIE, list: true };
type Side = typeof side;

/**
 * The side a fetch reads, or undefined: a response's Set-Cookie lines only once it is there, and
 * nothing once the transaction's messages are gone. fetch.ts keeps a request fetch from reading past
 * the request.
 */
function sideOf(ctx: SampleContext, from: From): Side | undefined {
  if (from !== "req" && ctx.ended) return undefined;
  const head = from === "req" ? ctx.req : from === "res" ? ctx.res : (ctx.res ?? ctx.req);
  if (head === undefined) return undefined;
  side.head = head;
  side.list = head !== ctx.res;
  side.header = side.list ? COOKIE : SET_COOKIE;
  return side;
}

const nameArg = (args: Arg[]): Buffer => Buffer.from(args[0] === undefined ? "" : String(args[0]), "latin1");

/** Sets smp (its cursor too) to the last cookie named `name`, or the first of any name. */
function lastCookie(c: Side, name: Buffer, smp: Sample): boolean {
  cookStart(smp);
  if (!cookNext(c.head, c.header, name, c.list, smp)) return false;
  if (name.length === 0) return true;
  let vs = smp.bs;
  let ve = smp.be;
  while (cookNext(c.head, c.header, name, c.list, smp)) {
    vs = smp.bs;
    ve = smp.be;
  }
  smp.setBytes(c.head.buf, vs, ve);
  return true;
}

const toInt32 = (smp: Sample): void => smp.setInt(strl2ic(smp.buf!, smp.bs, smp.be));

/** A cookie's value, or its number (`number`: haproxy's strl2ic, as cook_val reads it). */
function valueFetch(from: From, number: boolean): Pick<FetchDef, "make" | "each"> {
  return {
    make: (args) => {
      const name = nameArg(args);
      return (ctx, smp) => {
        const c = sideOf(ctx, from);
        if (c === undefined || !lastCookie(c, name, smp)) return false;
        if (number) toInt32(smp);
        return true;
      };
    },
    each: (args) => {
      const name = nameArg(args);
      // The side is found again for each value: `side` is shared by every cookie fetch.
      const next = (ctx: SampleContext, smp: Sample): boolean => {
        const c = sideOf(ctx, from);
        if (c === undefined || !cookNext(c.head, c.header, name, c.list, smp)) return false;
        if (number) toInt32(smp);
        return true;
      };
      return {
        first: (ctx, smp) => (cookStart(smp), next(ctx, smp)),
        next,
      };
    },
  };
}

function countFetch(from: From): Pick<FetchDef, "make"> {
  return {
    make: (args) => {
      const name = nameArg(args);
      return (ctx, smp) => {
        const c = sideOf(ctx, from);
        if (c === undefined) return false;
        let n = 0;
        cookStart(smp);
        while (cookNext(c.head, c.header, name, c.list, smp)) n++;
        smp.setInt(n);
        return true;
      };
    },
  };
}

export function cookieFetches(): FetchDef[] {
  const S: ("str" | "int")[] = ["str"];
  const defs: FetchDef[] = [];
  // A name without a dot is an ACL keyword, except for those marked `acl: false`.
  for (const [from, name, base] of [
    ["req", "req.cook", "cook"],
    ["res", "res.cook", "scook"],
  ] as const) {
    defs.push({ name, args: S, min: 0, out: T.Str, use: from, ...valueFetch(from, false) });
    defs.push({
      name: base,
      args: S,
      min: 0,
      out: T.Str,
      use: from,
      derived: true,
      ...valueFetch(from, false),
    });
  }
  defs.push(
    { name: "req.cook_cnt", args: S, min: 0, out: T.Int, use: "req", ...countFetch("req") },
    { name: "cook_cnt", args: S, min: 0, out: T.Int, use: "req", ...countFetch("req") },
    { name: "req.cook_val", args: S, min: 0, out: T.Int, use: "req", ...valueFetch("req", true) },
    { name: "cook_val", args: S, min: 0, out: T.Int, use: "req", ...valueFetch("req", true) },
  );
  for (const name of ["res.cook_cnt", "scook_cnt"])
    defs.push({ name, args: S, min: 0, out: T.Int, use: "res", acl: false, ...countFetch("res") });
  for (const name of ["res.cook_val", "scook_val"])
    defs.push({ name, args: S, min: 0, out: T.Int, use: "res", acl: false, ...valueFetch("res", true) });
  // haproxy declares cookie on both sides.
  defs.push({ name: "cookie", args: S, min: 0, out: T.Str, acl: false, ...valueFetch("seen", false) });
  return defs;
}
