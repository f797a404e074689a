// balance roundrobin as haproxy's fwrr (lb_fwrr.c) does it, so that servers come in the same order
// as behind haproxy: weights 1 and 3 give b b b a. Each group (active, backup) holds its servers in
// three trees: `init` (not picked yet this round, heaviest first), `curr` (ordered by the position
// of their next turn) and `next` (waiting for the next round); `init` and `next` swap at the end
// of a round. Positions count picks; a server of weight w comes back every total/w picks.
import { insertByKey, removeFrom, serving, type Balancer, type PooledServer } from "./balancer.js";

/** haproxy scales user weights by 16 (BE_WEIGHT_SCALE) for finer steps. */
const SCALE = 16;
const EWEIGHT_MAX = 256 * SCALE;

interface Slot<S> {
  readonly s: S;
  /** Effective weight: the user weight, scaled. */
  readonly eweight: number;
  /** Position of the next turn, and the remainder carried between turns. */
  npos: number;
  rweight: number;
  key: number;
  tree: Slot<S>[] | undefined;
  /** In the choice: the state round robin last saw (haproxy's "currently usable"). */
  counted: boolean;
}

interface Group<S> {
  currPos: number;
  currWeight: number;
  nextWeight: number;
  readonly curr: Slot<S>[];
  init: Slot<S>[];
  next: Slot<S>[];
}

function insert<S>(tree: Slot<S>[], slot: Slot<S>): void {
  insertByKey(tree, slot);
  slot.tree = tree;
}

function remove<S>(slot: Slot<S>): void {
  if (slot.tree) removeFrom(slot.tree, slot);
}

function newGroup<S>(weight: number): Group<S> {
  return { currPos: weight, currWeight: weight, nextWeight: weight, curr: [], init: [], next: [] };
}

export class RoundRobin<S extends PooledServer> implements Balancer<S> {
  private readonly slots = new Map<S, Slot<S>>();
  private readonly act: Group<S>;
  private readonly bck: Group<S>;

  constructor(
    private readonly servers: readonly S[],
    private readonly allbackups: boolean,
  ) {
    let act = 0;
    let bck = 0;
    for (const s of servers) {
      const slot: Slot<S> = {
        s,
        eweight: s.weight * SCALE,
        npos: 0,
        rweight: 0,
        key: 0,
        tree: undefined,
        counted: s.usable,
      };
      this.slots.set(s, slot);
      if (!s.usable) continue;
      if (s.backup) bck += slot.eweight;
      else act += slot.eweight;
    }
    this.act = newGroup(act);
    this.bck = newGroup(bck);
    for (const slot of this.slots.values())
      if (slot.counted) this.queueByWeight(this.groupOf(slot).init, slot);
  }

  private groupOf(slot: Slot<S>): Group<S> {
    return slot.s.backup ? this.bck : this.act;
  }

  /** `s` became usable: it joins the round where its weight gives it a fair place. */
  up(s: S): void {
    const slot = this.slots.get(s)!;
    if (!s.usable || slot.counted) return;
    slot.counted = true;
    const g = this.groupOf(slot);
    g.nextWeight += slot.eweight;
    slot.npos = g.currPos + Math.trunc((g.nextWeight + g.currWeight - g.currPos) / slot.eweight);
    this.queue(slot);
  }

  /** `s` is no longer usable: out of every tree. */
  down(s: S): void {
    const slot = this.slots.get(s)!;
    if (s.usable || !slot.counted) return;
    slot.counted = false;
    this.groupOf(slot).nextWeight -= slot.eweight;
    remove(slot);
    slot.tree = undefined;
  }

  /** Turns depend on weights only, not on load. */
  loadChanged(): void {}

  /** The next server in turn that is not saturated. */
  pick(avoid: S | undefined): S | undefined {
    const group = serving(this.servers, this.allbackups);
    if (group === undefined || typeof group === "object") return group;
    const g = group === "active" ? this.act : this.bck;

    let switched = false;
    let avoided: Slot<S> | undefined;
    // Saturated (and avoided) servers taken out of the trees on the way, put back at the end.
    let passed: Slot<S>[] | undefined;
    let chosen: Slot<S> | undefined;
    for (;;) {
      if (g.currWeight === 0) g.currPos = g.currWeight = g.nextWeight;
      let slot = this.fromGroup(g);
      while (!slot) {
        if (switched) break;
        switched = true;
        // End of the round: the servers waiting for the next one start over, by weight.
        [g.init, g.next] = [g.next, g.init];
        g.currWeight = g.nextWeight;
        g.currPos = g.currWeight;
        slot = this.fromGroup(g);
      }
      if (!slot) {
        chosen = avoided;
        break;
      }
      // Its turn is used up even when it cannot serve: it moves to its next place afterwards.
      this.advance(g, slot);
      remove(slot);
      g.currPos++;
      if (!slot.s.saturated) {
        if (slot.s !== avoid || avoided) {
          chosen = slot;
          break;
        }
        avoided = slot;
      }
      (passed ??= []).push(slot);
    }
    if (chosen) this.queue(chosen);
    if (!passed) return chosen?.s;
    // Last passed first, as haproxy's list of them runs: it decides between equal places.
    for (let i = passed.length - 1; i >= 0; i--) {
      const slot = passed[i]!;
      if (slot === chosen) continue;
      // After a new round began their places are lost: only their weight counts.
      if (switched) this.queueByWeight(g.init, slot);
      else this.queue(slot);
    }
    return chosen?.s;
  }

  /** The first server of `curr` if its turn has come, else the heaviest one not picked yet. */
  private fromGroup(g: Group<S>): Slot<S> | undefined {
    const s1 = g.curr[0];
    if (s1 && s1.npos <= g.currPos) return s1;
    const s2 = g.init[0];
    if (s2) {
      s2.npos = s2.rweight = 0;
      return s2;
    }
    return s1;
  }

  /** Moves a picked server's next turn on by total/weight picks, carrying the remainder. */
  private advance(g: Group<S>, slot: Slot<S>): void {
    if (slot.npos === 0) slot.npos = g.currPos;
    slot.npos += Math.trunc(g.nextWeight / slot.eweight);
    slot.rweight += g.nextWeight % slot.eweight;
    if (slot.rweight >= slot.eweight) {
      slot.rweight -= slot.eweight;
      slot.npos++;
    }
  }

  private queueByWeight(tree: Slot<S>[], slot: Slot<S>): void {
    slot.key = EWEIGHT_MAX - slot.eweight;
    insert(tree, slot);
  }

  /** Puts a server at its next position in `curr`, or in `next` when it falls past this round. */
  private queue(slot: Slot<S>): void {
    const g = this.groupOf(slot);
    if (slot.npos >= 2 * g.currWeight || slot.npos >= g.currWeight + g.nextWeight) {
      slot.npos -= g.currWeight;
      this.queueByWeight(g.next, slot);
    } else {
      // Earlier positions first; at the same position the heavier server, then the one owed more.
      slot.key = (256 * slot.npos + Math.floor((EWEIGHT_MAX + slot.rweight - slot.eweight) / SCALE)) >>> 0;
      insert(g.curr, slot);
    }
  }
}
