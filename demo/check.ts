// `npm run demo:check`: the article's experiment as a script. Starts the demo (advanced configuration)
// on free ports, drives it through Sluice with a WebSocket client, stops websrv1 and shows the health
// check taking it out and the traffic moving to websrv2. Exit code 0 when every step held, else 1.
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { freePorts, get, openEcho, Refused } from "./client.js";
import { startDemo, type Demo } from "./start.js";

const DEADLINE_MS = 90_000;
/** inter 3s × fall 3 in the example configs at worst, plus slack. */
const DOWN_WITHIN_MS = 20_000;

const say = (line = ""): void => void process.stdout.write(line + "\n");

function tally(names: string[]): string {
  const counts = new Map<string, number>();
  for (const n of names) counts.set(n, (counts.get(n) ?? 0) + 1);
  return [...counts].map(([n, c]) => `${n}×${c}`).join(", ") || "none";
}

/** Opens `n` sockets one after the other, each echoing a message; returns the servers that answered. */
async function rounds(
  url: string,
  n: number,
  label: string,
): Promise<{ servers: string[]; failures: string[] }> {
  const servers: string[] = [];
  const failures: string[] = [];
  for (let i = 0; i < n; i++) {
    try {
      const s = await openEcho(url, { timeoutMs: 8000 });
      const text = `${label} #${i + 1}`;
      const e = await s.echo(text);
      s.close();
      if (e.text !== text || e.server !== s.hello.server) failures.push(`bad echo ${JSON.stringify(e)}`);
      else servers.push(s.hello.server);
    } catch (err) {
      failures.push((err as Error).message);
    }
  }
  return { servers, failures };
}

export async function runCheck(): Promise<boolean> {
  const [sluice, websrv1, websrv2] = await freePorts(3);
  const ports = { sluice: sluice!, websrv1: websrv1!, websrv2: websrv2! };
  say(`Starting websrv1 (:${ports.websrv1}), websrv2 (:${ports.websrv2}) and Sluice (:${ports.sluice})`);
  say(`with examples/advanced.cfg ...`);
  const demo: Demo = await startDemo({ config: "advanced", ports });
  const url = `ws://127.0.0.1:${ports.sluice}/`;
  const results: boolean[] = [];
  const verdict = (ok: boolean, text: string): void => {
    results.push(ok);
    say(`  ${ok ? "✓" : "✗"} ${text}`);
  };
  try {
    say();
    say(`1. Eight WebSockets through Sluice (${url}, subprotocol echo-protocol), one after the other:`);
    const before = await rounds(url, 8, "before");
    say(`     hello + echo from: ${before.servers.join(" ") || "-"}`);
    for (const f of before.failures) say(`     failed: ${f}`);
    verdict(before.failures.length === 0, `every socket echoed (${before.servers.length}/8)`);
    verdict(
      before.servers.includes("websrv1") && before.servers.includes("websrv2"),
      `both servers answered (${tally(before.servers)})`,
    );

    say();
    say("2. Plain pages: GET /server.html four times (backend bk_web):");
    const pages: string[] = [];
    for (let i = 0; i < 4; i++) {
      const r = await get(ports.sluice, "/server.html");
      pages.push(r.status === 200 ? (r.servedBy ?? "?") : `HTTP ${r.status}`);
    }
    say(`     X-Served-By: ${pages.join(" ")}`);
    verdict(pages.includes("websrv1") && pages.includes("websrv2"), "both servers served pages");

    say();
    say("3. The deny rules of bk_ws:");
    try {
      const s = await openEcho(url, { protocol: "chat" });
      s.close();
      verdict(false, "a WebSocket for subprotocol 'chat' was accepted");
    } catch (e) {
      const ok = e instanceof Refused && e.status === 403 && e.servedBy === undefined;
      const how =
        e instanceof Refused
          ? `HTTP ${e.status} from ${e.servedBy ?? "Sluice (http-request deny)"}`
          : (e as Error).message;
      verdict(ok, `a WebSocket for subprotocol 'chat' is refused: ${how}`);
    }
    const plain = await get(ports.sluice, "/", "ws.localhost");
    verdict(
      plain.status === 403,
      `a plain GET with Host: ws.localhost (routed to bk_ws) is refused: HTTP ${plain.status}`,
    );

    say();
    say(`4. websrv1 stops (SIGTERM to pid ${demo.pid("websrv1")}).`);
    const stoppedAt = Date.now();
    await demo.stopPart("websrv1");
    say(
      "   Sockets opened while the health checks notice (failed connections are retried and redispatched):",
    );
    const during: string[] = [];
    const duringFailures: string[] = [];
    let down = false;
    const downSeen = demo
      .waitForOutput("sluice", /Server bk_ws\/websrv1 is DOWN/, DOWN_WITHIN_MS)
      .then(() => (down = true))
      .catch(() => undefined);
    for (let i = 0; i < 40 && !down && Date.now() - stoppedAt < DOWN_WITHIN_MS; i++) {
      const r = await rounds(url, 1, "during");
      during.push(...r.servers);
      duringFailures.push(...r.failures);
      await new Promise((w) => setTimeout(w, 300));
    }
    await downSeen;
    say(`     ${tally(during)}${duringFailures.length ? `; ${duringFailures.length} failed` : ""}`);
    const line = demo.output("sluice").match(/Server bk_ws\/websrv1 is DOWN[^\n]*/)?.[0];
    verdict(
      down,
      down
        ? `Sluice, ${((Date.now() - stoppedAt) / 1000).toFixed(1)} s later: "${line?.slice(0, 110)}..."`
        : `websrv1 not marked DOWN within ${DOWN_WITHIN_MS / 1000} s`,
    );

    say();
    say("5. Eight more WebSockets through Sluice:");
    const after = await rounds(url, 8, "after");
    say(`     hello + echo from: ${after.servers.join(" ") || "-"}`);
    for (const f of after.failures) say(`     failed: ${f}`);
    verdict(
      after.failures.length === 0 &&
        after.servers.length === 8 &&
        after.servers.every((s) => s === "websrv2"),
      `all traffic moved to websrv2 (${tally(after.servers)})`,
    );
  } catch (e) {
    verdict(false, `unexpected error: ${(e as Error).stack ?? String(e)}`);
  } finally {
    await demo.stop();
  }
  const ok = results.every(Boolean);
  say();
  say(ok ? "demo check passed" : "demo check FAILED");
  if (!ok) {
    say("Sluice's output:");
    say(
      demo
        .output("sluice")
        .split("\n")
        .map((l) => `  | ${l}`)
        .join("\n"),
    );
  }
  return ok;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const watchdog = setTimeout(() => {
    say(`demo check FAILED: still running after ${DEADLINE_MS / 1000} s`);
    process.exit(1);
  }, DEADLINE_MS);
  watchdog.unref();
  let ok = false;
  try {
    ok = await runCheck();
  } catch (e) {
    say(`demo check FAILED: ${(e as Error).message}`);
  }
  process.exit(ok ? 0 : 1);
}
