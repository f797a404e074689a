// The server connection object on its own: how it ends, and that a used socket connects again.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { ServerConn, type ConnOwner } from "../../src/proxy/server-conn.js";
import type { RtServer } from "../../src/proxy/backend.js";
import { rawServer } from "../helpers/harness.js";

const cleanup: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

/** Just enough of a server for a connection: where it is, and an idle pool. */
const fakeServer = (port: number): RtServer =>
  ({ address: "127.0.0.1", port, backend: { px: { srvTcpKa: false } }, idle: [] }) as unknown as RtServer;

/** An owner whose connect and close can be awaited. */
function owner(): ConnOwner & { connected: Promise<void>; closed: Promise<void> } {
  let onConnect!: () => void;
  let onClose!: () => void;
  return {
    connected: new Promise((r) => (onConnect = r)),
    closed: new Promise((r) => (onClose = r)),
    onServerConnect: () => onConnect(),
    onServerData: () => undefined,
    onServerEnd: () => undefined,
    onServerClose: () => onClose(),
    onServerDrain: () => undefined,
  };
}

const within = <T>(p: Promise<T>, ms: number, what: string): Promise<T> =>
  Promise.race([
    p,
    new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`no ${what} in ${ms} ms`)), ms).unref()),
  ]);

test("closing while our FIN is pending closes for real (an RST cannot follow a pending shutdown)", async () => {
  const srv = await rawServer(() => undefined);
  cleanup.push(srv.close);
  for (let i = 0; i < 3; i++) {
    const o = owner();
    const c = new ServerConn(fakeServer(srv.port), o);
    await within(o.connected, 2000, "connect");
    c.socket.end();
    c.close(true);
    await within(o.closed, 2000, "close");
    assert.equal(c.error, undefined);
  }
});
