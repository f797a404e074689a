// Which server a client's next request goes to when its session keeps a server connection: after an
// NTLM or Negotiate challenge (always), or with option prefer-last-server and http-reuse never. The
// sequences are haproxy 2.6.12's, recorded with the same two servers in round robin.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { Client, DEFAULTS, httpBackend, startProxy } from "../helpers/harness.js";

const cleanup: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

/** Two servers naming themselves; `/auth` gets a 401 with `challenge` from either. */
async function proxy(
  challenge: string,
  settings = "",
  backendLines = "",
): Promise<{ port: number; connections: () => number[] }> {
  const servers = await Promise.all(
    ["a", "b"].map((name) =>
      httpBackend(name, (req, res) => {
        res.setHeader("X-Served-By", name);
        if (req.url === "/auth")
          res.writeHead(401, { "WWW-Authenticate": challenge, "Content-Length": "0" }).end();
        else res.end(name);
      }),
    ),
  );
  for (const s of servers) cleanup.push(s.close);
  const p = await startProxy(`${DEFAULTS}
  option http-keep-alive
${settings}
frontend f
  bind 127.0.0.1:1
  default_backend bk
backend bk
  balance roundrobin
${backendLines}
  server a 127.0.0.1:${servers[0]!.port}
  server b 127.0.0.1:${servers[1]!.port}
`);
  cleanup.push(p.stop);
  return { port: p.port, connections: () => servers.map((s) => s.connections) };
}

/** The servers that answer `paths` (by default `/`, `/auth`, then four more `/`) on one client connection. */
async function sequence(port: number, paths = ["/", "/auth", "/", "/", "/", "/"]): Promise<string> {
  const c = new Client(port);
  let out = "";
  for (const path of paths) {
    c.send(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`);
    const r = await c.response();
    out += /X-Served-By: (\w)/i.exec(r.head)![1];
  }
  c.close();
  return out;
}

test("an NTLM or Negotiate challenge binds the client to its server and connection; another one does not", async () => {
  assert.equal(await sequence((await proxy("NTLM")).port), "abbbbb");
  assert.equal(await sequence((await proxy("Basic realm=x, Negotiate")).port), "abbbbb");
  assert.equal(await sequence((await proxy("Basic realm=x")).port), "ababab");
});

test("option prefer-last-server keeps a client on the server of its kept connection (http-reuse never)", async () => {
  assert.equal(
    await sequence((await proxy("Basic", "  option prefer-last-server\n  http-reuse never")).port),
    "aaaaaa",
  );
  // With connections shared between clients (http-reuse safe), the session keeps none: round robin.
  assert.equal(await sequence((await proxy("Basic", "  option prefer-last-server")).port), "ababab");
});

test("under http-reuse never a session keeps a connection per server, in the order it first used them", async () => {
  // A client alternating between two servers reuses both connections.
  const p = await proxy("Basic", "  http-reuse never");
  assert.equal(await sequence(p.port, ["/", "/", "/", "/", "/", "/"]), "ababab");
  assert.deepEqual(p.connections(), [1, 1]);
  // prefer-last-server takes the first kept connection's server, even after a rule sent a request elsewhere.
  const q = await proxy(
    "Basic",
    "  http-reuse never\n  option prefer-last-server",
    "  use-server b if { path /b }",
  );
  assert.equal(await sequence(q.port, ["/", "/b", "/", "/", "/b", "/"]), "abaaba");
  assert.deepEqual(q.connections(), [1, 1]);
});
