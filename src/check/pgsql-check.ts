// `option pgsql-check user <name>`: a StartupMessage for the user, answered by an authentication
// request (the server knows the user, and may ask it to prove who it is) or by an ErrorResponse,
// whose first field (the severity) is then the info.
import { cString, type CannedRule } from "./tcp-check.js";

/** The protocol version 3.0: the major number in the high 16 bits. */
const PROTOCOL_3_0 = 3 << 16;

/** Length, version, then the parameters as name/value pairs ended by an empty name. */
export function startupMessage(user: string): Buffer {
  const params = Buffer.from(`user\0${user}\0\0`, "latin1");
  const head = Buffer.alloc(8);
  head.writeUInt32BE(head.length + params.length);
  head.writeUInt32BE(PROTOCOL_3_0, 4);
  return Buffer.concat([head, params]);
}

export const pgsqlCheck = (user: string): CannedRule[] => [
  { action: "connect", sendProxy: false, useDefault: true, linger: true },
  { action: "send", data: startupMessage(user).toString("latin1") },
  {
    action: "expect",
    kind: "rstring",
    pattern: "^E",
    negate: true,
    minRecv: 5,
    errorStatus: "L7RSP",
    // Past the type, the length and the first field's code.
    read: { onError: (buf) => cString(buf, 6) },
  },
  {
    action: "expect",
    kind: "rbinary",
    // An AuthenticationRequest ('R') of a first round: ok, Kerberos V5, clear text, crypt, MD5,
    // SCM, GSS, SSPI or SASL; not GSS or SASL continuations nor unknown methods.
    pattern: "^52000000[0-9A-F]{2}000000(0[02-79]|0A)",
    negate: false,
    minRecv: 9,
    errorStatus: "L7STS",
    onSuccess: "PostgreSQL server is ok",
    onError: "PostgreSQL unknown error",
  },
];
