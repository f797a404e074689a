// General purpose tags and counters, as haproxy 2.6 addresses them: by index in the arrays gpt(N),
// gpc(N) and gpc_rate(N,P), or by the legacy names gpt0, gpc0 and gpc1 (and their rates), which
// fall back on the arrays' first elements when the table stores the arrays instead. An index names
// an array's element only: it never reaches the legacy data types.
// Indexes are unsigned 32-bit integers, as haproxy keeps them (4294967296 is 0, -1 no element); the
// legacy names are 0 (gpt0, gpc0) and 1 (gpc1).
import { D, type StickEntry, type StickTable } from "./table.js";
import { toU32 } from "../acl/sample.js";

/** A tag or counter: its index, by a legacy name or in an array. */
export interface GpAt {
  readonly idx: number;
  readonly legacy: boolean;
}

/** gpt0 and gpc0, and gpc1, by their legacy names. */
export const LEGACY_0: GpAt = { idx: 0, legacy: true };
export const LEGACY_1: GpAt = { idx: 1, legacy: true };

/** The table stores tag `at`: gpt(N)'s element, or gpt0. */
export const hasGpt = (t: StickTable, at: GpAt): boolean =>
  at.idx < t.spec.gpt || (at.legacy && t.spec.store[D.Gpt0] !== undefined);

/** The table stores counter `at`: gpc(N)'s element, or gpc0 or gpc1. */
export const hasGpc = (t: StickTable, at: GpAt): boolean =>
  at.idx < t.spec.gpc || (at.legacy && t.spec.store[at.idx === 0 ? D.Gpc0 : D.Gpc1] !== undefined);

/** The period of counter `at`'s rate, gpc_rate(N,P)'s or gpc0_rate's or gpc1_rate's. */
function ratePeriod(t: StickTable, at: GpAt): number | undefined {
  if (at.idx < t.spec.gpcRate) return t.spec.gpcPeriod;
  return at.legacy ? t.spec.store[at.idx === 0 ? D.Gpc0Rate : D.Gpc1Rate] : undefined;
}

export const getGpt = (t: StickTable, e: StickEntry, at: GpAt): number | undefined =>
  hasGpt(t, at) ? e.gpt[at.idx] : undefined;

export const getGpc = (t: StickTable, e: StickEntry, at: GpAt): number | undefined =>
  hasGpc(t, at) ? e.gpc[at.idx] : undefined;

/** Counter `at`'s increments per period at `now`; undefined when its rate is not stored. */
export function gpcRate(t: StickTable, e: StickEntry, at: GpAt, now: number): number | undefined {
  const period = ratePeriod(t, at);
  return period === undefined ? undefined : e.gpcRates[at.idx]!.read(now, period);
}

/** Sets tag `at` to `v` (as an unsigned 32-bit integer), if stored. */
export function setGpt(t: StickTable, e: StickEntry, at: GpAt, v: number, now: number): void {
  if (!hasGpt(t, at)) return;
  e.gpt[at.idx] = toU32(v);
  t.touch(e, now);
}

/**
 * Counts one in counter `at` and in its rate, those stored: gives the count, else the rate's in
 * its current period, else 0.
 */
export function incGpc(t: StickTable, e: StickEntry, at: GpAt, now: number): number {
  const period = ratePeriod(t, at);
  const inPeriod = period === undefined ? 0 : e.gpcRates[at.idx]!.add(now, period, 1);
  const stored = hasGpc(t, at);
  if (stored) e.gpc[at.idx] = (e.gpc[at.idx]! + 1) >>> 0;
  if (stored || period !== undefined) t.touch(e, now);
  return stored ? e.gpc[at.idx]! : inPeriod;
}

/** Sets counter `at` (not its rate) to 0 and gives what it was; undefined when not stored. */
export function clrGpc(t: StickTable, e: StickEntry, at: GpAt, now: number): number | undefined {
  if (!hasGpc(t, at)) return undefined;
  const was = e.gpc[at.idx]!;
  e.gpc[at.idx] = 0;
  t.touch(e, now);
  return was;
}
