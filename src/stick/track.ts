// Tracked counters (haproxy's sc0 to sc2): what a session's tcp-request connection and session
// rules track lasts as long as the connection; what its request rules track (tcp-request content,
// http-request, http-response) lasts one request, each request being a stream of its own in haproxy
// 2.6. The counts move where haproxy moves them: each track is a connection (conn_cnt, conn_rate,
// conn_cur, held until it ends), a session's tracks count the session, each request counts in
// whatever each slot tracks, and so do a server's 4xx (errors) and 5xx (failures).
import { D, type StickEntry, type StickTable } from "./table.js";
import { Sample, sampleInt } from "../acl/sample.js";
import { hasGpt, incGpc, setGpt, type GpAt } from "./gp.js";
import type { SampleContext } from "../acl/context.js";
import type { StickAction } from "../config/model.js";

const SLOTS = 3;

interface Tracked {
  table: StickTable;
  entry: StickEntry;
}

/** The slots of one connection: its own (connection-long) and its current request's. */
export class StkCtrs {
  readonly sess: (Tracked | undefined)[] = [undefined, undefined, undefined];
  readonly stream: (Tracked | undefined)[] = [undefined, undefined, undefined];

  /** What slot `i` tracks now: the request's own, else the connection's. */
  slot(i: number): Tracked | undefined {
    return this.stream[i] ?? this.sess[i];
  }

  /**
   * Tracks `entry` in slot `i` (of the connection's when `session`), unless the slot tracks
   * something already: then nothing happens, as in haproxy. True when it tracks.
   */
  track(i: number, table: StickTable, entry: StickEntry, session: boolean, now: number): boolean {
    if (this.slot(i)) return false;
    (session ? this.sess : this.stream)[i] = { table, entry };
    entry.ref++;
    add(table, entry, D.ConnCur, D.ConnCnt, D.ConnRate, now);
    table.touch(entry, now);
    return true;
  }

  /** The connection's session starts: sess_cnt and sess_rate of what it tracks. */
  countSession(now: number): void {
    for (const t of this.sess) if (t) add(t.table, t.entry, -1, D.SessCnt, D.SessRate, now);
  }

  /** A request (its head read): http_req_cnt and http_req_rate of each slot. */
  countRequest(now: number): void {
    this.count(D.HttpReqCnt, D.HttpReqRate, now);
  }

  /** A client error (a server's 4xx, a deny, a bad request): http_err_cnt and http_err_rate. */
  countError(now: number): void {
    this.count(D.HttpErrCnt, D.HttpErrRate, now);
  }

  /** A server failure (its 5xx but 501 and 505, a 502 or 504 of ours): http_fail_cnt and http_fail_rate. */
  countFailure(now: number): void {
    this.count(D.HttpFailCnt, D.HttpFailRate, now);
  }

  /**
   * A request's bytes (or a connection's, in mode tcp), once it ends: bytes_in and bytes_out, and
   * their rates, in each slot.
   */
  countBytes(bytesIn: number, bytesOut: number, now: number): void {
    for (let i = 0; i < SLOTS; i++) {
      const t = this.slot(i);
      if (!t) continue;
      const a = addBytes(t.table, t.entry, D.BytesInCnt, D.BytesInRate, bytesIn, now);
      if (addBytes(t.table, t.entry, D.BytesOutCnt, D.BytesOutRate, bytesOut, now) || a)
        t.table.touch(t.entry, now);
    }
  }

  /** The request ends: what it tracked itself is let go (conn_cur goes down). */
  endStream(now: number): void {
    release(this.stream, now);
  }

  /** The connection ends. */
  endSession(now: number): void {
    release(this.stream, now);
    release(this.sess, now);
  }

  private count(cnt: D, rate: D, now: number): void {
    for (let i = 0; i < SLOTS; i++) {
      const t = this.slot(i);
      if (t && add(t.table, t.entry, -1, cnt, rate, now)) t.table.touch(t.entry, now);
    }
  }
}

/** Adds one to `cur` and `cnt` and counts one event in `rate`, those the table stores; true if any. */
function add(table: StickTable, e: StickEntry, cur: D | -1, cnt: D, rate: D, now: number): boolean {
  const store = table.spec.store;
  let any = false;
  if (cur >= 0 && store[cur] !== undefined) {
    e.counts[cur] = (e.counts[cur]! + 1) >>> 0;
    any = true;
  }
  if (store[cnt] !== undefined) {
    e.counts[cnt] = (e.counts[cnt]! + 1) >>> 0;
    any = true;
  }
  const r = e.rates[rate];
  if (r) {
    r.add(now, store[rate]!, 1);
    any = true;
  }
  return any;
}

/** Adds `n` to the count `cnt` and the rate `rate`, those the table stores; true if any. */
function addBytes(table: StickTable, e: StickEntry, cnt: D, rate: D, n: number, now: number): boolean {
  const stored = table.spec.store[cnt] !== undefined;
  if (stored) e.counts[cnt]! += n;
  const r = e.rates[rate];
  if (r) r.add(now, table.spec.store[rate]!, n);
  return stored || r !== undefined;
}

function release(slots: (Tracked | undefined)[], now: number): void {
  for (let i = 0; i < SLOTS; i++) {
    const t = slots[i];
    if (!t) continue;
    slots[i] = undefined;
    const { table, entry } = t;
    if (table.stores(D.ConnCur)) {
      const cur = entry.counts[D.ConnCur]!;
      if (cur > 0) entry.counts[D.ConnCur] = cur - 1;
      table.touch(entry, now);
    }
    table.release(entry, now);
  }
}

const keySample = new Sample();

/** A fetch as the rules compile it. */
interface KeyFetch {
  first(ctx: SampleContext, smp: Sample): boolean;
}

/**
 * Where a track-sc rule runs: on the connection or its session (tracked as long as it lasts), on a
 * request before the frontend counted it, or after (an http-request rule, a backend's content
 * rule: its own track counts the request), or on the response (which also counts its status).
 */
export type TrackLevel = "session" | "stream" | "request" | "response";

/** A stick action's sample expression: track-sc's key, sc-set-gpt's value when not a number. */
export const stickExpression = (a: StickAction): string | undefined =>
  a.kind === "track-sc" ? a.key : a.kind === "sc-set-gpt" && typeof a.set === "string" ? a.set : undefined;

/** A stick table's action of a rule: its expression's fetch, and track-sc's table. */
export function stickRule(
  ctx: SampleContext,
  a: StickAction,
  fetch: KeyFetch | undefined,
  table: StickTable | undefined,
  level: TrackLevel,
): void {
  if (a.kind === "track-sc") trackRule(ctx, a.slot, table!, fetch!, level);
  else if (a.kind === "sc-inc-gpc") incGpcRule(ctx, a);
  else setGptRule(ctx, a, fetch ?? (a.set as number));
}

/**
 * A track-sc rule: the key's entry (made if need be) in slot `slot`, unless the slot tracks
 * something already, the key makes none, or the table is full.
 */
function trackRule(
  ctx: SampleContext,
  slot: number,
  table: StickTable,
  key: KeyFetch,
  level: TrackLevel,
): void {
  const stk = ctx.stk;
  if (!stk || stk.slot(slot) || !key.first(ctx, keySample)) return;
  const k = table.keyOf(keySample);
  if (k === undefined) return;
  const now = Date.now();
  const e = table.get(k, now);
  if (!e || !stk.track(slot, table, e, level === "session", now)) return;
  if (level === "session" || level === "stream") return;
  let touched = add(table, e, -1, D.HttpReqCnt, D.HttpReqRate, now);
  const status = level === "response" ? (ctx.res?.status ?? 0) : 0;
  if (status >= 400 && status < 500) touched = add(table, e, -1, D.HttpErrCnt, D.HttpErrRate, now) || touched;
  else if (status >= 500 && status !== 501 && status !== 505)
    touched = add(table, e, -1, D.HttpFailCnt, D.HttpFailRate, now) || touched;
  if (touched) table.touch(e, now);
}

/** sc-inc-gpc*: one more in the counter and its rate, those stored. */
function incGpcRule(ctx: SampleContext, a: GpAt & { slot: number }): void {
  const t = ctx.stk?.slot(a.slot);
  if (t) incGpc(t.table, t.entry, a, Date.now());
}

/** sc-set-gpt*: the value, or the expression's as an integer (nothing when it gives none). */
function setGptRule(ctx: SampleContext, a: GpAt & { slot: number }, value: number | KeyFetch): void {
  const t = ctx.stk?.slot(a.slot);
  if (!t || !hasGpt(t.table, a)) return;
  let v: number | undefined;
  if (typeof value === "number") v = value;
  else if (value.first(ctx, keySample)) v = sampleInt(keySample);
  if (v !== undefined) setGpt(t.table, t.entry, a, v, Date.now());
}
