// `npm start` and `npm run demo:check` as a person runs them: the programs, as child processes, on
// free ports. Both need the proxy, so they are skipped while dist/src/cli.js does not exist.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { CLI, ROOT } from "../../demo/start.js";
import { freePorts, get, openEcho } from "../../demo/client.js";

const skip = existsSync(CLI) ? false : `${CLI} does not exist yet: these tests need the proxy built`;
const children = new Set<ChildProcess>();

after(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
});

interface Run {
  child: ChildProcess;
  out: () => string;
  exited: Promise<number | null>;
  waitFor(re: RegExp, ms: number): Promise<void>;
}

function run(script: string, args: string[], env: Record<string, string> = {}): Run {
  const child = spawn(process.execPath, [join(ROOT, "dist", "demo", script), ...args], {
    cwd: ROOT,
    env: { ...process.env, NO_COLOR: "1", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.add(child);
  let out = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  return {
    child,
    out: () => out,
    exited,
    async waitFor(re, ms) {
      const end = Date.now() + ms;
      while (!re.test(out)) {
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`exited early:\n${out}`);
        if (Date.now() > end) throw new Error(`no ${re} within ${ms} ms:\n${out}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
  };
}

/** Resolves with the exit code, or kills the child and fails after `ms`. */
async function exitWithin(r: Run, ms: number): Promise<number | null> {
  const t = setTimeout(() => r.child.kill("SIGKILL"), ms);
  const code = await r.exited;
  clearTimeout(t);
  return code;
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

for (const config of ["simple", "advanced"] as const) {
  test(
    `start.js ${config}: prints the URL, serves through Sluice, stops everything on SIGTERM`,
    {
      skip,
      timeout: 30_000,
    },
    async () => {
      const [sluice, websrv1, websrv2] = await freePorts(3);
      const r = run("start.js", [config], {
        SLUICE_PORT: String(sluice),
        WEBSRV1_PORT: String(websrv1),
        WEBSRV2_PORT: String(websrv2),
      });
      await r.waitFor(/Ctrl-C +stop everything/, 15_000);
      assert.match(r.out(), new RegExp(`Open  http://127\\.0\\.0\\.1:${sluice}/`));
      assert.match(r.out(), new RegExp(`examples/${config}\\.cfg`));
      const pids = [...r.out().matchAll(/pid (\d+)/g)].map((m) => Number(m[1]));
      assert.equal(pids.length, 3, r.out());
      const page = await get(sluice!, "/");
      assert.equal(page.status, 200);
      assert.match(page.servedBy ?? "", /^websrv[12]$/);
      const s = await openEcho(`ws://127.0.0.1:${sluice}/`);
      assert.equal((await s.echo("through sluice")).text, "through sluice");
      s.close();
      r.child.kill("SIGTERM");
      assert.equal(await exitWithin(r, 10_000), 0, r.out());
      assert.match(r.out(), /\[demo\] +stopped/);
      assert.deepEqual(
        pids.filter((p) => alive(p)),
        [],
        "every child is gone",
      );
    },
  );
}

test("start.js says which part died, and refuses a port in use", { skip, timeout: 30_000 }, async () => {
  const [sluice, websrv1, websrv2] = await freePorts(3);
  const env = { SLUICE_PORT: String(sluice), WEBSRV1_PORT: String(websrv1), WEBSRV2_PORT: String(websrv2) };
  const r = run("start.js", ["advanced"], env);
  await r.waitFor(/Ctrl-C +stop everything/, 15_000);
  // A second demo on the same ports says what to change.
  const second = run("start.js", ["advanced"], env);
  assert.equal(await exitWithin(second, 10_000), 1);
  assert.match(second.out(), /already in use: set WEBSRV1_PORT/);
  const pid = Number(/websrv2 .*pid (\d+)/.exec(r.out())?.[1]);
  process.kill(pid, "SIGKILL");
  await r.waitFor(/websrv2 exited \(killed by SIGKILL\)/, 5000);
  r.child.kill("SIGINT");
  assert.equal(await exitWithin(r, 10_000), 0, r.out());
});

test(
  "demo:check passes: both servers, then websrv1 stops and traffic moves",
  { skip, timeout: 90_000 },
  async () => {
    const r = run("check.js", []);
    const code = await exitWithin(r, 80_000);
    assert.equal(code, 0, r.out());
    assert.match(r.out(), /✓ both servers answered/);
    assert.match(r.out(), /✓ all traffic moved to websrv2/);
    assert.match(r.out(), /demo check passed/);
  },
);
