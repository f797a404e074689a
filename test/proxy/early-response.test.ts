// Early responses: the server answers before the request body has all come. The response goes to
// the client at once, the body goes on to the server, and the transaction ends with the body.
// Each expectation is what haproxy 2.6.12 did with the same configuration and the same bytes.
import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { once } from "node:events";
import {
  startProxy,
  rawServer,
  Client,
  waitFor,
  sleep,
  syslogReceiver,
  loggedDefaults,
  type Proxy,
  type SyslogReceiver,
} from "../helpers/harness.js";

const cleanup: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

/** One server connection: what it received, and how it ended (FIN, an error code, or still open). */
interface Conn {
  text: string;
  end: string;
}

/** Answers each request head at once; `hard`: with Connection: close, then a full close 50 ms later. */
async function earlyServer(kind: "keep" | "hard"): Promise<{ port: number; conns: Conn[] }> {
  const conns: Conn[] = [];
  const srv = await rawServer((s) => {
    const c: Conn = { text: "", end: "open" };
    conns.push(c);
    let heads = 0;
    s.on("data", (d: Buffer) => {
      c.text += d.toString("latin1");
      for (; heads < c.text.split("\r\n\r\n").length - 1; heads++) {
        if (kind === "keep") s.write("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nearly");
        else {
          s.write("HTTP/1.1 413 Too Big\r\nContent-Length: 3\r\nConnection: close\r\n\r\nbig");
          setTimeout(() => s.destroy(), 50);
        }
      }
    });
    s.on("end", () => (c.end = "FIN"));
    s.on("error", (e: NodeJS.ErrnoException) => (c.end = e.code ?? "error"));
  });
  cleanup.push(srv.close);
  return { port: srv.port, conns };
}

let rx: SyslogReceiver;
before(async () => {
  rx = await syslogReceiver();
  cleanup.push(rx.close);
});

async function proxy(serverPort: number, mode = "option http-keep-alive"): Promise<Proxy> {
  const p = await startProxy(`${loggedDefaults(rx, `  ${mode}\n  timeout client 600ms\n  timeout server 2s`)}
frontend fe
  bind 127.0.0.1:1
  default_backend bk
backend bk
  server s 127.0.0.1:${serverPort}
`);
  cleanup.push(p.stop);
  return p;
}

const POST = (path: string) => `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n12345`;
const GET = (path: string) => `GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`;

test("keep-alive: the body's rest reaches the server, then the next request takes the same connections", async () => {
  const srv = await earlyServer("keep");
  const p = await proxy(srv.port);
  const c = new Client(p.port);
  c.send(POST("/ka"));
  assert.equal((await c.response()).body, "early");
  await sleep(200);
  c.send("67890");
  c.send(GET("/b"));
  assert.equal((await c.response()).body, "early");
  c.close();
  assert.equal(srv.conns.length, 1);
  assert.equal(srv.conns[0]!.text, POST("/ka") + "67890" + GET("/b"));
  // Logged when the body ended: Ta holds the wait, and nothing went wrong.
  const line = await rx.take(/"POST \/ka HTTP\/1\.1"/);
  const m = / \d+\/\d+\/\d+\/\d+\/(\d+) 200 \d+ - - ---- /.exec(line);
  assert.ok(m && Number(m[1]) >= 190, line);
});

test("server-close: the server gets the whole body, then a FIN", async () => {
  const srv = await earlyServer("keep");
  const p = await proxy(srv.port, "option http-server-close");
  const c = new Client(p.port);
  c.send(POST("/sc"));
  assert.equal((await c.response()).body, "early");
  c.send("67890");
  await waitFor(() => srv.conns[0]!.end !== "open", 2000, "the server connection's end");
  assert.equal(srv.conns[0]!.end, "FIN");
  assert.match(srv.conns[0]!.text, /\r\n\r\n1234567890$/);
  c.send(GET("/b"));
  assert.equal((await c.response()).body, "early");
  c.close();
  assert.equal(srv.conns.length, 2);
});

test("a server that closed after its answer: the body's rest goes nowhere, the client's connection goes on", async () => {
  const srv = await earlyServer("hard");
  const p = await proxy(srv.port);
  const c = new Client(p.port);
  c.send(POST("/hard"));
  const first = await c.response();
  assert.equal(first.status, 413);
  // The server's Connection: close is its own affair: the client's connection stays open.
  assert.doesNotMatch(first.head, /connection/i);
  await sleep(150);
  c.send("67890" + GET("/b"));
  assert.equal((await c.response()).status, 413);
  c.close();
  assert.equal(srv.conns.length, 2);
  assert.equal(srv.conns[0]!.text, POST("/hard"));
  assert.equal(srv.conns[1]!.text, GET("/b"));
  assert.match(await rx.take(/"POST \/hard HTTP\/1\.1"/), / 413 \d+ - - ---- /);
});

test("a client that stalls in its body after the answer: timeout client, cD--, a FIN to the server", async () => {
  const srv = await earlyServer("keep");
  const p = await proxy(srv.port);
  const c = new Client(p.port);
  const t0 = Date.now();
  c.send(POST("/stall"));
  assert.equal((await c.response()).body, "early");
  await waitFor(() => c.closed, 2000, "the client's close");
  assert.ok(Date.now() - t0 >= 550, `closed after ${Date.now() - t0} ms`);
  assert.match(await rx.take(/"POST \/stall HTTP\/1\.1"/), / 200 \d+ - - cD-- /);
  await waitFor(() => srv.conns[0]!.end !== "open", 1000, "the server connection's end");
  assert.equal(srv.conns[0]!.end, "FIN");
});

test("a client that leaves in its body after the answer: CD--, the server connection reset", async () => {
  const srv = await earlyServer("keep");
  const p = await proxy(srv.port);
  const s = net.connect(p.port, "127.0.0.1");
  s.on("error", () => undefined);
  let got = "";
  s.on("data", (d: Buffer) => (got += d.toString("latin1")));
  s.write(POST("/leave"));
  await waitFor(() => got.endsWith("early"), 2000, "the early response");
  s.end();
  assert.match(await rx.take(/"POST \/leave HTTP\/1\.1"/), / 200 \d+ - - CD-- /);
  await waitFor(() => srv.conns[0]!.end !== "open", 1000, "the server connection's end");
  assert.equal(srv.conns[0]!.end, "ECONNRESET");
  s.destroy();
});

test("a malformed chunk after the answer: PD--, both sides closed", async () => {
  const srv = await earlyServer("keep");
  const p = await proxy(srv.port);
  const c = new Client(p.port);
  c.send("POST /chunk HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n12345\r\n");
  assert.equal((await c.response()).body, "early");
  c.send("zz\r\n");
  await waitFor(() => c.closed, 2000, "the client's close");
  assert.equal(c.take(), "");
  assert.match(await rx.take(/"POST \/chunk HTTP\/1\.1"/), / 200 \d+ - - PD-- /);
  await waitFor(() => srv.conns[0]!.end !== "open", 1000, "the server connection's end");
  assert.equal(srv.conns[0]!.end, "FIN");
});

test("many clients, early answers and shared server connections: each body whole at its server, each answer its own", async () => {
  // A server that answers each head at once, then reads its body; it records what each body was.
  const bodies = new Map<string, string>();
  const srv = await rawServer((s) => {
    let buf = "";
    let id = "";
    let left = -1;
    s.on("data", (d: Buffer) => {
      buf += d.toString("latin1");
      for (;;) {
        if (left < 0) {
          const h = buf.indexOf("\r\n\r\n");
          if (h < 0) return;
          id = /^POST \/(\S+)/.exec(buf)![1]!;
          left = Number(/content-length: (\d+)/i.exec(buf.slice(0, h))![1]);
          buf = buf.slice(h + 4);
          s.write(`HTTP/1.1 200 OK\r\nContent-Length: ${id.length}\r\n\r\n${id}`);
        }
        const n = Math.min(left, buf.length);
        bodies.set(id, (bodies.get(id) ?? "") + buf.slice(0, n));
        buf = buf.slice(n);
        left -= n;
        if (left > 0) return;
        left = -1;
        if (buf === "") return;
      }
    });
  });
  cleanup.push(srv.close);
  const p = await startProxy(`
defaults
  mode http
  timeout client 5s
  timeout connect 1s
  timeout server 5s
frontend fe
  bind 127.0.0.1:1
  default_backend bk
backend bk
  http-reuse always
  server s 127.0.0.1:${srv.port}
`);
  cleanup.push(p.stop);
  const wrong: string[] = [];
  const client = async (c: number): Promise<void> => {
    const cl = new Client(p.port);
    for (let r = 0; r < 5; r++) {
      const id = `c${c}r${r}`;
      cl.send(
        `POST /${id} HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n${id.padEnd(5, ".").slice(0, 5)}`,
      );
      const res = await cl.response();
      if (res.body !== id) wrong.push(`${id} got ${res.body}`);
      await sleep(r % 2);
      cl.send(`-${r}${c % 10}--`.slice(0, 5));
    }
    cl.close();
  };
  await Promise.all(Array.from({ length: 20 }, (_, c) => client(c)));
  await waitFor(
    () => bodies.size === 100 && [...bodies.values()].every((b) => b.length === 10),
    3000,
    "every body",
  );
  assert.deepEqual(wrong, []);
  for (const [id, body] of bodies) {
    const [c, r] = id.slice(1).split("r").map(Number) as [number, number];
    assert.equal(body, id.padEnd(5, ".").slice(0, 5) + `-${r}${c % 10}--`.slice(0, 5), id);
  }
});

test("a server that answers, stops reading and resets: the upload's rest goes nowhere and the connection goes on", async () => {
  let first = true;
  const srv = await rawServer((s) => {
    if (!first) {
      s.on("data", () => s.write("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nnext"));
      return;
    }
    first = false;
    s.once("data", () => {
      s.write("HTTP/1.1 413 Too Big\r\nContent-Length: 3\r\n\r\nbig");
      s.pause();
      setTimeout(() => s.resetAndDestroy(), 300);
    });
  });
  cleanup.push(srv.close);
  const p = await proxy(srv.port);
  const size = 8 * 1024 * 1024;
  const c = new Client(p.port);
  c.send(`POST /big HTTP/1.1\r\nHost: x\r\nContent-Length: ${size}\r\n\r\n`);
  const piece = Buffer.alloc(64 * 1024, 120);
  for (let sent = 0; sent < size; sent += piece.length) {
    if (!c.socket.write(piece)) await once(c.socket, "drain");
  }
  assert.equal((await c.response(5000)).status, 413);
  c.send("GET /after HTTP/1.1\r\nHost: x\r\n\r\n");
  assert.equal((await c.response(5000)).body, "next");
  c.close();
  assert.match(await rx.take(/"POST \/big HTTP\/1\.1"/), / 413 \d+ - - ---- /);
});
