// haproxy's map-based algorithms: static-rr, and the hashing ones (source, uri, url_param, hdr) with
// the default hash-type. The servers taking traffic are laid out in a table, each as many times as
// its weight (weights divided by their greatest common divisor), spread the way a smooth round robin
// would order them. static-rr walks the table, passing over full servers; hashing indexes it with a
// hash modulo its length: balance source's is the client's address as a 32-bit number (an IPv6
// address's four words XORed together).
import { parseIpv4, parseIpv6 } from "../acl/ip.js";
import type { PooledServer, ServerLookup } from "./balancer.js";

export class ServerMap<S extends PooledServer> implements ServerLookup<S> {
  private table: S[] = [];
  /** How many servers take traffic (1: every address gets table[0]). */
  private used = 0;
  /** The weights the table was built for, one per server (0: not in it), to notice a change. */
  private builtFor: number[] = [];
  /** static-rr's place in the table. */
  private next = 0;

  /** `servers` in declaration order (the table's order for equal weights); read at each pick. */
  constructor(
    private readonly servers: readonly S[],
    private readonly allBackups: boolean,
  ) {}

  /** The table notices changes of state itself, at the next pick. */
  up(): void {}
  down(): void {}

  /** The server for a hash (of the client's address, the URI ...); every hash gets the only one. */
  hashed(hash: number): S | undefined {
    this.refresh();
    const t = this.table;
    if (t.length === 0) return undefined;
    return t[this.used === 1 ? 0 : hash % t.length];
  }

  /**
   * static-rr: the next server in the table that is not saturated, other than `avoid` unless it is
   * the only one; undefined when all are saturated.
   */
  rotate(avoid: S | undefined): S | undefined {
    this.refresh();
    const t = this.table;
    if (t.length === 0) return undefined;
    if (this.next >= t.length) this.next = 0;
    let avoided: S | undefined;
    let avoidedNext = 0;
    let i = this.next;
    do {
      const s = t[i]!;
      i = i + 1 === t.length ? 0 : i + 1;
      if (s.saturated) continue;
      if (s !== avoid) {
        this.next = i;
        return s;
      }
      avoided = s;
      avoidedNext = i;
    } while (i !== this.next);
    if (avoided) this.next = avoidedNext;
    return avoided;
  }

  /** Rebuilds the table when the servers taking traffic, or their weights, have changed. */
  private refresh(): void {
    const servers = this.servers;
    let active = false;
    for (const s of servers) if (s.usable && !s.backup) active = true;
    // Compared in place: a pick allocates nothing unless the table changes.
    const built = this.builtFor;
    let same = built.length === servers.length;
    for (let i = 0; same && i < servers.length; i++) same = built[i] === inTableWeight(servers[i]!, active);
    if (same) return;
    const weights = servers.map((s) => inTableWeight(s, active));
    this.builtFor = weights;
    // The divisor comes from every configured weight: haproxy computes it once, at start-up.
    let gcd = 0;
    for (const s of servers) if (s.weight > 0) gcd = gcdOf(gcd, s.weight);
    const inTable = servers.filter((_, i) => weights[i]! > 0);
    const share = inTable.map((s) => Math.ceil(s.weight / gcd));
    // Without allbackups the first backup alone counts, though haproxy spreads the table it sizes
    // by that one backup's weight over all of them (which static-rr then shows).
    const firstOnly = !active && !this.allBackups && inTable.length > 0;
    this.used = firstOnly ? 1 : inTable.length;
    const size = firstOnly ? share[0]! : share.reduce((a, b) => a + b, 0);
    this.table = size === 1 ? [inTable[0]!] : spread(inTable, share, size);
  }
}

/** A server's weight in the table: 0 when it is out of it (not usable, or not of the class in use). */
const inTableWeight = (s: PooledServer, active: boolean): number =>
  s.usable && s.backup !== active ? s.weight : 0;

/** The table of `size` slots: each server earns its share per slot; the first with the most whole turns of credit takes it. */
function spread<S>(servers: S[], share: number[], size: number): S[] {
  const credit = new Array<number>(servers.length).fill(0);
  const table: S[] = [];
  for (let slot = 0; slot < size; slot++) {
    let best = 0;
    let most = -Infinity;
    for (let i = 0; i < servers.length; i++) {
      credit[i]! += share[i]!;
      const turns = Math.trunc((credit[i]! + size) / size);
      if (turns > most) {
        most = turns;
        best = i;
      }
    }
    table.push(servers[best]!);
    credit[best]! -= size;
  }
  return table;
}

function gcdOf(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

const bytes = new Uint8Array(16);

/** The address as haproxy hashes it: IPv4 as a number, IPv6 as the XOR of its four 32-bit words. */
export function addressHash(address: string): number {
  if (parseIpv4(address, bytes)) return word(0);
  if (!parseIpv6(address, bytes)) return 0;
  return (word(0) ^ word(4) ^ word(8) ^ word(12)) >>> 0;
}

const word = (o: number): number =>
  ((bytes[o]! << 24) | (bytes[o + 1]! << 16) | (bytes[o + 2]! << 8) | bytes[o + 3]!) >>> 0;
