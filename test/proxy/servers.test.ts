// Server limits and failures: maxconn and queues, timeout queue, retries and redispatch, backup
// servers, leastconn with long-lived connections, a tunnel holding its slot.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { once } from "node:events";
import {
  startProxy,
  httpBackend,
  exchange,
  Client,
  rawServer,
  waitFor,
  sleep,
  DEFAULTS,
  type Backend,
  FRONTEND,
} from "../helpers/harness.js";

const cleanup: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

async function proxy(text: string) {
  const p = await startProxy(text);
  cleanup.push(p.stop);
  return p;
}

async function slowBackend(name: string, delayMs: number): Promise<Backend> {
  const b = await httpBackend(name, (_req, res) => setTimeout(() => res.end(name), delayMs));
  cleanup.push(b.close);
  return b;
}

/** A port where nothing listens. */
async function closedPort(): Promise<number> {
  const s = net.createServer().listen(0, "127.0.0.1");
  await once(s, "listening");
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

const status = (t: string): number => Number(t.slice(9, 12));

test("maxconn: requests past the limit wait in the queue and are served oldest first", async () => {
  const b = await slowBackend("a", 150);
  const p = await proxy(`${DEFAULTS}
  timeout queue 3s
${FRONTEND}  server a 127.0.0.1:${b.port} maxconn 1
`);
  const order: number[] = [];
  const all = [0, 1, 2].map(async (i) => {
    await sleep(i * 20);
    const t = await exchange(p.port, `GET /${i} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    order.push(i);
    return status(t);
  });
  await waitFor(() => p.rt.backends.get("bk")!.queued() === 2, 2000, "two queued");
  assert.equal(p.rt.backends.get("bk")!.servers[0]!.cur, 1);
  assert.deepEqual(await Promise.all(all), [200, 200, 200]);
  assert.deepEqual(order, [0, 1, 2]);
  assert.deepEqual(
    b.seen.map((s) => s.url),
    ["/0", "/1", "/2"],
  );
});

test("timeout queue: 503 when no slot frees in time", async () => {
  const b = await slowBackend("a", 600);
  const p = await proxy(`${DEFAULTS}
  timeout queue 150ms
${FRONTEND}  server a 127.0.0.1:${b.port} maxconn 1
`);
  const first = exchange(p.port, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  await waitFor(() => p.rt.backends.get("bk")!.servers[0]!.cur === 1, 2000, "first in");
  const t0 = Date.now();
  const second = await exchange(p.port, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  assert.equal(status(second), 503);
  assert.ok(Date.now() - t0 >= 120 && Date.now() - t0 < 600, `${Date.now() - t0} ms`);
  assert.equal(status(await first), 200);
  assert.equal(p.rt.backends.get("bk")!.queued(), 0);
});

test("retries without redispatch stay on the server; with redispatch the last retry moves", async () => {
  const dead = await closedPort();
  const good = await httpBackend("good");
  cleanup.push(good.close);
  const cfg = (redispatch: string) => `${DEFAULTS}
  retries 2
  timeout connect 100ms
  ${redispatch}
${FRONTEND}  balance first
  server dead 127.0.0.1:${dead}
  server good 127.0.0.1:${good.port}
`;
  const without = await proxy(cfg(""));
  assert.equal(status(await exchange(without.port, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")), 503);
  const deadSrv = without.rt.backends.get("bk")!.servers[0]!;
  assert.equal(deadSrv.retries, 2);
  assert.equal(good.seen.length, 0);

  const withR = await proxy(cfg("option redispatch"));
  const t = await exchange(withR.port, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  assert.equal(status(t), 200);
  assert.equal(good.seen.length, 1);
  assert.equal(withR.rt.backends.get("bk")!.servers[0]!.redispatches, 1);
});

test("all servers refusing: 503 quickly once retries are spent", async () => {
  const dead = await closedPort();
  const p = await proxy(`${DEFAULTS}
  retries 0
${FRONTEND}  server a 127.0.0.1:${dead}
`);
  const t0 = Date.now();
  assert.equal(status(await exchange(p.port, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")), 503);
  assert.ok(Date.now() - t0 < 500);
});

test("a backup server takes traffic only when no active server is usable", async () => {
  const a = await httpBackend("active");
  const b1 = await httpBackend("backup1");
  const b2 = await httpBackend("backup2");
  cleanup.push(a.close, b1.close, b2.close);
  const cfg = (allbackups: string) => `${DEFAULTS}
  ${allbackups}
${FRONTEND}  server a 127.0.0.1:${a.port}
  server b1 127.0.0.1:${b1.port} backup
  server b2 127.0.0.1:${b2.port} backup
`;
  const get = async (port: number) =>
    (await exchange(port, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")).split("\r\n\r\n")[1];
  const p = await proxy(cfg(""));
  assert.equal(await get(p.port), "active");
  p.rt.backends.get("bk")!.servers[0]!.up = false;
  // Without allbackups only the first backup serves.
  assert.deepEqual([await get(p.port), await get(p.port)], ["backup1", "backup1"]);
  const q = await proxy(cfg("option allbackups"));
  q.rt.backends.get("bk")!.servers[0]!.up = false;
  assert.deepEqual([await get(q.port), await get(q.port)].sort(), ["backup1", "backup2"]);
});

test("leastconn spreads long-lived WebSockets; a tunnel holds its slot until it ends", async () => {
  const conns: net.Socket[] = [];
  const servers = await Promise.all(
    [0, 1].map(() =>
      rawServer((s) => {
        conns.push(s);
        s.once("data", () =>
          s.write(
            "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
          ),
        );
      }),
    ),
  );
  for (const s of servers) cleanup.push(s.close);
  const p = await proxy(`${DEFAULTS}
  timeout tunnel 10s
${FRONTEND}  balance leastconn
  server a 127.0.0.1:${servers[0]!.port} weight 1
  server b 127.0.0.1:${servers[1]!.port} weight 3
`);
  const clients: Client[] = [];
  for (let i = 0; i < 8; i++) {
    const c = new Client(p.port);
    c.send(
      "GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    );
    await c.until((t) => t.includes("101"));
    clients.push(c);
  }
  const [sa, sb] = p.rt.backends.get("bk")!.servers;
  // Weights 1 and 3: two tunnels on a, six on b.
  assert.deepEqual([sa!.cur, sb!.cur], [2, 6]);
  for (const c of clients) c.close();
  await waitFor(() => sa!.cur + sb!.cur === 0, 2000, "slots released");
});
