// Stick tables: entries keyed by a sample (an address, an integer, a string, bytes), each holding
// the counters its table stores, as haproxy 2.6 keeps them. An entry lives while something tracks
// it and until `expire` after its last touch; a full table makes room by dropping the entries
// touched longest ago that nothing tracks.
import { Sample, T, binaryOf, readIntStr, toU32 } from "../acl/sample.js";
import { parseIpv4, parseIpv6, v6ToV4 } from "../acl/ip.js";
import { FreqCtr } from "./freq-ctr.js";

export type KeyType = "ip" | "ipv6" | "integer" | "string" | "binary";

/** The data types Sluice stores, in haproxy's order; the rates count events over their period. */
export const enum D {
  Gpt0,
  Gpc0,
  Gpc0Rate,
  ConnCnt,
  ConnRate,
  ConnCur,
  SessCnt,
  SessRate,
  HttpReqCnt,
  HttpReqRate,
  HttpErrCnt,
  HttpErrRate,
  BytesInCnt,
  BytesInRate,
  BytesOutCnt,
  BytesOutRate,
  Gpc1,
  Gpc1Rate,
  HttpFailCnt,
  HttpFailRate,
}
const D_COUNT = 20;

/** Each data type's name in a `store` list, by D; a rate takes a period. */
export const DATA_NAMES: readonly string[] = [
  "gpt0",
  "gpc0",
  "gpc0_rate",
  "conn_cnt",
  "conn_rate",
  "conn_cur",
  "sess_cnt",
  "sess_rate",
  "http_req_cnt",
  "http_req_rate",
  "http_err_cnt",
  "http_err_rate",
  "bytes_in_cnt",
  "bytes_in_rate",
  "bytes_out_cnt",
  "bytes_out_rate",
  "gpc1",
  "gpc1_rate",
  "http_fail_cnt",
  "http_fail_rate",
];

export const isRate = (d: D): boolean => DATA_NAMES[d]!.endsWith("_rate");

/** gpc0, gpc1 and their rates: kept with the gpc arrays' elements. */
const isGpc = (d: D): boolean => d === D.Gpc0 || d === D.Gpc1 || d === D.Gpc0Rate || d === D.Gpc1Rate;

/** What an entry holds of an array its table does not store: shared, never written. */
const NONE: number[] = [];
const NO_RATES: FreqCtr[] = [];

export interface StickTableSpec {
  /** The proxy's name: a table is named after the proxy that declares it. */
  name: string;
  type: KeyType;
  /** Characters of a string key, bytes of a binary one. */
  keyLen: number;
  size: number;
  /** Milliseconds after its last touch an untracked entry goes; 0: never. */
  expire: number;
  nopurge: boolean;
  /** The period of each stored data type (0 for a counter), by D; undefined: not stored. */
  store: (number | undefined)[];
  /** The elements of the arrays gpt(N), gpc(N) and gpc_rate(N, P) (0: not stored), and P. */
  gpt: number;
  gpc: number;
  gpcRate: number;
  gpcPeriod: number;
}

export class StickEntry {
  /** Trackers holding it (haproxy's ref_cnt): it does not expire nor get purged while held. */
  ref = 0;
  /** When it expires, as last touched. */
  expire: number;
  /** Where it sits in the table's queue of the oldest: its expiry when queued. */
  queued: number;
  /** The counters, by D (but gpt0, gpc0 and gpc1, which are in `gpt` and `gpc`). */
  readonly counts: number[] = new Array<number>(D_COUNT).fill(0);
  /** The server `stick` rules stored: its name (haproxy's server_key) and its id (server_id). */
  server: string | undefined = undefined;
  serverId = 0;
  readonly rates: (FreqCtr | undefined)[];
  /**
   * General purpose tags, counters and their rates, by index: the arrays' elements, or gpt0, gpc0,
   * gpc1 and their rates in the first ones (haproxy keeps a table from storing both forms).
   */
  readonly gpt: number[];
  readonly gpc: number[];
  readonly gpcRates: FreqCtr[];

  constructor(
    readonly key: string,
    table: StickTable,
    now: number,
  ) {
    const spec = table.spec;
    this.expire = this.queued = now + spec.expire;
    this.rates = spec.store.map((p, d) =>
      p !== undefined && isRate(d) && !isGpc(d) ? new FreqCtr() : undefined,
    );
    this.gpt = table.gptLen === 0 ? NONE : new Array<number>(table.gptLen).fill(0);
    this.gpc = table.gpcLen === 0 ? NONE : new Array<number>(table.gpcLen).fill(0);
    this.gpcRates =
      table.gpcRateLen === 0 ? NO_RATES : Array.from({ length: table.gpcRateLen }, () => new FreqCtr());
  }
}

const addr = new Uint8Array(16);
const v4 = new Uint8Array(4);
const U32 = 2 ** 32;

export class StickTable {
  private readonly entries = new Map<string, StickEntry>();
  /** Each entry's room for tags, counters and rates: an array's elements, else two for gpc0 and gpc1. */
  readonly gptLen: number;
  readonly gpcLen: number;
  readonly gpcRateLen: number;

  constructor(readonly spec: StickTableSpec) {
    const legacy = (a: D, b: D): number =>
      spec.store[a] !== undefined || spec.store[b] !== undefined ? 2 : 0;
    this.gptLen = spec.gpt || (spec.store[D.Gpt0] === undefined ? 0 : 1);
    this.gpcLen = spec.gpc || legacy(D.Gpc0, D.Gpc1);
    this.gpcRateLen = spec.gpcRate || legacy(D.Gpc0Rate, D.Gpc1Rate);
  }

  get used(): number {
    return this.entries.size;
  }

  stores(d: D): boolean {
    return this.spec.store[d] !== undefined;
  }

  /** The entry for `key` if there is one that has not expired (a lapsed one goes now). */
  lookup(key: string, now: number): StickEntry | undefined {
    const e = this.entries.get(key);
    if (e && e.ref === 0 && this.expired(e, now)) {
      this.entries.delete(key);
      return undefined;
    }
    return e;
  }

  /** The entry for `key`, made if there is none; undefined when the table is full and cannot make room. */
  get(key: string, now: number): StickEntry | undefined {
    const e = this.lookup(key, now);
    if (e) return e;
    if (this.entries.size >= this.spec.size) {
      if (this.spec.nopurge || this.trashOldest(Math.floor(this.spec.size / 256) + 1) === 0) return undefined;
    }
    const made = new StickEntry(key, this, now);
    this.entries.set(key, made);
    return made;
  }

  /** The entry will live `expire` from now. */
  touch(e: StickEntry, now: number): void {
    e.expire = now + this.spec.expire;
  }

  /** A tracker lets go: an entry nothing holds any more and whose time is up goes at once. */
  release(e: StickEntry, now: number): void {
    if (--e.ref === 0 && this.expired(e, now) && this.entries.get(e.key) === e) this.entries.delete(e.key);
  }

  /** Drops every untracked entry whose time is up (haproxy's expiry task). */
  purge(now: number): void {
    if (this.spec.expire === 0) return;
    for (const e of this.entries.values())
      if (e.ref === 0 && this.expired(e, now)) this.entries.delete(e.key);
  }

  private expired(e: StickEntry, now: number): boolean {
    return this.spec.expire > 0 && now >= e.expire;
  }

  /**
   * Makes room as haproxy does, oldest first: an entry touched since it was queued goes back to
   * the queue's end instead, and the walk gives up after twice `batch` entries, so a table whose
   * oldest entries were all touched again can refuse a new one.
   */
  private trashOldest(batch: number): number {
    let budget = 2 * batch;
    let freed = 0;
    for (const e of this.entries.values()) {
      if (--budget < 0) break;
      if (e.ref > 0) continue;
      this.entries.delete(e.key);
      if (e.expire !== e.queued) {
        e.queued = e.expire;
        this.entries.set(e.key, e);
        continue;
      }
      if (++freed === batch) break;
    }
    return freed;
  }

  /** The key a sample makes in this table, as haproxy casts it; undefined when it makes none. */
  keyOf(smp: Sample): string | undefined {
    const spec = this.spec;
    switch (spec.type) {
      case "ip":
        return ipv4Key(smp);
      case "ipv6": {
        // An IPv4 address (or an integer) stands for its v4-mapped IPv6 one.
        const k4 = smp.type === T.Ip || smp.type === T.Int ? ipv4Key(smp) : undefined;
        if (k4 !== undefined) {
          addr.fill(0, 0, 10);
          addr[10] = addr[11] = 0xff;
          parseIpv4(k4, addr, 12);
        } else if (!parseIpv6(smp.getStr(), addr)) return undefined;
        return Buffer.from(addr).toString("hex");
      }
      case "integer": {
        let n: number | undefined;
        if (smp.type === T.Int || smp.type === T.Bool) n = smp.num;
        else if (smp.type === T.Ip) return parseIpv4(smp.getStr(), v4) ? String(u32(v4)) : undefined;
        else n = readIntStr(smp.getStr());
        return n === undefined ? undefined : String(toU32(n));
      }
      case "string":
        return smp.getStr().slice(0, spec.keyLen);
      case "binary": {
        const b = binaryOf(smp);
        return b.length >= spec.keyLen ? b.slice(0, spec.keyLen) : b + "\0".repeat(spec.keyLen - b.length);
      }
    }
  }
}

const u32 = (b: Uint8Array): number => ((b[0]! << 24) >>> 0) + (b[1]! << 16) + (b[2]! << 8) + b[3]!;

/** An IPv4 key: an address (a v4-mapped IPv6 one too), an integer, or text that reads as one. */
function ipv4Key(smp: Sample): string | undefined {
  if (smp.type === T.Int || smp.type === T.Bool) {
    const n = ((smp.num % U32) + U32) % U32;
    return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
  }
  const s = smp.getStr();
  if (parseIpv4(s, v4)) return `${v4[0]}.${v4[1]}.${v4[2]}.${v4[3]}`;
  if (smp.type !== T.Ip || !parseIpv6(s, addr)) return undefined;
  const mapped = addr.subarray(0, 10).every((b) => b === 0) && addr[10] === 0xff && addr[11] === 0xff;
  return mapped && v6ToV4(addr, v4) ? `${v4[0]}.${v4[1]}.${v4[2]}.${v4[3]}` : undefined;
}
