// Smooth weighted round robin: weights 1 and 3 give b a b b, spread evenly rather than a a a b.
// Each pick adds every candidate's weight to its credit and takes the richest, who then pays the
// total; over one cycle every server is picked exactly `weight` times.
import type { Balancer, Candidate } from "./balancer.js";

export class RoundRobin<S extends Candidate> implements Balancer<S> {
  private readonly credit = new Map<S, number>();

  pick(servers: readonly S[]): S | undefined {
    let best: S | undefined;
    let bestCredit = -Infinity;
    let total = 0;
    for (const s of servers) {
      const c = (this.credit.get(s) ?? 0) + s.weight;
      this.credit.set(s, c);
      total += s.weight;
      if (c > bestCredit) {
        best = s;
        bestCredit = c;
      }
    }
    if (best) this.credit.set(best, bestCredit - total);
    return best;
  }
}
