import { test, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { randomBytes, createHash } from "node:crypto";
import {
  startProxy,
  httpBackend,
  Client,
  exchange,
  headServer,
  closedPort,
  rawServer,
  recordEnd,
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

async function backends(...names: string[]): Promise<Backend[]> {
  const bs = await Promise.all(names.map((n) => httpBackend(n)));
  for (const b of bs) cleanup.push(b.close);
  return bs;
}

async function proxy(text: string) {
  const p = await startProxy(text);
  cleanup.push(p.stop);
  return p;
}

function get(port: number, path = "/", headers: Record<string, string> = {}, agent?: http.Agent) {
  return new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>(
    (resolve, reject) => {
      const req = http.get({ host: "127.0.0.1", port, path, headers, agent: agent ?? false }, (res) => {
        let body = "";
        res.setEncoding("latin1");
        res.on("data", (d: string) => (body += d));
        res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body }));
      });
      req.on("error", reject);
      req.setTimeout(3000, () => req.destroy(new Error("timeout")));
    },
  );
}

test("roundrobin honours weights in haproxy's order; weight 0 and disabled servers get nothing", async () => {
  const [a, b, c, d] = await backends("a", "b", "c", "d");
  const p = await proxy(`${DEFAULTS}
${FRONTEND}  balance roundrobin
  server a 127.0.0.1:${a!.port} weight 1
  server b 127.0.0.1:${b!.port} weight 3
  server c 127.0.0.1:${c!.port} weight 0
  server d 127.0.0.1:${d!.port} disabled
`);
  const order: string[] = [];
  for (let i = 0; i < 8; i++) order.push((await get(p.port)).body);
  // haproxy 2.6 gives b b b a: the heavier server's turns first in each round.
  assert.equal(order.join(""), "bbbabbba");
  assert.equal(c!.seen.length + d!.seen.length, 0);
});

test("http-server-close: one server connection per request, client kept alive", async () => {
  const [a] = await backends("a");
  const p = await proxy(`${DEFAULTS}
  option http-server-close
${FRONTEND}  server a 127.0.0.1:${a!.port}
`);
  const c = new Client(p.port);
  for (let i = 0; i < 3; i++) {
    c.send(`GET /${i} HTTP/1.1\r\nHost: x\r\n\r\n`);
    const r = await c.response();
    assert.equal(r.status, 200);
    assert.equal(r.body, "a");
    assert.doesNotMatch(r.head, /connection: close/i);
  }
  c.close();
  assert.equal(a!.connections, 3);
  // The server was asked to close each time.
  for (const s of a!.seen)
    assert.ok(
      s.headers.some((h, i) => i % 2 === 0 && /^connection$/i.test(h) && /close/i.test(s.headers[i + 1]!)),
    );
});

/** A raw server answering each head as `answer` does, behind an http-server-close proxy; how each connection to it ended. */
async function serverCloseTo(answer: (s: import("node:net").Socket) => void) {
  const ends: string[] = [];
  const watched = new WeakSet<object>();
  const srv = await headServer((_head, s) => {
    if (!watched.has(s)) {
      watched.add(s);
      recordEnd(s, ends);
    }
    answer(s);
  });
  cleanup.push(srv.close);
  const p = await proxy(`${DEFAULTS}
  option http-server-close
${FRONTEND}  server a 127.0.0.1:${srv.port}
`);
  return { port: p.port, ends };
}

test("http-server-close ends each server connection with an RST, like haproxy (no TIME_WAIT on the proxy)", async () => {
  // A keep-alive answer: the server would keep its side open; the proxy is the one to close.
  const { port, ends } = await serverCloseTo((s) =>
    s.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"),
  );
  const c = new Client(port);
  for (let i = 0; i < 3; i++) {
    c.send(`GET /${i} HTTP/1.1\r\nHost: x\r\n\r\n`);
    assert.equal((await c.response()).body, "ok");
  }
  await waitFor(() => ends.length === 3, 3000, "three server connections ended");
  c.close();
  assert.deepEqual(ends, ["ECONNRESET", "ECONNRESET", "ECONNRESET"]);
});

test("a server that closed first gets a FIN back: haproxy resets only connections whose FIN it has not read", async () => {
  // A body that ends with the connection, and the client's response with it.
  const { port, ends } = await serverCloseTo((s) => s.end("HTTP/1.1 200 OK\r\n\r\nuntil close"));
  assert.match(await exchange(port, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"), /\r\n\r\nuntil close$/);
  await waitFor(() => ends.length === 1, 3000, "the server connection ended");
  assert.deepEqual(ends, ["FIN"]);
});

test("keep-alive (default): the server connection is kept for the next request", async () => {
  const [a] = await backends("a");
  const p = await proxy(`${DEFAULTS}
${FRONTEND}  server a 127.0.0.1:${a!.port}
`);
  const c = new Client(p.port);
  for (let i = 0; i < 5; i++) {
    c.send(`GET /${i} HTTP/1.1\r\nHost: x\r\n\r\n`);
    assert.equal((await c.response()).status, 200);
  }
  c.close();
  assert.equal(a!.connections, 1);
  assert.equal(a!.seen.length, 5);
});

test("httpclose: both sides closed after the response", async () => {
  const [a] = await backends("a");
  const p = await proxy(`${DEFAULTS}
  option httpclose
${FRONTEND}  server a 127.0.0.1:${a!.port}
`);
  const text = await exchange(p.port, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  assert.match(text, /^HTTP\/1\.1 200/);
  assert.match(text, /\r\nConnection: close\r\n/i);
});

test("pipelined requests are answered in order", async () => {
  const [a] = await backends("a");
  const p = await proxy(`${DEFAULTS}
  option http-server-close
${FRONTEND}  server a 127.0.0.1:${a!.port}
`);
  const c = new Client(p.port);
  c.send(
    "GET /1 HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\n\r\nGET /3 HTTP/1.1\r\nHost: x\r\n\r\n",
  );
  for (let i = 0; i < 3; i++) assert.equal((await c.response()).status, 200);
  c.close();
  assert.deepEqual(
    a!.seen.map((s) => s.url),
    ["/1", "/2", "/3"],
  );
});

test("large and chunked bodies both ways arrive byte for byte", async () => {
  const payload = randomBytes(5 * 1024 * 1024);
  const digest = createHash("sha256").update(payload).digest("hex");
  const b = await httpBackend("echo", (_req, res, body) => {
    res.setHeader("X-Sha", createHash("sha256").update(body).digest("hex"));
    // Answer chunked: several writes without Content-Length.
    for (let i = 0; i < body.length; i += 256 * 1024) res.write(body.subarray(i, i + 256 * 1024));
    res.end();
  });
  cleanup.push(b.close);
  const p = await proxy(`${DEFAULTS}
${FRONTEND}  server a 127.0.0.1:${b.port}
`);
  for (const chunked of [false, true]) {
    const res = await new Promise<{ sha: string; got: string; te: string }>((resolve, reject) => {
      const req = http.request(
        {
          host: "127.0.0.1",
          port: p.port,
          method: "POST",
          path: "/",
          agent: false,
          headers: chunked ? {} : { "content-length": payload.length },
        },
        (r) => {
          const h = createHash("sha256");
          r.on("data", (d: Buffer) => h.update(d));
          r.on("end", () =>
            resolve({
              sha: String(r.headers["x-sha"]),
              got: h.digest("hex"),
              te: String(r.headers["transfer-encoding"]),
            }),
          );
        },
      );
      req.on("error", reject);
      for (let i = 0; i < payload.length; i += 100_000) req.write(payload.subarray(i, i + 100_000));
      req.end();
    });
    assert.equal(res.sha, digest, "the server received the body intact");
    assert.equal(res.got, digest, "the client received the body intact");
    assert.equal(res.te, "chunked");
  }
});

test("option forwardfor adds the client address; except and if-none are honoured", async () => {
  const [a] = await backends("a");
  const p = await proxy(`${DEFAULTS}
${FRONTEND}  option forwardfor
  server a 127.0.0.1:${a!.port}
`);
  await get(p.port);
  await get(p.port, "/", { "X-Forwarded-For": "1.2.3.4" });
  const xff = (i: number) =>
    a!.seen[i]!.headers.filter((_, j, h) => j % 2 === 1 && /^x-forwarded-for$/i.test(h[j - 1]!));
  assert.deepEqual(xff(0), ["127.0.0.1"]);
  assert.deepEqual(xff(1), ["1.2.3.4", "127.0.0.1"]);

  const [b] = await backends("b");
  const q = await proxy(`${DEFAULTS}
${FRONTEND}  option forwardfor header X-Client if-none
  server b 127.0.0.1:${b!.port}
`);
  await get(q.port);
  await get(q.port, "/", { "X-Client": "9.9.9.9" });
  const xc = (i: number) =>
    b!.seen[i]!.headers.filter((_, j, h) => j % 2 === 1 && /^x-client$/i.test(h[j - 1]!));
  assert.deepEqual(xc(0), ["127.0.0.1"]);
  assert.deepEqual(xc(1), ["9.9.9.9"]);

  const [c] = await backends("c");
  const r = await proxy(`${DEFAULTS}
${FRONTEND}  option forwardfor except 127.0.0.0/8
  server c 127.0.0.1:${c!.port}
`);
  await get(r.port);
  assert.ok(!c!.seen[0]!.headers.some((h) => /^x-forwarded-for$/i.test(h)));
});

test("option forwardfor in both frontend and backend combines as in haproxy 2.6", async () => {
  // Each row: the frontend's option, the backend's, the request's extra headers, and what the
  // server received from haproxy 2.6.12 (header name, lower-cased, and values).
  const rows: [string, string, Record<string, string>, string, string[]][] = [
    ["header X-A", "header X-B", {}, "x-b", ["127.0.0.1"]],
    ["header X-A", "", {}, "x-forwarded-for", ["127.0.0.1"]],
    ["", "except 127.0.0.1", {}, "x-forwarded-for", []],
    [
      "if-none",
      "header X-A",
      { "X-Forwarded-For": "1.1.1.1", "X-A": "9.9.9.9" },
      "x-a",
      ["9.9.9.9", "127.0.0.1"],
    ],
    ["if-none", "if-none", { "X-Forwarded-For": "1.1.1.1" }, "x-forwarded-for", ["1.1.1.1"]],
  ];
  for (const [fe, be, headers, name, want] of rows) {
    const [b] = await backends("b");
    const p = await proxy(`${DEFAULTS}
frontend f
  bind 127.0.0.1:1
  option forwardfor ${fe}
  default_backend bk
backend bk
  option forwardfor ${be}
  server b 127.0.0.1:${b!.port}
`);
    await get(p.port, "/", headers);
    const got = b!.seen[0]!.headers.filter((_, j, h) => j % 2 === 1 && h[j - 1]!.toLowerCase() === name);
    assert.deepEqual(got, want, `frontend "${fe}", backend "${be}"`);
  }
});

test("option originalto adds the address the client connected to, after X-Forwarded-For; the backend's name, either's except", async () => {
  // Each row: the frontend's option, the backend's (none: no option there), and the header lines
  // the server received from haproxy 2.6.12 (names lower-cased) past Host.
  const rows: [string, string | undefined, string[]][] = [
    ["", "", ["x-original-to: 127.0.0.1"]],
    ["header X-Dst", undefined, ["x-dst: 127.0.0.1"]],
    // The backend's option, even without a header of its own, names the header.
    ["header X-Dst", "", ["x-original-to: 127.0.0.1"]],
    ["header X-A", "header X-B", ["x-b: 127.0.0.1"]],
    ["", "except 127.0.0.0/8", []],
    ["except 10.0.0.0/8", "", ["x-original-to: 127.0.0.1"]],
  ];
  for (const [fe, be, want] of rows) {
    const [b] = await backends("b");
    const p = await proxy(`${DEFAULTS}
frontend f
  bind 127.0.0.1:1
  option originalto ${fe}
  option forwardfor
  default_backend bk
backend bk
  ${be === undefined ? "" : `option originalto ${be}`}
  server b 127.0.0.1:${b!.port}
`);
    await get(p.port);
    const h = b!.seen[0]!.headers;
    const lines: string[] = [];
    for (let i = 0; i < h.length; i += 2) lines.push(`${h[i]!.toLowerCase()}: ${h[i + 1]}`);
    assert.deepEqual(
      lines.filter((l) => !/^(host|connection):/.test(l)),
      ["x-forwarded-for: 127.0.0.1", ...want],
      `frontend "${fe}", backend "${be}"`,
    );
  }
});

test("http-send-name-header: the server that takes the request is named last in its head, the client's lines of that name gone", async () => {
  const heads: string[] = [];
  const srv = await headServer((head, s) => {
    heads.push(head);
    s.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
  });
  cleanup.push(srv.close);
  const dead = await closedPort();
  const p = await proxy(`${DEFAULTS}
frontend f
  bind 127.0.0.1:1
  default_backend bk
backend bk
  http-send-name-header X-Srv
  option redispatch
  retries 1
  server down 127.0.0.1:${dead}
  server alpha 127.0.0.1:${srv.port}
  server beta 127.0.0.1:${srv.port}
`);
  // Round robin starts with the server that refuses: the retry goes to alpha, which is named.
  const c = new Client(p.port);
  cleanup.push(async () => c.close());
  for (let i = 0; i < 3; i++) {
    c.send("GET / HTTP/1.1\r\nHost: x\r\nX-Srv: fake\r\nx-srv: fake2\r\n\r\n");
    await c.response();
  }
  // As haproxy 2.6.12 sent them (header names aside: it writes them in lower case).
  assert.deepEqual(
    heads.map((h) => h.split("\r\n").slice(1, -2)),
    [
      ["Host: x", "x-srv: alpha"],
      ["Host: x", "x-srv: beta"],
      ["Host: x", "x-srv: alpha"],
    ],
  );
});

test("header names keep the client's case; HEAD, 204 and 304 have no body", async () => {
  let seenRaw = "";
  const srv = await headServer((head, s) => {
    seenRaw = head;
    const path = head.split(" ")[1];
    if (path === "/204") s.write("HTTP/1.1 204 No Content\r\n\r\n");
    else if (path === "/304") s.write("HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n");
    else s.write("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n" + (head.startsWith("HEAD") ? "" : "hello"));
  });
  cleanup.push(srv.close);
  const p = await proxy(`${DEFAULTS}
${FRONTEND}  server a 127.0.0.1:${srv.port}
`);
  const c = new Client(p.port);
  c.send("HEAD / HTTP/1.1\r\nhOsT: x\r\nX-MiXeD: y\r\n\r\n");
  const h = await c.until((t) => t.includes("\r\n\r\n"));
  assert.match(h, /Content-Length: 5\r\n\r\n$/);
  assert.match(seenRaw, /\r\nhOsT: x\r\nX-MiXeD: y\r\n/);
  c.take();
  c.send(
    "GET /204 HTTP/1.1\r\nHost: x\r\n\r\nGET /304 HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n",
  );
  const all = await c.until((t) => t.endsWith("hello"));
  assert.equal((all.match(/HTTP\/1\.1 /g) ?? []).length, 3);
  c.close();
});

test("other versions leave as HTTP/1.1; a chunked response loses its Content-Length", async () => {
  const seen: string[] = [];
  const srv = await headServer((head, s) => {
    seen.push(head.slice(0, head.indexOf("\r\n")));
    s.write(
      "HTTP/1.2 200 OK\r\nContent-Length: 99\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
    );
  });
  cleanup.push(srv.close);
  const p = await proxy(`${DEFAULTS}
${FRONTEND}  server a 127.0.0.1:${srv.port}
`);
  const c = new Client(p.port);
  c.send("GET /x HTTP/2.0\r\nHost: x\r\n\r\nGET\t/y  HTTP/1.1\r\nHost: x\r\n\r\n");
  const text = await c.until((t) => t.split("0\r\n\r\n").length === 3);
  c.close();
  assert.deepEqual(seen, ["GET /x HTTP/1.1", "GET /y HTTP/1.1"]);
  for (const head of text.split("0\r\n\r\n").slice(0, 2)) {
    assert.match(head, /^HTTP\/1\.1 200 OK\r\n/);
    assert.doesNotMatch(head, /content-length/i);
    assert.match(head, /\r\nTransfer-Encoding: chunked\r\n/);
  }
});

test("chunked framing leaves with CRLF line ends and no extensions, as haproxy 2.6 sends it", async () => {
  // A server that waits for CRLF would otherwise hang on a body the proxy accepted, or read it
  // otherwise than the proxy did. Sent in pieces, so that a fix may fall across reads.
  let got = "";
  const srv = await rawServer((s) => {
    s.setEncoding("latin1");
    s.on("data", (d: string) => {
      got += d;
      if (!got.endsWith("\r\n\r\n") || !got.includes("\r\n0\r\n")) return;
      // Apart in time, so that each piece comes in a read of its own.
      void (async () => {
        for (const piece of [
          "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2;",
          "x=1\nok",
          "\n0\nT: 1\n",
          "\n",
        ]) {
          s.write(piece);
          await sleep(20);
        }
      })();
    });
  });
  cleanup.push(srv.close);
  const p = await proxy(`${DEFAULTS}
${FRONTEND}  server a 127.0.0.1:${srv.port}
`);
  const c = new Client(p.port);
  c.send("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5 ;e");
  await waitFor(() => got.includes("chunked"));
  c.send("xt\nhello\n0\n\n");
  const text = await c.until((t) => t.endsWith("\r\n\r\n") && t.includes("\r\n0\r\n"));
  c.close();
  assert.equal(got.slice(got.indexOf("\r\n\r\n") + 4), "5\r\nhello\r\n0\r\n\r\n");
  assert.equal(text.slice(text.indexOf("\r\n\r\n") + 4), "2\r\nok\r\n0\r\nT: 1\r\n\r\n");
});

test("a target with its scheme's default port leaves without it, Host with the target's host", async () => {
  const seen: string[] = [];
  const srv = await headServer((head, s) => {
    seen.push(head);
    s.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
  });
  cleanup.push(srv.close);
  const p = await proxy(`${DEFAULTS}
${FRONTEND}  server a 127.0.0.1:${srv.port}
`);
  // What haproxy 2.6.12 sent to its server for each (header names aside).
  const cases: [string, string][] = [
    [
      "GET http://a.example:80/p HTTP/1.1\r\nHost: A.EXAMPLE:80\r\n\r\n",
      "GET http://a.example/p HTTP/1.1\r\nhost: a.example\r\n\r\n",
    ],
    [
      "GET HTTP://A.example:80 HTTP/1.1\r\nHost: a.example\r\n\r\n",
      "GET HTTP://A.example HTTP/1.1\r\nhost: A.example\r\n\r\n",
    ],
    [
      "GET http://a.example:/p HTTP/1.1\r\nHost: a.example:\r\n\r\n",
      "GET http://a.example/p HTTP/1.1\r\nhost: a.example\r\n\r\n",
    ],
    [
      "GET http://a.example:8080/p HTTP/1.1\r\nHost: a.example:8080\r\n\r\n",
      "GET http://a.example:8080/p HTTP/1.1\r\nhost: a.example:8080\r\n\r\n",
    ],
    [
      "CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443\r\n\r\n",
      "CONNECT a.example:443 HTTP/1.1\r\nhost: a.example\r\n\r\n",
    ],
  ];
  for (const [request, want] of cases) {
    const c = new Client(p.port);
    c.send(request);
    await waitFor(() => seen.length > 0, 2000, "the head at the server");
    c.close();
    assert.equal(seen.shift()!.replace(/^host:/im, "host:"), want, request);
  }
});

test("a server that sends Content-Length and chunked together gets no other request on that connection", async () => {
  let connections = 0;
  const srv = await rawServer((s) => {
    connections++;
    s.on("data", () =>
      s.write(
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
      ),
    );
  });
  cleanup.push(srv.close);
  const p = await proxy(`${DEFAULTS}
${FRONTEND}  server a 127.0.0.1:${srv.port}
`);
  const c = new Client(p.port);
  for (let i = 1; i <= 2; i++) {
    c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    const text = await c.until((t) => t.endsWith("0\r\n\r\n"));
    assert.doesNotMatch(text, /content-length/i);
    c.take();
  }
  c.close();
  // haproxy 2.6 closes such a server connection and opens another for the next request.
  assert.equal(connections, 2);
});

test("rules see the Host a target's default port gave, as haproxy's do", async () => {
  const a = await headServer((_h, s) => s.write("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nA"));
  const b = await headServer((_h, s) => s.write("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nB"));
  cleanup.push(a.close, b.close);
  const p = await proxy(`${DEFAULTS}
frontend f
  bind 127.0.0.1:1
  use_backend exact if { hdr(host) -m str a.example }
  default_backend other
backend exact
  server s 127.0.0.1:${a.port}
backend other
  server s 127.0.0.1:${b.port}
`);
  const c = new Client(p.port);
  c.send("GET http://a.example:80/ HTTP/1.1\r\nHost: a.example:80\r\n\r\n");
  assert.equal((await c.response()).body, "A");
  c.send("GET / HTTP/1.1\r\nHost: a.example:80\r\n\r\n");
  assert.equal((await c.response()).body, "B");
  c.close();
});

test("an interim response and a bad one in the same read: only the 502, as haproxy sends", async () => {
  const srv = await headServer((head, s) => {
    if (head.startsWith("GET /bad ")) s.write("HTTP/1.1 100 Continue\r\n\r\nNOT HTTP\r\n\r\n");
    else s.write("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
  });
  cleanup.push(srv.close);
  const p = await proxy(`${DEFAULTS}
${FRONTEND}  server a 127.0.0.1:${srv.port}
`);
  const c = new Client(p.port);
  c.send("GET /bad HTTP/1.1\r\nHost: x\r\n\r\n");
  const bad = await c.response();
  assert.equal(bad.head.slice(0, 12), "HTTP/1.1 502");
  c.send("GET /good HTTP/1.1\r\nHost: x\r\n\r\n");
  const text = await c.until((t) => t.endsWith("ok"));
  assert.match(text, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 OK\r\n/);
  c.close();
});

test("each interim response restarts timeout server, as in haproxy 2.6", async () => {
  // A server that says 102 Processing while it works, every 300 ms, and answers at 900 ms, under a
  // timeout server of 600 ms.
  const srv = await headServer((_head, s) => {
    const timers = [300, 600].map((ms) => setTimeout(() => s.write("HTTP/1.1 102 Processing\r\n\r\n"), ms));
    timers.push(setTimeout(() => s.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"), 900));
    s.on("close", () => timers.forEach(clearTimeout));
  });
  cleanup.push(srv.close);
  const p = await proxy(`
defaults
  mode http
  timeout client 5s
  timeout connect 2s
  timeout server 600ms
${FRONTEND}  server a 127.0.0.1:${srv.port}
`);
  const c = new Client(p.port);
  c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  const text = await c.until((t) => t.endsWith("ok") || t.includes("</html>"), 3000);
  assert.match(text, /^(HTTP\/1\.1 102 Processing\r\n\r\n){2}HTTP\/1\.1 200 OK\r\n/);
  c.close();
});

test("a response's trailers count against tune.http.maxhdr, as haproxy 2.6 counts them", async () => {
  const srv = await headServer((head, s) => {
    const n = head.startsWith("GET /4 ") ? 4 : 5;
    s.write(
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n" + "T: v\r\n".repeat(n) + "\r\n",
    );
  });
  cleanup.push(srv.close);
  const p = await proxy(`
global
  tune.http.maxhdr 5
${DEFAULTS}
${FRONTEND}  server a 127.0.0.1:${srv.port}
`);
  const c = new Client(p.port);
  c.send("GET /4 HTTP/1.1\r\nHost: x\r\n\r\n");
  assert.match(
    await c.until((t) => t.endsWith("ok\r\n0\r\n" + "T: v\r\n".repeat(4) + "\r\n")),
    /^HTTP\/1\.1 200 /,
  );
  c.close();
  assert.match(await exchange(p.port, "GET /5 HTTP/1.1\r\nHost: x\r\n\r\n"), /^HTTP\/1\.1 502 /);
});

test("CONNECT: a 2xx answer makes a tunnel, its framing headers kept, as in haproxy 2.6", async () => {
  const seen: string[] = [];
  const srv = await rawServer((s) => {
    let got = "";
    s.on("data", (d: Buffer) => {
      got += d.toString("latin1");
      seen[0] = got;
      if (got.endsWith("\r\n\r\n"))
        s.write("HTTP/1.1 200 Connection established\r\nContent-Length: 2\r\n\r\nok");
      if (got.endsWith("PING")) s.end("BYE");
    });
  });
  cleanup.push(srv.close);
  const p = await proxy(`${DEFAULTS}
${FRONTEND}  server a 127.0.0.1:${srv.port}
`);
  const c = new Client(p.port);
  cleanup.push(async () => c.close());
  c.send("CONNECT x:443 HTTP/1.1\r\nHost: x:443\r\n\r\n");
  await c.until((t) => t.endsWith("ok"));
  c.send("PING");
  await waitFor(() => c.closed, 2000, "the server's end passed on");
  assert.equal(c.take(), "HTTP/1.1 200 Connection established\r\nContent-Length: 2\r\n\r\nokBYE");
  // haproxy 2.6 drops the default port from the Host of a CONNECT.
  assert.equal(seen[0], "CONNECT x:443 HTTP/1.1\r\nHost: x\r\n\r\nPING");
});

test("CONNECT has no body: its head leaves without Content-Length, and what follows waits for the tunnel or is the next request", async () => {
  // Per server connection, what it had received when each head was answered, and all it received.
  const atAnswer: string[] = [];
  const all: string[] = [];
  const srv = await rawServer((s) => {
    const n = all.push("") - 1;
    let pending = "";
    let tunnel = false;
    s.on("data", (d: Buffer) => {
      all[n] += d.toString("latin1");
      if (tunnel) return;
      pending += d.toString("latin1");
      for (let end = pending.indexOf("\r\n\r\n"); end >= 0; end = pending.indexOf("\r\n\r\n")) {
        const head = pending.slice(0, end + 4);
        pending = pending.slice(end + 4);
        atAnswer.push(all[n]!);
        if (head.startsWith("CONNECT deny:1 "))
          s.write("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n");
        else if (head.startsWith("CONNECT ")) {
          tunnel = true;
          return void s.write("HTTP/1.1 200 OK\r\n\r\n");
        } else s.write("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nnext");
      }
    });
  });
  cleanup.push(srv.close);
  const p = await proxy(`${DEFAULTS}
${FRONTEND}  server a 127.0.0.1:${srv.port}
`);
  const tunnel = async (head: string, after: string, sent: string): Promise<void> => {
    const c = new Client(p.port);
    cleanup.push(async () => c.close());
    c.send(head + after);
    await c.until((t) => t === "HTTP/1.1 200 OK\r\n\r\n");
    const i = all.length - 1;
    await waitFor(() => all[i] === sent + after, 2000, "the bytes after the head, in the tunnel");
    assert.equal(atAnswer.at(-1), sent, "the server had the head alone when it answered");
  };
  await tunnel(
    "CONNECT x:1 HTTP/1.1\r\nHost: x:1\r\nContent-Length: 5\r\n\r\n",
    "hello",
    "CONNECT x:1 HTTP/1.1\r\nHost: x:1\r\n\r\n",
  );
  // haproxy 2.6 keeps a Transfer-Encoding, and then says close.
  await tunnel(
    "CONNECT x:1 HTTP/1.1\r\nHost: x:1\r\nTransfer-Encoding: chunked\r\n\r\n",
    "5\r\nhello\r\n0\r\n\r\n",
    "CONNECT x:1 HTTP/1.1\r\nHost: x:1\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
  );
  // Refused: the bytes that a Content-Length announced are parsed as the next request.
  const next = "GET /n HTTP/1.1\r\nHost: x\r\n\r\n";
  const c = new Client(p.port);
  cleanup.push(async () => c.close());
  c.send(`CONNECT deny:1 HTTP/1.1\r\nHost: deny:1\r\nContent-Length: ${next.length}\r\n\r\n${next}`);
  const text = await c.until((t) => t.endsWith("next"));
  assert.equal(
    text,
    "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nnext",
  );
  assert.equal(all.at(-1), `CONNECT deny:1 HTTP/1.1\r\nHost: deny:1\r\n\r\n${next}`);
});

test("a CONNECT's framing is the received method's, whatever set-method makes of it; a server told close for a chunked CONNECT is not asked again", async () => {
  // All each server connection received; a CONNECT is refused, anything else answered.
  const conns: string[] = [];
  const srv = await rawServer((s) => {
    const n = conns.push("") - 1;
    let pending = "";
    s.on("data", (d: Buffer) => {
      conns[n] += d.toString("latin1");
      pending += d.toString("latin1");
      for (let end = pending.indexOf("\r\n\r\n"); end >= 0; end = pending.indexOf("\r\n\r\n")) {
        const connect = pending.startsWith("CONNECT ");
        pending = pending.slice(end + 4);
        s.write(
          connect
            ? "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n"
            : "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
        );
      }
    });
  });
  cleanup.push(srv.close);
  const p = await proxy(`${DEFAULTS}
${FRONTEND}  http-request set-method GET if { hdr(x-m) get }
  http-request set-method CONNECT if { hdr(x-m) connect }
  server a 127.0.0.1:${srv.port}
`);
  const client = (): Client => {
    const c = new Client(p.port);
    cleanup.push(async () => c.close());
    return c;
  };
  // Each as haproxy 2.6.12 sent it: a CONNECT made a GET has no body still, its bytes after the head
  // wait to be the next request; a GET made a CONNECT keeps its body.
  let c = client();
  c.send("CONNECT x:1 HTTP/1.1\r\nHost: x:1\r\nX-M: get\r\nContent-Length: 5\r\n\r\nhello");
  assert.equal((await c.response()).status, 200);
  assert.equal(conns.at(-1), "GET x:1 HTTP/1.1\r\nHost: x:1\r\nX-M: get\r\n\r\n");
  c = client();
  c.send("GET /b HTTP/1.1\r\nHost: x\r\nX-M: connect\r\nContent-Length: 5\r\n\r\nhello");
  assert.equal((await c.response()).status, 403);
  const sent = "CONNECT /b HTTP/1.1\r\nHost: x\r\nX-M: connect\r\nContent-Length: 5\r\n\r\nhello";
  await waitFor(() => conns.at(-1)!.length >= sent.length, 2000, "the body");
  assert.equal(conns.at(-1), sent);
  // The server said nothing of closing, yet the next request goes to another connection (a new one,
  // or one that an earlier client left idle).
  const first = conns.length;
  c = client();
  c.send("CONNECT x:1 HTTP/1.1\r\nHost: x:1\r\nTransfer-Encoding: chunked\r\n\r\n");
  assert.equal((await c.response()).status, 403);
  c.send("GET /n HTTP/1.1\r\nHost: x\r\n\r\n");
  assert.equal((await c.response()).status, 200);
  assert.equal(
    conns[first],
    "CONNECT x:1 HTTP/1.1\r\nHost: x:1\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
  );
  assert.ok(conns.some((all, i) => i !== first && all.endsWith("GET /n HTTP/1.1\r\nHost: x\r\n\r\n")));
});

test("heads leave as haproxy 2.6 re-encodes them: CRLF for bare LF, one Content-Length, one Host", async () => {
  const seen: string[] = [];
  const srv = await rawServer((s) =>
    s.on("data", (d: Buffer) => {
      seen.push(d.toString("latin1"));
      s.write("HTTP/1.1 200 OK\nContent-Length: 2\nContent-Length: 2\nX-B:  2 \n\nok");
    }),
  );
  cleanup.push(srv.close);
  const p = await proxy(`${DEFAULTS}
${FRONTEND}  server a 127.0.0.1:${srv.port}
`);
  const c = new Client(p.port);
  cleanup.push(async () => c.close());
  c.send("POST /p HTTP/1.1\nHost: x\nhost: X\nContent-Length: 2, 2\nX-A:  1 \n\nab");
  const r = await c.response();
  // haproxy 2.6.12 sent (names lower-cased): "POST /p HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\nx-a: 1\r\n\r\nab"
  // and answered "HTTP/1.1 200 OK\r\ncontent-length: 2\r\nx-b: 2\r\n\r\nok".
  assert.equal(seen.join(""), "POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nX-A: 1\r\n\r\nab");
  assert.equal(`${r.head}\r\n\r\n${r.body}`, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-B: 2\r\n\r\nok");
});

test("Expect: 100-continue passes the interim response through", async () => {
  const [a] = await backends("a");
  const p = await proxy(`${DEFAULTS}
${FRONTEND}  server a 127.0.0.1:${a!.port}
`);
  const c = new Client(p.port);
  c.send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n");
  await c.until((t) => t.startsWith("HTTP/1.1 100 Continue\r\n\r\n"));
  c.take();
  c.send("body");
  const r = await c.response();
  assert.equal(r.status, 200);
  assert.equal(a!.seen[0]!.body.toString(), "body");
  c.close();
});
