// leastconn as haproxy's lb_fwlc: servers ordered by their load, (requests + 1) per unit of weight,
// in whole steps; an idle server counts 0 whatever its weight. Among equals the one whose load
// changed last comes last, so equal servers take new requests in turn. Long-lived WebSockets count
// as load for their whole life, which round robin ignores.
import { insertByKey, removeFrom, serving, type Balancer, type PooledServer } from "./balancer.js";

/** What leastconn reads of a server besides its weight and state. */
export interface LoadedServer extends PooledServer {
  /** Requests it serves now (haproxy's `served`). */
  readonly cur: number;
  readonly queue: { readonly length: number };
  readonly maxconn: number;
  readonly maxqueue: number;
}

interface Entry<S> {
  readonly s: S;
  key: number;
  /** In its group's order: usable as far as leastconn was told. */
  placed: boolean;
}

/** haproxy's weights in 16ths: a user weight of 256 is 4096. */
const EWEIGHT_MAX = 256 * 16;

function loadKey(s: LoadedServer): number {
  const inflight = s.cur + s.queue.length;
  return inflight === 0 ? 0 : Math.floor(((inflight + 1) * EWEIGHT_MAX) / (s.weight * 16));
}

export class LeastConn<S extends LoadedServer> implements Balancer<S> {
  private readonly entries = new Map<S, Entry<S>>();
  /** Usable active and backup servers, by key; equal keys in the order they were placed. */
  private readonly act: Entry<S>[] = [];
  private readonly bck: Entry<S>[] = [];

  constructor(
    private readonly servers: readonly S[],
    private readonly allbackups: boolean,
  ) {
    for (const s of servers) {
      const e: Entry<S> = { s, key: 0, placed: false };
      this.entries.set(s, e);
      this.up(s);
    }
  }

  up(s: S): void {
    const e = this.entries.get(s)!;
    if (!s.usable || e.placed) return;
    e.placed = true;
    this.place(e);
  }

  down(s: S): void {
    const e = this.entries.get(s)!;
    if (s.usable || !e.placed) return;
    e.placed = false;
    this.unplace(e);
  }

  loadChanged(s: S): void {
    const e = this.entries.get(s)!;
    if (!e.placed || loadKey(s) === e.key) return;
    this.unplace(e);
    this.place(e);
  }

  pick(avoid: S | undefined): S | undefined {
    const group = serving(this.servers, this.allbackups);
    if (group === undefined || typeof group === "object") return group;
    let avoided: S | undefined;
    for (const { s } of group === "active" ? this.act : this.bck) {
      // A full server still takes requests into its own queue, up to maxqueue.
      if (s.maxconn > 0 && s.cur + s.queue.length >= s.maxconn + s.maxqueue) continue;
      if (s !== avoid) return s;
      avoided = s;
    }
    return avoided;
  }

  private place(e: Entry<S>): void {
    const tree = e.s.backup ? this.bck : this.act;
    e.key = loadKey(e.s);
    insertByKey(tree, e);
  }

  private unplace(e: Entry<S>): void {
    const tree = e.s.backup ? this.bck : this.act;
    removeFrom(tree, e);
  }
}
