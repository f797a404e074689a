// The sample fetches and converters that read stick tables, as haproxy 2.6 has them: sc_<x>(N[,t])
// and scN_<x>([t]) read what slot N tracks (or its key's entry in table t), src_<x>([t]) the client
// address's entry, table_<x>(t) the entry of the sample's key. An untracked slot, or a data type
// the table does not store, gives no sample; a key with no entry reads as 0.
import type { SampleContext } from "./context.js";
import type { Arg } from "./args.js";
import { Sample, T } from "./sample.js";
import { D, DATA_NAMES, type StickEntry, type StickTable } from "../stick/table.js";
import { findTable } from "./scope.js";

interface Impl {
  first(ctx: SampleContext, smp: Sample): boolean;
  next(ctx: SampleContext, smp: Sample): boolean;
}

export interface StickFetch {
  name: string;
  args: ("str" | "int")[];
  min: number;
  out: T;
  /** haproxy's refusal of a table argument naming no table, or undefined. */
  resolve(args: Arg[]): string | undefined;
  make(args: Arg[]): Impl;
}

export interface StickConverter {
  name: string;
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

/** The getters: `<x>` names and the data type each reads (kbytes_*: in KiB, rounded down). */
const GETTERS: [string, D][] = [
  ["kbytes_in", D.BytesInCnt],
  ["kbytes_out", D.BytesOutCnt],
  ["get_gpt0", D.Gpt0],
  ["get_gpc0", D.Gpc0],
  ["gpc0_rate", D.Gpc0Rate],
  ["get_gpc1", D.Gpc1],
  ["gpc1_rate", D.Gpc1Rate],
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
];

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

const getter = (find: Finder, d: D): Impl => onEntry(find, false, (table, e, now) => read(table, e, d, now));

/** sc_inc_gpcN: counts one in gpcN and its rate; gives gpcN, else the rate's current count, else 0. */
function incGpc(find: Finder, gpc: 0 | 1): Impl {
  const [cnt, rate] = gpc === 0 ? [D.Gpc0, D.Gpc0Rate] : [D.Gpc1, D.Gpc1Rate];
  return onEntry(find, true, (table, e, now) => {
    const r = e.rates[rate];
    const stored = table.stores(cnt);
    const inPeriod = r ? r.add(now, table.spec.store[rate]!, 1) : 0;
    if (stored) e.counts[cnt] = (e.counts[cnt]! + 1) >>> 0;
    if (r || stored) table.touch(e, now);
    return stored ? e.counts[cnt]! : inPeriod;
  });
}

/** sc_clr_gpcN: sets gpcN to 0 and gives what it was. */
function clrGpc(find: Finder, gpc: 0 | 1): Impl {
  const cnt = gpc === 0 ? D.Gpc0 : D.Gpc1;
  return onEntry(find, true, (table, e, now) => {
    if (!table.stores(cnt)) return undefined;
    const was = e.counts[cnt]!;
    e.counts[cnt] = 0;
    table.touch(e, now);
    return was;
  });
}

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
  ...GETTERS.map(([x, d]): [string, Op] => [x, (f) => getter(f, d)]),
  ["inc_gpc0", (f) => incGpc(f, 0)],
  ["inc_gpc1", (f) => incGpc(f, 1)],
  ["clr_gpc0", (f) => clrGpc(f, 0)],
  ["clr_gpc1", (f) => clrGpc(f, 1)],
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
        const slot = Number(args[0]);
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

/** table_<x>(t) and in_table(t): the entry of the sample's key, as the table casts it. */
export function stickConverters(): StickConverter[] {
  const out: StickConverter[] = [];
  const conv = (
    name: string,
    o: T,
    f: (t: StickTable, e: StickEntry | undefined, now: number) => number | undefined,
  ) =>
    out.push({
      name,
      out: o,
      resolve: (args) => tableError(args[0], 1, name),
      make: (args) => {
        const t = tableArg(args[0], 1, name);
        if (!t) return none;
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
  for (const [x, d] of GETTERS)
    conv(`table_${x.replace(/^get_/, "")}`, T.Int, (t, e, now) => (e ? read(t, e, d, now) : 0));
  // Its own lookup holds the entry too, in haproxy: one more than the trackers.
  conv("table_trackers", T.Int, (_t, e) => (e ? e.ref + 1 : 0));
  conv("in_table", T.Bool, (_t, e) => (e ? 1 : 0));
  return out;
}
