// option http-buffer-request: the body is waited for before the rules run and a server is chosen.
// Each expectation is what haproxy 2.6.12 did with the same configuration and the same bytes.
import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
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

/** Everything the server received, per connection, and when its first byte came. */
const received: { text: string; at: number }[] = [];
let serverPort = 0;
let rx: SyslogReceiver;

before(async () => {
  rx = await syslogReceiver();
  cleanup.push(rx.close);
  const srv = await rawServer((s) => {
    const got = { text: "", at: Date.now() };
    received.push(got);
    s.on("data", (d: Buffer) => {
      got.text += d.toString("latin1");
      if (/^GET [^]*\r\n\r\n$|\r\n\r\n[^]*(hello|0\r\n\r\n)$/.test(got.text))
        s.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    });
  });
  serverPort = srv.port;
  cleanup.push(srv.close);
});

async function proxy(where: "frontend" | "backend", timeouts = "timeout http-request 400ms"): Promise<Proxy> {
  const p = await startProxy(`${loggedDefaults(rx, `  ${timeouts}`)}
frontend fe
  bind 127.0.0.1:1
  http-request set-header X-Fe 1
${where === "frontend" ? "  option http-buffer-request\n" : ""}  default_backend bk
backend bk
${where === "backend" ? "  option http-buffer-request\n" : ""}  http-request deny if { path /d }
  server s 127.0.0.1:${serverPort}
`);
  cleanup.push(p.stop);
  return p;
}

const POST = (path = "/", extra = "") =>
  `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n${extra}\r\n`;

test("the server gets nothing before the whole body is in, then head and body; TR counts the wait", async () => {
  const p = await proxy("frontend", "timeout http-request 2s");
  received.length = 0;
  const c = new Client(p.port);
  c.send(POST() + "he");
  await sleep(300);
  assert.equal(received.length, 0, "no connection to the server yet");
  c.send("llo");
  const res = await c.response();
  c.close();
  assert.equal(res.status, 200);
  assert.equal(received[0]!.text, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nX-Fe: 1\r\n\r\nhello");
  const line = await rx.take(/"POST \/ HTTP\/1\.1"/);
  const TR = Number(/ (\d+)\/\d+\/\d+\/\d+\/\d+ 200 /.exec(line)?.[1]);
  // The proxy's clock starts when the head reaches it, which a busy machine may delay after the send:
  // a TR of 200 or more can only come from counting the 300 ms the body took.
  assert.ok(TR >= 200, `TR ${TR} counts the wait: ${line}`);
});

test("a 1.1 client expecting 100-continue gets it from the proxy; the server sees no Expect", async () => {
  const p = await proxy("frontend");
  received.length = 0;
  const c = new Client(p.port);
  c.send(POST("/", "Expect: 100-continue\r\n"));
  assert.equal(await c.until((t) => t.length >= 25), "HTTP/1.1 100 Continue\r\n\r\n");
  c.take();
  c.send("hello");
  assert.equal((await c.response()).status, 200);
  c.close();
  assert.equal(received[0]!.text, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nX-Fe: 1\r\n\r\nhello");
});

test("100-continue as haproxy 2.6 reads it: the first value of Expect, answered even with the body in", async () => {
  const p = await proxy("frontend");
  received.length = 0;
  const c = new Client(p.port);
  c.send(POST("/", "Expect: 100-continue, x\r\n"));
  assert.equal(await c.until((t) => t.length >= 25), "HTTP/1.1 100 Continue\r\n\r\n");
  c.take();
  c.send("hello");
  assert.equal((await c.response()).status, 200);
  // Only the value answered goes.
  assert.equal(
    received[0]!.text,
    "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: x\r\nX-Fe: 1\r\n\r\nhello",
  );
  c.close();
  const c2 = new Client(p.port);
  c2.send(POST("/", "Expect: 100-continue\r\n") + "hello");
  const both = await c2.until((t) => t.endsWith("\r\n\r\nok"));
  assert.equal(both, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
  c2.close();
  assert.equal(received[1]!.text, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nX-Fe: 1\r\n\r\nhello");
  // Without a body there is nothing to wait for: no 100, and the server sees the Expect.
  const c3 = new Client(p.port);
  c3.send("GET / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n\r\n");
  assert.match(await c3.until((t) => t.endsWith("\r\n\r\nok")), /^HTTP\/1\.1 200 /);
  c3.close();
  assert.equal(received[2]!.text, "GET / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nX-Fe: 1\r\n\r\n");
});

test("a body that does not come in time: 408, logged with its request line, cR-- and no TR", async () => {
  const p = await proxy("frontend");
  received.length = 0;
  const c = new Client(p.port);
  const t0 = Date.now();
  c.send(POST("/slow") + "he");
  const text = await c.until((t) => t.includes("</html>"), 3000);
  assert.match(text, /^HTTP\/1\.1 408 /);
  assert.ok(Date.now() - t0 >= 350, "timeout http-request");
  await waitFor(() => c.closed, 1000, "close");
  assert.equal(received.length, 0);
  const line = await rx.take(/"POST \/slow HTTP\/1\.1"/);
  assert.match(line, / fe fe\/<NOSRV> -1\/-1\/-1\/-1\/\d+ 408 \d+ - - cR-- /);
});

test("a client that ends its side mid-body: no server connection, logged with the backend, CR--", async () => {
  const p = await proxy("frontend");
  received.length = 0;
  const s = net.connect(p.port, "127.0.0.1");
  s.on("error", () => undefined);
  s.write(POST("/cut") + "he");
  await sleep(50);
  s.end();
  await waitFor(() => s.destroyed || s.readableEnded, 2000, "the proxy's FIN");
  s.destroy();
  const line = await rx.take(/"POST \/cut HTTP\/1\.1"/);
  assert.match(line, / fe bk\/<NOSRV> \d+\/-1\/-1\/-1\/\d+ -1 0 - - CR-- /);
  assert.equal(received.length, 0);
});

test("in a backend, the wait comes after the frontend's rules and before the backend's", async () => {
  const p = await proxy("backend");
  received.length = 0;
  const c = new Client(p.port);
  c.send(POST("/", "Expect: 100-continue\r\n"));
  assert.equal(await c.until((t) => t.length >= 25), "HTTP/1.1 100 Continue\r\n\r\n");
  c.take();
  c.send("hello");
  assert.equal((await c.response()).status, 200);
  // The frontend's edit survived the wait.
  assert.equal(received[0]!.text, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nX-Fe: 1\r\n\r\nhello");
  // The backend's deny waits for the body too.
  c.send(POST("/d") + "he");
  await sleep(100);
  assert.equal(c.take(), "");
  c.send("llo");
  assert.equal((await c.response()).status, 403);
  c.close();
  const line = await rx.take(/"POST \/d HTTP\/1\.1"/);
  assert.match(line, / fe bk\/<NOSRV> \d+\/-1\/-1\/-1\/\d+ 403 /);
});

test("a malformed chunk while waiting: 400, logged with the request line", async () => {
  const p = await proxy("frontend");
  received.length = 0;
  const c = new Client(p.port);
  c.send("POST /chunks HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhe");
  await sleep(50);
  c.send("lloX");
  assert.match(await c.until((t) => t.includes("</html>")), /^HTTP\/1\.1 400 /);
  c.close();
  assert.equal(received.length, 0);
  const line = await rx.take(/"POST \/chunks HTTP\/1\.1"/);
  assert.match(line, / -1\/-1\/-1\/-1\/\d+ 400 \d+ - - PR-- /);
});

test("without timeout http-request, the wait has timeout client, counted from the last byte", async () => {
  const p = await proxy("frontend", "timeout client 500ms");
  received.length = 0;
  const c = new Client(p.port);
  const t0 = Date.now();
  c.send(POST("/trickle"));
  for (const piece of ["h", "e", "l", "l"]) {
    await sleep(200);
    c.send(piece);
  }
  await sleep(200);
  c.send("o");
  assert.equal((await c.response()).status, 200);
  assert.ok(Date.now() - t0 >= 900, "longer in all than timeout client");
  c.close();
});

test("a client that ended its side before its body was awaited: no server connection, CR--", async () => {
  // Pipelined behind a GET, the POST's wait begins after the FIN came.
  const p = await proxy("frontend");
  received.length = 0;
  const s = net.connect(p.port, "127.0.0.1");
  s.on("error", () => undefined);
  s.end("GET /first HTTP/1.1\r\nHost: x\r\n\r\n" + POST("/late") + "he");
  const line = await rx.take(/"POST \/late HTTP\/1\.1"/, 2000);
  assert.match(line, / fe bk\/<NOSRV> \d+\/-1\/-1\/-1\/\d+ -1 0 - - CR-- /);
  s.destroy();
  assert.equal(received.length, 1, "only the GET reached the server");
});

test("another client's malformed chunk does not make a large awaited body look malformed", async () => {
  const p = await proxy("frontend");
  received.length = 0;
  const a = new Client(p.port);
  a.send("POST /big HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5000\r\n");
  await sleep(50);
  const b = new Client(p.port);
  b.send("POST /bad HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n");
  assert.match(await b.until((t) => t.includes("</html>")), /^HTTP\/1\.1 400 /);
  b.close();
  // A buffer's worth of A's body ends the wait: its head and that much go to the server.
  a.send("d".repeat(16000));
  await waitFor(() => received.length === 1 && received[0]!.text.length > 16000, 2000, "A at the server");
  a.send("d".repeat(0x5000 - 16000) + "\r\n0\r\n\r\n");
  assert.equal((await a.response()).status, 200);
  a.close();
});

test("http-request wait-for-body: the rules after it see the body (or `at-least` of it); one deadline for the list, then 408", async () => {
  const p = await startProxy(`${loggedDefaults(rx)}
frontend wfb
  bind 127.0.0.1:1
  http-request set-var(txn.a) str(a)
  http-request wait-for-body time 300ms at-least 5 if { path /w5 } || { path /d }
  http-request return status 200 content-type text/plain lf-string "early=%[req.body_len]" if { path /w5 }
  http-request wait-for-body time 300ms if { path_beg /w } || { path /d }
  http-request return status 200 content-type text/plain lf-string "len=%[req.body_len] v=%[var(txn.a)]"
`);
  cleanup.push(p.stop);
  /** The answer's body, and the request's log line. */
  const ask = async (parts: (string | number)[]): Promise<[string, string]> => {
    const c = new Client(p.port);
    try {
      for (const part of parts)
        if (typeof part === "number") await sleep(part);
        else c.send(part);
      let r = await c.response(2000);
      if (r.status === 100) r = await c.response(2000);
      const body = r.body;
      return [body.startsWith("<html>") ? body.slice(0, 40) : body, await rx.take(/ wfb wfb\/<NOSRV> /)];
    } finally {
      c.close();
    }
  };
  const head = (path: string, extra = "") =>
    `POST ${path} HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n${extra}\r\n`;
  // The rules go on from the rule after the wait, once the whole body is in.
  assert.equal((await ask([`${head("/w")}12345`, 100, "67890"]))[0], "len=10 v=a");
  // A body not in before the rule's time: 408, logged cR-- (as haproxy does).
  let [body, line] = await ask([`${head("/w")}12345`]);
  assert.equal(body, "<html><body><h1>408 Request Time-out</h1");
  assert.match(line, / 408 \d+ - - cR-- /);
  // at-least: five bytes are enough to go on.
  assert.equal((await ask([`${head("/w5")}123`, 100, "45"]))[0], "early=5");
  // The list's second wait has what is left of the first one's time: haproxy sets the deadline once
  // (its 408 after 300 ms, where a fresh 300 ms would have given some 400).
  [body, line] = await ask([`${head("/d")}123`, 100, "45"]);
  assert.equal(body, "<html><body><h1>408 Request Time-out</h1");
  const tt = Number(/ -1\/-1\/-1\/-1\/(\d+) 408 /.exec(line)?.[1]);
  assert.ok(tt >= 290 && tt < 380, line);
  // 100-continue, as with option http-buffer-request; a request without a body does not wait.
  assert.equal((await ask([head("/w", "Expect: 100-continue\r\n"), 100, "1234567890"]))[0], "len=10 v=a");
  assert.equal((await ask(["GET /w HTTP/1.1\r\nHost: h\r\n\r\n"]))[0], "len=0 v=a");
});
