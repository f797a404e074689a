// first: the first server (in declaration order) with a free slot, so that the others can idle.
import type { Balancer, Candidate } from "./balancer.js";

export class First<S extends Candidate> implements Balancer<S> {
  pick(servers: readonly S[]): S | undefined {
    return servers[0];
  }
}
