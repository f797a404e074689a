// Address patterns as haproxy indexes them: per family, networks by prefix length (its trees,
// looked up from the longest prefix down), and the IPv4 networks whose mask is not a prefix in a
// list tried after both trees, in the order they came. What it looks up and in which order (checked
// against haproxy 2.6.12): an IPv4 sample in the IPv4 networks, then as ::ffff:a.b.c.d in the IPv6
// ones, then in the list; an IPv6 sample in the IPv6 networks, then, when it stands for an IPv4
// address (::ffff:a.b.c.d, ::a.b.c.d, 2002:a.b.c.d::), in the IPv4 networks and the list.
import { v6ToV4 } from "./ip.js";
import type { IpPat } from "./match.js";
import { ByLength, type PatternIndex } from "./pattern-index.js";

/** Where a pattern is filed: an IPv4 or IPv6 prefix (the network's leading bits), or the list. */
export type IpKey =
  | { readonly family: 4; readonly len: number; readonly net: number }
  | { readonly family: 6; readonly len: number; readonly net: string }
  | { readonly family: 0; readonly addr: number; readonly mask: number };

/** An IPv4 address's 4 bytes as a number. */
export const ipv4Number = (b: Uint8Array, at = 0): number =>
  ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;

/** The leading `len` bits of an IPv4 address (a Map key per length). */
const net4 = (a: number, len: number): number => (len === 0 ? 0 : a >>> (32 - len));

/** An IPv6 address's leading `len` bits, as eight 16-bit characters (the rest zero). */
function net6(w: Uint16Array, len: number): string {
  const m = (i: number): number => {
    const bits = len - i * 16;
    return bits >= 16 ? w[i]! : bits <= 0 ? 0 : w[i]! & (0xffff << (16 - bits));
  };
  return String.fromCharCode(m(0), m(1), m(2), m(3), m(4), m(5), m(6), m(7));
}

function words(b: Uint8Array, out: Uint16Array): Uint16Array {
  for (let i = 0; i < 8; i++) out[i] = (b[i * 2]! << 8) | b[i * 2 + 1]!;
  return out;
}

/** Where a parsed address pattern is filed. */
export function ipKey(p: IpPat, scratch = new Uint16Array(8)): IpKey {
  if (p.v4) {
    const addr = ipv4Number(p.addr, 0);
    const mask = ipv4Number(p.mask, 0);
    const host = ~mask >>> 0;
    if ((host & (host + 1)) !== 0) return { family: 0, addr: (addr & mask) >>> 0, mask };
    const len = Math.clz32(host);
    return { family: 4, len, net: net4(addr, len) };
  }
  let len = 0;
  // An IPv6 mask is always a prefix: each byte's leading ones.
  for (const b of p.mask) len += Math.clz32(~b & 255) - 24;
  return { family: 6, len, net: net6(words(p.addr, scratch), len) };
}

interface Listed<X> {
  readonly id: number;
  readonly addr: number;
  readonly mask: number;
  value: X;
}

/** The leading bits of ::ffff:0.0.0.0/96, where an IPv4 sample is looked up among IPv6 networks. */
const MAPPED = net6(new Uint16Array([0, 0, 0, 0, 0, 0xffff, 0, 0]), 96);

/** Whether an IPv6 network can hold an IPv4-mapped address (::ffff:a.b.c.d). */
function holdsMapped(len: number, net: string): boolean {
  const n = Math.min(len, 96);
  for (let i = 0; i * 16 < n; i++) {
    const bits = Math.min(16, n - i * 16);
    const m = (0xffff << (16 - bits)) & 0xffff;
    if ((net.charCodeAt(i) & m) !== (MAPPED.charCodeAt(i) & m)) return false;
  }
  return true;
}

export class IpIndex<X> implements PatternIndex<IpKey, X> {
  private readonly v4 = new ByLength<number, X>();
  private readonly v6 = new ByLength<string, X>();
  /** Per IPv6 prefix length, the networks that can hold an IPv4-mapped address: an IPv4 sample's only. */
  private readonly mapped = new Uint32Array(129);
  private readonly list: Listed<X>[] = [];
  private readonly w = new Uint16Array(8);
  private readonly a4 = new Uint8Array(4);

  constructor(private readonly parse: (text: string) => IpPat) {}

  keyOf(text: string): IpKey {
    return ipKey(this.parse(text), this.w);
  }

  add(key: IpKey, id: number, value: X): void {
    if (key.family === 4) this.v4.add(key.len, key.net, id, value);
    else if (key.family === 6) {
      this.v6.add(key.len, key.net, id, value);
      if (holdsMapped(key.len, key.net)) this.mapped[key.len]!++;
    } else this.list.push({ id, addr: key.addr, mask: key.mask, value });
  }

  remove(key: IpKey, id: number): void {
    if (key.family === 4) this.v4.remove(key.len, key.net, id);
    else if (key.family === 6) {
      if (this.v6.remove(key.len, key.net, id) && holdsMapped(key.len, key.net)) this.mapped[key.len]!--;
    } else {
      const at = this.list.findIndex((l) => l.id === id);
      if (at >= 0) this.list.splice(at, 1);
    }
  }

  revalue(key: IpKey, id: number, value: X): void {
    if (key.family === 4) this.v4.at(key.len)?.revalue(key.net, id, value);
    else if (key.family === 6) this.v6.at(key.len)?.revalue(key.net, id, value);
    else {
      const l = this.list.find((l) => l.id === id);
      if (l) l.value = value;
    }
  }

  /** What an IPv4 address (a 32-bit number) finds. */
  find4(a: number): X | undefined {
    const found = this.tree4(a);
    if (found !== undefined) return found;
    const w = this.w;
    w.fill(0, 0, 5);
    w[5] = 0xffff;
    w[6] = a >>> 16;
    w[7] = a & 0xffff;
    return this.tree6(w, this.mapped) ?? this.inList(a);
  }

  /** What an IPv6 address (16 bytes) finds. */
  find6(b: Uint8Array): X | undefined {
    const found = this.tree6(words(b, this.w));
    if (found !== undefined || !v6ToV4(b, this.a4)) return found;
    const a = ipv4Number(this.a4, 0);
    return this.tree4(a) ?? this.inList(a);
  }

  private tree4(a: number): X | undefined {
    for (const { len, slots } of this.v4.tables) {
      const v = slots.first(net4(a, len));
      if (v !== undefined) return v;
    }
    return undefined;
  }

  /** The longest IPv6 network holding `w`; with `only`, among the lengths it counts networks for. */
  private tree6(w: Uint16Array, only?: Uint32Array): X | undefined {
    for (const { len, slots } of this.v6.tables) {
      if (only !== undefined && only[len] === 0) continue;
      const v = slots.first(net6(w, len));
      if (v !== undefined) return v;
    }
    return undefined;
  }

  private inList(a: number): X | undefined {
    for (const l of this.list) if ((a & l.mask) >>> 0 === l.addr) return l.value;
    return undefined;
  }
}
