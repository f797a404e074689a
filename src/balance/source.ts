// balance source: the client's address picks the server, so that a client keeps its server while
// the set of servers stays the same. As haproxy's default hash-type (map-based), the usable servers
// are laid out in a table, each as many times as its weight (weights divided by their greatest
// common divisor), spread the way a smooth round robin would order them, and the address, as a
// 32-bit number (an IPv6 address's four words XORed together), indexes it modulo its length.
import { parseIpv4, parseIpv6 } from "../acl/ip.js";

export interface Mapped {
  readonly weight: number;
  readonly usable: boolean;
  readonly backup: boolean;
}

export class SourceHash<S extends Mapped> {
  private map: S[] = [];
  /** The weights the map was built for, one per server (0: not in it), to notice a change. */
  private builtFor: number[] = [];
  /** The server every address gets when only one takes traffic. */
  private only: S | undefined;

  /** `servers` in declaration order (the table's order for equal weights); read at each pick. */
  constructor(
    private readonly servers: readonly S[],
    private readonly allBackups: boolean,
  ) {}

  pick(address: string): S | undefined {
    this.refresh();
    if (this.only) return this.only;
    if (this.map.length === 0) return undefined;
    return this.map[addressHash(address) % this.map.length];
  }

  /** Rebuilds the table when the servers taking traffic, or their weights, have changed. */
  private refresh(): void {
    const servers = this.servers;
    const active = servers.some((s) => s.usable && !s.backup);
    const weights = servers.map((s) => (s.usable && s.backup !== active ? s.weight : 0));
    if (weights.length === this.builtFor.length && weights.every((w, i) => w === this.builtFor[i])) return;
    this.builtFor = weights;
    const inMap = servers.filter((_, i) => weights[i]! > 0);
    // Without allbackups, the first backup alone takes traffic.
    this.only = inMap.length === 1 || (!active && !this.allBackups) ? inMap[0] : undefined;
    this.map = this.only ? [] : spread(inMap, servers);
  }
}

/** The table: each server `weight / gcd` times, in smooth round-robin order. */
function spread<S extends Mapped>(inMap: S[], all: readonly S[]): S[] {
  // The divisor comes from every configured weight, as haproxy computes it once at start-up.
  let gcd = 0;
  for (const s of all) if (s.weight > 0) gcd = gcdOf(gcd, s.weight);
  const share = inMap.map((s) => Math.ceil(s.weight / gcd));
  const total = share.reduce((a, b) => a + b, 0);
  const credit = new Array<number>(inMap.length).fill(0);
  const map: S[] = [];
  for (let slot = 0; slot < total; slot++) {
    // Each server earns its share; the first one with the most whole turns of credit takes the slot.
    let best = 0;
    let most = -Infinity;
    for (let i = 0; i < inMap.length; i++) {
      credit[i]! += share[i]!;
      const turns = Math.trunc((credit[i]! + total) / total);
      if (turns > most) {
        most = turns;
        best = i;
      }
    }
    map.push(inMap[best]!);
    credit[best]! -= total;
  }
  return map;
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
