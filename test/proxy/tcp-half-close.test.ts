// mode tcp: a server that closes first half-closes the session. Each log line's shape and each
// timing below was recorded from haproxy 2.6.12 with the same configuration: the client gets the
// FIN and may go on sending to the server; its side is then read with `timeout client-fin` when set
// (counted from the FIN, restarted by each piece of data), else with the timeout it had; a lapse is
// logged cD, a FIN from the client ends the session (----), a reset CD. (An HTTP tunnel ends at the
// server's FIN: websocket.test.ts.)
import { test, after } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { once } from "node:events";
import {
  startProxy,
  rawServer,
  syslogReceiver,
  sleep,
  waitFor,
  tcpLogged,
  type Proxy,
  type SyslogReceiver,
} from "../helpers/harness.js";

const cleanup: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

/**
 * A mode tcp proxy logging to `rx`: each of `frontends` (a section's first lines) listens on a port
 * of its own and goes to the server on `port`.
 */
async function tcpProxy(rx: SyslogReceiver, port: number, ...frontends: string[]): Promise<Proxy> {
  const sections = frontends.map((f) => `${f}  bind 127.0.0.1:1\n  default_backend b\n`).join("");
  const p = await startProxy(`${tcpLogged(rx)}${sections}backend b\n  server s 127.0.0.1:${port}\n`);
  cleanup.push(p.stop);
  return p;
}

test("mode tcp: after the server's FIN the client may go on sending; timeout client-fin, else its own timeout, then cD", async () => {
  const rx = await syslogReceiver();
  // Says hi, then closes its sending side 100 ms later and records what still comes.
  const received: string[] = [];
  const srv = await rawServer((s) => {
    const n = received.push("") - 1;
    s.on("data", (d: Buffer) => (received[n] += d.toString("latin1")));
    s.on("end", () => (received[n] += "<FIN>"));
    s.write("hi");
    setTimeout(() => s.end(), 100);
  });
  cleanup.push(rx.close, srv.close);
  const p = await tcpProxy(
    rx,
    srv.port,
    "frontend fin\n  timeout client 1500ms\n  timeout client-fin 300ms\n",
    "frontend nofin\n  timeout client 1500ms\n",
  );
  const [fin, nofin] = p.ports as [number, number];
  /**
   * Sends "hello", then "more" 200 ms after the proxy's FIN, with a FIN of its own or not; how long
   * after "more" the server got the proxy's FIN. (The client, its sending side open, is told nothing.)
   */
  const session = async (port: number, end: boolean | "reset"): Promise<{ got: string; ms: number }> => {
    const c = net.connect({ port, host: "127.0.0.1", allowHalfOpen: true });
    cleanup.push(async () => void c.destroy());
    c.on("error", () => undefined);
    let got = "";
    c.on("data", (d: Buffer) => (got += d.toString("latin1")));
    await once(c, "connect");
    const n = received.length;
    c.write("hello");
    await once(c, "end");
    await sleep(200);
    const t0 = Date.now();
    c.write("more");
    if (end === "reset") setTimeout(() => c.resetAndDestroy(), 100);
    else if (end) c.end();
    await waitFor(() => received[n]?.endsWith("<FIN>") === true, 3000, "the server's FIN");
    const ms = Date.now() - t0;
    c.destroy();
    assert.equal(received[n], "hellomore<FIN>");
    return { got, ms };
  };
  const tt = (line: string): number => Number(/ \d+\/\d+\/(\d+) /.exec(line)![1]);
  // The client's last data restarts timeout client-fin: the session ends 300 ms after it.
  let r = await session(fin, false);
  assert.equal(r.got, "hi");
  assert.ok(r.ms >= 280 && r.ms < 1000, `closed ${r.ms} ms after the client's last data`);
  let line = await rx.take(/ fin b\/s /);
  assert.match(line, /\] fin b\/s \d+\/\d+\/\d+ 2 cD 1\/1\/0\/0\/0 0\/0$/);
  // Without it, the client's own 1500 ms.
  r = await session(nofin, false);
  assert.ok(r.ms >= 1480 && r.ms < 2500, `closed ${r.ms} ms after the client's last data`);
  line = await rx.take(/ nofin b\/s /);
  assert.match(line, /\] nofin b\/s \d+\/\d+\/\d+ 2 cD /);
  // The client's FIN ends it at once.
  r = await session(fin, true);
  assert.ok(r.ms < 250, `closed ${r.ms} ms after the client's FIN`);
  line = await rx.take(/ fin b\/s /);
  assert.match(line, /\] fin b\/s \d+\/\d+\/\d+ 2 -- /);
  assert.ok(tt(line) >= 300, `Tt ${tt(line)}`);
  // A reset: the client's error, and the server gets its FIN.
  r = await session(fin, "reset");
  assert.ok(r.ms >= 80, `closed ${r.ms} ms after the client's last data`);
  line = await rx.take(/ fin b\/s /);
  assert.match(line, /\] fin b\/s \d+\/\d+\/\d+ 2 CD /);
});

test("mode tcp: a client side that timed out is read no more: the server's FIN then ends the session (its socket is done both ways), client-fin or not", async () => {
  const rx = await syslogReceiver();
  // Answers the proxy's FIN with "bye" and its own FIN 100 ms later.
  const srv = await rawServer((s) => {
    s.allowHalfOpen = true;
    s.resume();
    s.write("hi");
    s.on("end", () => setTimeout(() => s.end("bye"), 100));
  });
  cleanup.push(rx.close, srv.close);
  const p = await tcpProxy(rx, srv.port, "frontend f\n  timeout client 300ms\n  timeout client-fin 2s\n");
  const c = net.connect({ port: p.port, host: "127.0.0.1", allowHalfOpen: true });
  cleanup.push(async () => void c.destroy());
  c.on("error", () => undefined);
  let got = "";
  c.on("data", (d: Buffer) => (got += d.toString("latin1")));
  await once(c, "connect");
  const t0 = Date.now();
  c.write("hello");
  await once(c, "end");
  const ms = Date.now() - t0;
  assert.equal(got, "hibye");
  // haproxy 2.6.12, the same: 1/0/607 5 cD with timeout client 500ms.
  assert.ok(ms >= 380, `the client's FIN ${ms} ms after it went silent`);
  const line = await rx.take(/ f b\/s /);
  assert.match(line, /\] f b\/s \d+\/\d+\/\d+ 5 cD /);
  const tt = Number(/ \d+\/\d+\/(\d+) /.exec(line)![1]);
  assert.ok(tt < 1500, `the session ended ${tt} ms in, not at timeout client-fin`);
});
