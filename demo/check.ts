// `npm run demo:check`: starts the demo on free ports, drives it with a WebSocket client through
// Sluice, stops websrv1 and shows the traffic moving to websrv2. Exits 0 when all of that happened.
import net from "node:net";
import { once } from "node:events";
import { WebSocket } from "ws";
import { startDemo } from "./start.js";

async function freePort(): Promise<number> {
  const s = net.createServer().listen(0, "127.0.0.1");
  await once(s, "listening");
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** Opens a socket, returns the server that says hello, closes it. Bounded by `ms`. */
function hello(port: number, ms = 8000): Promise<string> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/`, "echo-protocol");
    const t = setTimeout(() => {
      ws.terminate();
      reject(new Error("no hello in time"));
    }, ms);
    ws.once("message", (d) => {
      clearTimeout(t);
      ws.close();
      resolve((JSON.parse(String(d)) as { server: string }).server);
    });
    ws.once("error", (e) => {
      clearTimeout(t);
      reject(e);
    });
  });
}

const say = (s: string): boolean => process.stdout.write(s + "\n");

const ports = { sluice: await freePort(), websrv1: await freePort(), websrv2: await freePort() };
const demo = await startDemo("advanced", ports, true);
let ok = false;
try {
  const before: string[] = [];
  for (let i = 0; i < 6; i++) before.push(await hello(ports.sluice));
  say(`6 sockets through Sluice went to: ${before.join(", ")}`);
  const both = before.includes("websrv1") && before.includes("websrv2");
  say(both ? "✓ both servers answer" : "✗ expected both servers");
  demo.children.get("websrv1")!.kill("SIGTERM");
  say("websrv1 stopped");
  const after: string[] = [];
  for (let i = 0; i < 6; i++) after.push(await hello(ports.sluice));
  say(`6 more sockets went to: ${after.join(", ")}`);
  const moved = after.every((s) => s === "websrv2");
  say(moved ? "✓ traffic moved to websrv2" : "✗ some traffic still went to websrv1");
  ok = both && moved;
} catch (e) {
  say(`✗ ${(e as Error).message}`);
} finally {
  await demo.stop();
}
process.exit(ok ? 0 : 1);
