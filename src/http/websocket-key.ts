// The Sec-WebSocket-Key of an upgrade that would leave without one (a rule took it away): haproxy's
// HTTP/1 layer writes one of its own making, 16 random bytes in base64 (RFC 6455 4.1), and then holds
// the server's 101 to it: a Sec-WebSocket-Accept that does not answer that key is a bad response.
import { createHash, randomBytes } from "node:crypto";

const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

export const newWebSocketKey = (): string => randomBytes(16).toString("base64");

/** The Sec-WebSocket-Accept that answers `key` (RFC 6455 4.2.2). */
export const acceptFor = (key: string): string =>
  createHash("sha1")
    .update(key + GUID)
    .digest("base64");
