// Thousands of short connections, good and bad: file descriptors and sessions return to where they were.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { startProxy, httpBackend, exchange, waitFor, DEFAULTS, FRONTEND } from "../helpers/harness.js";
import { sockets } from "../../src/util/descriptors.js";

const cleanup: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

const openFds = (): number => readdirSync("/proc/self/fd").length;

test("thousands of short connections leave no descriptor, session or server slot behind", async () => {
  const b = await httpBackend("web");
  cleanup.push(b.close);
  const p = await startProxy(`${DEFAULTS}
  option http-server-close
  timeout http-request 1s
${FRONTEND}  server a 127.0.0.1:${b.port}
`);
  cleanup.push(p.stop);
  const kinds = [
    "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    "GET / HTTP/1.0\r\n\r\n",
    "BROKEN\r\n\r\n",
    "GET / HTTP/1.1\r\nHost: x\r\n\r\n",
    "",
  ];
  // Warm up so that lazily created handles exist before the first count.
  await exchange(p.port, kinds[0]!);
  global.gc?.();
  const fdsBefore = openFds();
  const socketsBefore = sockets.open;
  const heapBefore = process.memoryUsage().heapUsed;
  const total = 2000;
  const parallel = 50;
  let done = 0;
  const deadline = Date.now() + 60_000;
  const worker = async (id: number): Promise<void> => {
    for (let i = id; i < total && Date.now() < deadline; i += parallel) {
      const k = kinds[i % kinds.length]!;
      // Requests without "close" and empty connections are cut by the client after a short wait.
      await exchange(p.port, k, k === kinds[0] || k === kinds[1] || k === kinds[2] ? 3000 : 50);
      done++;
    }
  };
  await Promise.all(Array.from({ length: parallel }, (_, i) => worker(i)));
  assert.equal(done, total);
  await waitFor(() => p.rt.actconn === 0, 5000, "all sessions ended");
  const be = p.rt.backends.get("bk")!;
  assert.equal(be.cur, 0);
  assert.equal(be.servers[0]!.cur, 0);
  await waitFor(
    () => openFds() <= fdsBefore + 2,
    5000,
    `descriptors back to ${fdsBefore} (now ${openFds()})`,
  );
  // The count Sluice keeps of its sockets (what it weighs against the descriptor limit) agrees.
  await waitFor(
    () => sockets.open <= socketsBefore,
    5000,
    `sockets back to ${socketsBefore} at most (now ${sockets.open})`,
  );
  global.gc?.();
  const grown = process.memoryUsage().heapUsed - heapBefore;
  assert.ok(grown < 20 * 1024 * 1024, `heap grew by ${grown} bytes`);
});
