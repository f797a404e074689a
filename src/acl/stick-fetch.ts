// The sample fetches and converters that read stick tables, as haproxy 2.6 has them: sc_<x>(N[,t])
// and scN_<x>([t]) read what slot N tracks (or its key's entry in table t), src_<x>([t]) the client
// address's entry, table_<x>(t) the entry of the sample's key. An untracked slot, or a data type
// the table does not store, gives no sample; a key with no entry reads as 0. The general purpose
// arrays' take an index first, and a table always: sc_<x>(I,N[,t]), src_<x>(I,t), table_<x>(I,t).
import type { SampleContext } from "./context.js";
import type { Arg, ArgType } from "./args.js";
import { Sample, T, toU32 } from "./sample.js";
import { LEGACY_0, LEGACY_1, clrGpc, getGpc, getGpt, gpcRate, incGpc, type GpAt } from "../stick/gp.js";
import { D, DATA_NAMES, type StickEntry, type StickTable } from "../stick/table.js";
import { findTable } from "./scope.js";

interface Impl {
  first(ctx: SampleContext, smp: Sample): boolean;
  next(ctx: SampleContext, smp: Sample): boolean;
}

export interface StickFetch {
  name: string;
  args: ArgType[];
  min: number;
  out: T;
  /** haproxy's refusal of a table argument naming no table, or undefined. */
  resolve(args: Arg[]): string | undefined;
  make(args: Arg[]): Impl;
}

export interface StickConverter {
  name: string;
  args: ArgType[];
  min: number;
  out: T;
  resolve(args: Arg[]): string | undefined;
  make(args: Arg[]): (smp: Sample) => boolean;
}

const none = (): boolean => false;

/** What an entry gives for data type `d`: the counter, or the rate now; undefined when not stored. */
function read(table: StickTable, e: StickEntry, d: D, now: number): number | undefined {
  const period = table.spec.store[d];
  if (period === undefined) return undefined;
  const r = e.rates[d];
  if (r) return r.read(now, period);
  // Only kbytes_* read the byte counts.
  return d === D.BytesInCnt || d === D.BytesOutCnt ? Math.floor(e.counts[d]! / 1024) : e.counts[d];
}

/** What a getter reads of an entry its table stores, or undefined when the table does not store it. */
type Read = (table: StickTable, e: StickEntry, now: number) => number | undefined;

/** The getters: `<x>` names and what each reads (kbytes_*: in KiB, rounded down). */
const GETTERS: [string, Read][] = [
  ...(
    [
      ["kbytes_in", D.BytesInCnt],
      ["kbytes_out", D.BytesOutCnt],
      ["bytes_in_rate", D.BytesInRate],
      ["bytes_out_rate", D.BytesOutRate],
      ...(
        [
          D.ConnCnt,
          D.ConnRate,
          D.ConnCur,
          D.SessCnt,
          D.SessRate,
          D.HttpReqCnt,
          D.HttpReqRate,
          D.HttpErrCnt,
          D.HttpErrRate,
          D.HttpFailCnt,
          D.HttpFailRate,
        ] as D[]
      ).map((d): [string, D] => [DATA_NAMES[d]!, d]),
    ] as [string, D][]
  ).map(([x, d]): [string, Read] => [x, (t, e, now) => read(t, e, d, now)]),
  ["get_gpt0", (t, e) => getGpt(t, e, LEGACY_0)],
  ["get_gpc0", (t, e) => getGpc(t, e, LEGACY_0)],
  ["gpc0_rate", (t, e, now) => gpcRate(t, e, LEGACY_0, now)],
  ["get_gpc1", (t, e) => getGpc(t, e, LEGACY_1)],
  ["gpc1_rate", (t, e, now) => gpcRate(t, e, LEGACY_1, now)],
];

/** The general purpose arrays' getters, by `<x>` name, for an element. */
const ARRAY_GETTERS: [string, (at: GpAt) => Read][] = [
  ["get_gpt", (at) => (t, e) => getGpt(t, e, at)],
  ["get_gpc", (at) => (t, e) => getGpc(t, e, at)],
  ["gpc_rate", (at) => (t, e, now) => gpcRate(t, e, at, now)],
];

/** An array's element, an argument names its index. */
const element = (arg: Arg | undefined): GpAt => ({ idx: toU32(Number(arg)), legacy: false });

/**
 * How a fetch finds its entry: `find` gives the table and entry (entry undefined: the key has none),
 * or undefined when there is no sample at all.
 */
type Finder = (
  ctx: SampleContext,
  now: number,
  create: boolean,
) => { table: StickTable; e?: StickEntry } | undefined;

const srcSample = new Sample();

/** Slot `slot`'s tracked entry, or its key's in `other` when given. */
function slotFinder(slot: number, other: StickTable | undefined): Finder {
  return (ctx, now, create) => {
    const t = ctx.stk?.slot(slot);
    if (!t) return undefined;
    if (!other) return { table: t.table, e: t.entry };
    const e = create ? other.get(t.entry.key, now) : other.lookup(t.entry.key, now);
    return { table: other, e };
  };
}

/** The client address's entry in `table`. */
function srcFinder(table: StickTable): Finder {
  return (ctx, now, create) => {
    srcSample.setStr(ctx.src, T.Ip);
    const key = table.keyOf(srcSample);
    if (key === undefined) return undefined;
    return { table, e: create ? table.get(key, now) : table.lookup(key, now) };
  };
}

/**
 * A fetch on the entry `find` gives (made if `create`): no sample without the entry's table, 0 for
 * a key without entry, else what `f` gives (undefined: no sample).
 */
function onEntry(
  find: Finder,
  create: boolean,
  f: (table: StickTable, e: StickEntry, now: number) => number | undefined,
): Impl {
  return {
    first(ctx, smp) {
      const now = Date.now();
      const found = find(ctx, now, create);
      if (!found) return false;
      const v = found.e ? f(found.table, found.e, now) : 0;
      if (v === undefined) return false;
      smp.setInt(v);
      return true;
    },
    next: none,
  };
}

const getter = (find: Finder, f: Read): Impl => onEntry(find, false, f);

/** sc_inc_gpc*: counts one in the counter and its rate; gives the count, else the rate's, else 0. */
const incOp =
  (at: GpAt): Op =>
  (find) =>
    onEntry(find, true, (t, e, now) => incGpc(t, e, at, now));

/** sc_clr_gpc*: sets the counter to 0 and gives what it was. */
const clrOp =
  (at: GpAt): Op =>
  (find) =>
    onEntry(find, true, (t, e, now) => clrGpc(t, e, at, now));

/** The table an argument names, its proxy's own when empty: undefined while only reading the configuration. */
function tableArg(arg: Arg | undefined, pos: number, name: string): StickTable | undefined {
  const t = findTable(arg === undefined ? undefined : String(arg), pos, name);
  return t && !("error" in t) ? t : undefined;
}

function tableError(arg: Arg | undefined, pos: number, name: string): string | undefined {
  const t = findTable(arg === undefined ? undefined : String(arg), pos, name);
  return t && "error" in t ? t.error : undefined;
}

type Op = (find: Finder) => Impl;

const OPS: [string, Op][] = [
  ...GETTERS.map(([x, f]): [string, Op] => [x, (find) => getter(find, f)]),
  ["inc_gpc0", incOp(LEGACY_0)],
  ["inc_gpc1", incOp(LEGACY_1)],
  ["clr_gpc0", clrOp(LEGACY_0)],
  ["clr_gpc1", clrOp(LEGACY_1)],
];

/** The arrays' operations, for an element. */
const ARRAY_OPS: [string, (at: GpAt) => Op][] = [
  ...ARRAY_GETTERS.map(([x, f]): [string, (at: GpAt) => Op] => [x, (at) => (find) => getter(find, f(at))]),
  ["inc_gpc", incOp],
  ["clr_gpc", clrOp],
];

const NEVER: Impl = { first: none, next: none };

/** Every fetch of this family, by name. */
export function stickFetches(): StickFetch[] {
  const out: StickFetch[] = [];
  // sc_<x>(N[,t]): the table is the second argument, optional (then the tracked entry's own).
  const slotForms = (x: string, op: (slot: number, other: StickTable | undefined) => Impl, o: T): void => {
    out.push({
      name: `sc_${x}`,
      args: ["int", "str"],
      min: 1,
      out: o,
      resolve: (args) => (args[1] ? tableError(args[1], 2, `sc_${x}`) : undefined),
      make: (args) => {
        const slot = toU32(Number(args[0]));
        const other = args[1] ? tableArg(args[1], 2, `sc_${x}`) : undefined;
        return slot > 2 ? NEVER : op(slot, other);
      },
    });
    for (let n = 0; n < 3; n++)
      out.push({
        name: `sc${n}_${x}`,
        args: ["str"],
        min: 0,
        out: o,
        resolve: (args) => (args[0] ? tableError(args[0], 1, `sc${n}_${x}`) : undefined),
        make: (args) => op(n, args[0] ? tableArg(args[0], 1, `sc${n}_${x}`) : undefined),
      });
  };
  for (const [x, op] of OPS) {
    slotForms(x, (slot, other) => op(slotFinder(slot, other)), T.Int);
    out.push({
      name: `src_${x}`,
      args: ["str"],
      min: 0,
      out: T.Int,
      resolve: (args) => tableError(args[0], 1, `src_${x}`),
      make: (args) => {
        const t = tableArg(args[0], 1, `src_${x}`);
        return t ? op(srcFinder(t)) : NEVER;
      },
    });
  }
  for (const [x, op] of ARRAY_OPS) {
    out.push({
      name: `sc_${x}`,
      args: ["int", "int", "tbl"],
      min: 2,
      out: T.Int,
      resolve: (args) => (args[2] ? tableError(args[2], 3, `sc_${x}`) : undefined),
      make: (args) => {
        const slot = toU32(Number(args[1]));
        const other = args[2] ? tableArg(args[2], 3, `sc_${x}`) : undefined;
        return slot > 2 ? NEVER : op(element(args[0]))(slotFinder(slot, other));
      },
    });
    out.push({
      name: `src_${x}`,
      args: ["int", "tbl"],
      min: 2,
      out: T.Int,
      resolve: (args) => tableError(args[1], 2, `src_${x}`),
      make: (args) => {
        const t = tableArg(args[1], 2, `src_${x}`);
        return t ? op(element(args[0]))(srcFinder(t)) : NEVER;
      },
    });
  }
  // haproxy 2.6 also has this one form of an array's fetch for a given slot.
  out.push({
    name: "sc1_clr_gpc",
    args: ["int", "tbl"],
    min: 1,
    out: T.Int,
    resolve: (args) => (args[1] ? tableError(args[1], 2, "sc1_clr_gpc") : undefined),
    make: (args) =>
      clrOp(element(args[0]))(slotFinder(1, args[1] ? tableArg(args[1], 2, "sc1_clr_gpc") : undefined)),
  });
  slotForms(
    "tracked",
    (slot) => ({
      first: (ctx, smp) => (smp.setInt(ctx.stk?.slot(slot) ? 1 : 0, T.Bool), true),
      next: none,
    }),
    T.Bool,
  );
  slotForms(
    "trackers",
    (slot, other) => ({
      first(ctx, smp) {
        const t = ctx.stk?.slot(slot);
        if (!t) return false;
        smp.setInt(other ? (other.lookup(t.entry.key, Date.now())?.ref ?? 0) : t.entry.ref);
        return true;
      },
      next: none,
    }),
    T.Int,
  );
  for (const [name, f] of [
    ["table_cnt", (t: StickTable) => t.used],
    ["table_avl", (t: StickTable) => t.spec.size - t.used],
  ] as const)
    out.push({
      name,
      args: ["str"],
      min: 0,
      out: T.Int,
      resolve: (args) => tableError(args[0], 1, name),
      make: (args) => {
        const t = tableArg(args[0], 1, name);
        return t ? { first: (_ctx, smp) => (smp.setInt(f(t)), true), next: none } : NEVER;
      },
    });
  return out;
}

/** table_<x>(t) and in_table(t), table_<x>(I,t) for the arrays: the entry of the sample's key, as the table casts it. */
export function stickConverters(): StickConverter[] {
  const out: StickConverter[] = [];
  // `read` is made for the arguments, each conversion then reads the key's entry.
  const conv = (name: string, o: T, read: (args: Arg[]) => EntryRead, indexed = false) => {
    const at = indexed ? 1 : 0;
    out.push({
      name,
      args: indexed ? ["int", "tbl"] : ["tbl"],
      min: indexed ? 2 : 0,
      out: o,
      resolve: (args) => tableError(args[at], at + 1, name),
      make: (args) => {
        const t = tableArg(args[at], at + 1, name);
        if (!t) return none;
        const f = read(args);
        return (smp) => {
          const key = t.keyOf(smp);
          if (key === undefined) return false;
          const now = Date.now();
          const v = f(t, t.lookup(key, now), now);
          if (v === undefined) return false;
          smp.setInt(v, o);
          return true;
        };
      },
    });
  };
  const orZero =
    (f: Read): EntryRead =>
    (t, e, now) =>
      e ? f(t, e, now) : 0;
  for (const [x, f] of GETTERS) conv(`table_${x.replace(/^get_/, "")}`, T.Int, () => orZero(f));
  for (const [x, f] of ARRAY_GETTERS)
    conv(`table_${x.replace(/^get_/, "")}`, T.Int, (args) => orZero(f(element(args[0]))), true);
  // Its own lookup holds the entry too, in haproxy: one more than the trackers.
  conv("table_trackers", T.Int, () => (_t, e) => (e ? e.ref + 1 : 0));
  conv("in_table", T.Bool, () => (_t, e) => (e ? 1 : 0));
  return out;
}

/** A converter's read of the key's entry, if there is one. */
type EntryRead = (table: StickTable, e: StickEntry | undefined, now: number) => number | undefined;
