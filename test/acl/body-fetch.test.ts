// The request body's fetches (req.body, req.body_len, req.body_size, req.body_param) and how much of
// a body haproxy's buffer holds: each value, and whether an answer keeps the connection, is what
// haproxy 2.6.12 gave for the same configuration and requests.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { Client, startProxy, type Proxy } from "../helpers/harness.js";

let p: Proxy;
let q: Proxy;
const cleanup: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

const HEAD = `defaults
  mode http
  timeout client 3s
  timeout server 1s
  timeout connect 1s
`;

before(async () => {
  p = await startProxy(`${HEAD}frontend f
  bind 127.0.0.1:1
  option http-buffer-request
  http-request return status 200 content-type text/plain lf-string "len=%[req.body_len] size=%[req.body_size] p=[%[req.body_param(a)]] p0=[%[req.body_param]] h=[%[req.body,bytes(0,20)]]" if { path /f }
  http-request return status 200 content-type text/plain lf-string "m=1" if { req.body_param(x) -m str 2 }
  http-request return status 200 content-type text/plain lf-string "s=1" if { req.body -m sub hello }
  http-request return status 200 content-type text/plain lf-string "none"
`);
  cleanup.push(p.stop);
  // No waiting for the body: rules see what came with the head, and answer before the rest.
  q = await startProxy(`${HEAD}frontend f
  bind 127.0.0.1:1
  http-request return status 200 content-type text/plain lf-string "ok"
`);
  cleanup.push(q.stop);
});

/** The answer's body, and whether the connection is kept (no Connection: close). */
async function ask(port: number, req: string): Promise<string> {
  const c = new Client(port);
  try {
    c.send(Buffer.from(req, "latin1"));
    const r = await c.response();
    return `${r.body}${/\r\nconnection: close/i.test(r.head) ? " [close]" : ""}`;
  } finally {
    c.close();
  }
}

const post = (headers: string, body: string): string =>
  `POST /f HTTP/1.1\r\nHost: h\r\n${headers}\r\n\r\n${body}`;
const chunks = (n: number, k: number): string =>
  `${`${n.toString(16)}\r\n${"y".repeat(n)}\r\n`.repeat(k)}0\r\n\r\n`;
const x = (n: number): string => "x".repeat(n);

test("req.body, its length, its announced size and its parameters, as haproxy reads them", async () => {
  const cases: [string, string][] = [
    [post("Content-Length: 11", "a=1&b=2;c=3"), "len=11 size=11 p=[1] p0=[1] h=[a=1&b=2;c=3]"],
    // The chunks' payload, without extensions or trailers.
    [
      post("Transfer-Encoding: chunked", "3\r\na=1\r\n4;ext=1\r\n&a=2\r\n0\r\nX-T: 1\r\n\r\n"),
      "len=7 size=7 p=[1] p0=[1] h=[a=1&a=2]",
    ],
    ["GET /f HTTP/1.1\r\nHost: h\r\n\r\n", "len=0 size=0 p=[] p0=[] h=[]"],
    // Bytes: as text, the body ends at its first NUL.
    [post("Content-Length: 7", "x\0hello"), "len=7 size=7 p=[] p0=[] h=[x]"],
    // The buffer holds some 15 KB past the head; the size is what the framing announces: the
    // Content-Length, or the rest of the chunk the buffer ends in (or of the one starting there).
    [post("Content-Length: 20000", x(20000)), `len=15213 size=20000 p=[] p0=[] h=[${x(20)}] [close]`],
    [
      post("X-A: 1234567890\r\nContent-Length: 20000", x(20000)),
      `len=15192 size=20000 p=[] p0=[] h=[${x(20)}] [close]`,
    ],
    // A Connection line haproxy's parser empties takes no room; one it shortens, what is left.
    [
      post("Connection: keep-alive\r\nContent-Length: 20000", x(20000)),
      `len=15213 size=20000 p=[] p0=[] h=[${x(20)}] [close]`,
    ],
    [
      post("Connection: keep-alive, foo\r\nContent-Length: 20000", x(20000)),
      `len=15192 size=20000 p=[] p0=[] h=[${x(20)}] [close]`,
    ],
    [
      post("Transfer-Encoding: chunked", `4e20\r\n${x(20000)}\r\n0\r\n\r\n`),
      `len=15200 size=20000 p=[] p0=[] h=[${x(20)}] [close]`,
    ],
    [
      post("Transfer-Encoding: chunked", chunks(1000, 20)),
      `len=15200 size=16000 p=[] p0=[] h=[${"y".repeat(20)}] [close]`,
    ],
    [
      post("Transfer-Encoding: chunked", chunks(100, 200)),
      `len=15200 size=15300 p=[] p0=[] h=[${"y".repeat(20)}] [close]`,
    ],
    // In an ACL: each parameter is tried; the body is binary, matched as the ACL says.
    ["POST /z HTTP/1.1\r\nHost: h\r\nContent-Length: 7\r\n\r\nx=1&x=2", "m=1"],
    ["POST /z HTTP/1.1\r\nHost: h\r\nContent-Length: 9\r\n\r\nsayhello!", "s=1"],
  ];
  for (const [req, want] of cases) assert.equal(await ask(p.port, req), want, req.slice(0, 80));
});

test("an answer before the body keeps the connection only if haproxy's buffer held all of it", async () => {
  const cases: [string, string][] = [
    [post("Content-Length: 15213", x(15213)), "ok"],
    [post("Content-Length: 15214", x(15214)), "ok [close]"],
    [post("Transfer-Encoding: chunked", chunks(15199, 1)), "ok"],
    // A chunked body's end takes room too: one filling the buffer is not finished there.
    [post("Transfer-Encoding: chunked", chunks(15200, 1)), "ok [close]"],
    [post("Transfer-Encoding: chunked", chunks(100, 152)), "ok [close]"],
    [post("Transfer-Encoding: chunked", chunks(1000, 15)), "ok"],
    [post("Connection: keep-alive\r\nContent-Length: 15213", x(15213)), "ok"],
    // The request as sent, head and chunk framing, must fit in a buffer's worth too (15360 bytes).
    [post("Transfer-Encoding: chunked", chunks(100, 140)), "ok"],
    [post("Transfer-Encoding: chunked", chunks(100, 145)), "ok [close]"],
    [post("Transfer-Encoding: chunked", chunks(10, 900)), "ok"],
    [post("Transfer-Encoding: chunked", chunks(10, 1020)), "ok [close]"],
    [post("Transfer-Encoding: chunked", chunks(1, 5000)), "ok [close]"],
  ];
  for (const [req, want] of cases) assert.equal(await ask(q.port, req), want, req.slice(0, 80));
});
