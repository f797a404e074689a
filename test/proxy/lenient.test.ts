// haproxy 2.6's relaxations of the HTTP/1 grammar, each one side by side with its default:
// option accept-invalid-http-request / -response, h1-accept-payload-with-any-method, and the
// versions heads may carry (docs/haproxy-behaviour.md §65).
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { startProxy, exchange, rawServer, waitFor, Client, DEFAULTS } from "../helpers/harness.js";

const cleanup: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

/** A server that records the bytes it receives and answers each blank line with `response`. */
async function recorder(response: string) {
  const got: string[] = [];
  const srv = await rawServer((s) => {
    let buf = "";
    s.on("data", (d: Buffer) => {
      buf += d.toString("latin1");
      got.push(buf);
      if (buf.includes("\r\n\r\n")) {
        s.write(response);
        buf = "";
      }
    });
  });
  cleanup.push(srv.close);
  return { port: srv.port, got };
}

async function proxy(text: string) {
  const p = await startProxy(text);
  cleanup.push(p.stop);
  return p;
}

const OK = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

/** The status of the first response to these bytes (latin1), on a connection of their own. */
async function statusOf(port: number, request: string): Promise<number> {
  const c = new Client(port);
  try {
    c.send(Buffer.from(request, "latin1"));
    return (await c.response(1500)).status;
  } finally {
    c.close();
  }
}

test("option accept-invalid-http-request lets through what haproxy 2.6 then accepts, and nothing more", async () => {
  const srv = await recorder(OK);
  // The defaults section enables it, a second frontend takes it back.
  const p = await proxy(`${DEFAULTS}
  option accept-invalid-http-request
frontend lax
  bind 127.0.0.1:1
  default_backend bk
frontend strict
  bind 127.0.0.1:1
  no option accept-invalid-http-request
  default_backend bk
backend bk
  server s 127.0.0.1:${srv.port}
`);
  const [lax, strict] = p.ports;
  const cases: [string, string, string][] = [
    // request, what the server gets, with the option
    [
      "GET / HTTP/1.1\r\nHost: a\r\nX(y) z: v\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: a\r\nX(y) z: v\r\n\r\n",
      "a name of any bytes",
    ],
    [
      "GET /a\xe9#f HTTP/1.1\r\nHost: a\r\n\r\n",
      "GET /a\xe9#f HTTP/1.1\r\nHost: a\r\n\r\n",
      "8-bit bytes and '#'",
    ],
    [
      "GET / RTSP/1.0\r\nHost: a\r\n\r\n",
      "GET / RTSP/1.0\r\nHost: a\r\nConnection: keep-alive\r\n\r\n",
      "another protocol, as 1.0",
    ],
    [
      "GET / HTTP/12.0\r\nHost: a\r\n\r\n",
      "GET / HTTP/12.0\r\nHost: a\r\nConnection: keep-alive\r\n\r\n",
      "two digits: 1.0",
    ],
    ["GET / HTTP/A.B\r\nHost: a\r\n\r\n", "GET / HTTP/1.1\r\nHost: a\r\n\r\n", "8 bytes above 1.1"],
    [
      "GET /\r\nHost: a\r\n\r\n",
      "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
      "HTTP/0.9: the line alone",
    ],
  ];
  for (const [request, forwarded, what] of cases) {
    srv.got.length = 0;
    assert.equal(await statusOf(lax!, request), 200, what);
    assert.equal(srv.got.at(-1), forwarded, what);
    srv.got.length = 0;
    assert.equal(await statusOf(strict!, request), 400, `${what}, without the option`);
    assert.deepEqual(srv.got, [], what);
  }
  // A rule's rewrite is read back as leniently as the request was received.
  const rewritten = await proxy(`${DEFAULTS}
frontend f
  bind 127.0.0.1:1
  option accept-invalid-http-request
  http-request set-header X-Added 1
  default_backend bk
backend bk
  server s 127.0.0.1:${srv.port}
`);
  assert.equal(await statusOf(rewritten.port, "GET / RTSP/1.0\r\nHost: a\r\nX(y): v\r\n\r\n"), 200);
  assert.equal(
    srv.got.at(-1),
    "GET / RTSP/1.0\r\nHost: a\r\nX(y): v\r\nX-Added: 1\r\nConnection: keep-alive\r\n\r\n",
  );
  // Still refused with the option: an empty name, a version of lower-case letters, a bad method,
  // HTTP/0.9 with another method than GET.
  for (const bad of [
    "POST /x\r\n",
    "HEAD /x\r\n",
    "GET / HTTP/1.1\r\nHost: a\r\n: v\r\n\r\n",
    "GET / http/1.1\r\nHost: a\r\n\r\n",
    "GET / HTTP/1.1x\r\nHost: a\r\n\r\n",
    "G@T / HTTP/1.1\r\nHost: a\r\n\r\n",
  ])
    assert.equal(await statusOf(lax!, bad), 400, JSON.stringify(bad));
});

test("option accept-invalid-http-response takes any header name and version from a server", async () => {
  const responses = [
    "HTTP/1.1 200 OK\r\nX(y) z: v\r\nContent-Length: 2\r\n\r\nok",
    "HTTP/1.10 200 OK\r\nContent-Length: 2\r\n\r\nok",
  ];
  for (const response of responses) {
    const srv = await recorder(response);
    const p = await proxy(`${DEFAULTS}
frontend f
  bind 127.0.0.1:1
  use_backend lax if { path /lax }
  default_backend strict
backend lax
  option accept-invalid-http-response
  server s 127.0.0.1:${srv.port}
backend strict
  server s 127.0.0.1:${srv.port}
`);
    const lax = await exchange(p.port, "GET /lax HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", 1500);
    assert.equal(lax.slice(0, lax.indexOf("\r\n")), response.slice(0, response.indexOf("\r\n")));
    assert.match(lax, /\r\n\r\nok$/);
    const strict = await exchange(p.port, "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", 1500);
    assert.match(strict, /^HTTP\/1\.1 502 /, JSON.stringify(response));
  }
});

test("a response may name another protocol than HTTP; what counts as 1.1 leaves as HTTP/1.1, the rest as it came", async () => {
  const cases: [string, string][] = [
    ["RTSP/1.0", "RTSP/1.0"],
    ["ABCD/1.1", "HTTP/1.1"],
    ["HTTP/0.9", "HTTP/0.9"],
  ];
  for (const [version, leaves] of cases) {
    const srv = await recorder(`${version} 200 OK\r\nContent-Length: 2\r\n\r\nok`);
    const p = await proxy(`${DEFAULTS}
frontend f
  bind 127.0.0.1:1
  http-response set-header X-Ver %[res.ver]
  default_backend bk
backend bk
  server s 127.0.0.1:${srv.port}
`);
    const answer = await exchange(p.port, "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", 1500);
    assert.match(answer, new RegExp(`^${leaves} 200 OK\\r\\n`), version);
    assert.match(answer, new RegExp(`\\r\\nX-Ver: ${version.slice(5)}\\r\\n`), version);
  }
});

test("req.ver is what the client wrote after the version's slash; capture.req.ver says HTTP/1.0 or HTTP/1.1", async () => {
  const srv = await recorder(OK);
  const p = await proxy(`${DEFAULTS}
frontend f
  bind 127.0.0.1:1
  option accept-invalid-http-request
  http-request return status 200 content-type text/plain lf-string "%[req.ver] %[capture.req.ver]"
  default_backend bk
backend bk
  server s 127.0.0.1:${srv.port}
`);
  const answer = await exchange(p.port, "GET / HTTP/2.0\r\nHost: a\r\nConnection: close\r\n\r\n", 1500);
  assert.match(answer, /\r\n\r\n2\.0 HTTP\/1\.1$/);
  // A protocol name of another length (haproxy 2.6.12 answers the same).
  const other = await exchange(p.port, "GET / AB/1.0\r\nHost: a\r\n\r\n", 1500);
  assert.match(other, /\r\n\r\n1\.0 HTTP\/1\.0$/);
});

test("h1-accept-payload-with-any-method: an HTTP/1.0 GET with a body is forwarded instead of a 413", async () => {
  const srv = await recorder(OK);
  const config = (global: string) => `
global
${global}
${DEFAULTS}
frontend f
  bind 127.0.0.1:1
  default_backend bk
backend bk
  server s 127.0.0.1:${srv.port}
`;
  const request = "GET / HTTP/1.0\r\nContent-Length: 3\r\n\r\nabc";
  const strict = await proxy(config(""));
  assert.match(await exchange(strict.port, request, 1500), /^HTTP\/1\.1 413 /);
  assert.deepEqual(srv.got, []);
  const lax = await proxy(config("  h1-accept-payload-with-any-method"));
  assert.match(await exchange(lax.port, request, 1500), /^HTTP\/1\.1 200 OK\r\n/);
  await waitFor(() => srv.got.at(-1)?.endsWith("\r\n\r\nabc") === true, 1500, "the body");
});
