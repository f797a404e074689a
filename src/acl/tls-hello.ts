// The first bytes of a TLS connection as the req.ssl_* fetches read them (RFC 8446 sections 4.1.2
// and 5.1, RFC 6066 section 3): the handshake record that carries the ClientHello, with haproxy
// 2.6's checks and leniencies. Each reader says whether more bytes could still give an answer.

export const TOO_SHORT = -1;
export const NOT_TLS = -2;

/**
 * The type of the handshake message that starts the buffer (1: ClientHello), once the record holds
 * it whole; as haproxy, any record type from 20 to 23 (or 255) with version 3 or above is read.
 */
export function tlsHelloType(b: Buffer): number {
  if (b.length === 0) return TOO_SHORT;
  const type = b[0]!;
  if (!((type >= 0x14 && type <= 0x17) || type === 0xff)) return NOT_TLS;
  if (b.length < 9) return TOO_SHORT;
  if (b[1]! < 3) return NOT_TLS;
  // The record must hold at least the handshake's type and length.
  if (b.readUInt16BE(3) < 4) return NOT_TLS;
  const hsLen = (b[6]! << 16) | b.readUInt16BE(7);
  if (b.length < 9 + hsLen) return TOO_SHORT;
  return b[5]!;
}

/**
 * The host name of the ClientHello's server_name extension, as [start, end) offsets into the
 * buffer; NOT_TLS without one (or for anything malformed), TOO_SHORT until the hello has come. As
 * haproxy 2.6 reads it: the record's length is not looked at, the hello counts as come 4 bytes
 * short of its end, and a byte not come yet reads as 0.
 */
export function tlsServerName(b: Buffer): [number, number] | typeof TOO_SHORT | typeof NOT_TLS {
  const u8 = (i: number): number => (i < b.length ? b[i]! : 0);
  const u16 = (i: number): number => (u8(i) << 8) | u8(i + 1);
  if (b.length === 0) return TOO_SHORT;
  if (b[0] !== 0x16) return NOT_TLS;
  if (b.length < 3) return TOO_SHORT;
  if (b[1]! < 3) return NOT_TLS;
  if (b.length < 5) return TOO_SHORT;
  // The smallest hello that can carry an extension, and its record.
  const MIN_HELLO = 2 + 32 + 1 + 2 + 2 + 1 + 1 + 2 + 2;
  if (u16(3) < 4 + MIN_HELLO) return NOT_TLS;
  if (b.length < 6) return TOO_SHORT;
  if (b[5] !== 0x01) return NOT_TLS;
  if (b.length < 9) return TOO_SHORT;
  let left = (b[6]! << 16) | u16(7);
  if (left < MIN_HELLO) return NOT_TLS;
  if (b.length - 5 < left) return TOO_SHORT;
  let p = 9;
  // client_version, TLS 1.0 at least
  if (u8(p) < 3 || u8(p + 1) < 1) return NOT_TLS;
  const sid = u8(p + 34);
  if (sid > 32 || sid > left - 35) return NOT_TLS;
  left -= 35 + sid;
  p += 35 + sid;
  if (left < 4) return NOT_TLS;
  const ciphers = u16(p);
  if (ciphers < 2 || ciphers > left) return NOT_TLS;
  left -= 2 + ciphers;
  p += 2 + ciphers;
  if (left < 2) return NOT_TLS;
  const methods = u8(p);
  if (methods < 1 || methods > left) return NOT_TLS;
  left -= 1 + methods;
  p += 1 + methods;
  if (left < 2) return NOT_TLS;
  let ext = u16(p);
  if (ext > left - 2) return NOT_TLS;
  p += 2;
  while (ext >= 4) {
    const type = u16(p);
    const len = u16(p + 2);
    if (len > ext - 4) return NOT_TLS;
    if (type === 0) {
      // server_name: a list of (type, length, name); host_name is type 0.
      if (len < 2) return NOT_TLS;
      const list = u16(p + 4);
      if (list < 4 || list > ext - 6) return NOT_TLS;
      if (u8(p + 6) === 0) return [p + 9, Math.min(b.length, p + 9 + u16(p + 7))];
    }
    ext -= 4 + len;
    p += 4 + len;
  }
  return NOT_TLS;
}
