// Rules that delete, change or add Content-Length and Transfer-Encoding: the body leaves framed as
// the head that leaves says, as haproxy 2.6.12's HTTP/1 layer sends it (each expected byte string was
// recorded from haproxy with the same configuration; its header names in lower case).
import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import {
  startProxy,
  rawServer,
  exchange,
  Client,
  syslogReceiver,
  loggedDefaults,
  waitFor,
  type Proxy,
  type SyslogReceiver,
} from "../helpers/harness.js";

const cleanup: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

/** What each server connection received, in order of connection; which ones have closed. */
const received: string[] = [];
const ended = new Set<number>();
/** The response the server gives to a request whose path is its key; 200 "ok" by default. */
const answers: Record<string, { data: string; close?: boolean }> = {
  "/dte": {
    data: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\no\r\n2\r\nkk\r\n0\r\nX-Tr: 1\r\n\r\n",
  },
  "/dte-cl": {
    data: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\no\r\n2\r\nkk\r\n0\r\nX-Tr: 1\r\n\r\n",
  },
  "/dcl": { data: "HTTP/1.1 200 OK\r\nContent-Length: 26\r\n\r\nabcdefghijklmnopqrstuvwxyz" },
  "/cl1": { data: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok" },
  "/ste-close": { data: "HTTP/1.1 200 OK\r\n\r\nabc", close: true },
};

let rx: SyslogReceiver;
let p: Proxy;

before(async () => {
  // A server that reads each request's body by its framing, then answers.
  const srv = await rawServer((s) => {
    const id = received.push("") - 1;
    s.on("close", () => ended.add(id));
    let buf = "";
    s.on("data", (d: Buffer) => {
      received[id] += d.toString("latin1");
      buf += d.toString("latin1");
      for (;;) {
        const end = buf.indexOf("\r\n\r\n");
        if (end < 0) return;
        const head = buf.slice(0, end + 4);
        let rest = buf.slice(end + 4);
        const cl = /\r\ncontent-length: *(\d+)/i.exec(head);
        if (/\r\ntransfer-encoding: *chunked/i.test(head)) {
          const last = /(^|\r\n)0\r\n(?:[^\r\n]+\r\n)*\r\n/.exec(rest);
          if (!last) return;
          rest = rest.slice(last.index + last[0].length);
        } else if (cl) {
          if (rest.length < Number(cl[1])) return;
          rest = rest.slice(Number(cl[1]));
        }
        buf = rest;
        const a = answers[head.split(" ")[1]!] ?? { data: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok" };
        if (a.close) s.end(a.data);
        else s.write(a.data);
      }
    });
  });
  cleanup.push(srv.close);
  rx = await syslogReceiver();
  cleanup.push(rx.close);
  p = await startProxy(`${loggedDefaults(rx)}
frontend f
  bind 127.0.0.1:1
  http-request del-header Content-Length if { hdr(x-t) dcl }
  http-request set-header Content-Length 1 if { hdr(x-t) cl1 }
  http-request set-header Content-Length 5 if { hdr(x-t) cl5 }
  http-request set-header Content-Length 3 if { hdr(x-t) dte-cl }
  http-request del-header Transfer-Encoding if { hdr(x-t) dte dte-cl }
  http-request set-header Transfer-Encoding chunked if { hdr(x-t) ste }
  http-request set-header Content-Length abc if { hdr(x-t) bad }
  http-request deny if { path /deny }
  http-after-response add-header Content-Length 99 if { capture.req.uri /deny }
  http-response add-header Content-Length 7 if { capture.req.uri /add7 }
  http-response set-header Transfer-Encoding chunked if { capture.req.uri /head-te }
  http-request return status 200 content-type text/plain string hello if { path_beg /ret }
  http-after-response del-header Content-Length if { capture.req.uri /ret-dcl }
  http-after-response set-header Content-Length 2 if { capture.req.uri /ret-cl2 }
  http-after-response set-header Transfer-Encoding chunked if { capture.req.uri /ret-ste }
  http-request return status 304 if { path /r304 }
  http-after-response del-header Content-Length if { capture.req.uri /r304 }
  http-request deny if { path /deny-dcl }
  http-after-response set-status 200 if { capture.req.uri /deny-dcl }
  http-after-response del-header Content-Length if { capture.req.uri /deny-dcl }
  http-response del-header Content-Length if { capture.req.uri /dcl }
  http-response set-header Content-Length 1 if { capture.req.uri /cl1 }
  http-response set-header Content-Length 3 if { capture.req.uri /dte-cl }
  http-response del-header Transfer-Encoding if { capture.req.uri /dte /dte-cl }
  http-response set-header Transfer-Encoding chunked if { capture.req.uri /ste-close }
  default_backend b
backend b
  server s 127.0.0.1:${srv.port}
`);
  cleanup.push(p.stop);
});

/** Sends `req` on a new connection and waits until the server has received `sent` on a connection of its own. */
async function sends(req: string, sent: string): Promise<Client> {
  const c = new Client(p.port);
  const from = received.length;
  c.send(req);
  await waitFor(() => received.slice(from).some((r) => r.toLowerCase() === sent), 3000, JSON.stringify(sent));
  return c;
}

const OK = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

test("a request body whose length a rule deleted leaves chunked (sizes in upper case), and one whose chunked coding a rule deleted gets it back, trailers kept", async () => {
  const abc = "abcdefghijklmnopqrstuvwxyz";
  const a = await sends(
    `POST /a HTTP/1.1\r\nHost: h\r\nX-T: dcl\r\nContent-Length: 26\r\n\r\n${abc}`,
    `post /a http/1.1\r\nhost: h\r\nx-t: dcl\r\ntransfer-encoding: chunked\r\n\r\n1a\r\n${abc}\r\n0\r\n\r\n`,
  );
  assert.equal(await a.until((t) => t === OK), OK);
  assert.ok(received.at(-1)!.includes("\r\n1A\r\n"));
  a.close();
  const b = await sends(
    "POST /a HTTP/1.1\r\nHost: h\r\nX-T: dte\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\nX-Tr: 1\r\n\r\n",
    "post /a http/1.1\r\nhost: h\r\nx-t: dte\r\ntransfer-encoding: chunked\r\n\r\n2\r\nab\r\n0\r\nx-tr: 1\r\n\r\n",
  );
  // The connection goes on: the next request is answered on it.
  b.send("GET /b HTTP/1.1\r\nHost: h\r\n\r\n");
  assert.equal(await b.until((t) => t === OK + OK), OK + OK);
  b.close();
});

test("a chunked request body given a length loses its chunks and trailers; a length beside chunked closes the server's connection", async () => {
  const a = await sends(
    "POST /a HTTP/1.1\r\nHost: h\r\nX-T: dte-cl\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n1\r\nc\r\n0\r\nX-Tr: 1\r\n\r\n",
    "post /a http/1.1\r\nhost: h\r\nx-t: dte-cl\r\ncontent-length: 3\r\n\r\nabc",
  );
  a.close();
  const b = await sends(
    "POST /a HTTP/1.1\r\nHost: h\r\nX-T: ste\r\nContent-Length: 2\r\n\r\nab",
    "post /a http/1.1\r\nhost: h\r\nx-t: ste\r\ncontent-length: 2\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n2\r\nab\r\n0\r\n\r\n",
  );
  // That server connection ends after the response; the client's stays.
  const id = received.length - 1;
  assert.equal(await b.until((t) => t === OK), OK);
  await waitFor(() => ended.has(id), 3000, "the server connection's end");
  b.send("GET /b HTTP/1.1\r\nHost: h\r\n\r\n");
  assert.equal(await b.until((t) => t === OK + OK), OK + OK);
  b.close();
});

test("a request without a body keeps none: a length a rule gives it is left out, chunked coding sends the last chunk and closes", async () => {
  const a = await sends(
    "GET /a HTTP/1.1\r\nHost: h\r\nX-T: cl5\r\n\r\n",
    "get /a http/1.1\r\nhost: h\r\nx-t: cl5\r\n\r\n",
  );
  assert.equal(await a.until((t) => t === OK), OK);
  a.close();
  const b = await sends(
    "GET /a HTTP/1.1\r\nHost: h\r\nX-T: ste\r\n\r\n",
    "get /a http/1.1\r\nhost: h\r\nx-t: ste\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n0\r\n\r\n",
  );
  assert.equal(await b.until((t) => t === OK), OK);
  b.close();
});

test("a request body longer than the length a rule gave is a 500 logged IH: the server gets nothing of a body that came with the head, and the client's connection goes on", async () => {
  const before = received.length;
  const c = new Client(p.port);
  c.send("POST /over HTTP/1.1\r\nHost: h\r\nX-T: cl1\r\nContent-Length: 2\r\n\r\nab");
  const res = await c.response();
  assert.equal(res.status, 500);
  assert.match(await rx.take(/"POST \/over /), / 500 \d+ - - IH-- /);
  c.send("GET /b HTTP/1.1\r\nHost: h\r\n\r\n");
  assert.equal((await c.response()).status, 200);
  c.close();
  // A connection was made for the POST (a client's first request has one of its own): nothing
  // reached it, and it is closed.
  await waitFor(() => ended.has(before), 3000, "the server connection's end");
  assert.equal(received[before], "");
  // A body that comes after the head: the head has left, the body passing its length does not.
  const d = await sends(
    "POST /late HTTP/1.1\r\nHost: h\r\nX-T: cl1\r\nContent-Length: 2\r\n\r\n",
    "post /late http/1.1\r\nhost: h\r\nx-t: cl1\r\ncontent-length: 1\r\n\r\n",
  );
  const id = received.length - 1;
  d.send("ab");
  assert.equal((await d.response()).status, 500);
  assert.match(await rx.take(/"POST \/late /), / 500 \d+ - - IH-- /);
  await waitFor(() => ended.has(id), 3000, "the server connection's end");
  assert.equal(received[id], "POST /late HTTP/1.1\r\nHost: h\r\nX-T: cl1\r\nContent-Length: 1\r\n\r\n");
  d.close();
});

test("a response leaves as its head says: chunked when a rule deleted its length, its coding back when a rule deleted it, without chunks once given a length", async () => {
  const abc = "abcdefghijklmnopqrstuvwxyz";
  assert.equal(
    await exchange(p.port, "GET /dcl HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"),
    `HTTP/1.1 200 OK\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n1A\r\n${abc}\r\n0\r\n\r\n`,
  );
  const c = new Client(p.port);
  c.send("GET /dte HTTP/1.1\r\nHost: h\r\n\r\n");
  const dte =
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\no\r\n2\r\nkk\r\n0\r\nX-Tr: 1\r\n\r\n";
  assert.equal(await c.until((t) => t === dte), dte);
  c.take();
  c.send("GET /dte-cl HTTP/1.1\r\nHost: h\r\n\r\n");
  const res = await c.response();
  assert.deepEqual([res.head, res.body], ["HTTP/1.1 200 OK\r\nContent-Length: 3", "okk"]);
  c.close();
});

test("a response longer than the length a rule gave closes the client's connection with nothing sent (CD); chunked coding a rule gives a response read until the close ends with its last chunk", async () => {
  const s = net.connect(p.port, "127.0.0.1");
  let got = "";
  s.on("data", (d: Buffer) => (got += d.toString("latin1")));
  s.write("GET /cl1 HTTP/1.1\r\nHost: h\r\n\r\n");
  await new Promise((r) => s.on("close", r));
  assert.equal(got, "");
  assert.match(await rx.take(/"GET \/cl1 /), / 200 \d+ - - CD-- /);
  assert.equal(
    await exchange(p.port, "GET /ste-close HTTP/1.1\r\nHost: h\r\n\r\n"),
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
  );
});

test("a Content-Length line that is invalid, or that contradicts the first valid one, is left out of the head that leaves", async () => {
  // Without a valid length, the body leaves chunked.
  const a = await sends(
    "POST /a HTTP/1.1\r\nHost: h\r\nX-T: bad\r\nContent-Length: 2\r\n\r\nab",
    "post /a http/1.1\r\nhost: h\r\nx-t: bad\r\ntransfer-encoding: chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n",
  );
  assert.equal(await a.until((t) => t === OK), OK);
  a.close();
  const c = new Client(p.port);
  c.send("GET /add7 HTTP/1.1\r\nHost: h\r\n\r\n");
  assert.equal(await c.until((t) => t === OK), OK);
  c.take();
  // The proxy's own answers too.
  c.send("GET /deny HTTP/1.1\r\nHost: h\r\n\r\n");
  const denied = await c.response();
  assert.equal(denied.status, 403);
  assert.equal(denied.head.match(/content-length/gi)?.length, 1);
  c.close();
});

test("HTTP/1.0 has no chunks: a 1.0 request that says it is chunked closes both connections after its response (RFC 9112 6.1), as does a HEAD's response given both a length and chunks", async () => {
  const c = await sends(
    "POST /a HTTP/1.0\r\nHost: h\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n",
    "post /a http/1.0\r\nhost: h\r\ntransfer-encoding: chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n",
  );
  const id = received.length - 1;
  const closing = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
  assert.equal(await c.until((t) => t === closing && c.closed), closing);
  await waitFor(() => ended.has(id), 3000, "the server connection's end");
  const head = await exchange(
    p.port,
    "HEAD /head-te HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n",
  );
  assert.equal(
    head,
    "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
  );
});

test("the proxy's own answers leave as the head that http-after-response rules made says, as a server's", async () => {
  const c = new Client(p.port);
  c.send("GET /ret-dcl HTTP/1.1\r\nHost: h\r\n\r\n");
  const chunked =
    "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n";
  assert.equal(await c.until((t) => t === chunked), chunked);
  c.close();
  assert.equal(
    await exchange(p.port, "GET /ret-ste HTTP/1.1\r\nHost: h\r\n\r\n"),
    "HTTP/1.1 200 OK\r\ncontent-length: 5\r\ncontent-type: text/plain\r\nTransfer-Encoding: chunked\r\nconnection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
  );
  // Longer than the length given: nothing, and the connection closes.
  assert.equal(await exchange(p.port, "GET /ret-cl2 HTTP/1.1\r\nHost: h\r\n\r\n"), "");
  // A 1.0 client that asked for keep-alive is told close, once.
  assert.equal(
    await exchange(p.port, "GET /ret-ste HTTP/1.0\r\nHost: h\r\nConnection: keep-alive\r\n\r\n"),
    "HTTP/1.1 200 OK\r\ncontent-length: 5\r\ncontent-type: text/plain\r\nTransfer-Encoding: chunked\r\nconnection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
  );
  // A 304 has no body whatever its head says; a page given another status keeps its body, chunked.
  const d = new Client(p.port);
  d.send("GET /r304 HTTP/1.1\r\nHost: h\r\n\r\nGET /deny-dcl HTTP/1.1\r\nHost: h\r\n\r\n");
  const page = await d.until((t) => t.endsWith("\r\n0\r\n\r\n"));
  assert.ok(page.startsWith("HTTP/1.1 304 Not Modified\r\n\r\nHTTP/1.1 200 OK\r\n"), page);
  assert.match(
    page,
    /\r\nTransfer-Encoding: chunked\r\n\r\n[0-9A-F]+\r\n<html><body><h1>403 Forbidden<\/h1>/,
  );
  d.close();
});
