// disabled / enabled, as haproxy 2.6.12 runs them (each exchange and log line recorded from it): a
// disabled frontend does not listen; a request routed to a disabled backend, or to none, gets a 503
// at once, logged SC-- with no request time, and a disabled backend's servers get no health checks.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import {
  startProxy,
  exchange,
  rawServer,
  syslogReceiver,
  loggedDefaults,
  sleep,
  talk,
} from "../helpers/harness.js";

const cleanup: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

test("a disabled frontend does not listen; a disabled backend answers 503 and is not checked", async () => {
  const rx = await syslogReceiver();
  let checked = 0;
  const srv = await rawServer((s) => {
    checked++;
    s.on("data", () => s.end("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"));
  });
  cleanup.push(rx.close, srv.close);
  const p = await startProxy(`${loggedDefaults(rx)}
frontend off
  bind 127.0.0.1:1
  disabled
  default_backend c
listen l
  bind 127.0.0.1:1
  disabled
  enabled
  use_backend c if { path /c }
  server s2 127.0.0.1:${srv.port}
backend c
  disabled
  option httpchk
  server s 127.0.0.1:${srv.port} check inter 50
`);
  cleanup.push(p.stop);
  // Only the listen section listens.
  assert.equal(p.ports.length, 1);
  const r = await exchange(p.port, "GET /c HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  assert.match(r, /^HTTP\/1\.1 503 Service Unavailable\r\n/);
  assert.match(
    await rx.take(/GET \/c /),
    /^127\.0\.0\.1:\d+ \[[^\]]+\] l c\/<NOSRV> -1\/-1\/-1\/-1\/\d+ 503 \d+ - - SC-- 1\/1\/0\/0\/0 0\/0 "GET \/c HTTP\/1\.1"$/,
  );
  assert.equal(checked, 0);
  assert.match(
    await exchange(p.port, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
    /^HTTP\/1\.1 200 /,
  );
  // Checks every 50 ms would have come by now.
  await sleep(200);
  assert.equal(checked, 1);
});

test("no backend for a request: haproxy's 503 SC-- without a request time; in mode tcp a close that reads first (a FIN)", async () => {
  const rx = await syslogReceiver();
  cleanup.push(rx.close);
  const p = await startProxy(`${loggedDefaults(rx)}
frontend h
  bind 127.0.0.1:1
  use_backend c if { src 10.0.0.0/8 }
frontend t
  bind 127.0.0.1:1
  mode tcp
  option tcplog
  default_backend d
backend c
  server s 127.0.0.1:1
backend d
  mode tcp
  disabled
  server s 127.0.0.1:1
`);
  cleanup.push(p.stop);
  const [h, t] = p.ports as [number, number];
  assert.match(
    await exchange(h, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
    /^HTTP\/1\.1 503 /,
  );
  assert.match(await rx.take(/"GET \/ /), / h h\/<NOSRV> -1\/-1\/-1\/-1\/\d+ 503 \d+ - - SC-- /);
  // The client's bytes are read before the close: haproxy's FIN, not an RST.
  assert.deepEqual(await talk(t, "abc"), { got: "", end: "FIN" });
  assert.match(await rx.take(/ t d\//), / t d\/<NOSRV> -1\/-1\/\d+ 0 SC /);
});

test("init-addr: an address written there stands for the server's name; `none` starts it in maintenance", async () => {
  const srv = await rawServer((s) =>
    s.on("data", () => s.end("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")),
  );
  cleanup.push(srv.close);
  const p = await startProxy(`
defaults
  mode http
  timeout client 5s
  timeout connect 1s
  timeout server 5s
listen l
  bind 127.0.0.1:1
  balance roundrobin
  server gone unresolvable.invalid:${srv.port} init-addr none
  server named unresolvable.invalid:${srv.port} init-addr last,127.0.0.1,libc
`);
  cleanup.push(p.stop);
  // Round robin would give every other request to `gone`, were it not in maintenance.
  for (let i = 0; i < 4; i++)
    assert.match(
      await exchange(p.port, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
      /^HTTP\/1\.1 200 OK\r\n/,
    );
  assert.deepEqual(
    p.rt.backends.get("l")!.servers.map((s) => [s.name, s.usable]),
    [
      ["gone", false],
      ["named", true],
    ],
  );
});
