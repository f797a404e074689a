// A bind's own maxconn and backlog, side by side with the frontend's (haproxy 2.6.12 compared, see
// docs/haproxy-behaviour.md section 80).
import { test, after } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { existsSync, readFileSync } from "node:fs";
import { bind6Flags } from "../../src/util/tcp-socket.js";
import { startProxy, rawServer, waitFor, sleep, closed, type Proxy } from "../helpers/harness.js";

const cleanup: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

const SYSTEM_V6ONLY = "/proc/sys/net/ipv6/bindv6only";

const TCP_DEFAULTS = `
defaults
  mode tcp
  timeout client 5s
  timeout connect 2s
  timeout server 5s
`;

/** A server that greets each connection and keeps it: a client that reads the greeting was let in. */
async function greeter(): Promise<{ port: number; count(): number }> {
  let count = 0;
  const srv = await rawServer((s) => {
    count++;
    s.write("hi");
  });
  cleanup.push(srv.close);
  return { port: srv.port, count: () => count };
}

/** Sluice with these frontends, each with `default_backend b`: a greeter. */
async function proxyTo(frontends: string): Promise<{ p: Proxy; srv: { count(): number } }> {
  const srv = await greeter();
  const p = await startProxy(`${TCP_DEFAULTS}${frontends}
backend b
  server s 127.0.0.1:${srv.port}
`);
  cleanup.push(p.stop);
  return { p, srv };
}

/** A client of the proxy: whether the server's greeting reached it, whether the proxy closed it. */
class Conn {
  served = false;
  ended = false;
  readonly s: net.Socket;
  constructor(port: number) {
    this.s = net.connect(port, "127.0.0.1");
    this.s.on("data", () => (this.served = true));
    void closed(this.s).then(() => (this.ended = true));
    cleanup.push(async () => void this.s.destroy());
  }
  close(): Promise<void> {
    this.s.destroy();
    return closed(this.s);
  }
}

/** Opens a connection and waits until the proxy has taken it: served, waiting, or closed. */
async function connect(p: Proxy, port: number, expect: "served" | "waits" | "closed"): Promise<Conn> {
  const fe = p.rt.frontends.find((f) => [...f.listeners.values()].some((l) => l.address().port === port))!;
  const before = fe.waiting.length;
  const c = new Conn(port);
  if (expect === "served") await waitFor(() => c.served, 2000, "the server's greeting");
  else if (expect === "waits")
    await waitFor(() => fe.waiting.length === before + 1, 2000, "a waiting connection");
  else await waitFor(() => c.ended, 2000, "the proxy's close");
  return c;
}

/** `leaving` closes, and its place goes to `next`. */
async function handOver(leaving: Conn, next: Conn): Promise<void> {
  await leaving.close();
  await waitFor(() => next.served, 2000, "the waiting connection let in");
}

test("a bind's maxconn: past it a connection waits unread until one of the bind's own ends", async () => {
  const { p, srv } = await proxyTo(`
frontend f
  maxconn 10
  bind 127.0.0.1:1 maxconn 2
  default_backend b
`);
  const first = await connect(p, p.port, "served");
  await connect(p, p.port, "served");
  const third = await connect(p, p.port, "waits");
  await sleep(200);
  assert.equal(third.served, false);
  assert.equal(srv.count(), 2);
  await handOver(first, third);
  assert.equal(srv.count(), 3);
});

test("two binds of one frontend: each its own maxconn, the frontend's over both", async () => {
  const { p, srv } = await proxyTo(`
frontend f
  maxconn 3
  bind 127.0.0.1:1 maxconn 1
  bind 127.0.0.1:1 maxconn 5
  default_backend b
`);
  const [a, b] = p.ports as [number, number];
  const a1 = await connect(p, a, "served");
  const a2 = await connect(p, a, "waits");
  const b1 = await connect(p, b, "served");
  await connect(p, b, "served");
  // The frontend's 3 holds this one back, below its bind's 5.
  const b3 = await connect(p, b, "waits");
  // A slot of the frontend's: the later b3 takes it, as a2 waits for its own bind's.
  await handOver(b1, b3);
  await sleep(200);
  assert.equal(a2.served, false);
  await handOver(a1, a2);
  assert.equal(srv.count(), 5);
});

test("past its backlog a connection still waits (haproxy's kernel has its client try again); the backlog's defaults", async () => {
  // The bind's backlog; the frontend's; the bind's maxconn rather than the frontend's.
  const { p, srv } = await proxyTo(`
frontend own
  bind 127.0.0.1:1 maxconn 1 backlog 1
  default_backend b
frontend fe
  backlog 2
  bind 127.0.0.1:1 maxconn 1
  default_backend b
frontend bindmaxconn
  maxconn 3
  bind 127.0.0.1:1 maxconn 1
  default_backend b
`);
  const cases: [number, number][] = [
    [p.ports[0]!, 1],
    [p.ports[1]!, 2],
    [p.ports[2]!, 1],
  ];
  for (const [port, backlog] of cases) {
    const first = await connect(p, port, "served");
    const waiting: Conn[] = [];
    for (let i = 0; i <= backlog + 1; i++) waiting.push(await connect(p, port, "waits"));
    const fe = p.rt.frontends.find((f) => [...f.listeners.values()].some((l) => l.address().port === port))!;
    assert.equal(fe.waiting[0]!.listener.backlog, backlog, `port ${port}`);
    assert.ok(
      waiting.every((c) => !c.ended && !c.served),
      `port ${port}: ${backlog + 2} wait`,
    );
    // Each is let in as the one before it leaves, the last past the backlog too.
    let leaving = first;
    for (const next of waiting) {
      await handOver(leaving, next);
      leaving = next;
    }
  }
  assert.equal(
    srv.count(),
    cases.reduce((n, [, backlog]) => n + backlog + 3, 0),
  );
});

test("an IPv6 listener's IPV6_V6ONLY: set by v6only, cleared by v4v6", () => {
  assert.equal(bind6Flags(true), 1);
  assert.equal(bind6Flags(false), 0);
  // Neither: the system's default, as haproxy leaves it.
  const system = existsSync(SYSTEM_V6ONLY) && readFileSync(SYSTEM_V6ONLY, "utf8").trim() === "1";
  assert.equal(bind6Flags(undefined), system ? 1 : 0);
});
