// Server connections are handed from request to request, through the idle pool, and their socket
// objects serve the next connection: none of that may ever give one client another's response.
// Misbehaving servers and clients that leave early stress every hand-over for a bounded time.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { startProxy, httpBackend, waitFor, DEFAULTS, FRONTEND, type Backend } from "../helpers/harness.js";

const cleanup: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

/**
 * What the unruly servers do with request `id`: N%10 = 0 resets, 1 cuts the body, 2 answers late;
 * `late-` requests, whose clients leave at once, are answered later still.
 */
const kindOf = (id: string): number =>
  id.startsWith("late") ? 2 : Number(id.slice(id.lastIndexOf("-") + 1)) % 10;

/** Answers `/ID` with body `ID`, or misbehaves as kindOf(ID) says. */
async function unrulyBackend(name: string): Promise<Backend> {
  const b = await httpBackend(name, (req, res) => {
    const id = (req.url ?? "/").slice(1);
    const kind = kindOf(id);
    if (kind === 0) return req.socket.destroy();
    if (kind === 1) {
      res.writeHead(200, { "Content-Length": 100 });
      res.write(id);
      setTimeout(() => req.socket.destroy(), 2);
      return;
    }
    const send = (): void => {
      res.setHeader("Content-Length", Buffer.byteLength(id));
      res.end(id);
    };
    if (kind === 2) setTimeout(send, id.startsWith("late") ? 30 : 5);
    else send();
  });
  cleanup.push(b.close);
  return b;
}

interface Tally {
  /** 200 with the request's own body. */
  ok: number;
  /** An error status for a request the server reset (haproxy's 502). */
  refused: number;
  /** Anything else: another request's body, an error the server did not cause. */
  wrong: string[];
}

/** One client connection: up to `n` requests in sequence; or, when `leave`, one that it does not wait for. */
function clientRun(port: number, ids: () => string, n: number, leave: boolean, t: Tally): Promise<void> {
  return new Promise((resolve) => {
    const s = net.connect(port, "127.0.0.1");
    const pending: string[] = [];
    let buf = "";
    let sent = 0;
    s.on("error", () => undefined);
    s.on("close", () => resolve());
    const sendNext = (): void => {
      if (sent === n) return void s.end();
      const id = leave ? `late-${ids()}` : ids();
      pending.push(id);
      sent++;
      s.write(`GET /${id} HTTP/1.1\r\nHost: x\r\n\r\n`);
      // Gone while the request is at the server: its late answer must not reach anyone else.
      if (leave) setTimeout(() => s.resetAndDestroy(), 1);
    };
    s.on("connect", sendNext);
    s.on("data", (d: Buffer) => {
      buf += d.toString("latin1");
      for (let h = buf.indexOf("\r\n\r\n"); h >= 0; h = buf.indexOf("\r\n\r\n")) {
        const len = Number(/content-length: *(\d+)/i.exec(buf.slice(0, h))?.[1] ?? 0);
        if (buf.length < h + 4 + len) return;
        const status = Number(buf.slice(9, 12));
        const body = buf.slice(h + 4, h + 4 + len);
        buf = buf.slice(h + 4 + len);
        const want = pending.shift()!;
        if (status === 200 && body === want) t.ok++;
        else if (status !== 200 && kindOf(want) === 0) t.refused++;
        else t.wrong.push(`${want}: ${status} ${body.slice(0, 20)}`);
        sendNext();
      }
    });
  });
}

for (const mode of ["http-server-close", "http-keep-alive"]) {
  test(`${mode}: under resets, cut bodies and clients leaving, every response reaches its own client`, async () => {
    const [a, b] = [await unrulyBackend("a"), await unrulyBackend("b")];
    const p = await startProxy(`${DEFAULTS}
  option ${mode}
  retries 0
${FRONTEND}  http-reuse always
  server a 127.0.0.1:${a.port}
  server b 127.0.0.1:${b.port}
`);
    cleanup.push(p.stop);
    let seq = 0;
    const ids = (): string => `id-${seq++}`;
    const t: Tally = { ok: 0, refused: 0, wrong: [] };
    // Until enough good answers came (a busy machine takes longer), within 10 s.
    const until = Date.now() + 10_000;
    const worker = async (w: number): Promise<void> => {
      for (let i = 0; i < 2000 && Date.now() < until && t.ok < 600; i++)
        await clientRun(p.port, ids, 1 + (i % 5), (i + w) % 7 === 0, t);
    };
    await Promise.all(Array.from({ length: 20 }, (_, w) => worker(w)));
    assert.deepEqual(t.wrong, []);
    assert.ok(t.ok > 500, `only ${t.ok} good responses`);
    assert.ok(t.refused > 0, "the unruly servers did cause errors");
    await waitFor(() => p.rt.actconn === 0, 3000, "every session ended");
  });
}
