// The article's WebSocket health check sends `Sec-WebSocket-Key: haproxy`. RFC 6455 wants the
// base64 form of 16 random bytes, and strict servers (the `ws` package among them) answer any
// other key with 400, so such a check marks a healthy server DOWN. haproxy sends the key as is.
import type { HttpCheckSend } from "../config/model.js";

/** 16 bytes in base64: 22 significant characters and two `=` of padding. */
const VALID_KEY = /^[A-Za-z0-9+/]{22}==$/;

function headerValue(headers: readonly string[], name: string): string | undefined {
  for (const line of headers) {
    const colon = line.indexOf(":");
    if (colon > 0 && line.slice(0, colon).trim().toLowerCase() === name) return line.slice(colon + 1).trim();
  }
  return undefined;
}

/**
 * A warning when the check request asks for a WebSocket upgrade with a missing or malformed
 * `Sec-WebSocket-Key`; undefined when the request is not an upgrade or its key is valid.
 */
export function wsCheckKeyWarning(httpchk: HttpCheckSend | undefined): string | undefined {
  if (!httpchk) return undefined;
  const upgrade = headerValue(httpchk.headers, "upgrade");
  if (upgrade === undefined || !upgrade.split(",").some((t) => t.trim().toLowerCase() === "websocket"))
    return undefined;
  const key = headerValue(httpchk.headers, "sec-websocket-key");
  if (key === undefined)
    return "the health check asks for a WebSocket upgrade without a Sec-WebSocket-Key header; WebSocket servers will answer 400.";
  if (VALID_KEY.test(key)) return undefined;
  return `the health check's Sec-WebSocket-Key '${key}' is not a valid WebSocket key (the base64 form of 16 bytes, such as 'dGhlIHNhbXBsZSBub25jZQ=='); strict WebSocket servers will answer 400 and the server will be marked DOWN.`;
}
