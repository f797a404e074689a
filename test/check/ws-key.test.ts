import { test } from "node:test";
import assert from "node:assert/strict";
import { wsCheckKeyWarning } from "../../src/check/index.js";

const chk = (headers: string[]) => ({ method: "GET", uri: "/", version: "HTTP/1.1", headers, body: "" });

test("the article's key `haproxy` is not a WebSocket key", () => {
  const w = wsCheckKeyWarning(
    chk(["Host: ws.domain.com", "Connection: Upgrade", "Upgrade: websocket", "Sec-WebSocket-Key: haproxy"]),
  );
  assert.match(w!, /Sec-WebSocket-Key 'haproxy' is not a valid WebSocket key/);
});

test("a base64 key of 16 bytes is fine; so is a check that is no upgrade", () => {
  assert.equal(
    wsCheckKeyWarning(chk(["Upgrade: websocket", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=="])),
    undefined,
  );
  assert.equal(wsCheckKeyWarning(chk(["Host: x"])), undefined);
  assert.equal(wsCheckKeyWarning(chk(["Upgrade: h2c", "Sec-WebSocket-Key: haproxy"])), undefined);
  assert.equal(wsCheckKeyWarning(undefined), undefined);
});

test("keys of the wrong length or alphabet, and a missing key", () => {
  // 15 and 17 bytes.
  assert.ok(
    wsCheckKeyWarning(
      chk(["Upgrade: websocket", `Sec-WebSocket-Key: ${Buffer.alloc(15).toString("base64")}`]),
    ),
  );
  assert.ok(
    wsCheckKeyWarning(
      chk(["Upgrade: websocket", `Sec-WebSocket-Key: ${Buffer.alloc(17).toString("base64")}`]),
    ),
  );
  assert.ok(wsCheckKeyWarning(chk(["Upgrade: websocket", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ-_"])));
  assert.match(wsCheckKeyWarning(chk(["upgrade: WebSocket"]))!, /without a Sec-WebSocket-Key/);
});
