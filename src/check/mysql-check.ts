// `option mysql-check [user <name> [post-41|pre-41]]`: the server's greeting (its handshake
// packet). With a user, haproxy also logs in without a password and quits, and reads the answer to
// the login after the greeting. An error packet's code and message are the check's code and info;
// a pass shows the server's version from the greeting.
import { failed, type Outcome } from "./result.js";
import { cString, customExpect, type CannedRule, type Judge } from "./tcp-check.js";

/** Capability flags of the client/server protocol: the 4.1 protocol and its authentication. */
const CLIENT_PROTOCOL_41 = 0x200;
const CLIENT_SECURE_CONNECTION = 0x8000;
/** The largest payload one packet carries (its length field has three bytes). */
const MAX_PACKET = 0xffffff;
const UTF8_GENERAL_CI = 33;
const COM_QUIT = 1;
const ERR_PACKET = 0xff;

/** A packet: its payload's length (three bytes, little-endian), its sequence id, the payload. */
function packet(sequence: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(4);
  head.writeUIntLE(payload.length, 0, 3);
  head[3] = sequence;
  return Buffer.concat([head, payload]);
}

/**
 * The login, answering the greeting (sequence 1): a HandshakeResponse41, or a HandshakeResponse320
 * for servers before 4.1, with an empty password; then a COM_QUIT, so the server logs no aborted
 * connection.
 */
export function loginAndQuit(user: string, pre41: boolean): Buffer {
  let fixed: Buffer;
  if (pre41) {
    fixed = Buffer.alloc(5);
    fixed.writeUIntLE(MAX_PACKET, 2, 3);
  } else {
    // Flags, max packet, character set, then 23 reserved bytes.
    fixed = Buffer.alloc(32);
    fixed.writeUInt32LE(CLIENT_PROTOCOL_41 | CLIENT_SECURE_CONNECTION);
    fixed.writeUInt32LE(MAX_PACKET, 4);
    fixed[8] = UTF8_GENERAL_CI;
  }
  // The user's name ends at a NUL; the empty password is a zero length (4.1) or a NUL (before).
  const login = Buffer.concat([fixed, Buffer.from(`${user}\0\0`, "latin1")]);
  return Buffer.concat([packet(1, login), packet(0, Buffer.from([COM_QUIT]))]);
}

/** The packet at `offset` once whole: an error packet fails the check, any other goes on. */
function packetAt(buf: Buffer, offset: number, lastRead: boolean): "next" | "wait" | Outcome {
  const length = buf.length >= offset + 4 ? buf.readUIntLE(offset, 3) : Infinity;
  // A truncated packet is an invalid response once nothing more comes.
  if (buf.length < offset + 4 + length) return lastRead ? failed("L7RSP") : "wait";
  if (buf[offset + 4] !== ERR_PACKET) return "next";
  const code = (buf[offset + 5] ?? 0) | ((buf[offset + 6] ?? 0) << 8);
  // 4.1 servers put the SQL state ('#' and five characters) before the message: haproxy keeps it.
  return failed("L7STS", cString(buf, offset + 7) || undefined, code);
}

const greeting: Judge = (buf, lastRead) => packetAt(buf, 0, lastRead);
const loginAnswer: Judge = (buf, lastRead) => packetAt(buf, 4 + buf.readUIntLE(0, 3), lastRead);

/** The server's version: the greeting's text after its protocol version. */
const version = (buf: Buffer): string => cString(buf, 5);

export function mysqlCheck(login?: { user: string; pre41: boolean }): CannedRule[] {
  const connect: CannedRule = { action: "connect", sendProxy: false, useDefault: true, linger: true };
  if (!login) return [connect, customExpect(greeting, { onSuccess: version })];
  const send = loginAndQuit(login.user, login.pre41).toString("latin1");
  return [
    connect,
    { action: "send", data: send },
    customExpect(greeting),
    customExpect(loginAnswer, { onSuccess: version }),
  ];
}
