// IPv4 and IPv6 addresses as 16 bytes (IPv4 in the low 4), parsed without a resolver.

/** inet_aton's forms: a.b.c.d, a.b.c, a.b, a; each part decimal, octal (0..) or hex (0x..). */
export function parseIpv4(s: string, out: Uint8Array, off = 0): boolean {
  const parts = s.split(".");
  if (parts.length < 1 || parts.length > 4) return false;
  const nums: number[] = [];
  for (const p of parts) {
    let v: number;
    if (/^0[xX][0-9a-fA-F]+$/.test(p)) v = parseInt(p.slice(2), 16);
    else if (/^0[0-7]*$/.test(p)) v = parseInt(p, 8);
    else if (/^[1-9][0-9]*$/.test(p)) v = parseInt(p, 10);
    else return false;
    nums.push(v);
  }
  let v = 0;
  const last = nums.length - 1;
  for (let i = 0; i < last; i++) {
    if (nums[i]! > 255) return false;
    v = v * 256 + nums[i]!;
  }
  const rest = 4 - last;
  if (nums[last]! >= 2 ** (8 * rest)) return false;
  v = v * 2 ** (8 * rest) + nums[last]!;
  out[off] = (v >>> 24) & 255;
  out[off + 1] = (v >>> 16) & 255;
  out[off + 2] = (v >>> 8) & 255;
  out[off + 3] = v & 255;
  return true;
}

/** Strict dotted quad (what addresses in samples look like). */
function parseDottedQuad(s: string, out: Uint8Array, off = 0): boolean {
  let part = 0;
  let digits = 0;
  let v = 0;
  for (let i = 0; i <= s.length; i++) {
    const c = i < s.length ? s.charCodeAt(i) : 46;
    if (c === 46) {
      if (digits === 0 || v > 255 || part > 3) return false;
      out[off + part++] = v;
      v = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57 && digits < 3) {
      v = v * 10 + c - 48;
      digits++;
    } else return false;
  }
  return part === 4;
}

/**
 * haproxy's buf2ip (its string-to-address cast): four dotted decimal octets (any number of digits,
 * each value <= 255) at the start of `s`, ending at the first character that is neither a digit nor
 * '.'. Returns how many characters it read, or 0 when `s` does not start with such an address
 * ("1.2.3.4:80" and "1.2.3.4, 5.6.7.8" read 7; "1.2.3.4.5", "1.2.3.256" and "1.2.3" read 0).
 */
export function parseIpv4Prefix(s: string, out: Uint8Array, off = 0): number {
  let octets = 0;
  let inOctet = false;
  let v = 0;
  let i = 0;
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      if (!inOctet) {
        if (++octets > 4) return 0;
        inOctet = true;
        v = 0;
      }
      v = v * 10 + c - 48;
      if (v > 255) return 0;
      out[off + octets - 1] = v;
    } else if (c === 46) {
      if (!inOctet || octets === 4) return 0;
      inOctet = false;
    } else break;
  }
  return octets === 4 ? i : 0;
}

/** RFC 4291 text form, with an optional dotted quad at the end. */
export function parseIpv6(s: string, out: Uint8Array): boolean {
  if (s.length < 2 || s.length > 45) return false;
  const dbl = s.indexOf("::");
  if (dbl >= 0 && s.indexOf("::", dbl + 1) >= 0) return false;
  const groups = (part: string): number[] | undefined => {
    if (part === "") return [];
    const r: number[] = [];
    const items = part.split(":");
    for (let i = 0; i < items.length; i++) {
      const it = items[i]!;
      if (i === items.length - 1 && it.includes(".")) {
        const q = new Uint8Array(4);
        if (!parseDottedQuad(it, q)) return undefined;
        r.push((q[0]! << 8) | q[1]!, (q[2]! << 8) | q[3]!);
      } else if (/^[0-9a-fA-F]{1,4}$/.test(it)) r.push(parseInt(it, 16));
      else return undefined;
    }
    return r;
  };
  let words: number[];
  if (dbl >= 0) {
    const a = groups(s.slice(0, dbl));
    const b = groups(s.slice(dbl + 2));
    if (!a || !b || a.length + b.length > 7) return false;
    words = [...a, ...new Array<number>(8 - a.length - b.length).fill(0), ...b];
  } else {
    const a = groups(s);
    if (!a || a.length !== 8) return false;
    words = a;
  }
  for (let i = 0; i < 8; i++) {
    out[i * 2] = words[i]! >> 8;
    out[i * 2 + 1] = words[i]! & 255;
  }
  return true;
}

/** The IPv4 address an IPv6 one stands for (::ffff:a.b.c.d, ::a.b.c.d, 2002:a.b.c.d::), into out[0..3]. */
export function v6ToV4(a: Uint8Array, out: Uint8Array): boolean {
  let zero = true;
  for (let i = 0; i < 8; i++) if (a[i] !== 0) zero = false;
  if (zero) {
    const ffff = a[8] === 0 && a[9] === 0 && a[10] === 0xff && a[11] === 0xff;
    const nul = a[8] === 0 && a[9] === 0 && a[10] === 0 && a[11] === 0;
    if (ffff || nul) {
      out.set(a.subarray(12, 16), 0);
      return true;
    }
    return false;
  }
  if (a[0] === 0x20 && a[1] === 0x02) {
    out.set(a.subarray(2, 6), 0);
    return true;
  }
  return false;
}

const shortBytes = new Uint8Array(16);

/** An IPv6 address in its shortest form, as inet_ntop writes it; as it is when it is none. */
export function shortIpv6(t: string): string {
  return parseIpv6(t, shortBytes) ? ipv6Text(shortBytes) : t;
}

/**
 * 16 bytes as inet_ntop writes them: lowercase groups without leading zeros, the first longest run
 * of two or more zero groups as "::", and an IPv4 address in dotted form after 96 zero bits or
 * ::ffff: (not for :: itself, ::1 or ::x where the quad would start with 0).
 */
export function ipv6Text(b: Uint8Array): string {
  const w: number[] = [];
  for (let i = 0; i < 16; i += 2) w.push((b[i]! << 8) | b[i + 1]!);
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (w[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestLen < 2) best = -1;
  let out = "";
  for (let i = 0; i < 8; i++) {
    if (best >= 0 && i >= best && i < best + bestLen) {
      if (i === best) out += ":";
      continue;
    }
    if (i !== 0) out += ":";
    if (i === 6 && best === 0 && (bestLen === 6 || (bestLen === 5 && w[5] === 0xffff))) {
      out += `${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
      return out;
    }
    out += w[i]!.toString(16);
  }
  return best >= 0 && best + bestLen === 8 ? `${out}:` : out;
}

/** A netmask as a prefix length (0 to 32) or in dotted form, into out[0..3]; false if neither. */
export function parseMask4(arg: string, out: Uint8Array): boolean {
  if (/^\d+$/.test(arg)) {
    const n = Number(arg);
    if (n > 32) return false;
    const m = n === 0 ? 0 : (0xffffffff << (32 - n)) >>> 0;
    out.set([m >>> 24, (m >>> 16) & 255, (m >>> 8) & 255, m & 255]);
    return true;
  }
  return parseIpv4(arg, out);
}

/** An IPv6 netmask as a prefix length (0 to 128), into out[0..15]; false if it is none. */
export function parseMask6(arg: string, out: Uint8Array): boolean {
  if (!/^\d+$/.test(arg) || Number(arg) > 128) return false;
  const n = Number(arg);
  for (let i = 0; i < 16; i++)
    out[i] = i * 8 + 8 <= n ? 255 : i * 8 >= n ? 0 : (0xff << (8 - (n - i * 8))) & 255;
  return true;
}

const srcBytes = new Uint8Array(16);

/**
 * A 32-bit hash's four bytes (most significant first) then the address's 4 or 16, as latin1 text
 * (haproxy's base32+src and url32+src); undefined for what is no address.
 */
export function hashAndAddress(hash: number, address: string): string | undefined {
  const head = String.fromCharCode(hash >>> 24, (hash >>> 16) & 255, (hash >>> 8) & 255, hash & 255);
  if (parseIpv4(address, srcBytes)) return head + Buffer.from(srcBytes.subarray(0, 4)).toString("latin1");
  if (parseIpv6(address, srcBytes)) return head + Buffer.from(srcBytes).toString("latin1");
  return undefined;
}
