// Errorfiles on the wire: which proxy's file answers, with what Connection header, and when haproxy's
// parser answers with its own page anyway. Each exchange's bytes were recorded from haproxy 2.6.12
// with the same configuration (docs/haproxy-behaviour.md, "Errorfiles").
import { test, after } from "node:test";
import assert from "node:assert/strict";
import {
  startProxy,
  exchange,
  Client,
  closedPort,
  DEFAULTS,
  scratchDir,
  scratchFile,
} from "../helpers/harness.js";

const cleanup: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

const dir = scratchDir("errorfile");
const file = (name: string, text: string): string => scratchFile(dir, name, text);
const page403 = file(
  "403.http",
  "HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: 5\r\nX-Custom: Yes\r\n\r\nnope\n",
);
const lf403 = file(
  "403lf.http",
  "HTTP/1.1 403 Forbidden\nContent-Type: text/plain\nX-LF: 1\n\nclose-delimited\n",
);
const debian503 = file(
  "503.http",
  "HTTP/1.0 503 Service Unavailable\r\nCache-Control: no-cache\r\nConnection: close\r\nContent-Type: text/html\r\n\r\n<html>busy</html>\n",
);
const c400 = file("400.http", "HTTP/1.1 400 Custom\r\nContent-Length: 4\r\n\r\nc400");
const c408 = file("408.http", "HTTP/1.1 408 Custom\r\nContent-Length: 4\r\n\r\nc408");

async function proxy(text: string) {
  const p = await startProxy(text);
  cleanup.push(p.stop);
  return p;
}

const PAGE = "HTTP/1.1 403 Forbidden\r\ncontent-type: text/plain\r\ncontent-length: 5\r\nx-custom: Yes\r\n";

test("a deny answers with the frontend's errorfile; the connection goes on after it, or closes as the client asks", async () => {
  const dead = await closedPort();
  const p = await proxy(`${DEFAULTS}  retries 0
  errorfile 503 ${debian503}
frontend f
  bind 127.0.0.1:1
  errorfile 403 ${page403}
  http-request deny if { path /deny }
  http-request return status 403 default-errorfiles if { path /return }
  use_backend b2 if { path_beg /b2 }
  default_backend b1
backend b1
  server s 127.0.0.1:${dead}
backend b2
  errorfile 403 ${lf403}
  http-request deny if { path /b2/deny }
  server s 127.0.0.1:${dead}
`);
  const c = new Client(p.port);
  cleanup.push(async () => c.close());
  c.send(
    "GET /deny HTTP/1.1\r\nHost: x\r\n\r\nHEAD /deny HTTP/1.1\r\nHost: x\r\n\r\nGET /return HTTP/1.1\r\nHost: x\r\n\r\n",
  );
  const all = `${PAGE}\r\nnope\n${PAGE}\r\n${PAGE}\r\nnope\n`;
  assert.equal(await c.until((t) => t.length >= all.length), all);
  assert.equal(c.closed, false);
  assert.equal(
    await exchange(p.port, "GET /deny HTTP/1.0\r\n\r\n"),
    `${PAGE}connection: close\r\n\r\nnope\n`,
  );
  const ka = new Client(p.port);
  cleanup.push(async () => ka.close());
  ka.send("GET /deny HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  assert.equal(await ka.until((t) => t.endsWith("nope\n")), `${PAGE}connection: keep-alive\r\n\r\nnope\n`);
  // The backend's file comes before the frontend's; a file without a length closes the connection.
  assert.equal(
    await exchange(p.port, "GET /b2/deny HTTP/1.1\r\nHost: x\r\n\r\nGET /deny HTTP/1.1\r\nHost: x\r\n\r\n"),
    "HTTP/1.1 403 Forbidden\r\ncontent-type: text/plain\r\nx-lf: 1\r\nconnection: close\r\n\r\nclose-delimited\n",
  );
  // The defaults' HTTP/1.0 page for the backends' 503: its Connection line goes, the close needs none.
  const debian =
    "HTTP/1.0 503 Service Unavailable\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n";
  assert.equal(await exchange(p.port, "GET /x HTTP/1.1\r\nHost: x\r\n\r\n"), `${debian}<html>busy</html>\n`);
  assert.equal(await exchange(p.port, "HEAD /x HTTP/1.1\r\nHost: x\r\n\r\n"), debian);
});

test("a frontend's errorloc is not the backend's: the backend's errorfile for the status comes first", async () => {
  const dead = await closedPort();
  const p = await proxy(`${DEFAULTS}  retries 0
frontend f
  bind 127.0.0.1:1
  errorloc302 503 http://example.com/busy
  errorloc303 403 /denied
  http-request deny if { path /deny }
  use_backend own if { path /own }
  default_backend plain
backend plain
  server s 127.0.0.1:${dead}
backend own
  errorfile 503 ${debian503}
  server s 127.0.0.1:${dead}
`);
  const c = new Client(p.port);
  cleanup.push(async () => c.close());
  c.send("GET /x HTTP/1.1\r\nHost: x\r\n\r\nGET /deny HTTP/1.1\r\nHost: x\r\n\r\n");
  const redirects =
    "HTTP/1.1 302 Found\r\ncache-control: no-cache\r\ncontent-length: 0\r\nlocation: http://example.com/busy\r\n\r\n" +
    "HTTP/1.1 303 See Other\r\ncache-control: no-cache\r\ncontent-length: 0\r\nlocation: /denied\r\n\r\n";
  assert.equal(await c.until((t) => t.length >= redirects.length), redirects);
  assert.match(
    await exchange(p.port, "GET /own HTTP/1.1\r\nHost: x\r\n\r\n"),
    /^HTTP\/1\.0 503 Service Unavailable\r\n/,
  );
});

test("a head that cannot be read gets haproxy's own page whatever the errorfile; an empty file sends nothing", async () => {
  const p = await proxy(`${DEFAULTS}  timeout http-request 300ms
frontend f
  bind 127.0.0.1:1
  errorfile 400 ${c400}
  errorfile 408 ${c408}
  http-request deny deny_status 400 if { path /d400 }
  default_backend b
frontend quiet
  bind 127.0.0.1:1
  errorfile 400 /dev/null
  errorfile 408 /dev/null
  errorfile 403 /dev/null
  http-request deny if { path /deny }
  default_backend b
backend b
  server s 127.0.0.1:1
`);
  const [port, quiet] = p.ports;
  assert.match(
    await exchange(port!, "GET / HTTP/1.1\r\nBad Header\r\n\r\n"),
    /^HTTP\/1\.1 400 Bad request\r\n/,
  );
  assert.match(
    await exchange(port!, "GET / HTTP/1.1\r\nHost: x\r\n"),
    /^HTTP\/1\.1 408 Request Time-out\r\n/,
  );
  // A deny is the rules' answer, past the parser: the errorfile.
  assert.equal(
    await exchange(port!, "GET /d400 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
    "HTTP/1.1 400 Custom\r\ncontent-length: 4\r\nconnection: close\r\n\r\nc400",
  );
  assert.equal(await exchange(quiet!, "GET / HTTP/1.1\r\nBad Header\r\n\r\n"), "");
  // The stream's answer too: nothing, and the connection closes at once.
  const denied = Date.now();
  assert.equal(await exchange(quiet!, "GET /deny HTTP/1.1\r\nHost: x\r\n\r\n", 2000), "");
  assert.ok(Date.now() - denied < 1000, "closed at once");
  const t0 = Date.now();
  assert.equal(await exchange(quiet!, "GET / HTTP/1.1\r\nHost: x\r\n"), "");
  assert.ok(Date.now() - t0 >= 250, "closed at the timeout");
});

test("a body that does not come in time is the stream's 408: the errorfile, and a close", async () => {
  const p = await proxy(`${DEFAULTS}  timeout http-request 300ms
frontend f
  bind 127.0.0.1:1
  option http-buffer-request
  errorfile 408 ${c408}
  default_backend b
backend b
  server s 127.0.0.1:1
`);
  assert.equal(
    await exchange(p.port, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc"),
    "HTTP/1.1 408 Custom\r\ncontent-length: 4\r\nconnection: close\r\n\r\nc408",
  );
});

test("a rule's errorfiles takes its section's file for the status, an empty reply when it has none", async () => {
  const s503 = file("s503.http", "HTTP/1.1 503 Sect\r\nContent-Length: 4\r\n\r\ns503");
  const p = await proxy(`${DEFAULTS}
http-errors site
  errorfile 503 ${s503}
frontend f
  bind 127.0.0.1:1
  http-request deny errorfiles site if { path /a }
  http-request return status 503 errorfiles site if { path /b }
  http-request deny status 200 errorfile ${s503} if { path /c }
  http-error status 401
  http-request deny deny_status 401 if { path /d }
  default_backend b
backend b
  server s 127.0.0.1:1
`);
  const c = new Client(p.port);
  cleanup.push(async () => c.close());
  c.send(["/a", "/b", "/c", "/d"].map((u) => `GET ${u} HTTP/1.1\r\nHost: x\r\n\r\n`).join(""));
  const all =
    "HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n" +
    "HTTP/1.1 503 Sect\r\ncontent-length: 4\r\n\r\ns503" +
    "HTTP/1.1 503 Sect\r\ncontent-length: 4\r\n\r\ns503" +
    "HTTP/1.1 401 Unauthorized\r\ncontent-length: 0\r\n\r\n";
  assert.equal(await c.until((t) => t.length >= all.length), all);
});
