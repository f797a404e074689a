// tcp-request connection, session and content rules at run time. Each exchange and log line below
// was recorded from haproxy 2.6.12 with the same configuration: a rejected connection or session is
// reset and not logged; a rejected request gets a FIN, nothing else, and a log line with neither a
// request time nor a status (PR--; "<BADREQ>" when a frontend's rule rejects it, before haproxy's
// HTTP analysers saw it).
import { test, after } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import tls from "node:tls";
import { once } from "node:events";
import {
  closed,
  startProxy,
  httpBackend,
  rawServer,
  syslogReceiver,
  loggedDefaults,
  talk,
  waitFor,
  sleep,
  tcpLogged,
} from "../helpers/harness.js";

const cleanup: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

const get = (path: string, close = true) =>
  `GET ${path} HTTP/1.1\r\nHost: x\r\n${close ? "Connection: close\r\n" : ""}\r\n`;

test("tcp-request connection: reject resets the connection unlogged, accept ends the rules, expect-proxy asks for a PROXY header that session rules then see", async () => {
  const rx = await syslogReceiver();
  const b = await httpBackend("b");
  cleanup.push(rx.close, b.close);
  const p = await startProxy(`${loggedDefaults(rx)}
frontend f
  bind 127.0.0.1:1
  tcp-request connection accept if { src 127.0.0.3 }
  tcp-request connection reject if { src 127.0.0.2 } || { src 127.0.0.3 }
  # A request's sample does not exist yet: the ACL never matches, so its negation always does.
  tcp-request connection reject if !{ path /x } { src 127.0.0.4 }
  default_backend bk
frontend g
  bind 127.0.0.1:1 name web
  tcp-request connection expect-proxy layer4 if { src 127.0.0.5 }
  tcp-request session reject if { src 10.9.9.9 }
  default_backend bk
backend bk
  server s 127.0.0.1:${b.port}
`);
  cleanup.push(p.stop);
  const [f, g] = p.ports as [number, number];
  assert.deepEqual(await talk(f, get("/a"), "127.0.0.2"), { got: "", end: "ECONNRESET" });
  assert.deepEqual(await talk(f, get("/a"), "127.0.0.4"), { got: "", end: "ECONNRESET" });
  assert.match((await talk(f, get("/3"), "127.0.0.3")).got, /^HTTP\/1\.1 200 /);
  assert.match((await talk(f, get("/1"))).got, /^HTTP\/1\.1 200 /);
  assert.deepEqual(
    b.seen.map((r) => r.url),
    ["/3", "/1"],
  );
  assert.match(await rx.take(/GET \/3 /), /^127\.0\.0\.3:\d+ \[[^\]]+\] f bk\/s /);
  assert.match(await rx.take(/GET \/1 /), /^127\.0\.0\.1:\d+ /);
  assert.equal(p.rt.counters.deniedConnections, 2);

  // expect-proxy: from 127.0.0.5 a header must come; session rules see its source.
  const proxied = (src: string, path: string) => `PROXY TCP4 ${src} 127.0.0.9 1234 80\r\n${get(path)}`;
  assert.match((await talk(g, proxied("10.0.0.1", "/p"), "127.0.0.5")).got, /^HTTP\/1\.1 200 /);
  assert.match(await rx.take(/GET \/p /), /^10\.0\.0\.1:1234 \[[^\]]+\] g bk\/s /);
  // A rejected session: closed, reset if what followed the header was left unread; and haproxy's
  // line for a connection error that is none.
  assert.deepEqual(await talk(g, proxied("10.9.9.9", "/r"), "127.0.0.5"), { got: "", end: "ECONNRESET" });
  assert.match(await rx.take(/Success/), /^10\.9\.9\.9:1234 \[[^\]]+\] g\/web: Success$/);
  assert.deepEqual(await talk(g, "PROXY TCP4 10.9.9.9 127.0.0.9 1234 80\r\n", "127.0.0.5"), {
    got: "",
    end: "FIN",
  });
  await rx.take(/Success/);
  assert.equal(p.rt.counters.deniedSessions, 2);
  assert.deepEqual(await talk(g, get("/n"), "127.0.0.5"), { got: "", end: "ECONNRESET" });
  assert.match(
    await rx.take(/PROXY/),
    /^127\.0\.0\.5:\d+ \[[^\]]+\] g\/web: Received something which does not look like a PROXY protocol header$/,
  );
  // Others need none.
  assert.match((await talk(g, get("/o"))).got, /^HTTP\/1\.1 200 /);
  await rx.take(/GET \/o /);
  assert.deepEqual(
    b.seen.map((r) => r.url),
    ["/3", "/1", "/p", "/o"],
  );
  // Nothing else was logged: not the rejected connections.
  assert.deepEqual(rx.lines, []);
  // Every slot was given back.
  assert.equal(p.rt.frontends[0]!.cur + p.rt.frontends[1]!.cur, 0);
});

test("tcp-request content: a frontend's rule rejects before the HTTP analysers, a backend's after use_backend; each request of a connection meets them", async () => {
  const rx = await syslogReceiver();
  const b = await httpBackend("b");
  cleanup.push(rx.close, b.close);
  const p = await startProxy(`${loggedDefaults(rx)}
frontend f
  bind 127.0.0.1:1
  capture request header Host len 10
  capture response header Server len 10
  tcp-request content accept if { path /acc }
  tcp-request content reject if { path_beg /acc }
  # Until use_backend, a stream's backend is its frontend (haproxy warns all the same).
  tcp-request content reject if { be_name f } { path /bn }
  default_backend bk
backend bk
  tcp-request content reject if { path /b }
  server s 127.0.0.1:${b.port}
`);
  cleanup.push(p.stop);
  assert.deepEqual(await talk(p.port, get("/accx")), { got: "", end: "FIN" });
  // The stream's captures exist, empty.
  assert.match(
    await rx.take(/PR--/),
    /^127\.0\.0\.1:\d+ \[[^\]]+\] f f\/<NOSRV> -1\/-1\/-1\/-1\/\d+ -1 0 - - PR-- \d+\/\d+\/0\/0\/0 0\/0 \{\} \{\} "<BADREQ>"$/,
  );
  assert.deepEqual(await talk(p.port, get("/bn")), { got: "", end: "FIN" });
  await rx.take(/PR--/);
  assert.match((await talk(p.port, get("/acc"))).got, /^HTTP\/1\.1 200 /);
  await rx.take(/GET \/acc /);
  assert.deepEqual(await talk(p.port, get("/b")), { got: "", end: "FIN" });
  assert.match(
    await rx.take(/PR--/),
    / f bk\/<NOSRV> -1\/-1\/-1\/-1\/\d+ -1 0 - - PR-- .* "GET \/b HTTP\/1\.1"$/,
  );
  // Kept alive: the first request is served, the second rejected, with what followed it dropped.
  const two = await talk(p.port, get("/ok", false) + get("/b", false) + get("/late"));
  assert.match(two.got, /^HTTP\/1\.1 200 [^]*$/);
  assert.equal(two.got.match(/HTTP\/1\.1/g)!.length, 1);
  assert.equal(two.end, "FIN");
  await rx.take(/GET \/ok /);
  await rx.take(/PR--.*GET \/b /);
  assert.deepEqual(
    b.seen.map((r) => r.url),
    ["/acc", "/ok"],
  );
  assert.equal(p.rt.counters.denied, 4);
  assert.deepEqual(rx.lines, []);
});

test("tcp-request content in mode tcp: a backend's rule runs once it is chosen; a FIN and a tcplog line; a backend's rule on the request's bytes is refused", async () => {
  const rx = await syslogReceiver();
  const srv = await rawServer((s) => s.on("data", (d: Buffer) => s.end(`got ${d.toString("latin1")}`)));
  cleanup.push(rx.close, srv.close);
  const conf = (rule: string) => `${tcpLogged(rx)}frontend f
  bind 127.0.0.1:1
  default_backend bk
backend bk
  ${rule}
  server s 127.0.0.1:${srv.port}
`;
  const p = await startProxy(conf("tcp-request content reject if { src 127.0.0.2 }"));
  cleanup.push(p.stop);
  assert.deepEqual(await talk(p.port, "abc", "127.0.0.2"), { got: "", end: "FIN" });
  assert.match(
    await rx.take(/ PR /),
    /^127\.0\.0\.2:\d+ \[[^\]]+\] f bk\/<NOSRV> -1\/-1\/\d+ 0 PR 1\/1\/0\/0\/0 0\/0$/,
  );
  assert.equal((await talk(p.port, "abc")).got, "got abc");
  // Both sessions gave their slots back, the rejected one included.
  await waitFor(() => p.rt.frontends[0]!.cur === 0 && p.rt.actconn === 0);
  await assert.rejects(
    startProxy(conf("tcp-request content reject if { req.len gt 0 }")),
    /a backend's 'tcp-request content reject' on the request's bytes \('req\.len'\) is not supported by sluice in mode tcp yet\./,
  );
});

/** Sends `parts` (a number waits that many ms), then reads until the proxy or server closes. */
async function conversation(port: number, parts: (string | Buffer | number)[], fin = true): Promise<string> {
  const s = net.connect(port, "127.0.0.1");
  s.on("error", () => undefined);
  let got = "";
  s.on("data", (d: Buffer) => (got += d.toString("latin1")));
  await once(s, "connect");
  for (const p of parts) {
    if (typeof p === "number") await sleep(p);
    else s.write(p);
  }
  if (fin) s.end();
  const t = setTimeout(() => s.destroy(), 3000);
  await closed(s);
  clearTimeout(t);
  return got;
}

test("mode tcp: content rules inspect the client's first bytes, waiting up to inspect-delay while a rule cannot tell; use_backend reads them too (SNI routing)", async () => {
  const rx = await syslogReceiver();
  // Each server says what it received once the client (or the proxy) has finished sending, or at
  // once for a TLS record (its client waits for an answer).
  const named = (name: string) =>
    rawServer((s) => {
      let got = Buffer.alloc(0);
      const say = () => s.end(`${name} got ${got.length}: ${got.subarray(0, 6).toString("latin1")}`);
      s.on("data", (d: Buffer) => {
        got = Buffer.concat([got, d]);
        if (got[0] === 0x16) say();
      });
      s.on("end", say);
    });
  const a = await named("A");
  const b = await named("B");
  cleanup.push(rx.close, a.close, b.close);
  const p = await startProxy(`${tcpLogged(rx)}frontend len
  bind 127.0.0.1:1
  tcp-request inspect-delay 300ms
  tcp-request content accept if { req.len gt 3 }
  default_backend a
frontend neg
  bind 127.0.0.1:1
  tcp-request inspect-delay 300ms
  tcp-request content reject if !{ req.len gt 3 }
  default_backend a
frontend payload
  bind 127.0.0.1:1
  tcp-request inspect-delay 300ms
  tcp-request content accept if { req.payload(0,3) -m bin 616263 }
  use_backend b if { req.payload(0,3) -m str xyz }
  default_backend a
frontend sni
  bind 127.0.0.1:1
  tcp-request inspect-delay 2s
  tcp-request content accept if { req_ssl_hello_type 1 }
  use_backend b if { req.ssl_sni -i b.example }
  default_backend a
backend a
  server s 127.0.0.1:${a.port}
backend b
  server s 127.0.0.1:${b.port}
`);
  cleanup.push(p.stop);
  const [len, neg, payload, sni] = p.ports as [number, number, number, number];
  const t0 = Date.now();
  // Whole at once, or completed in time: no wait past the data (a loaded machine stretches each
  // wait, not up to the delay).
  assert.equal(await conversation(len, ["abcd"]), "A got 4: abcd");
  assert.equal(await conversation(len, ["ab", 100, "cd"]), "A got 4: abcd");
  assert.match(await rx.take(/ len a\/s /), /\] len a\/s [0-2]?\d?\d\/\d+\/\d+ \d+ -- /);
  assert.match(await rx.take(/ len a\/s /), /\] len a\/s [1-2]\d\d\/\d+\/\d+ \d+ -- /);
  // The client's FIN ends the wait; so does the delay, after which no rule matching is an accept.
  assert.equal(await conversation(len, ["ab"]), "A got 2: ab");
  assert.equal(await conversation(len, ["ab", 450]), "A got 2: ab");
  await rx.take(/ len a\/s [0-2]?\d?\d\//);
  assert.match(await rx.take(/ len a\/s /), /\] len a\/s [3-4]\d\d\/\d+\/\d+ \d+ -- /);
  // A negated condition that cannot tell waits too: then rejects.
  assert.equal(await conversation(neg, ["ab"], false), "");
  assert.match(await rx.take(/ neg /), /\] neg neg\/<NOSRV> -1\/-1\/[3-4]\d\d 0 PR /);
  assert.equal(await conversation(neg, ["abcd"]), "A got 4: abcd");
  // Routing on the bytes the inspection saw, whatever its rules decided.
  assert.equal(await conversation(payload, ["xyz"]), "B got 3: xyz");
  assert.equal(await conversation(payload, ["xy", 450, "z"]), "A got 3: xyz");
  assert.equal(await conversation(payload, ["abcdef"]), "A got 6: abcdef");
  // A TLS ClientHello: routed by its server name, forwarded whole.
  const hello = async (servername: string, port: number): Promise<void> => {
    const c = tls.connect({ port, host: "127.0.0.1", servername, rejectUnauthorized: false });
    c.on("error", () => undefined);
    // Not events.once: it rejects on the error the server's plain answer raises.
    await new Promise((r) => c.on("close", r));
  };
  await hello("b.example", sni);
  await hello("B.EXAMPLE", sni);
  await hello("c.example", sni);
  assert.match(await rx.take(/ sni b\/s /), /\] sni b\/s \d?\d?\d\/\d+\/\d+ \d+ -- /);
  await rx.take(/ sni b\/s /);
  await rx.take(/ sni a\/s /);
  assert.ok(Date.now() - t0 < 4000, "no wait ran to its end but those meant to");
});

test("mode tcp inspection: the bytes that came with a PROXY header, haproxy's buffer limit, timeout client, a listen section, HTTP samples absent", async () => {
  const rx = await syslogReceiver();
  const srv = await rawServer((s) => s.on("data", (d: Buffer) => s.end(`got ${d.length}`)));
  cleanup.push(rx.close, srv.close);
  const p = await startProxy(`${tcpLogged(rx)}
frontend pp
  bind 127.0.0.1:1 accept-proxy
  tcp-request content reject if { req.payload(0,1) -m bin 42 }
  default_backend bk
frontend big
  bind 127.0.0.1:1
  tcp-request inspect-delay 2s
  # haproxy's buffer holds tune.bufsize less 1024 for rewrites, and is then full: the rules decide.
  tcp-request content accept if { req.len ge 15360 } !{ req.len gt 15360 }
  tcp-request content reject
  default_backend bk
frontend slow
  bind 127.0.0.1:1
  timeout client 200ms
  tcp-request inspect-delay 2s
  tcp-request content accept if { req.len gt 10 }
  default_backend bk
listen l
  bind 127.0.0.1:1
  tcp-request inspect-delay 2s
  # No request head in mode tcp: an HTTP sample is absent, and its ACL never matches.
  tcp-request content reject if { path /x }
  tcp-request content accept if { req.payload(0,3) -m str GET }
  server s 127.0.0.1:${srv.port}
backend bk
  server s 127.0.0.1:${srv.port}
`);
  cleanup.push(p.stop);
  const [pp, big, slow, l] = p.ports as [number, number, number, number];
  assert.deepEqual(await talk(pp, "PROXY TCP4 10.0.0.1 10.0.0.2 1234 80\r\nBxyz"), { got: "", end: "FIN" });
  assert.match(await rx.take(/ PR /), /^10\.0\.0\.1:1234 \[[^\]]+\] pp pp\/<NOSRV> -1\/-1\/\d+ 0 PR /);
  assert.equal((await talk(pp, "PROXY TCP4 10.0.0.1 10.0.0.2 1234 80\r\nCxyz")).got, "got 4");
  await rx.take(/ pp bk\/s /);
  // 20000 bytes at once: the rules see 15360 of them, and all go on.
  assert.equal((await talk(big, Buffer.alloc(20000, 0x61))).got.startsWith("got "), true);
  assert.match(await rx.take(/ big /), / big bk\/s /);
  // Silent past timeout client: given up, logged against the backend it would have used.
  const t0 = Date.now();
  assert.deepEqual(await talk(slow, "abc"), { got: "", end: "FIN" });
  assert.ok(Date.now() - t0 < 1000);
  assert.match(await rx.take(/ slow /), /\] slow bk\/<NOSRV> -1\/-1\/\d+ 0 cR /);
  assert.equal((await talk(l, "GET /x HTTP/1.0\r\n\r\n")).got, "got 19");
  await rx.take(/ l l\/s /);
  assert.deepEqual(rx.lines, []);
  await waitFor(() => p.rt.actconn === 0);
});
