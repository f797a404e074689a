// The demo page in a real browser: Debian's Chromium driven by playwright-core, through Sluice running
// the article's advanced configuration. An echo with the server's name, the ws. host routing, many
// sockets spread over both servers, the plain pages, and a screenshot in test-output/demo.png.
// Fails if the page shows an error or throws.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { startDemo, CLI, ROOT, type Demo } from "../../demo/start.js";
import { freePorts } from "../../demo/client.js";

// Debian's Chromium or Google Chrome; without one, the test is skipped so that `npm test` passes on a
// machine with Node alone. CHROMIUM names the browser and makes it required (.ci/run sets it).
const CHROMIUM = process.env.CHROMIUM || ["/usr/bin/chromium", "/usr/bin/google-chrome"].find(existsSync);
const OUT = join(ROOT, "test-output");
const skip = !existsSync(CLI)
  ? `${CLI} does not exist yet: the browser test needs the proxy built`
  : CHROMIUM === undefined
    ? "no Chromium found: apt-get install chromium, or set CHROMIUM to a Chromium or Chrome binary"
    : false;

let demo: Demo | undefined;
let browser: Browser | undefined;
let page: Page;
const pageErrors: string[] = [];

before(async () => {
  if (skip) return;
  assert.ok(CHROMIUM && existsSync(CHROMIUM), `CHROMIUM=${CHROMIUM} does not exist`);
  const [sluice, websrv1, websrv2] = await freePorts(3);
  demo = await startDemo({
    config: "advanced",
    ports: { sluice: sluice!, websrv1: websrv1!, websrv2: websrv2! },
  });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    timeout: 30_000,
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
  page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  page.setDefaultTimeout(10_000);
  page.on("pageerror", (e) => pageErrors.push(e.message));
});

after(async () => {
  await browser?.close();
  await demo?.stop();
});

async function noError(): Promise<void> {
  assert.equal(await page.textContent("#error"), "", "the page shows an error");
  assert.deepEqual(pageErrors, [], "the page's script threw");
}

test("the page echoes through Sluice and names the server", { skip, timeout: 30_000 }, async () => {
  const response = await page.goto(demo!.url);
  await page.waitForSelector("#state.ok");
  assert.match((await page.textContent("#server")) ?? "", /^websrv[12]$/);
  // The server the page names is the one that sent it, not the one that answered a later request.
  const sentBy = response?.headers()["x-served-by"];
  assert.match(sentBy ?? "", /^websrv[12]$/);
  assert.equal(await page.textContent("#page-server"), sentBy);
  assert.equal(await page.textContent("#protocol"), "echo-protocol");
  const server = await page.textContent("#server");
  await page.fill("#message", "hello from chromium");
  await page.click("#send");
  const echo = page.locator("#log li.echo").first();
  await echo.waitFor();
  assert.equal(await echo.locator(".text").textContent(), "hello from chromium");
  assert.equal(await echo.locator(".srv").textContent(), server);
  // Reconnect: roundrobin hands the new socket to the other server.
  await page.click("#reconnect");
  await page.waitForFunction((before) => {
    const s = document.getElementById("server")?.textContent;
    return document.getElementById("state")?.classList.contains("ok") && s !== before;
  }, server);
  await noError();
});

test("the ws. host routing works from a browser", { skip, timeout: 30_000 }, async () => {
  await page.check('input[name="route"][value="host"]');
  await page.waitForFunction(() =>
    document.getElementById("seen-host")?.textContent?.startsWith("ws.localhost:"),
  );
  await page.waitForSelector("#state.ok");
  await page.fill("#message", "via the ws. host");
  await page.click("#send");
  await page.locator("#log li.echo .text", { hasText: "via the ws. host" }).first().waitFor();
  await noError();
  await page.check('input[name="route"][value="upgrade"]');
  await page.waitForFunction(() =>
    document.getElementById("seen-host")?.textContent?.startsWith("127.0.0.1:"),
  );
});

test("many sockets spread over both servers", { skip, timeout: 30_000 }, async () => {
  await page.fill("#count", "12");
  await page.click("#open-many");
  await page.waitForFunction(() => document.getElementById("spread-total")?.textContent === "12 / 12 open");
  const counts = await page.$$eval("#bars .bar", (rows) =>
    rows.map((r): [string, number] => [
      (r as HTMLElement).dataset.server ?? "",
      Number(r.querySelector(".num")?.textContent),
    ]),
  );
  assert.deepEqual(
    counts.map(([s]) => s),
    ["websrv1", "websrv2"],
  );
  // roundrobin: an even split, give or take what else opened meanwhile.
  assert.equal(counts[0]![1] + counts[1]![1], 12);
  assert.ok(
    counts.every(([, n]) => n >= 4),
    JSON.stringify(counts),
  );
  await noError();
});

test("a foreign subprotocol is refused; the plain pages alternate", { skip, timeout: 30_000 }, async () => {
  await page.click("#try-chat");
  await page.waitForSelector("#chat-result.ok");
  await page.click("#probe");
  await page.waitForFunction(() => document.querySelectorAll("#probe-result .srv").length === 6);
  const order = await page.$$eval("#probe-result .srv", (els) => els.map((e) => e.textContent));
  assert.ok(order.includes("websrv1") && order.includes("websrv2"), order.join(" "));
  assert.equal(await page.locator("#direct-links a").count(), 2);
  // The page's own icon: no /favicon.ico (which playwright does not report), a 404 in Sluice's log and
  // a turn of roundrobin.
  const log = demo!.output("sluice");
  assert.match(log, /"GET \/app\.js HTTP\/1\.1"/);
  assert.doesNotMatch(log, /favicon/);
  await noError();
  mkdirSync(OUT, { recursive: true });
  await page.screenshot({ path: join(OUT, "demo.png"), fullPage: true });
});
