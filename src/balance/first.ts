// first: the server with the lowest number (its `id`, else its place) that is not saturated, so that
// the others can idle (haproxy's lb_fas, a tree of server numbers).
import { serving, type Balancer, type PooledServer } from "./balancer.js";

export class First<S extends PooledServer> implements Balancer<S> {
  private readonly byId: readonly S[];

  constructor(
    private readonly servers: readonly S[],
    private readonly allbackups: boolean,
  ) {
    this.byId = [...servers].sort((a, b) => a.id - b.id);
  }

  pick(avoid: S | undefined): S | undefined {
    const group = serving(this.servers, this.allbackups);
    if (group === undefined || typeof group === "object") return group;
    const backup = group === "backup";
    let avoided: S | undefined;
    for (const s of this.byId) {
      if (s.backup !== backup || !s.usable || s.saturated) continue;
      if (s !== avoid) return s;
      avoided = s;
    }
    return avoided;
  }

  up(): void {}
  down(): void {}
  loadChanged(): void {}
}
