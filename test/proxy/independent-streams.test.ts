// option independent-streams: data sent to a side no longer keeps that side's timeout from lapsing,
// only data read from it. Each case was run against haproxy 2.6.12 with the same configuration
// (docs/haproxy-behaviour.md §70): the same closes, the same termination flags.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { once } from "node:events";
import {
  closed,
  startProxy,
  rawServer,
  syslogReceiver,
  tcpLogged,
  DEFAULTS,
  type Proxy,
} from "../helpers/harness.js";

const cleanup: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

/** One side writes a byte every 100 ms, the other none: how long the connection lives (at most 1.6 s). */
async function oneWay(port: number, clientTalks: boolean): Promise<number> {
  const t0 = Date.now();
  const c = net.connect(port, "127.0.0.1");
  c.on("error", () => undefined);
  c.resume();
  await once(c, "connect");
  const talk = clientTalks ? setInterval(() => c.writable && c.write("y"), 100) : undefined;
  const lived = await Promise.race([
    closed(c).then(() => Date.now() - t0),
    new Promise<number>((r) => setTimeout(() => r(Infinity), 1600)),
  ]);
  clearInterval(talk);
  c.destroy();
  return lived;
}

test("mode tcp: on the frontend, a silent client lapses at timeout client though the server talks (cD); on the backend, a silent server (sD)", async () => {
  const rx = await syslogReceiver();
  // Talks every 100 ms on connections to the "talker" port, reads and says nothing on the other.
  const talker = await rawServer((s) => {
    s.resume();
    const t = setInterval(() => s.writable && s.write("x"), 100);
    s.on("close", () => clearInterval(t));
  });
  const listener = await rawServer((s) => void s.resume());
  cleanup.push(rx.close, talker.close, listener.close);
  let n = 0;
  /** A proxy whose frontend is named f<n>, so that its log line can be told from the others'. */
  const proxy = async (fe: string, be: string, port: number): Promise<Proxy> => {
    const p = await startProxy(`${tcpLogged(rx)}frontend f${++n}
  bind 127.0.0.1:1
  timeout client 400ms
${fe}
  default_backend b
backend b
  timeout server 400ms
${be}
  server s 127.0.0.1:${port}
`);
    cleanup.push(p.stop);
    return p;
  };
  // Without the option, data either way keeps both sides alive.
  assert.equal(await oneWay((await proxy("", "", talker.port)).port, false), Infinity);
  assert.equal(await oneWay((await proxy("", "", listener.port)).port, true), Infinity);

  let lived = await oneWay((await proxy("  option independent-streams", "", talker.port)).port, false);
  assert.ok(lived >= 380 && lived < 1500, `the silent client's connection lived ${lived} ms`);
  assert.match(await rx.take(new RegExp(` f${n} b/s `)), / cD /);
  // The client talking is enough on that side.
  assert.equal(
    await oneWay((await proxy("  option independent-streams", "", listener.port)).port, true),
    Infinity,
  );

  lived = await oneWay((await proxy("", "  option independent-streams", listener.port)).port, true);
  assert.ok(lived >= 380 && lived < 1500, `the silent server's connection lived ${lived} ms`);
  assert.match(await rx.take(new RegExp(` f${n} b/s `)), / sD /);
  assert.equal(
    await oneWay((await proxy("", "  option independent-streams", talker.port)).port, false),
    Infinity,
  );
});

test("mode http: on the backend, a slow upload to a silent server gets a 504 at timeout server", async () => {
  // Answers once the whole chunked body has come.
  const srv = await rawServer((s) => {
    let got = "";
    s.on("data", (d: Buffer) => {
      got += d.toString("latin1");
      if (got.endsWith("0\r\n\r\n")) s.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    });
  });
  cleanup.push(srv.close);
  const upload = async (be: string): Promise<string> => {
    const p = await startProxy(`${DEFAULTS}  timeout server 400ms
frontend f
  bind 127.0.0.1:1
  default_backend b
backend b
${be}
  server s 127.0.0.1:${srv.port}
`);
    cleanup.push(p.stop);
    const c = net.connect(p.port, "127.0.0.1");
    c.on("error", () => undefined);
    let answer = "";
    c.on("data", (d: Buffer) => (answer += d.toString("latin1")));
    c.write("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n");
    // Ten bytes 100 ms apart: a second in all, the server silent until the end.
    for (let i = 0; i < 10 && !answer; i++) {
      await new Promise((r) => setTimeout(r, 100));
      if (c.writable) c.write("1\r\ny\r\n");
    }
    if (c.writable) c.write("0\r\n\r\n");
    await Promise.race([closed(c), new Promise((r) => setTimeout(r, 1500))]);
    c.destroy();
    return answer;
  };
  assert.match(await upload(""), /^HTTP\/1\.1 200 OK\r\n[^]*ok$/);
  assert.match(await upload("  option independent-streams"), /^HTTP\/1\.1 504 /);
});
