// leastconn: the server with the fewest connections relative to its weight; ties go round robin so
// that equal servers share new connections. The right choice for long-lived WebSockets.
import type { Balancer, Candidate } from "./balancer.js";

export class LeastConn<S extends Candidate> implements Balancer<S> {
  private turn = 0;

  pick(servers: readonly S[]): S | undefined {
    let best: S | undefined;
    let bestLoad = Infinity;
    const n = servers.length;
    for (let k = 0; k < n; k++) {
      const s = servers[(this.turn + k) % n]!;
      // Load after taking one more connection, per unit of weight.
      const load = (s.cur + 1) / s.weight;
      if (load < bestLoad) {
        best = s;
        bestLoad = load;
      }
    }
    this.turn = (this.turn + 1) % Math.max(n, 1);
    return best;
  }
}
