// haproxy's hashing algorithms and static-rr. static-rr: the servers in turn, in the table's order;
// balance source, uri, url_param and hdr: a hash of the client's address or of part of the request
// picks it, on the table (hash-type map-based) or the ring (consistent). The choices below were
// recorded from haproxy 2.6.12 with the same backends (for balance source, each client connecting
// from its own loopback address).
import { test, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import net from "node:net";
import {
  startProxy,
  httpBackend,
  Client,
  rawServer,
  closedPort,
  waitFor,
  syslogReceiver,
  loggedDefaults,
  DEFAULTS,
  type Backend,
} from "../helpers/harness.js";
import { parseConfig } from "../../src/config/parse.js";
import { ConsistentHash } from "../../src/balance/chash.js";

const cleanup: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

const ADDRESSES = [
  ...Array.from({ length: 40 }, (_, i) => `127.0.0.${i + 1}`),
  "127.1.2.3",
  "127.200.7.9",
  "127.255.255.254",
  "127.0.5.77",
  "127.33.66.99",
];

/** GET / from `address`: the name of the server that answered, or the status when it is not 200. */
function getFrom(port: number, address: string): Promise<string> {
  return new Promise((ok, fail) => {
    const req = http.get(
      { host: "127.0.0.1", port, path: "/", localAddress: address, agent: false },
      (res) => {
        let body = "";
        res.setEncoding("latin1");
        res.on("data", (d: string) => (body += d));
        res.on("end", () => ok(res.statusCode === 200 ? body : String(res.statusCode)));
      },
    );
    req.on("error", fail);
  });
}

async function servers(names: string[]): Promise<Backend[]> {
  const list = await Promise.all(names.map((n) => httpBackend(n)));
  for (const b of list) cleanup.push(b.close);
  return list;
}

/** Which server each of ADDRESSES gets, as "address=server" words. */
async function choices(port: number): Promise<string> {
  const out: string[] = [];
  for (const a of ADDRESSES) out.push(`${a}=${await getFrom(port, a)}`);
  return out.join(" ");
}

const recorded = (spec: string): string =>
  spec
    .trim()
    .split(/\s+/)
    .map((s, i) => `${ADDRESSES[i]}=${s}`)
    .join(" ");

test("the same server as haproxy's for each address: weights 10, 7, 3; then 20, 20, 10; then on the ring", async () => {
  const [a, b, c] = await servers(["a", "b", "c"]);
  const cfg = (wa: number, wb: number, wc: number, extra = "", hashType = "map-based") => `${DEFAULTS}
frontend f
  bind 127.0.0.1:1
  default_backend bk
backend bk
  balance source
  hash-type ${hashType}
  server a 127.0.0.1:${a!.port} weight ${wa}
  server b 127.0.0.1:${b!.port} weight ${wb} ${extra}
  server c 127.0.0.1:${c!.port} weight ${wc}
`;
  const p1 = await startProxy(cfg(10, 7, 3));
  cleanup.push(p1.stop);
  assert.equal(
    await choices(p1.port),
    recorded(`c a a b a b c a a b a b a c a b a b a b c a a b a b c a a b a b a c a b a b a b a c c a a`),
  );
  const p2 = await startProxy(cfg(20, 20, 10));
  cleanup.push(p2.stop);
  assert.equal(
    await choices(p2.port),
    recorded(`b c a b a b c a b a b c a b a b c a b a b c a b a b c a b a b c a b a b c a b a b b b c a`),
  );
  // A server out of the choice takes its slots with it; the weights' divisor stays.
  const p3 = await startProxy(cfg(10, 7, 3, "disabled"));
  cleanup.push(p3.stop);
  assert.equal(
    await choices(p3.port),
    recorded(`a c a a a a c a a a c a a a c a a a a c a a a c a a a c a a a a c a a a c a a a c a a a a`),
  );
  // hash-type consistent: haproxy's ring; without b, only b's addresses move.
  const p4 = await startProxy(cfg(10, 7, 3, "", "consistent"));
  cleanup.push(p4.stop);
  assert.equal(
    await choices(p4.port),
    recorded(`c a b a c b b b c b c b a b a a a c a a a a b a a b b c a a a a a c b c a a a a a b c a b`),
  );
  const p5 = await startProxy(cfg(10, 7, 3, "disabled", "consistent"));
  cleanup.push(p5.stop);
  assert.equal(
    await choices(p5.port),
    recorded(`c a a a c a c a c a c c a c a a a c a a a a a a a a a c a a a a a c a c a a a a a c c a c`),
  );
});

test("backups: the first one takes every address, or all share them with allbackups", async () => {
  const [a, b, c] = await servers(["a", "b", "c"]);
  const cfg = (allbackups: boolean) => `${DEFAULTS}
frontend f
  bind 127.0.0.1:1
  default_backend bk
backend bk
  balance source
  ${allbackups ? "option allbackups" : ""}
  server x 127.0.0.1:1 disabled
  server a 127.0.0.1:${a!.port} weight 10 backup
  server b 127.0.0.1:${b!.port} weight 7 backup
  server c 127.0.0.1:${c!.port} weight 3 backup
`;
  const first = await startProxy(cfg(false));
  cleanup.push(first.stop);
  assert.equal(await choices(first.port), recorded("a ".repeat(ADDRESSES.length)));
  const all = await startProxy(cfg(true));
  cleanup.push(all.stop);
  assert.equal(
    await choices(all.port),
    recorded(`c a a b a b c a a b a b a c a b a b a b c a a b a b c a a b a b a c a b a b a b a c c a a`),
  );
});

/**
 * A logging proxy with `balance source` over servers `a` and `b`, of equal weight: even addresses
 * go to a, odd ones to b. `onA` answers the requests to a it wants to (true), a holds the others in
 * `held`; `defaults` and `aLine` add to the defaults section and to a's server line.
 */
async function heldProxy(
  onA: (url: string, res: http.ServerResponse) => boolean,
  defaults: string,
  aLine: string,
  backendLines = "",
) {
  const rx = await syslogReceiver();
  cleanup.push(rx.close);
  const held: http.ServerResponse[] = [];
  const a = await httpBackend("a", (req, res) => {
    if (!onA(req.url ?? "", res)) held.push(res);
  });
  cleanup.push(a.close);
  const [b] = await servers(["b"]);
  const p = await startProxy(`${loggedDefaults(rx, defaults)}
frontend f
  bind 127.0.0.1:1
  default_backend bk
backend bk
  balance source${backendLines}
  server a 127.0.0.1:${a.port} ${aLine}
  server b 127.0.0.1:${b!.port}
`);
  cleanup.push(p.stop);
  const aQueue = p.rt.backends.get("bk")!.servers[0]!.queue;
  return { rx, held, port: p.port, aQueue };
}

/** Which server answers each of `n` requests in a row, one connection each. */
async function sequence(port: number, n: number): Promise<string> {
  let out = "";
  for (let i = 0; i < n; i++) out += await getFrom(port, "127.0.0.1");
  return out;
}

test("static-rr: the servers in haproxy's order for each set of weights, weight 0 never", async () => {
  const [a, b, c] = await servers(["a", "b", "c"]);
  const cases: [number[], string][] = [
    [[1, 3, 0], "abbbabbbabbbabbbabbb"],
    [[2, 3, 1], "ababbcababbcababbcab"],
    [[5, 1, 2], "aabcaaacaabcaaacaabc"],
    [[10, 7, 3], "aababacabababcaababc"],
  ];
  for (const [[wa, wb, wc], want] of cases) {
    const p = await startProxy(`${DEFAULTS}
frontend f
  bind 127.0.0.1:1
  default_backend bk
backend bk
  balance static-rr
  server a 127.0.0.1:${a!.port} weight ${wa}
  server b 127.0.0.1:${b!.port} weight ${wb}
  server c 127.0.0.1:${c!.port} weight ${wc}
`);
    assert.equal(await sequence(p.port, want.length), want, `weights ${wa} ${wb} ${wc}`);
    await p.stop();
  }
  // Without allbackups, haproxy sizes the table by the first backup's weight but spreads it over
  // every backup: the others get a share too.
  const backups = await startProxy(`${DEFAULTS}
frontend f
  bind 127.0.0.1:1
  default_backend bk
backend bk
  balance static-rr
  server x 127.0.0.1:1 disabled
  server a 127.0.0.1:${a!.port} weight 10 backup
  server b 127.0.0.1:${b!.port} weight 7 backup
  server c 127.0.0.1:${c!.port} weight 3 backup
`);
  cleanup.push(backups.stop);
  assert.equal(await sequence(backups.port, 20), "aabaabaabaaabaabaaba");
});

const PATHS = [
  "/",
  "/a",
  "/a/b/c",
  "/a/b/d?x=1",
  "/a/b/d?x=2",
  "/img/logo.png",
  "/api/v1/users?id=42&user=bob",
  "/api/v2/items?user=alice",
  "/index.html?user=carol&x=1",
  "/deep/path/to/some/resource/file.txt",
  "/Z",
  "/q?user=",
  "/zz?foo=1&user=dave",
  "http://example.com/abs/path?user=eve",
  "/x/y",
  "/hello-world",
  "/%41%42",
  "/0123456789abcdef",
];

/** Which server answers each of PATHS; all but every third request carry `X-User: user<i>, other`. */
async function hashedChoices(port: number): Promise<string> {
  let out = "";
  for (const [i, path] of PATHS.entries()) {
    const user = i % 3 === 2 ? "" : `X-User: user${i}, other\r\n`;
    const c = new Client(port);
    c.send(`GET ${path} HTTP/1.1\r\nHost: example.com\r\n${user}\r\n`);
    out += (await c.response()).body;
    c.close();
  }
  return out;
}

test("uri, url_param, hdr: the same server as haproxy's for each request, with each hash function and hash-type", async () => {
  const [a, b, c] = await servers(["a", "b", "c"]);
  // Missing keys (no parameter, no header) take the servers in turn, as haproxy's do: in the table's
  // order (map-based), or walking the ring's points (consistent, which is sdbm avalanche alone).
  const cases: [string, string, string][] = [
    ["uri", "map-based sdbm", "ababbaaacbacabcbaa"],
    ["uri", "map-based djb2", "aaaaabacaabcbabaab"],
    ["uri", "map-based wt6", "caaccabbbaaabbcabc"],
    ["uri", "map-based crc32", "bbbccabaababcaacab"],
    ["uri path-only", "map-based sdbm", "ababbaaacbacaccbaa"],
    ["uri path-only", "map-based wt6", "caaccabbbaaabacabc"],
    ["uri whole path-only depth 3 len 20", "map-based sdbm", "abaabaaaaaaaabcbaa"],
    ["uri whole path-only depth 3 len 20", "map-based wt6", "caacaaccacaacacabc"],
    ["url_param user", "map-based sdbm", "aababaabacaaabbaba"],
    ["url_param user", "map-based djb2", "aababaaaacaacababa"],
    ["hdr(X-User)", "map-based sdbm", "acabaaabbacabababa"],
    ["hdr(x-user)", "map-based crc32", "aaaababbbcaaaabbba"],
    ["uri", "map-based sdbm avalanche", "bcabbccbbcaaabbaaa"],
    ["uri", "consistent", "baaaaaabbbaaacabba"],
    ["uri", "consistent djb2", "ccbbbacbaaccaabaaa"],
    ["uri whole path-only depth 3 len 20", "consistent sdbm avalanche", "baabaaaaaaacababba"],
    ["url_param user", "consistent wt6 avalanche", "cabbccbbbbcabbbcbb"],
    ["hdr(X-User)", "consistent crc32", "bacaaaabbaabbcccbc"],
    ["hdr(x-user)", "consistent", "bbcaaaaababbaacabc"],
    // hash <expr>: a fetch's value (req.hdr's last value, an integer's 8 bytes), or the walk without one.
    ["hash req.hdr(x-user)", "map-based", "bbabbabbbbbabbbbba"],
    ["hash req.hdr_cnt(x-user)", "map-based", "bbabbabbabbabbabba"],
    ["hash path,lower", "consistent djb2", "ccbbbacbaaccaabaaa"],
    ["hash url", "map-based wt6 avalanche", "bbaaaabbaabbbbbaaa"],
    ["hash req.cook(sid)", "consistent", "cabbccbcbcbbcaaaac"],
  ];
  for (const [algo, hashType, want] of cases) {
    const p = await startProxy(`${DEFAULTS}
frontend f
  bind 127.0.0.1:1
  default_backend bk
backend bk
  balance ${algo}
  hash-type ${hashType}
  server a 127.0.0.1:${a!.port} weight 10
  server b 127.0.0.1:${b!.port} weight 7
  server c 127.0.0.1:${c!.port} weight 3
`);
    assert.equal(await hashedChoices(p.port), want, `balance ${algo}, hash-type ${hashType}`);
    await p.stop();
  }
});

/** heldProxy with a health check of a's that `down()` makes fail. */
async function checkedProxy(defaults: string, aLine: string, backendLines = "") {
  let healthy = true;
  const health = (url: string, res: http.ServerResponse): boolean => {
    if (url !== "/health") return false;
    res.writeHead(healthy ? 200 : 503).end();
    return true;
  };
  const p = await heldProxy(
    health,
    `${defaults}\n  timeout check 1s\n  option httpchk GET /health`,
    `${aLine} check inter 100ms fall 3 rise 1`,
    backendLines,
  );
  return { ...p, down: () => void (healthy = false) };
}

test("a full server queues its clients (the other one stays free), up to maxqueue; redispatch moves them", async () => {
  const { rx, held, port, aQueue, down } = await checkedProxy(
    "  option redispatch\n  timeout queue 5s",
    "maxconn 1 maxqueue 1",
  );
  const first = getFrom(port, "127.0.0.2");
  await waitFor(() => held.length === 1, 2000, "a holds the first request");
  const second = getFrom(port, "127.0.0.4");
  await waitFor(() => aQueue.length === 1, 2000, "the second waits for a");
  assert.equal(await getFrom(port, "127.0.0.3"), "b");
  // a's queue is full: haproxy answers 503 at once, logged SQ with a and its connection.
  assert.equal(await getFrom(port, "127.0.0.6"), "503");
  assert.match(await rx.take(/ 503 /), / f bk\/a \d+\/-1\/-1\/-1\/\d+ 503 \d+ - - SQ-- 3\/3\/2\/1\/0 0\/0 /);
  // a goes down: the queued request chooses again and lands on b; the held one still ends on a.
  down();
  assert.equal(await second, "b");
  held[0]!.end("a");
  assert.equal(await first, "a");
  const line = await rx.take(/Server bk\/a is DOWN/);
  assert.match(line, /1 requeued, 0 remaining in queue/);
  // Moved to b: a redispatch ("+" before the retries), the wait in Tw.
  const moved = await rx.take(/^127\.0\.0\.4:/);
  assert.match(moved, / f bk\/b \d+\/\d+\/\d+\/\d+\/\d+ 200 \d+ - - ---- \d+\/\d+\/\d+\/\d+\/\+0 /);
  assert.ok(Number(/ \d+\/(\d+)\/\d+\/\d+\/\d+ 200 /.exec(moved)![1]) >= 50, moved);
});

test("with redispatch, a force-persisted request stays in its DOWN server's queue, and is served there", async () => {
  const { rx, held, port, aQueue, down } = await checkedProxy(
    "  option redispatch\n  timeout queue 5s",
    "maxconn 1",
    "\n  force-persist if { src 127.0.0.4 }",
  );
  const first = getFrom(port, "127.0.0.2");
  await waitFor(() => held.length === 1, 2000, "a holds the first request");
  const second = getFrom(port, "127.0.0.4");
  await waitFor(() => aQueue.length === 1, 2000, "the second waits for a");
  down();
  assert.match(await rx.take(/Server bk\/a is DOWN/, 3000), /0 requeued, 1 remaining in queue/);
  assert.equal(aQueue.length, 1);
  held[0]!.end("a");
  await waitFor(() => held.length === 2, 2000, "a has the second request");
  held[1]!.end("a");
  assert.deepEqual([await first, await second], ["a", "a"]);
});

test("without redispatch, a server's own queue is served when its slot frees, even while it is DOWN", async () => {
  const { rx, held, port, aQueue, down } = await checkedProxy("  timeout queue 5s", "maxconn 1");
  const first = getFrom(port, "127.0.0.2");
  await waitFor(() => held.length === 1, 2000, "a holds the first request");
  const second = getFrom(port, "127.0.0.4");
  await waitFor(() => aQueue.length === 1, 2000, "the second waits for a");
  down();
  await rx.take(/Server bk\/a is DOWN/, 3000);
  held[0]!.end("a");
  await waitFor(() => held.length === 2, 2000, "a has the second request");
  held[1]!.end("a");
  assert.deepEqual([await first, await second], ["a", "a"]);
});

test("a request that times out in its server's queue is logged with that server, sQ", async () => {
  const { rx, held, port, aQueue } = await heldProxy(() => false, "  timeout queue 200ms", "maxconn 1");
  const first = getFrom(port, "127.0.0.2");
  await waitFor(() => held.length === 1, 2000, "a holds the first request");
  assert.equal(await getFrom(port, "127.0.0.4"), "503");
  assert.equal(aQueue.length, 0);
  assert.match(await rx.take(/^127\.0\.0\.4:/), / f bk\/a \d+\/\d+\/-1\/-1\/\d+ 503 \d+ - - sQ-- /);
  held[0]!.end("a");
  assert.equal(await first, "a");
});

test("retries with balance source wait the turn-around delay: there is no other server to try", async () => {
  const dead = await closedPort();
  const [b] = await servers(["b"]);
  const rx = await syslogReceiver();
  cleanup.push(rx.close);
  const p =
    await startProxy(`${loggedDefaults(rx, "  option redispatch\n  retries 2\n  timeout connect 300ms")}
frontend f
  bind 127.0.0.1:1
  default_backend bk
backend bk
  balance source
  server a 127.0.0.1:${dead}
  server b 127.0.0.1:${b!.port}
`);
  cleanup.push(p.stop);
  const t0 = Date.now();
  // 127.0.0.2 hashes to a, which refuses: haproxy waits min(timeout connect, 1 s) before each retry.
  assert.equal(await getFrom(p.port, "127.0.0.2"), "503");
  assert.ok(Date.now() - t0 >= 550, `answered after ${Date.now() - t0} ms`);
  assert.match(await rx.take(/^127\.0\.0\.2:/), / f bk\/a .* 503 \d+ - - SC-- /);
});

test("mode tcp: a full server's queue, its maxqueue and a refusing server close the connection, logged", async () => {
  const rx = await syslogReceiver();
  cleanup.push(rx.close);
  const held: net.Socket[] = [];
  const a = await rawServer((s) => held.push(s));
  cleanup.push(a.close);
  const dead = await closedPort();
  const p =
    await startProxy(`${loggedDefaults(rx, "  mode tcp\n  option tcplog\n  timeout connect 300ms\n  timeout queue 300ms")}
frontend f
  bind 127.0.0.1:1
  default_backend bk
backend bk
  balance source
  server a 127.0.0.1:${a.port} maxconn 1 maxqueue 1
  server d 127.0.0.1:${dead}
`);
  cleanup.push(p.stop);
  const open = (address: string): Promise<number> =>
    new Promise((ok) => {
      const t0 = Date.now();
      const s = net.connect({ port: p.port, host: "127.0.0.1", localAddress: address });
      s.on("error", () => undefined);
      s.on("close", () => ok(Date.now() - t0));
    });
  const first = net.connect({ port: p.port, host: "127.0.0.1", localAddress: "127.0.0.2" });
  first.on("error", () => undefined);
  await waitFor(() => held.length === 1, 2000, "a holds the first connection");
  const queued = open("127.0.0.4");
  // Its place in a's queue taken before the next one comes (a fixed pause was not always enough).
  const aQueue = p.rt.backends.get("bk")!.servers[0]!.queue;
  await waitFor(() => aQueue.length === 1, 2000, "the second waits for a");
  // a's queue is full: closed at once; the queued one at timeout queue; d refuses: closed.
  assert.ok((await open("127.0.0.6")) < 250);
  assert.ok((await queued) >= 250);
  await open("127.0.0.3");
  await rx.take(/ f bk\/a [^ ]+ \d+ SQ /);
  await rx.take(/ f bk\/a [^ ]+ \d+ sQ /);
  await rx.take(/ f bk\/d [^ ]+ \d+ SC /);
  first.destroy();
});

test("a request that waited for its server is logged with its place in that server's queue", async () => {
  const { rx, held, port, aQueue } = await heldProxy(() => false, "", "maxconn 1");
  const first = getFrom(port, "127.0.0.2");
  await waitFor(() => held.length === 1, 2000, "a holds the first request");
  const second = getFrom(port, "127.0.0.4");
  await waitFor(() => aQueue.length === 1, 2000, "the second waits for a");
  held[0]!.end("a");
  await waitFor(() => held.length === 2, 2000, "a has the second request");
  held[1]!.end("a");
  assert.deepEqual([await first, await second], ["a", "a"]);
  // As haproxy logged it: Tw holds the wait, and the queue fields say 1/0 (server queue/backend's).
  const line = await rx.take(/^127\.0\.0\.4:/);
  assert.match(line, / f bk\/a \d+\/\d+\/\d+\/\d+\/\d+ 200 \d+ - - ---- \d+\/\d+\/\d+\/\d+\/0 1\/0 /);
});

test("config: the hashing algorithms and hash-type are taken; a bad hash-type or what is not supported is refused at its line", () => {
  const parse = (text: string) => parseConfig([{ name: "h.cfg", text }], {}).diagnostics;
  const ok = parse(
    "backend bk\n  balance source\n  hash-type map-based sdbm\n  hash-type consistent djb2 avalanche\n  server a 127.0.0.1:80\n",
  );
  assert.deepEqual(
    ok.filter((d) => d.level === "alert"),
    [],
  );
  for (const [line, why] of [
    [
      "hash-type consistent foo",
      /'hash-type' only supports 'sdbm', 'djb2', 'crc32', or 'wt6' hash functions\./,
    ],
    [
      "hash-type map-based sdbm nope",
      /'hash-type' only supports 'avalanche' as a modifier for hash functions\./,
    ],
    ["hash-type sideways", /'hash-type' only supports 'consistent' and 'map-based'\./],
    ["hash-type avalanche", /experimental feature 'hash-type avalanche' is not supported anymore/],
  ] as const) {
    const alert = parse(`backend bk\n  balance source\n  ${line}\n`).find((d) => d.level === "alert");
    assert.equal(alert?.where?.line, 3, line);
    assert.match(alert?.message ?? "", why, line);
  }
  // A bad expression is named with the backend's line, after parsing, as haproxy does.
  assert.deepEqual(
    parse("backend bk\n  balance hash src,nosuchconv\n")
      .filter((d) => d.level === "alert")
      .map((d) => `${d.where?.line}: ${d.message}`),
    [
      "undefined: backend 'bk' [h.cfg:1]: failed to parse 'balance hash' expression 'src,nosuchconv' in : unknown converter 'nosuchconv'.",
    ],
  );
  // haproxy ignores what follows an algorithm without arguments; Sluice does too, and says so.
  const args = parse("backend bk\n  balance source x y\n");
  assert.deepEqual(
    args.filter((d) => d.where?.line === 2).map((d) => `${d.level}: ${d.message}`),
    ["warning: 'balance source' takes no argument: 'x y' is ignored, as haproxy 2.6 ignores it."],
  );
  assert.equal(args.filter((d) => d.level === "alert").length, 0);
  for (const [line, why] of [
    ["balance uri len 0", /'len' expects a positive integer/],
    ["balance uri sideways", /only accepts parameters 'len', 'depth', 'path-only', and 'whole'/],
    ["balance url_param", /requires an URL parameter name/],
    ["balance url_param id check_post", /'check_post' is not supported by sluice yet/],
    ["balance hdr()", /requires an http header field name/],
    ["balance hdr(host) use_domain_only", /'use_domain_only' is not supported by sluice yet/],
    ["balance random(0)", /^balance random : number of draws must be at least 1\.$/],
    ["balance random(2", /^balance random : missing closing parenthesis\.$/],
    ["balance random(2x)", /^balance random : unexpected character 'x' after argument\.$/],
    ["balance rdp-cookie", /'balance rdp-cookie' is not supported by sluice yet/],
    ["balance hash", /^balance hash requires a sample expression\.$/],
    ["balance hash src foo", /^balance hash takes no other argument \(got 'foo'\)\.$/],
    ["hash-balance-factor", /^'hash-balance-factor' expects an integer argument\.$/],
    ["hash-balance-factor 100", /^'hash-balance-factor' must be 0 or greater than 100\.$/],
    ["server a 127.0.0.1:80 id 0", /^'server bk\/a' : 'id' : custom id has to be > 0\.$/],
    [
      "server a 127.0.0.1:80 id 2x\n  server b 127.0.0.1:81 id 2",
      /^'server bk\/b' : 'id' : custom id 2 already used at h\.cfg:2 \('server a'\)\.$/,
    ],
  ] as const) {
    const alert = parse(`backend bk\n  ${line}\n`).find((d) => d.level === "alert");
    assert.equal(alert?.where?.line, 1 + line.split("\n").length, line);
    assert.match(alert?.message ?? "", why, line);
  }
});

test("balance source under churn: clients leaving while queued, a server going down and up; every slot comes back", async () => {
  let healthy = true;
  const slow = async (name: string) => {
    const b = await httpBackend(name, (req, res) => {
      if (req.url === "/health") return res.writeHead(name !== "b" || healthy ? 200 : 503).end();
      setTimeout(() => res.end(name), 5 + Math.floor(Math.random() * 20));
    });
    cleanup.push(b.close);
    return b;
  };
  const [a, b, c] = [await slow("a"), await slow("b"), await slow("c")];
  const p = await startProxy(`${DEFAULTS}
  option redispatch
  timeout queue 2s
  timeout check 1s
frontend f
  bind 127.0.0.1:1
  default_backend bk
backend bk
  balance source
  option httpchk GET /health
  server a 127.0.0.1:${a.port} maxconn 2 check inter 50ms fall 1 rise 1
  server b 127.0.0.1:${b.port} maxconn 2 check inter 50ms fall 1 rise 1
  server c 127.0.0.1:${c.port} maxconn 2 check inter 50ms fall 1 rise 1
`);
  cleanup.push(p.stop);
  const flip = setInterval(() => (healthy = !healthy), 120);
  const client = async (i: number): Promise<void> => {
    for (let r = 0; r < 3; r++) {
      const s = net.connect({ port: p.port, host: "127.0.0.1", localAddress: `127.0.0.${i + 1}` });
      s.on("error", () => undefined);
      // Read (and drop) the answer: a socket that is not read never sees the end.
      s.resume();
      s.write("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
      // One in four leaves before its answer, maybe while it waits in a queue.
      if ((i + r) % 4 === 0) setTimeout(() => s.resetAndDestroy(), 3);
      await new Promise((done) => s.on("close", done));
    }
  };
  try {
    await Promise.all(Array.from({ length: 40 }, (_, i) => client(i)));
  } finally {
    clearInterval(flip);
  }
  await waitFor(() => p.rt.actconn === 0, 3000, "every session's end");
  const be = p.rt.backends.get("bk")!;
  assert.deepEqual(
    be.servers.map((s) => [s.name, s.cur, s.queue.length]),
    [
      ["a", 0, 0],
      ["b", 0, 0],
      ["c", 0, 0],
    ],
  );
  assert.deepEqual([be.cur, be.queue.length], [0, 0]);
});

test("balance random(2): of two servers drawn by weight, the less busy one; random(1) draws once", async () => {
  const held: http.ServerResponse[] = [];
  const a = await httpBackend("a", (req, res) => {
    if (req.url === "/hold") held.push(res);
    else res.end("a");
  });
  cleanup.push(a.close, async () => held.forEach((r) => r.end("a")));
  const [b] = await servers(["b"]);
  const cfg = (algo: string) => `${DEFAULTS}
frontend f
  bind 127.0.0.1:1
  default_backend bk
backend bk
  balance ${algo}
  server a 127.0.0.1:${a.port}
  server b 127.0.0.1:${b!.port}
`;
  /** Sends /hold until a server holds it (b answers at once, and the request is sent again). */
  const holdOnA = async (port: number) => {
    const before = held.length;
    for (let i = 0; i < 30 && held.length === before; i++) {
      const c = new Client(port);
      cleanup.push(async () => c.close());
      c.send("GET /hold HTTP/1.1\r\nHost: x\r\n\r\n");
      const holding = waitFor(() => held.length > before, 2000, "held").catch(() => undefined);
      await Promise.race([c.response(), holding]);
    }
    assert.equal(held.length, before + 1, "a holds a request");
  };
  const p = await startProxy(cfg("random"));
  cleanup.push(p.stop);
  // A draw lands on the ring: each server is drawn as often as its points' arcs cover, not half the
  // time each (56.9% for b here). Counts are checked within 5 standard deviations of their mean.
  const ring = new ConsistentHash(p.rt.backends.get("bk")!.servers, false);
  let onB = 0;
  for (let h = 0; h < 1 << 16; h++) if (ring.hashed(h * 0x10000, undefined)!.name === "b") onB++;
  const shareB = onB / (1 << 16);
  const N = 400;
  const within = (count: number, prob: number, what: string): void => {
    const sd = Math.sqrt(N * prob * (1 - prob));
    assert.ok(
      Math.abs(count - N * prob) <= 5 * sd,
      `${count} of ${N} ${what}, ${(N * prob).toFixed(0)} expected`,
    );
  };
  const toB = async (port: number): Promise<number> => (await sequence(port, N)).replace(/a/g, "").length;
  // No load: each is drawn by its share.
  within(await toB(p.port), shareB, "to b without load");
  // a serves one request: it wins only when both draws fall on it.
  await holdOnA(p.port);
  within(await toB(p.port), 1 - (1 - shareB) ** 2, "to b with a busy");
  // One draw: the load does not count.
  const q = await startProxy(cfg("random(1)"));
  cleanup.push(q.stop);
  await holdOnA(q.port);
  within(await toB(q.port), shareB, "to b with one draw");
});

test("hash-balance-factor: a key whose server serves more than its share goes to the next point's server, as haproxy's", async () => {
  const held: { name: string; answer: () => void }[] = [];
  const backends = await Promise.all(
    ["a", "b", "c"].map(async (name) => {
      const b = await httpBackend(name, (req, res) => {
        if (req.url === "/slow") held.push({ name, answer: () => res.end(name) });
        else res.end(name);
      });
      cleanup.push(b.close);
      return b;
    }),
  );
  const p = await startProxy(`${DEFAULTS}
frontend f
  bind 127.0.0.1:1
  default_backend bk
backend bk
  balance hdr(x-k)
  hash-type consistent
  hash-balance-factor 125
${backends.map((b) => `  server ${b.name} 127.0.0.1:${b.port}\n`).join("")}`);
  cleanup.push(p.stop, async () => held.forEach((h) => h.answer()));
  const request = (key: string, path: string) =>
    new Promise<string>((ok, fail) => {
      const req = http.get(
        { host: "127.0.0.1", port: p.port, path, agent: false, headers: { "x-k": key } },
        (res) => {
          let body = "";
          res.on("data", (d: Buffer) => (body += d.toString()));
          res.on("end", () => ok(body));
        },
      );
      req.on("error", fail);
    });
  const open: Promise<string>[] = [];
  let seen = "";
  // Each word: a request with that key answered at once, (key) one held open by its server, `r`
  // the held ones answered.
  for (const word of "u1 u2 u3 u4 u5 (u1) (u1) (u1) (u1) u1 u2 (u2) (u2) (u3) (u3) (u3) u1 u2 u3 u4 u5 u6 r u1 u2".split(
    " ",
  )) {
    if (word === "r") {
      for (const h of held.splice(0)) h.answer();
      await Promise.all(open.splice(0));
      seen += " r ";
    } else if (word.startsWith("(")) {
      const before = held.length;
      open.push(request(word.slice(1, -1), "/slow"));
      await waitFor(() => held.length > before, 2000, "held");
      seen += `(${held[held.length - 1]!.name})`;
    } else seen += await request(word, "/");
  }
  // Recorded from haproxy 2.6.12 with the same servers (their order on the ring is haproxy's).
  assert.equal(seen, "cacac(c)(b)(c)(b)ca(a)(a)(c)(c)(b)cacacc r ca");
});

test("server ids: the ring places servers by number, first takes them in that order, the others numbered as haproxy does", async () => {
  const named = await Promise.all(
    ["a", "b", "c", "d"].map(async (name) => {
      const b = await httpBackend(name);
      cleanup.push(b.close);
      return b;
    }),
  );
  const run = async (balance: string, lines: string[], keys: (string | undefined)[]) => {
    const p = await startProxy(`${DEFAULTS}
frontend f
  bind 127.0.0.1:1
  default_backend bk
backend bk
  ${balance}
${lines.map((l, i) => `  server ${named[i]!.name} 127.0.0.1:${named[i]!.port} ${l}\n`).join("")}`);
    let out = "";
    for (const key of keys) {
      const c = new Client(p.port);
      c.send(`GET / HTTP/1.1\r\nHost: x\r\n${key === undefined ? "" : `x-k: ${key}\r\n`}\r\n`);
      out += (await c.response()).body;
      c.close();
    }
    await p.stop();
    return out;
  };
  const keys = [...Array.from({ length: 16 }, (_, i) => `k${i + 1}`), undefined, undefined, undefined];
  // Recorded from haproxy 2.6.12.
  assert.equal(
    await run("balance hdr(x-k)\n  hash-type consistent", ["id 3", "id 1", "id 2"], keys),
    "acabcbcbcabbcaabaac",
  );
  // a is 2, b and c the next free numbers from their places (3, 4), d is 1.
  assert.equal(await run("balance first", ["id 2", "", "", "id 1"], [undefined, undefined]), "dd");
});
