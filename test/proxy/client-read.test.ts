// Client sockets read into one shared buffer (util/shared-read.ts): each chunk handed over must stay
// intact while later reads, of this client or another, land in the buffer, even when the proxy holds
// it in a write that waits. (The sockets on their own: test/util/tcp-socket.test.ts.)
import { test, after } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { once } from "node:events";
import { DEFAULTS, pattern, rawServer, sendSlowly, startProxy } from "../helpers/harness.js";

const cleanup: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

test("mode tcp: what clients send reaches a server that reads late, byte for byte", async () => {
  // The server reads nothing for a while: once the sockets' buffers are full the proxy's writes
  // queue up, holding client chunks, while the other client's reads land in the shared buffer.
  const received = new Map<net.Socket, Buffer[]>();
  const ends: Promise<unknown>[] = [];
  const srv = await rawServer((s) => {
    const chunks: Buffer[] = [];
    received.set(s, chunks);
    s.pause();
    s.on("data", (c: Buffer) => void chunks.push(c));
    ends.push(once(s, "end"));
    setTimeout(() => s.resume(), 200);
  });
  cleanup.push(srv.close);
  const px = await startProxy(
    `${DEFAULTS}listen l\n  mode tcp\n  bind 127.0.0.1:1\n  server s 127.0.0.1:${srv.port}\n`,
  );
  cleanup.push(px.stop);
  const data = [pattern(3, 8 << 20), pattern(4, 8 << 20)];
  const clients = data.map((d) => {
    const c = net.connect(px.port, "127.0.0.1", () => sendSlowly(c, d, 16384));
    c.on("error", () => undefined);
    return c;
  });
  while (ends.length < 2) await new Promise((r) => setTimeout(r, 5));
  await Promise.all(ends);
  const got = [...received.values()].map((chunks) => Buffer.concat(chunks));
  assert.equal(got.length, 2);
  assert.ok(
    got.every((g) => g.equals(data[0]!) || g.equals(data[1]!)) && !got[0]!.equals(got[1]!),
    "the server got other bytes than the clients sent",
  );
  for (const c of clients) c.destroy();
});
