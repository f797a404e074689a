// The demo page in a real browser (Debian's Chromium, driven by playwright-core), through Sluice
// running the article's advanced configuration: an echo, the server's name, a screenshot.
import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import net from "node:net";
import { once } from "node:events";
import { chromium, type Browser } from "playwright-core";
import { startDemo, type Demo } from "../../demo/start.js";
import { ROOT } from "../helpers/harness.js";

const CHROMIUM = "/usr/bin/chromium";
const OUT = join(ROOT, "test-output");

async function freePort(): Promise<number> {
  const s = net.createServer().listen(0, "127.0.0.1");
  await once(s, "listening");
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

let demo: Demo;
let browser: Browser;
let port: number;

before(async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)`);
  port = await freePort();
  demo = await startDemo(
    "advanced",
    { sluice: port, websrv1: await freePort(), websrv2: await freePort() },
    true,
  );
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
});

after(async () => {
  await browser?.close();
  await demo?.stop();
});

test("the demo page echoes through Sluice and names the server", { timeout: 60_000 }, async () => {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(`http://127.0.0.1:${port}/`);
  await page.waitForSelector("#state.open", { timeout: 10_000 });
  const server = await page.textContent("#server");
  assert.match(server ?? "", /^websrv[12]$/);
  await page.fill("#message", "hello from chromium");
  await page.click("#send");
  await page.waitForSelector("#log li.echo", { timeout: 10_000 });
  const echo = await page.textContent("#log li.echo");
  assert.match(echo ?? "", /websrv[12]hello from chromium/);
  // Many sockets spread over both servers.
  await page.fill("#count", "10");
  await page.click("#open-many");
  await page.waitForFunction(
    () => document.getElementById("spread-total")?.textContent === "10 / 10 open",
    undefined,
    {
      timeout: 10_000,
    },
  );
  assert.equal(await page.locator("#bars .bar").count(), 2, "both servers took sockets");
  mkdirSync(OUT, { recursive: true });
  await page.screenshot({ path: join(OUT, "demo.png"), fullPage: true });
  assert.equal(await page.textContent("#error"), "", "the page shows no error");
  assert.deepEqual(errors, []);
});
