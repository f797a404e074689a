// set-priority-class and set-priority-offset (http-request, tcp-request content), the prio_class and
// prio_offset fetches, and the order in which a server with one slot then sees the queued requests,
// as haproxy 2.6.12 served them (docs/haproxy-behaviour.md §82).
import { test, after } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import {
  DEFAULTS,
  alertsFor,
  exchange,
  headServer,
  loggedDefaults,
  rawServer,
  sleep,
  startProxy,
  syslogReceiver,
  tcpLogged,
  waitFor,
  type Proxy,
  type SyslogReceiver,
} from "../helpers/harness.js";
import { parseConfig } from "../../src/config/parse.js";

const cleanup: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

/**
 * An HTTP server whose slot (maxconn 1) a request for /hold keeps until release(): the others queue
 * meanwhile, then come one at a time. `seen`: each request's path and x-c header, in arrival order.
 */
async function slotServer() {
  const seen: string[] = [];
  const held: (() => void)[] = [];
  const srv = await headServer((head, s) => {
    const path = head.split(" ")[1]!;
    const c = /\r\nx-c: ([^\r]*)/i.exec(head)?.[1];
    seen.push(c === undefined ? path : `${path} ${c}`);
    const answer = (): void => void s.write("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
    if (path === "/hold") held.push(answer);
    else answer();
  });
  cleanup.push(srv.close);
  return { port: srv.port, seen, release: () => held.splice(0).forEach((f) => f()) };
}

async function logged(config: (rx: SyslogReceiver) => string): Promise<{ p: Proxy; rx: SyslogReceiver }> {
  const rx = await syslogReceiver();
  cleanup.push(rx.close);
  const p = await startProxy(config(rx));
  cleanup.push(p.stop);
  return { p, rx };
}

/** The request's x-class and x-off headers, when it has them, set its priority. */
const FROM_HEADERS = `  http-request set-priority-class req.hdr(x-class) if { req.hdr(x-class) -m found }
  http-request set-priority-offset req.hdr(x-off) if { req.hdr(x-off) -m found }
`;

const get = (port: number, path: string, headers: Record<string, string> = {}): Promise<string> =>
  exchange(
    port,
    `GET ${path} HTTP/1.1\r\nhost: x\r\n${Object.entries(headers)
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join("")}connection: close\r\n\r\n`,
    // Queued requests wait for all the others to queue: a slow machine must not cut them off.
    10_000,
  );

/** Requests sent one after another, each once the one before waits in a queue of `p`'s backend bk. */
async function queueUp(p: Proxy, requests: [string, Record<string, string>?][]): Promise<Promise<string>[]> {
  const bk = p.rt.backends.get("bk")!;
  const waiting = (): number => bk.queued();
  const answers: Promise<string>[] = [];
  for (const [path, headers] of requests) {
    const before = waiting();
    answers.push(get(p.port, path, headers));
    await waitFor(() => waiting() === before + 1, 2000, `${path} queued`);
  }
  return answers;
}

/** The held request first, on the server; the others queue behind it, then the server is set free. */
async function served(
  p: Proxy,
  srv: Awaited<ReturnType<typeof slotServer>>,
  requests: [string, Record<string, string>?][],
): Promise<string[]> {
  const hold = get(p.port, "/hold");
  await waitFor(() => srv.seen.length === 1, 2000, "the server holds /hold");
  const answers = await queueUp(p, requests);
  // Long enough for an offset near -524287 to fall behind haproxy's boundary (2 ms).
  await sleep(20);
  srv.release();
  for (const a of [hold, ...answers]) assert.match(await a, /^HTTP\/1\.1 200 /);
  return srv.seen.slice(1);
}

test("http-request set-priority-class and -offset order the backend's queue: class, then entry time plus offset", async () => {
  const srv = await slotServer();
  const { p, rx } = await logged(
    (rx) => `${loggedDefaults(rx, "  timeout queue 20s")}
frontend f
  bind 127.0.0.1:1
  log-format "%{+Q}r %bq/%sq %[prio_class]/%[prio_offset]"
  http-request set-header x-c0 %[prio_class]/%[prio_offset]
${FROM_HEADERS}  http-request set-header x-c %[req.hdr(x-c0)]>%[prio_class]/%[prio_offset]
  default_backend bk
backend bk
  server s1 127.0.0.1:${srv.port} maxconn 1
`,
  );
  const order = await served(p, srv, [
    ["/a"],
    ["/b", { "x-class": "1" }],
    ["/c", { "x-class": "-1" }],
    ["/d", { "x-off": "-10000" }],
    ["/e", { "x-off": "10000" }],
    // Bounded to 2047 and 524287.
    ["/f", { "x-class": "3000", "x-off": "600000" }],
    // A C int's low 32 bits: 1; then -2147483648, bounded to -2047.
    ["/h", { "x-class": "4294967297" }],
    ["/l", { "x-class": "2147483648" }],
    // Text cast as haproxy reads an integer: "abc" is 0, "7xyz" 7; an empty one does not cast.
    ["/i", { "x-class": "abc" }],
    ["/k", { "x-class": "7xyz" }],
    ["/j", { "x-class": "" }],
  ]);
  assert.deepEqual(order, [
    "/l 0/0>-2047/0",
    "/c 0/0>-1/0",
    "/d 0/0>0/-10000",
    "/a 0/0>0/0",
    "/i 0/0>0/0",
    "/j 0/0>0/0",
    "/e 0/0>0/10000",
    "/b 0/0>1/0",
    "/h 0/0>1/0",
    "/k 0/0>7/0",
    "/f 0/0>2047/524287",
  ]);
  // %bq: the requests served from the queue while each waited, itself included.
  const lines = order.map((o, i) => {
    const [path, , prio] = o.split(/[ >]/);
    return `"GET ${path} HTTP/1.1" ${i + 1}/0 ${prio}`;
  });
  for (const line of lines) await rx.take(new RegExp(`^${line.replace(/[/.]/g, "\\$&")}$`));
});

test("a server's own queue and its backend's are served together, by class then time, the server's first", async () => {
  const srv = await slotServer();
  const { p, rx } = await logged(
    (rx) => `${loggedDefaults(rx, "  timeout queue 20s")}
frontend f
  bind 127.0.0.1:1
  log-format "%{+Q}r %bq/%sq"
  default_backend bk
backend bk
${FROM_HEADERS}  use-server s1 if { path_beg /srv }
  server s1 127.0.0.1:${srv.port} maxconn 1
`,
  );
  const order = await served(p, srv, [
    ["/a"],
    ["/srv1", { "x-class": "1" }],
    ["/b", { "x-class": "1" }],
    ["/srv2", { "x-class": "-1" }],
    ["/c", { "x-off": "-20000" }],
    ["/srv3"],
    ["/srv4", { "x-off": "-10000" }],
    ["/d", { "x-class": "-1", "x-off": "300" }],
  ]);
  assert.deepEqual(order, ["/srv2", "/d", "/c", "/srv4", "/a", "/srv3", "/srv1", "/b"]);
  // Each queue counts its own: %bq for the backend's, %sq for the server's.
  const queues = ["0/1", "1/0", "2/0", "0/2", "3/0", "0/3", "0/4", "4/0"];
  for (const [i, path] of order.entries())
    await rx.take(new RegExp(`^"GET \\${path} HTTP/1\\.1" ${queues[i]}$`));
});

test("an offset near -524287 falls behind haproxy's boundary within milliseconds: served after a later request", async () => {
  const srv = await slotServer();
  const p = await startProxy(`${DEFAULTS}
  timeout queue 20s
frontend f
  bind 127.0.0.1:1
${FROM_HEADERS}  default_backend bk
backend bk
  server s1 127.0.0.1:${srv.port} maxconn 1
`);
  cleanup.push(p.stop);
  const order = await served(p, srv, [
    ["/x", { "x-off": "-500000" }],
    ["/g", { "x-off": "-600000" }],
    ["/m"],
  ]);
  // -500000 stays ahead for 24 s; -524287 (where -600000 is bounded) is behind after 2 ms.
  assert.deepEqual(order, ["/x", "/m", "/g"]);
});

test("mode tcp: tcp-request content rules of the frontend and the backend set the priorities, with conditions", async () => {
  const rx = await syslogReceiver();
  cleanup.push(rx.close);
  const seen: string[] = [];
  const held: net.Socket[] = [];
  const srv = await rawServer((s) =>
    s.once("data", (d: Buffer) => {
      const what = d.toString().trim();
      seen.push(what);
      if (what === "hold") held.push(s);
      else s.end("done\n");
    }),
  );
  cleanup.push(srv.close);
  const p = await startProxy(`${tcpLogged(rx)}  timeout queue 20s
frontend f
  bind 127.0.0.1:1
  log-format "%ci %bq/%sq %[prio_class]/%[prio_offset]"
  tcp-request content set-priority-class int(-1) if { src 127.0.0.3 }
  tcp-request content set-priority-class int(1) if { src 127.0.0.4 }
  default_backend bk
backend bk
  tcp-request content set-priority-offset int(-1000) if { src 127.0.0.5 }
  server s1 127.0.0.1:${srv.port} maxconn 1
`);
  cleanup.push(p.stop);
  const bk = p.rt.backends.get("bk")!;
  const talk = (from: string, what: string): Promise<string> =>
    new Promise((ok) => {
      const s = net.connect({ port: p.port, host: "127.0.0.1", localAddress: from });
      let got = "";
      s.on("data", (d: Buffer) => (got += d.toString()));
      s.on("error", () => undefined);
      const t = setTimeout(() => s.destroy(), 10_000);
      s.on("close", () => (clearTimeout(t), ok(got)));
      s.write(`${what}\n`);
    });
  const hold = talk("127.0.0.1", "hold");
  await waitFor(() => seen.length === 1, 2000, "the server holds the first connection");
  const answers: Promise<string>[] = [];
  for (const n of [2, 4, 3, 5, 6]) {
    answers.push(talk(`127.0.0.${n}`, `p${n}`));
    await waitFor(() => bk.queue.length === answers.length, 2000, `p${n} queued`);
  }
  held[0]!.end("done\n");
  for (const a of [hold, ...answers]) assert.equal(await a, "done\n");
  assert.deepEqual(seen.slice(1), ["p3", "p5", "p2", "p6", "p4"]);
  const lines = [
    "127.0.0.3 1/0 -1/0",
    "127.0.0.5 2/0 0/-1000",
    "127.0.0.2 3/0 0/0",
    "127.0.0.6 4/0 0/0",
    "127.0.0.4 5/0 1/0",
  ];
  for (const line of lines) await rx.take(new RegExp(`^${line.replace(/\./g, "\\.")}$`));
});

test("each request of a connection starts at class 0 and offset 0; the frontend's content rules set them again", async () => {
  const srv = await slotServer();
  const p = await startProxy(`${DEFAULTS}
frontend f
  bind 127.0.0.1:1
  tcp-request content set-priority-class int(3) if { src 127.0.0.3 }
  tcp-request content set-priority-offset int(-7)
  http-request set-header x-c %[prio_class]/%[prio_offset]
  http-request set-priority-class req.hdr(x-class) if { req.hdr(x-class) -m found }
  http-response set-header x-r %[prio_class]/%[prio_offset]
  default_backend bk
backend bk
  server s1 127.0.0.1:${srv.port}
`);
  cleanup.push(p.stop);
  const responses: string[] = [];
  for (const from of ["127.0.0.2", "127.0.0.3"]) {
    const s = net.connect({ port: p.port, host: "127.0.0.1", localAddress: from });
    let got = "";
    s.on("data", (d: Buffer) => (got += d.toString("latin1")));
    s.on("error", () => undefined);
    s.write("GET /one HTTP/1.1\r\nhost: x\r\nx-class: 5\r\n\r\n");
    await waitFor(() => /\r\n\r\nok/.test(got), 2000, "the first response");
    s.write("GET /two HTTP/1.1\r\nhost: x\r\n\r\n");
    await waitFor(() => /\r\n\r\nok[^]*\r\n\r\nok/.test(got), 2000, "the second response");
    s.destroy();
    responses.push(...[...got.matchAll(/\r\nx-r: ([^\r]*)/g)].map((m) => m[1]!));
  }
  assert.deepEqual(srv.seen, ["/one 0/-7", "/two 0/-7", "/one 3/-7", "/two 3/-7"]);
  assert.deepEqual(responses, ["5/-7", "0/-7", "5/-7", "3/-7"]);
});

test("config: the actions' expressions are checked where an http-request rule runs, in haproxy's words", () => {
  const refusals: [string, RegExp | string][] = [
    [
      "http-request set-priority-class",
      "error detected in frontend 'f' while parsing 'http-request set-priority-class' rule : missing fetch method.",
    ],
    [
      "http-request set-priority-offset res.hdr(x)",
      "error detected in frontend 'f' while parsing 'http-request set-priority-offset' rule : fetch method 'set-priority-offset' extracts information from 'HTTP response headers', none of which is available here.",
    ],
    [
      "http-request set-priority-class int(1) foo",
      "'http-request set-priority-class' expects either 'if' or 'unless' followed by a condition but found 'foo'.",
    ],
    [
      "tcp-request content set-priority-class srv_id",
      "fetch method 'tcp-request' extracts information from 'server', none of which is available here",
    ],
    [
      "tcp-request content set-priority-offset int(1) foo",
      "'tcp-request content set-priority-offset' only accepts 'if' or 'unless', in frontend 'f' (got 'foo')",
    ],
    // Neither a connection's rules nor a response's have them.
    ["tcp-request connection set-priority-class int(1)", /^'tcp-request connection' expects /],
    ["http-response set-priority-class int(1)", /^'http-response set-priority-class' is not supported/],
  ];
  for (const [line, alert] of refusals) {
    const got = alertsFor(line);
    assert.equal(got.length, 1, line);
    if (typeof alert === "string") assert.equal(got[0], alert);
    else assert.match(got[0]!, alert);
  }
  for (const ok of [
    "http-request set-priority-class int(1),add(2) if { always_true }",
    "http-request set-priority-offset str(abc)",
    "tcp-request content set-priority-offset req.hdr(x)",
  ])
    assert.deepEqual(alertsFor(ok), [], ok);
  const { diagnostics } = parseConfig(
    [{ name: "p.cfg", text: `${DEFAULTS}backend bk\n  http-request set-priority-class\n` }],
    {},
  );
  assert.deepEqual(
    diagnostics.filter((d) => d.level === "alert").map((d) => `${d.where?.file}:${d.where?.line}`),
    ["p.cfg:8"],
  );
});
