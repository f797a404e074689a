// silent-drop, as haproxy 2.6.12 ran it (as root, so with TCP_REPAIR) on the same configurations:
// the client hears nothing, neither FIN nor RST, while it stays quiet, and whatever it sends next
// meets an RST; the line logged and the counter moved are a reject's. Sluice keeps the socket
// silent for timeout client, then resets it. set-nice is kept with a warning; set-mark and set-tos
// are refused.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { once } from "node:events";
import {
  DEFAULTS,
  alertsFor,
  httpBackend,
  loggedDefaults,
  rawServer,
  sleep,
  startProxy,
  syslogReceiver,
  talk,
  type SyslogReceiver,
} from "../helpers/harness.js";
import { parseConfig } from "../../src/config/parse.js";

const cleanup: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

const get = (path: string) => `GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`;
/** A request whose connection closes once it is answered. */
const served = (path: string) => `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`;

/** How long a test listens to a dropped client for anything at all. */
const QUIET_MS = 300;

/** A client connection and what it has heard: its bytes, and how it ended ("FIN", "ECONNRESET"). */
interface Listener {
  socket: net.Socket;
  got: string;
  end: string | undefined;
  ended: Promise<void>;
}

async function connect(port: number, from = "127.0.0.1"): Promise<Listener> {
  const socket = net.connect({ port, host: "127.0.0.1", localAddress: from });
  const l: Listener = { socket, got: "", end: undefined, ended: Promise.resolve() };
  socket.on("data", (d: Buffer) => (l.got += d.toString("latin1")));
  socket.on("end", () => (l.end ??= "FIN"));
  socket.on("error", (e: NodeJS.ErrnoException) => (l.end ??= e.code ?? "error"));
  l.ended = new Promise((r) => socket.once("close", () => r()));
  await once(socket, "connect");
  return l;
}

/** Waits (bounded) for the client's connection to end. */
async function ended(l: Listener, ms = 3000): Promise<void> {
  const t = setTimeout(() => l.socket.destroy(), ms);
  await l.ended;
  clearTimeout(t);
}

/**
 * Sends `data`: the client then hears nothing for QUIET_MS, its connection still open; what it
 * sends next is answered by an RST.
 */
async function dropped(port: number, data: string, from?: string): Promise<void> {
  const l = await connect(port, from);
  if (data) l.socket.write(data);
  await sleep(QUIET_MS);
  assert.deepEqual({ got: l.got, end: l.end }, { got: "", end: undefined });
  l.socket.write("more");
  await ended(l);
  assert.deepEqual({ got: l.got, end: l.end }, { got: "", end: "ECONNRESET" });
}

/** No line logged for a while. */
async function nothingLogged(rx: SyslogReceiver): Promise<void> {
  await sleep(100);
  assert.deepEqual(rx.lines, []);
}

test("http-request and http-response silent-drop: nothing to the client, a reject's log line, the server's status kept for a response", async () => {
  const rx = await syslogReceiver();
  const b = await httpBackend("b");
  // A response haproxy counted 58 bytes of: its head's parts, its bookkeeping, its body.
  const srv = await rawServer((s) =>
    s.once("data", () => s.write("HTTP/1.1 200 OK\r\ncontent-length: 2\r\nx-drop: 1\r\n\r\nok")),
  );
  cleanup.push(rx.close, b.close, srv.close);
  const p = await startProxy(`${loggedDefaults(rx)}
frontend f
  bind 127.0.0.1:1
  http-request silent-drop if { path /drop }
  http-response silent-drop if { res.hdr(x-drop) 1 }
  use_backend r if { path /res }
  default_backend bk
backend bk
  server s 127.0.0.1:${b.port}
backend r
  server s 127.0.0.1:${srv.port}
`);
  cleanup.push(p.stop);
  await dropped(p.port, get("/drop"));
  assert.match(
    await rx.take(/drop/),
    /^127\.0\.0\.1:\d+ \[[^\]]+\] f f\/<NOSRV> -1\/-1\/-1\/-1\/0 -1 0 - - PR-- 1\/1\/0\/0\/0 0\/0 "GET \/drop HTTP\/1\.1"$/,
  );
  assert.equal(b.seen.length, 0);
  assert.equal(p.rt.counters.denied, 1);
  await dropped(p.port, get("/res"));
  assert.match(
    await rx.take(/res/),
    /^127\.0\.0\.1:\d+ \[[^\]]+\] f r\/s 0\/0\/\d+\/-1\/\d+ 200 58 - - PR-- 1\/1\/0\/0\/0 0\/0 "GET \/res HTTP\/1\.1"$/,
  );
  assert.equal(p.rt.counters.denied, 2);
  // Another request goes through.
  const ok = await talk(p.port, served("/ok"));
  assert.match(ok.got, /^HTTP\/1\.1 200 /);
  assert.equal(ok.end, "FIN");
});

test("tcp-request connection and session silent-drop: nothing logged but a PROXY header's connection error; content silent-drop logged as a reject, in mode http and tcp", async () => {
  const rx = await syslogReceiver();
  const b = await httpBackend("b");
  cleanup.push(rx.close, b.close);
  const p = await startProxy(`${loggedDefaults(rx)}
frontend c
  bind 127.0.0.1:1
  tcp-request connection silent-drop if { src 127.0.0.2 }
  default_backend bk
frontend s
  bind 127.0.0.1:1 accept-proxy
  tcp-request session silent-drop if { src 10.9.9.9 }
  default_backend bk
frontend h
  bind 127.0.0.1:1
  tcp-request content silent-drop
  default_backend bk
frontend bd
  bind 127.0.0.1:1
  default_backend dropper
backend bk
  server s 127.0.0.1:${b.port}
backend dropper
  tcp-request content silent-drop
  server s 127.0.0.1:${b.port}
frontend t
  mode tcp
  option tcplog
  bind 127.0.0.1:1
  tcp-request inspect-delay 1s
  tcp-request content silent-drop if { req.len gt 3 }
  default_backend tb
backend tb
  mode tcp
  server s 127.0.0.1:${b.port}
`);
  cleanup.push(p.stop);
  const [c, s, h, bd, t] = p.ports as [number, number, number, number, number];
  // A connection dropped before it sent anything hears nothing at all.
  await dropped(c, "", "127.0.0.2");
  // One that sends at once meets the RST at once, as haproxy's client does.
  assert.deepEqual(await talk(c, get("/c"), "127.0.0.2"), { got: "", end: "ECONNRESET" });
  await nothingLogged(rx);
  assert.equal(p.rt.counters.denied, 2);
  assert.equal(p.rt.counters.deniedConnections, 0);
  await dropped(s, `PROXY TCP4 10.9.9.9 127.0.0.9 1234 80\r\n${get("/s")}`);
  assert.match(await rx.take(/Success/), /^10\.9\.9\.9:1234 \[[^\]]+\] s\/1: Success$/);
  assert.equal(p.rt.counters.deniedSessions, 0);
  await dropped(h, get("/h"));
  assert.match(
    await rx.take(/ h h\//),
    /^127\.0\.0\.1:\d+ \[[^\]]+\] h h\/<NOSRV> -1\/-1\/-1\/-1\/0 -1 0 - - PR-- 1\/1\/0\/0\/0 0\/0 "<BADREQ>"$/,
  );
  await dropped(bd, get("/bd"));
  assert.match(
    await rx.take(/bd/),
    / bd dropper\/<NOSRV> -1\/-1\/-1\/-1\/0 -1 0 - - PR-- .* "GET \/bd HTTP\/1\.1"$/,
  );
  await dropped(t, "hello");
  assert.match(
    await rx.take(/ t t\//),
    /^127\.0\.0\.1:\d+ \[[^\]]+\] t t\/<NOSRV> -1\/-1\/\d+ 0 PR 1\/1\/0\/0\/0 0\/0$/,
  );
  assert.equal(p.rt.counters.denied, 6);
  assert.equal(b.seen.length, 0);
});

test("a dropped client that stays quiet is reset after timeout client; past global maxconn of them, the oldest first; a stop resets the rest", async () => {
  const p = await startProxy(`
global
  maxconn 2
defaults
  mode http
  timeout client 400ms
  timeout connect 2s
  timeout server 5s
frontend f
  bind 127.0.0.1:1
  tcp-request connection silent-drop
  default_backend bk
frontend g
  bind 127.0.0.1:1
  timeout client 1h
  tcp-request connection silent-drop
  default_backend bk
backend bk
  server s 127.0.0.1:1
`);
  let stopped = false;
  cleanup.push(async () => {
    if (!stopped) await p.stop();
  });
  const [f, g] = p.ports as [number, number];
  const quiet = await connect(f);
  const start = Date.now();
  await ended(quiet);
  assert.equal(quiet.end, "ECONNRESET");
  assert.ok(Date.now() - start >= 350, `reset after ${Date.now() - start} ms`);
  // Held for an hour, two at most: a third makes room by resetting the first.
  const [a, b] = [await connect(g), await connect(g)];
  await sleep(QUIET_MS);
  assert.deepEqual([a.end, b.end], [undefined, undefined]);
  const c = await connect(g);
  await ended(a);
  assert.equal(a.end, "ECONNRESET");
  await sleep(100);
  assert.deepEqual([b.end, c.end], [undefined, undefined]);
  stopped = true;
  await p.stop();
  await Promise.all([ended(b), ended(c)]);
  assert.deepEqual([b.end, c.end], ["ECONNRESET", "ECONNRESET"]);
});

test("set-nice is kept with a warning and changes nothing; set-mark and set-tos are refused, saying why; silent-drop takes no argument", async () => {
  const b = await httpBackend("b");
  cleanup.push(b.close);
  const text = `${DEFAULTS}
frontend f
  bind 127.0.0.1:1
  tcp-request content set-nice 10
  http-request set-nice -1024 if { path /n }
  http-response set-nice 5
  default_backend bk
backend bk
  server s 127.0.0.1:${b.port}
`;
  const said = parseConfig([{ name: "t.cfg", text }], {}).diagnostics.map(
    (d) => `${d.level} ${d.where?.line}: ${d.message}`,
  );
  const ignored = (rule: string) =>
    `'${rule} set-nice' has no effect in sluice, which has no scheduler to weigh streams against one another; ignored.`;
  assert.deepEqual(said, [
    `warning 10: ${ignored("tcp-request content")}`,
    `warning 11: ${ignored("http-request")}`,
    `warning 12: ${ignored("http-response")}`,
  ]);
  const p = await startProxy(text);
  cleanup.push(p.stop);
  assert.match((await talk(p.port, served("/n"))).got, /^HTTP\/1\.1 200 /);

  const refused = (rule: string, option: string) =>
    `'${rule}' is not supported by sluice: Node.js cannot set ${option} on a socket, so the client's packets would leave without it.`;
  for (const rule of [
    "http-request",
    "http-response",
    "tcp-request connection",
    "tcp-request session",
    "tcp-request content",
  ]) {
    assert.deepEqual(alertsFor(`${rule} set-mark 0x10`), [refused(`${rule} set-mark`, "SO_MARK")]);
    assert.deepEqual(alertsFor(`${rule} set-tos 0x20 if TRUE`), [refused(`${rule} set-tos`, "IP_TOS")]);
  }
  // haproxy's words.
  assert.deepEqual(alertsFor("http-request silent-drop now"), [
    "'http-request silent-drop' expects either 'if' or 'unless' followed by a condition but found 'now'.",
  ]);
  assert.deepEqual(alertsFor("http-response silent-drop now"), [
    "'http-response silent-drop' expects either 'if' or 'unless' followed by a condition but found 'now'.",
  ]);
  assert.deepEqual(alertsFor("tcp-request connection silent-drop now"), [
    "'tcp-request connection silent-drop' only accepts 'if' or 'unless', in frontend 'f' (got 'now')",
  ]);
  assert.deepEqual(alertsFor("http-request set-nice"), [
    "error detected in frontend 'f' while parsing 'http-request set-nice' rule : expects exactly 1 argument (integer value).",
  ]);
  assert.deepEqual(alertsFor("tcp-request content set-nice"), ["expects exactly 1 argument (integer value)"]);
  assert.match(
    alertsFor("tcp-request connection set-nice 1")[0]!,
    /^'tcp-request connection' expects .* \(got 'set-nice'\)\.\n$/,
  );
  assert.match(alertsFor("http-after-response silent-drop")[0]!, / but got 'silent-drop'\.$/);
});
