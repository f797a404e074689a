// bind ... accept-proxy: the PROXY protocol header (versions 1 and 2) read as haproxy 2.6.12 reads it;
// each exchange and log line below was recorded from haproxy with the same configuration.
import { test, after, mock } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import os from "node:os";
import { syncBuiltinESMExports } from "node:module";
import { parseProxyHeader, proxyHeaderFor } from "../../src/proxy/proxy-protocol.js";
import {
  startProxy,
  httpBackend,
  rawServer,
  syslogReceiver,
  loggedDefaults,
  talk,
  waitFor,
} from "../helpers/harness.js";

const cleanup: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

const V2 = "\r\n\r\n\0\r\nQUIT\n";
const v2 = (cmd: number, fam: number, body: number[]): Buffer =>
  Buffer.concat([
    Buffer.from(V2, "latin1"),
    Buffer.from([cmd, fam, body.length >> 8, body.length & 255]),
    Buffer.from(body),
  ]);

test("headers of both versions: addresses, LOCAL and UNKNOWN, and haproxy's reasons", () => {
  const p = (s: string | Buffer) => parseProxyHeader(typeof s === "string" ? Buffer.from(s, "latin1") : s);
  assert.deepEqual(p("PROXY TCP4 10.1.2.3 10.9.9.9 4444 80\r\nGET"), {
    length: 38,
    src: { address: "10.1.2.3", port: 4444 },
    dst: { address: "10.9.9.9", port: 80 },
  });
  assert.deepEqual(p("PROXY TCP6 2001:db8::1 2001:db8::2 4444 80\r\n")!, {
    length: 44,
    src: { address: "2001:db8::1", port: 4444 },
    dst: { address: "2001:db8::2", port: 80 },
  });
  assert.deepEqual(p("PROXY UNKNOWN\r\n"), { length: 15 });
  // It must come whole in the first read.
  const cut = "Truncated PROXY protocol header received";
  assert.equal(p("PROX"), cut);
  assert.equal(p("PROXY TCP4 10.1.2.3"), cut);
  assert.equal(p("PROXY TCP4 1.2.3.4 5.6.7.8 1111 80\n"), cut);
  assert.equal(p(V2.slice(0, 5)), cut);
  assert.equal(p("GET /\r\n"), cut);
  assert.equal(
    p("PROXY UNKNOWN 1.2.3.4 5.6.7.8 1111 80\r\n"),
    "Received an unhandled protocol in the PROXY protocol header",
  );
  assert.equal(
    p("PROXY TCP5 1.2.3.4 5.6.7.8 1111 80\r\n"),
    "Received an unhandled protocol in the PROXY protocol header",
  );
  assert.equal(p("PROXY TCP6 fe80::1%lo ::1 1 2\r\n"), "Received an invalid PROXY protocol header");
  // Addresses as inet_ntop writes them.
  assert.deepEqual(
    (p("PROXY TCP6 2001:DB8:0:0::1 ::ffff:1.2.3.4 1 2\r\n") as { src: unknown; dst: unknown }).src,
    {
      address: "2001:db8::1",
      port: 1,
    },
  );
  assert.equal(
    p("GET / HTTP/1.1\r\n"),
    "Received something which does not look like a PROXY protocol header",
  );
  assert.equal(p("PROXY TCP4 10.1.2.3\r\n"), "Received an invalid PROXY protocol header");
  assert.equal(p("PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n"), "Received an invalid PROXY protocol header");
  assert.equal(p("PROXY TCP4 1.2.3.4 5.6.7.8 1 70000\r\n"), "Received an invalid PROXY protocol header");
  assert.equal(p(`PROXY ${"x".repeat(120)}`), "Received an invalid PROXY protocol header");
  assert.deepEqual(p(v2(0x21, 0x11, [10, 0, 0, 1, 10, 0, 0, 2, 0x11, 0x5c, 0, 80])), {
    length: 28,
    src: { address: "10.0.0.1", port: 4444 },
    dst: { address: "10.0.0.2", port: 80 },
  });
  const six = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
  assert.deepEqual(p(v2(0x21, 0x21, [...six, ...six.slice(0, 15), 2, 0, 1, 0, 2])), {
    length: 52,
    src: { address: "2001:db8::1", port: 1 },
    dst: { address: "2001:db8::2", port: 2 },
  });
  assert.deepEqual(p(v2(0x20, 0x00, [])), { length: 16 });
  assert.equal(p(v2(0x21, 0x11, [10, 0, 0, 1]).subarray(0, 18)), cut);
  const invalid = "Received an invalid PROXY protocol header";
  assert.equal(p(v2(0x21, 0x11, [10, 0, 0, 1])), invalid);
  assert.equal(p(v2(0x11, 0x11, [])), "Received something which does not look like a PROXY protocol header");
  assert.equal(p(v2(0x21, 0x31, [])), invalid);
  assert.equal(p(v2(0x21, 0x00, [])), invalid);
  // TLVs are skipped, but must fit.
  const addr = [10, 0, 0, 1, 10, 0, 0, 2, 0x11, 0x5c, 0, 80];
  assert.equal((p(v2(0x21, 0x11, [...addr, 0x04, 0, 3, 97, 98, 99])) as { length: number }).length, 34);
  assert.equal(p(v2(0x21, 0x11, [...addr, 0x04, 0, 9, 97, 98, 99])), invalid);
  const mapped = v2(0x21, 0x21, [
    ...Array(10).fill(0),
    255,
    255,
    1,
    2,
    3,
    4,
    ...Array(16).fill(0),
    0,
    1,
    0,
    2,
  ]);
  assert.deepEqual((p(mapped) as { src: unknown }).src, { address: "::ffff:1.2.3.4", port: 1 });
});

/** Sends `data` and resolves with what came back and how the connection ended. */
test("the header's addresses stand for the connection's in X-Forwarded-For and the log; a bad one is reset and logged", async () => {
  const rx = await syslogReceiver();
  const b = await httpBackend("b");
  cleanup.push(rx.close, b.close);
  const p = await startProxy(`${loggedDefaults(rx, "  option forwardfor\n  timeout client 300ms")}
frontend f
  bind 127.0.0.1:1 accept-proxy
  default_backend bk
backend bk
  server s 127.0.0.1:${b.port}
`);
  cleanup.push(p.stop);
  const r = await talk(
    p.port,
    "PROXY TCP4 10.1.2.3 10.9.9.9 4444 80\r\nGET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
  );
  assert.match(r.got, /^HTTP\/1\.1 200 /);
  const seen = b.seen.at(-1)!.headers;
  assert.equal(seen[seen.findIndex((h) => /^x-forwarded-for$/i.test(h)) + 1], "10.1.2.3");
  assert.match(await rx.take(/GET \/ /), /^10\.1\.2\.3:4444 \[[^\]]+\] f bk\/s /);
  // Version 2, then UNKNOWN (the connection's own addresses stand).
  const two = Buffer.concat([
    v2(0x21, 0x11, [10, 0, 0, 1, 10, 0, 0, 2, 0x11, 0x5c, 0, 80]),
    Buffer.from("GET /v2 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
  ]);
  assert.match((await talk(p.port, two)).got, /^HTTP\/1\.1 200 /);
  assert.match(await rx.take(/GET \/v2 /), /^10\.0\.0\.1:4444 /);
  await talk(p.port, "PROXY UNKNOWN\r\nGET /u HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  assert.match(await rx.take(/GET \/u /), /^127\.0\.0\.1:\d+ /);
  // Without a header, or a bad one: an RST and haproxy's line, naming the listener by its number.
  const bad = await talk(p.port, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  assert.deepEqual(bad, { got: "", end: "ECONNRESET" });
  assert.match(
    await rx.take(/PROXY/),
    /^127\.0\.0\.1:\d+ \[\d\d\/\w{3}\/\d{4}:[\d:.]+\] f\/1: Received something which does not look like a PROXY protocol header$/,
  );
  await talk(p.port, "PROXY TCP4 10.1.2.3\r\n");
  assert.match(await rx.take(/PROXY/), / f\/1: Received an invalid PROXY protocol header$/);
  // A header cut in two is refused at its first part.
  assert.deepEqual(await talk(p.port, "PROXY TCP4 1.2"), { got: "", end: "ECONNRESET" });
  assert.match(await rx.take(/PROXY/), / f\/1: Truncated PROXY protocol header received$/);
  // Nothing within timeout client: a plain close.
  const t0 = Date.now();
  assert.deepEqual(await talk(p.port, ""), { got: "", end: "FIN" });
  assert.ok(Date.now() - t0 >= 250);
  assert.match(await rx.take(/PROXY/), / f\/1: Timeout while waiting for PROXY protocol header$/);
});

test("the fc_* fetches read the client's own connection, src and dst the header's (haproxy 2.6.12's values)", async () => {
  const p = await startProxy(`
defaults
  mode http
  timeout client 2s
frontend f
  bind 127.0.0.1:1 accept-proxy
  http-request return status 200 content-type text/plain lf-string "%[src] %[src_port] %[fc_src] %[fc_dst] %[fc_dst_port] %[fc_rcvd_proxy] %[src_is_local] %[dst_is_local] %[fc_src_is_local] %[fc_dst_is_local] %[fc_http_major] p=%[fc_src_port]"
`);
  cleanup.push(p.stop);
  const ask = async (head: string) => {
    const r = await talk(p.port, `${head}GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    return r.got.slice(r.got.indexOf("\r\n\r\n") + 4);
  };
  const proxied = await ask("PROXY TCP4 1.2.3.4 5.6.7.8 1111 2222\r\n");
  assert.match(
    proxied,
    new RegExp(`^1\\.2\\.3\\.4 1111 127\\.0\\.0\\.1 127\\.0\\.0\\.1 ${p.port} 1 0 0 1 1 1 p=\\d+$`),
  );
  assert.notEqual(/p=(\d+)$/.exec(proxied)![1], "1111");
  assert.match(
    await ask("PROXY UNKNOWN\r\n"),
    new RegExp(`^127\\.0\\.0\\.1 (\\d+) 127\\.0\\.0\\.1 127\\.0\\.0\\.1 ${p.port} 1 1 1 1 1 1 p=\\1$`),
  );
});

test("the *_is_local fetches read the machine's addresses with the configuration, not at each request", async () => {
  // An interface that only this configuration's start sees: its address stays local afterwards.
  const fake: os.NetworkInterfaceInfo = {
    address: "10.9.8.7",
    netmask: "255.0.0.0",
    family: "IPv4",
    mac: "00:00:00:00:00:00",
    internal: false,
    cidr: "10.9.8.7/8",
  };
  const reads = mock.method(os, "networkInterfaces", () => ({ fake: [fake] }));
  syncBuiltinESMExports();
  let p;
  try {
    p = await startProxy(`
defaults
  mode http
  timeout client 2s
frontend f
  bind 127.0.0.1:1 accept-proxy
  http-request return status 200 content-type text/plain lf-string "%[src_is_local] %[dst_is_local]"
`);
  } finally {
    reads.mock.restore();
    syncBuiltinESMExports();
  }
  cleanup.push(p.stop);
  const started = reads.mock.callCount();
  assert.ok(started >= 1);
  for (let i = 0; i < 3; i++) {
    const r = await talk(
      p.port,
      "PROXY TCP4 10.9.8.7 1.2.3.4 1111 2222\r\nGET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert.equal(r.got.slice(r.got.indexOf("\r\n\r\n") + 4), "1 0");
  }
  assert.equal(reads.mock.callCount(), started);
});

test("in mode tcp, the bytes after the header go to the server", async () => {
  const srv = await rawServer((s) => s.on("data", (d: Buffer) => s.end(`got ${d.toString("latin1")}`)));
  cleanup.push(srv.close);
  const p = await startProxy(`
defaults
  mode tcp
  timeout client 5s
  timeout connect 2s
  timeout server 5s
frontend f
  bind 127.0.0.1:1 accept-proxy name pp
  default_backend bk
backend bk
  server s 127.0.0.1:${srv.port}
`);
  cleanup.push(p.stop);
  assert.equal((await talk(p.port, "PROXY TCP4 10.1.2.3 10.9.9.9 4444 80\r\nhello")).got, "got hello");
});

test("a connection still sending its header has no session: a stop closes it", async () => {
  const p = await startProxy(`
defaults
  mode http
  timeout client 30s
  timeout connect 2s
  timeout server 5s
frontend f
  bind 127.0.0.1:1 accept-proxy
  default_backend bk
backend bk
  server s 127.0.0.1:1
`);
  const s = net.connect(p.port, "127.0.0.1");
  s.on("error", () => undefined);
  await new Promise((r) => s.on("connect", r));
  s.write("PROXY TCP4 ");
  const closed = new Promise((r) => s.on("close", r));
  await new Promise((r) => setTimeout(r, 50));
  const t0 = Date.now();
  await p.stop();
  await closed;
  assert.ok(Date.now() - t0 < 1000, "closed at the stop, not at timeout client");
});

test("send-proxy and send-proxy-v2 headers, as haproxy 2.6.12 writes them", () => {
  const a = { address: "127.0.0.1", port: 54814 };
  const b = { address: "127.0.0.1", port: 19827 };
  assert.equal(proxyHeaderFor(1, a, b).toString("latin1"), "PROXY TCP4 127.0.0.1 127.0.0.1 54814 19827\r\n");
  assert.equal(
    proxyHeaderFor(1, { address: "2001:db8::1", port: 1 }, b).toString("latin1"),
    "PROXY TCP6 2001:db8::1 ::ffff:127.0.0.1 1 19827\r\n",
  );
  assert.equal(proxyHeaderFor(1, { address: "", port: 0 }, b).toString("latin1"), "PROXY UNKNOWN\r\n");
  assert.deepEqual(
    proxyHeaderFor(2, { address: "127.0.0.1", port: 0xdaea }, { address: "127.0.0.1", port: 0x4db3 }),
    Buffer.concat([
      Buffer.from(V2, "latin1"),
      Buffer.from([0x21, 0x11, 0, 12, 127, 0, 0, 1, 127, 0, 0, 1, 0xda, 0xea, 0x4d, 0xb3]),
    ]),
  );
  // What it writes, it reads.
  const six = proxyHeaderFor(2, { address: "2001:db8::1", port: 1 }, { address: "::ffff:10.0.0.2", port: 2 });
  assert.deepEqual(parseProxyHeader(six), {
    length: 52,
    src: { address: "2001:db8::1", port: 1 },
    dst: { address: "::ffff:10.0.0.2", port: 2 },
  });
});

test("send-proxy: each server connection starts with the client's header, kept for that client alone; checks send their own", async () => {
  const heads: string[] = [];
  const srv = await rawServer((s) => {
    let got = "";
    s.on("data", (d: Buffer) => {
      got += d.toString("latin1");
      if (!got.endsWith("\r\n\r\n") && !got.endsWith("\r\n")) return;
      if (got.includes("GET ")) s.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    });
    s.on("close", () => heads.push(got));
  });
  cleanup.push(srv.close);
  const p = await startProxy(`
defaults
  mode http
  timeout client 5s
  timeout connect 2s
  timeout server 5s
frontend f
  bind 127.0.0.1:1
  default_backend bk
backend bk
  http-reuse always
  server s 127.0.0.1:${srv.port} send-proxy check inter 60s
`);
  try {
    await waitFor(() => heads.length === 1, 2000, "the check");
    assert.match(
      heads[0]!,
      new RegExp(`^PROXY TCP4 127\\.0\\.0\\.1 127\\.0\\.0\\.1 \\d+ ${srv.port}\\r\\n$`),
    );
    for (let i = 0; i < 2; i++) {
      const r = await talk(
        p.port,
        "GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
      );
      assert.match(r.got, /ok$/);
    }
    await waitFor(() => heads.length === 3, 2000, "two server connections");
    // One connection per client, even under http-reuse always: its header names that client.
    for (const h of heads.slice(1))
      assert.match(
        h,
        new RegExp(
          `^PROXY TCP4 127\\.0\\.0\\.1 127\\.0\\.0\\.1 \\d+ ${p.port}\\r\\nGET /a HTTP/1\\.1\\r\\nHost: x\\r\\n\\r\\nGET /b `,
        ),
      );
  } finally {
    await p.stop();
  }
});

test("a connection still sending its header counts against maxconn, as haproxy's", async () => {
  const b = await httpBackend("b");
  cleanup.push(b.close);
  const p = await startProxy(`
defaults
  mode http
  timeout client 400ms
  timeout connect 2s
  timeout server 5s
frontend f
  bind 127.0.0.1:1 accept-proxy
  maxconn 1
  default_backend bk
backend bk
  server s 127.0.0.1:${b.port}
`);
  cleanup.push(p.stop);
  const silent = net.connect(p.port, "127.0.0.1");
  silent.on("error", () => undefined);
  await new Promise((r) => silent.on("connect", r));
  await new Promise((r) => setTimeout(r, 50));
  const t0 = Date.now();
  const r = await talk(
    p.port,
    "PROXY TCP4 10.1.2.3 10.9.9.9 4444 80\r\nGET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
  );
  assert.match(r.got, /^HTTP\/1\.1 200 /);
  // Served once the silent one's timeout client gave its place back.
  assert.ok(Date.now() - t0 >= 300, `served after ${Date.now() - t0} ms`);
  silent.destroy();
});
