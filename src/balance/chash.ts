// hash-type consistent: haproxy's ring (lb_chash.c). A server stands at weight * 16 points of a
// 32-bit circle, at full_hash(id * 4096 + n) where id is its number in the backend; a hash
// goes to the server of the nearest point (the one before it when both are as near), passing over
// a server to avoid. When a server comes or goes only the hashes near its points move. Without a
// key (no such header, parameter ...) requests walk the points in turn. With hash-balance-factor F,
// a server already serving more than F% of its weight's share of the backend's requests is passed
// over as well.
import { fullHash } from "./hash.js";
import { serving, type PooledServer, type ServerLookup } from "./balancer.js";

interface Point<S> {
  readonly key: number;
  readonly s: S;
  /** When it was placed: among equal keys, the earlier first. */
  seq: number;
}

/** What the ring reads of a server besides its weight and state. */
export interface RingServer extends PooledServer {
  /** Requests it serves now (haproxy's `served`), for hash-balance-factor. */
  readonly cur: number;
}

const precedes = <S>(a: Point<S>, b: Point<S>): boolean =>
  a.key < b.key || (a.key === b.key && a.seq < b.seq);

export class ConsistentHash<S extends RingServer> implements ServerLookup<S> {
  /** Each server's points, by n. */
  private readonly points = new Map<S, Point<S>[]>();
  private readonly placed = new Set<S>();
  /** The points of usable active and backup servers, in ring order. */
  private act: Point<S>[] = [];
  private bck: Point<S>[] = [];
  private seq = 0;
  /** Where the walk without a key stands, and its index in its ring. */
  private last: Point<S> | undefined;
  private lastAt = 0;
  /**
   * The weight of the servers before each one in its group, as haproxy counts it once at start-up
   * (the servers usable then) and never again: hash-balance-factor's shares.
   */
  private readonly weightBefore = new Map<S, number>();

  /** `balanceFactor`: hash-balance-factor, 0 for none. */
  constructor(
    private readonly servers: readonly S[],
    private readonly allbackups: boolean,
    private readonly balanceFactor = 0,
  ) {
    let act = 0;
    let bck = 0;
    for (const s of servers) {
      if (!s.usable) continue;
      this.weightBefore.set(s, s.backup ? bck : act);
      if (s.backup) bck += s.weight * 16;
      else act += s.weight * 16;
    }
    for (const s of servers) {
      const n = s.weight * 16;
      const pts: Point<S>[] = [];
      for (let j = 0; j < n; j++) pts.push({ key: fullHash(s.id * 4096 + j), s, seq: 0 });
      this.points.set(s, pts);
      this.up(s);
    }
  }

  up(s: S): void {
    if (!s.usable || this.placed.has(s)) return;
    this.placed.add(s);
    const added = this.points.get(s)!;
    for (const p of added) p.seq = this.seq++;
    const sorted = [...added].sort((a, b) => a.key - b.key || a.seq - b.seq);
    const ring = this.ringOf(s);
    const merged: Point<S>[] = [];
    let i = 0;
    for (const p of sorted) {
      while (i < ring.length && precedes(ring[i]!, p)) merged.push(ring[i++]!);
      merged.push(p);
    }
    while (i < ring.length) merged.push(ring[i++]!);
    this.setRing(s, merged);
  }

  down(s: S): void {
    if (s.usable || !this.placed.has(s)) return;
    this.placed.delete(s);
    const ring = this.ringOf(s);
    // haproxy takes the points out last first; the walk's place moves on to the next point left.
    if (this.last?.s === s) {
      const gone = new Set<Point<S>>();
      const pts = this.points.get(s)!;
      for (let j = pts.length - 1; j >= 0; j--) {
        const p = pts[j]!;
        if (this.last === p) this.last = this.nextLeft(ring, p, gone);
        gone.add(p);
      }
    }
    this.setRing(
      s,
      ring.filter((p) => p.s !== s),
    );
  }

  /** The server for `hash`: the nearest point's, or the next one's not `avoid`. */
  hashed(hash: number, avoid: S | undefined): S | undefined {
    const ring = this.ring();
    if (ring === undefined || !Array.isArray(ring)) return ring;
    const n = ring.length;
    if (n === 0) return undefined;
    // The first point at or after the hash, around the circle, and the one before it.
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (ring[mid]!.key < hash) lo = mid + 1;
      else hi = mid;
    }
    const next = lo === n ? 0 : lo;
    const prev = next === 0 ? n - 1 : next - 1;
    let k = (hash - ring[prev]!.key) >>> 0 <= (ring[next]!.key - hash) >>> 0 ? prev : next;
    let s = ring[k]!.s;
    const full = this.balanceFactor > 0 ? this.overShare(ring) : undefined;
    for (let laps = 0; s === avoid || full?.(s); s = ring[k]!.s) {
      if (++k === n) {
        k = 0;
        if (++laps > 1) break;
      }
    }
    return s;
  }

  /**
   * Without a key: the server of the next point that is not saturated, other than `avoid` if
   * possible. As haproxy's walk, one that has no place yet (at start, or after its ring emptied)
   * looks at the first point only. (haproxy's place may also stay on the backup ring once active
   * servers are back and walk it to its end first; Sluice starts on the active ring.)
   */
  rotate(avoid: S | undefined): S | undefined {
    const ring = this.ring();
    if (ring === undefined || !Array.isArray(ring)) return ring;
    const n = ring.length;
    if (n === 0) return undefined;
    let at = this.last ? this.indexOf(ring, this.last) : -1;
    let stop = at;
    let avoidedAt = -1;
    do {
      at = at + 1 === n ? 0 : at + 1;
      if (stop < 0) stop = at;
      const s = ring[at]!.s;
      if (!s.saturated) {
        if (s !== avoid) return this.stand(ring, at);
        avoidedAt = at;
      }
    } while (at !== stop);
    if (avoidedAt >= 0) return this.stand(ring, avoidedAt);
    this.last = undefined;
    return undefined;
  }

  /**
   * hash-balance-factor's test (haproxy's chash_server_is_eligible): the backend's requests plus
   * this one, times the factor, shared out by weight in whole slots (at least one each).
   */
  private overShare(ring: Point<S>[]): (s: S) => boolean {
    let served = 0;
    for (const s of this.servers) served += s.cur;
    const backup = ring === this.bck;
    let total = 0;
    for (const s of this.servers) if (s.usable && s.backup === backup) total += s.weight * 16;
    const slots = Math.floor(((served + 1) * this.balanceFactor + 99) / 100);
    const perWeight = Math.floor(slots / total);
    const rest = slots % total;
    return (s) => {
      const w = s.weight * 16;
      const before = this.weightBefore.get(s) ?? 0;
      const mine =
        w * perWeight + Math.floor(((before + w) * rest) / total) - Math.floor((before * rest) / total);
      return s.cur >= Math.max(mine, 1);
    };
  }

  /** The ring of the servers taking requests now, or the only backup serving, or none. */
  private ring(): Point<S>[] | S | undefined {
    const group = serving(this.servers, this.allbackups);
    if (group === undefined || typeof group === "object") return group;
    return group === "active" ? this.act : this.bck;
  }

  private ringOf(s: S): Point<S>[] {
    return s.backup ? this.bck : this.act;
  }

  private setRing(s: S, ring: Point<S>[]): void {
    if (s.backup) this.bck = ring;
    else this.act = ring;
  }

  private stand(ring: Point<S>[], at: number): S {
    this.last = ring[at]!;
    this.lastAt = at;
    return this.last.s;
  }

  /** Where `p` is in `ring`; -1 when it is not there (the walk was on the other ring). */
  private indexOf(ring: Point<S>[], p: Point<S>): number {
    return ring[this.lastAt] === p ? this.lastAt : ring.indexOf(p);
  }

  /** The point after `p` in `ring` that is not `gone`, around the circle; undefined if none is left. */
  private nextLeft(ring: Point<S>[], p: Point<S>, gone: Set<Point<S>>): Point<S> | undefined {
    const at = ring.indexOf(p);
    for (let k = 1; k < ring.length; k++) {
      const q = ring[(at + k) % ring.length]!;
      if (!gone.has(q)) return q;
    }
    return undefined;
  }
}
