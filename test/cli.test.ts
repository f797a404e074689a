// The command line, run as a real process: -c output, -cc, -v, usage errors, signals, bind fd@3.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { once } from "node:events";
import net from "node:net";
import { writeFileSync, readFileSync, existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import {
  CLI,
  ROOT,
  scratchDir,
  spawnSluice,
  exchange,
  httpBackend,
  sleep,
  waitFor,
} from "./helpers/harness.js";

const dir = scratchDir("cli");
const run = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, [CLI, ...args], {
    encoding: "utf8",
    env: { ...process.env, ...env },
    timeout: 10_000,
  });
const file = (name: string, text: string): string => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

test("-c on the example configurations: valid, exit 0", () => {
  for (const name of ["simple", "advanced"]) {
    const r = run(["-c", "-f", join(ROOT, "examples", `${name}.cfg`)]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /Configuration file is valid\n$/);
  }
});

test("-c on the article's advanced configuration pasted verbatim names the wrapped line", () => {
  const cfg = join(ROOT, "test/fixtures/article-advanced-verbatim.cfg");
  const r = run(["-c", "-f", cfg]);
  assert.equal(r.status, 1);
  // haproxy 2.6 says the same for that line: the condition names an ACL 'hdr_w' that does not exist.
  assert.match(
    r.stderr,
    /\[ALERT\] +\(\d+\) : config : parsing \[.*article-advanced-verbatim\.cfg:52\] : error detected while parsing an 'http-request deny' condition : no such ACL : 'hdr_w'\./,
  );
  // As haproxy's, the file with the error is named after its messages; the verdict comes last.
  assert.match(
    r.stderr,
    /no such ACL : 'hdr_w'\.\n[^]*: config : Error\(s\) found in configuration file : .*article-advanced-verbatim\.cfg\n[^]*: config : Fatal errors found in configuration\.\n$/,
  );
  assert.equal(r.stdout, "");
});

test("-c resolves a bind's host as haproxy does, after expanding the environment in it", () => {
  // No `${NAME-default}` in an address: haproxy expands `${ADDRX` and cannot resolve the rest.
  const cfg = file(
    "bind-host.cfg",
    "defaults\n  mode http\n  timeout client 1s\n  timeout connect 1s\n  timeout server 1s\nfrontend f\n  bind ${ADDRX-127.0.0.1}:8080\n",
  );
  const r = run(["-c", "-f", cfg]);
  assert.equal(r.status, 1);
  assert.match(
    r.stderr,
    /^\[ALERT\] +\(\d+\) : config : parsing \[.*bind-host\.cfg:7\] : 'bind' : invalid address: '-127\.0\.0\.1\}' in '\$\{ADDRX-127\.0\.0\.1\}:8080'\n/,
  );
  const ok = file("bind-env.cfg", readFileSync(cfg, "utf8").replace("${ADDRX-127.0.0.1}", "$ADDRX"));
  assert.equal(run(["-c", "-f", ok], { ADDRX: "127.0.0.1" }).status, 0);
  // A backend's bind, ignored with a warning, is resolved all the same.
  const be = file(
    "bind-backend.cfg",
    "defaults\n  mode http\n  timeout client 1s\n  timeout connect 1s\n  timeout server 1s\nfrontend f\n  bind 127.0.0.1:8080\n  default_backend b\nbackend b\n  bind foo.invalid:80\n",
  );
  const r2 = run(["-c", "-f", be]);
  assert.equal(r2.status, 1);
  assert.match(
    r2.stderr,
    /bind-backend\.cfg:10\] : 'bind' ignored because backend 'b' has no frontend capability\.\n/,
  );
  assert.match(
    r2.stderr,
    /bind-backend\.cfg:10\] : 'bind' : invalid address: 'foo\.invalid' in 'foo\.invalid:80'\n/,
  );
});

test("-q, and the global `quiet`, print nothing at all, alerts and verdicts included, as haproxy 2.6.12", () => {
  const warned = file("quiet-warn.cfg", "defaults\n  mode http\nfrontend f\n  bind 127.0.0.1:8080\n");
  const broken = file("quiet-bad.cfg", "defaults\n  mode http\nfrontend f\n  bind 127.0.0.1:8080\n  frob\n");
  for (const [args, status] of [
    [["-q", "-c", "-f", warned], 0],
    [["-q", "-c", "-f", broken], 1],
    [["-c", "-f", file("quiet-global.cfg", `global\n  quiet\n${readFileSync(broken, "utf8")}`)], 1],
  ] as const) {
    const r = run([...args]);
    assert.deepEqual([r.status, r.stdout, r.stderr], [status, "", ""], args.join(" "));
  }
  // Without it, the same configuration says why.
  assert.match(run(["-c", "-f", broken]).stderr, /unknown keyword 'frob'/);
});

test("-c: nothing that would listen (no bind, or only disabled frontends) exits 2, as haproxy 2.6.12", () => {
  const head = "defaults\n  mode http\n  timeout client 1s\n  timeout connect 1s\n  timeout server 1s\n";
  for (const [name, text] of [
    ["nolisten-disabled.cfg", `${head}frontend f\n  bind 127.0.0.1:8080\n  disabled\n`],
    ["nolisten-backend.cfg", `${head}backend b\n`],
  ] as const) {
    const r = run(["-c", "-f", file(name, text)]);
    assert.equal(r.status, 2, name);
    assert.equal(r.stdout, "Configuration file has no error but will not start (no listener) => exit(2).\n");
  }
});

test("-c prints haproxy-shaped alerts and warnings", () => {
  const cfg = file(
    "bad.cfg",
    "defaults\n  mode http\n  timeout client 1s\n  timeout connect 1s\n  timeout server 1s\nfrontend f\n  bind 127.0.0.1:8080\n  frob x\nbackend b\n  bind :1\n",
  );
  const r = run(["-c", "-f", cfg]);
  assert.equal(r.status, 1);
  const lines = r.stderr.trim().split("\n");
  assert.match(
    lines[0]!,
    /^\[ALERT\] {4}\(\d+\) : config : parsing \[.*bad\.cfg:8\] : unknown keyword 'frob' in 'frontend' section$/,
  );
  assert.match(
    lines[1]!,
    /^\[WARNING\] {2}\(\d+\) : config : parsing \[.*bad\.cfg:10\] : 'bind' ignored because backend 'b' has no frontend capability\.$/,
  );
});

test("-c refuses a log-format variable sluice does not write, and a bad sample expression, naming their lines", () => {
  const cfg = file(
    "lf.cfg",
    "defaults\n  mode http\n  timeout client 1s\n  timeout connect 1s\n  timeout server 1s\nfrontend f\n  bind 127.0.0.1:8080\n  http-request set-header X-Ok 50%%-%[src]\n  http-request set-header X-Src %ci\n  http-request set-header X-Tls %sslv\n  http-request set-header X-Bad %[nope]\n  default_backend b\nbackend b\n  server s 127.0.0.1:8081\n",
  );
  const r = run(["-c", "-f", cfg]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /lf\.cfg:10\] : .*log-format variable '%sslv' is not supported by sluice yet/);
  assert.match(
    r.stderr,
    /lf\.cfg:11\] : error detected in frontend 'f' while parsing 'http-request set-header' rule : failed to parse sample expression <nope\]> : unknown fetch method 'nope'\./,
  );
  assert.doesNotMatch(r.stderr, /lf\.cfg:[89]\]/);
});

test("-c with warnings only: 'Warnings were found.' then valid", () => {
  const cfg = file(
    "warn.cfg",
    "global\n  nbthread 2\nfrontend f\n  bind 127.0.0.1:8080\n  mode http\n  timeout client 1s\n  default_backend b\nbackend b\n  mode http\n  timeout connect 1s\n  timeout server 1s\n",
  );
  const r = run(["-c", "-f", cfg]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, "Warnings were found.\nConfiguration file is valid\n");
  assert.match(r.stderr, /\[WARNING\].*'nbthread' has no effect/);
});

test("-f DIR reads *.cfg files in lexical order", () => {
  const d = join(dir, "conf.d");
  mkdirSync(d);
  writeFileSync(
    join(d, "20-backend.cfg"),
    "backend b\n  mode http\n  timeout connect 1s\n  timeout server 1s\n",
  );
  writeFileSync(
    join(d, "10-frontend.cfg"),
    "frontend f\n  mode http\n  timeout client 1s\n  bind 127.0.0.1:8080\n  default_backend b\n",
  );
  writeFileSync(join(d, "ignored.txt"), "garbage\n");
  const r = run(["-c", "-f", d]);
  assert.equal(r.status, 0, r.stderr);
  // The order shows in the alerts: each file's error is reported as the files are read.
  const e = join(dir, "errors.d");
  mkdirSync(e);
  for (const name of ["30-c.cfg", "10-a.cfg", "20-b.cfg"]) writeFileSync(join(e, name), "frobnicate\n");
  const bad = run(["-c", "-f", e]);
  assert.equal(bad.status, 1);
  const order = [...bad.stderr.matchAll(/(\d0-[abc])\.cfg:1\]/g)].map((m) => m[1]);
  assert.deepEqual(order, ["10-a", "20-b", "30-c"]);
});

test("-cc evaluates a condition; -v prints a version line; unknown flags fail at once", () => {
  assert.equal(run(["-cc", "version_atleast(2.6)"]).status, 0);
  assert.equal(run(["-cc", "defined(SLUICE_NOPE)"]).status, 1);
  assert.equal(run(["-cc", "defined(X)"], { X: "1" }).status, 0);
  assert.match(run(["-v"]).stdout, /^Sluice version \d+\.\d+\.\d+ /);
  const bad = run(["--frobnicate"]);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /unknown option '--frobnicate'/);
  assert.match(bad.stderr, /Usage : sluice/);
  // Debug and tuning flags haproxy tools pass are accepted.
  const ok = run([
    "-dM",
    "-dI",
    "-dW",
    "-m",
    "100",
    "-L",
    "peer1",
    "-c",
    "-f",
    join(ROOT, "examples/simple.cfg"),
  ]);
  assert.equal(ok.status, 0, ok.stderr);
});

test("serves on an inherited socket (bind fd@3), stops on SIGTERM with 0; a pid file is the daemon's only", async () => {
  const b = await httpBackend("web");
  const pidfile = join(dir, "sluice.pid");
  const cfg = file(
    "serve.cfg",
    `defaults\n  mode http\n  timeout client 5s\n  timeout connect 1s\n  timeout server 5s\nfrontend f\n  bind fd@3\n  default_backend b\nbackend b\n  server s 127.0.0.1:${b.port}\n`,
  );
  const child = await spawnSluice(["-f", cfg, "-p", pidfile]);
  try {
    const text = await exchange(child.port, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 3000);
    assert.match(text, /^HTTP\/1\.1 200 OK/);
    // As haproxy: in the foreground, -p writes nothing.
    assert.equal(existsSync(pidfile), false);
    const t0 = Date.now();
    const code = await child.kill("SIGTERM");
    assert.equal(code, 0);
    assert.ok(Date.now() - t0 < 2000);
  } finally {
    await child.kill("SIGKILL");
    await b.close();
  }
});

/** The process whose pid `pidfile` holds, once it exists; SIGKILLed at the end of `body`. */
async function withDaemon(pidfile: string, body: (pid: number) => Promise<void>): Promise<void> {
  await waitFor(() => existsSync(pidfile), 3000, "pid file");
  const pid = Number(readFileSync(pidfile, "utf8"));
  try {
    await body(pid);
  } finally {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // Gone already.
    }
  }
}

const status = (pid: number, field: string): string =>
  new RegExp(`^${field}:[ \\t]*(.*)$`, "m").exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]!;

test("daemon (and -D): the command ends once a background copy listens; its startup failure is the command's", async () => {
  const pidfile = join(dir, "daemon.pid");
  const cfg = file(
    "daemon.cfg",
    `global\n  daemon\n  pidfile ${pidfile}\n  nbthread 2\n  maxconn 100\n  maxconn 200\ndefaults\n  mode http\n  timeout client 5s\n  timeout connect 1s\n  timeout server 5s\nfrontend f\n  bind fd@3\n  http-request return status 200 content-type text/plain string up\n`,
  );
  const child = await spawnSluice(["-f", cfg]);
  // The warning and the continuing alert are the first process's, printed once.
  assert.equal(await child.exited, 0);
  assert.equal(child.stderr().match(/'nbthread' has no effect/g)?.length, 1, child.stderr());
  assert.equal(child.stderr().match(/'maxconn' already specified/g)?.length, 1, child.stderr());
  await withDaemon(pidfile, async (pid) => {
    assert.notEqual(pid, child.proc.pid);
    assert.equal(status(pid, "PPid"), "1");
    assert.match(
      await exchange(child.port, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
      /\r\n\r\nup$/,
    );
    process.kill(pid, "SIGTERM");
    await waitFor(() => !existsSync(`/proc/${pid}`), 3000, "daemon's exit");
    // haproxy leaves its pid file behind.
    assert.equal(readFileSync(pidfile, "utf8"), `${pid}\n`);
  });
  // A pid file that cannot be written ends the start, nothing left listening.
  const nowhere = file(
    "daemon-nopid.cfg",
    readFileSync(cfg, "utf8").replace(pidfile, join(dir, "no/such/dir/x.pid")),
  );
  const failed = await spawnSluice(["-f", nowhere]);
  assert.equal(await failed.exited, 1);
  assert.match(
    failed.stderr(),
    /\[ALERT\] +\(\d+\) : \[sluice\.main\(\)\] Cannot create pidfile .*no\/such\/dir\/x\.pid\n/,
  );
  assert.doesNotMatch(failed.stderr(), /internal error/);
  const [refused] = (await once(net.connect(failed.port, "127.0.0.1"), "error")) as [NodeJS.ErrnoException];
  assert.equal(refused.code, "ECONNREFUSED");
  // -D without `daemon`; a bind that fails in the copy fails the command, with the copy's alert.
  const holder = net.createServer().listen(0, "127.0.0.1");
  await once(holder, "listening");
  try {
    const port = (holder.address() as net.AddressInfo).port;
    const taken = file(
      "daemon-taken.cfg",
      readFileSync(cfg, "utf8").replace("  daemon\n", "").replace("fd@3", `127.0.0.1:${port}`),
    );
    const r = run(["-D", "-f", taken]);
    assert.equal(r.status, 1, r.stderr);
    assert.match(
      r.stderr,
      /\[ALERT\] +\(\d+\) : Binding \[.*daemon-taken\.cfg:12\] for frontend f: cannot bind socket \(Address already in use\) for \[127\.0\.0\.1:\d+\]\n\[ALERT\] +\(\d+\) : \[sluice\.main\(\)\] Some protocols failed to start their listeners! Exiting\.\n/,
    );
  } finally {
    holder.close();
  }
});

test("a configuration with no listener to start: haproxy's alert, exit 1", () => {
  const r = run([
    "-f",
    file(
      "nolistener.cfg",
      "defaults\n  mode http\n  timeout client 1s\n  timeout connect 1s\n  timeout server 1s\nbackend b\n",
    ),
  ]);
  assert.equal(r.status, 1);
  assert.match(
    r.stderr,
    /^\[ALERT\] +\(\d+\) : \[sluice\.main\(\)\] No enabled listener found \(check for 'bind' directives\) ! Exiting\.\n$/,
  );
});

/** Answers once a request to `port` is served (an address taken over may take a moment). */
async function served(port: number, ms = 3000): Promise<string> {
  const end = Date.now() + ms;
  for (;;) {
    const text = await exchange(port, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 1000).catch(
      () => "",
    );
    if (text !== "" || Date.now() > end) return text;
    await sleep(20);
  }
}

test("-sf: the new process takes the old one's addresses, the old one finishes; one that cannot bind gives them back", async () => {
  const web = await httpBackend("web");
  const spare = net.createServer().listen(0, "127.0.0.1");
  await once(spare, "listening");
  const port = (spare.address() as net.AddressInfo).port;
  await new Promise((r) => spare.close(r));
  const holder = net.createServer().listen(0, "127.0.0.1");
  await once(holder, "listening");
  const held = (holder.address() as net.AddressInfo).port;
  const cfg = (extra: string) =>
    `defaults\n  mode http\n  timeout client 5s\n  timeout connect 1s\n  timeout server 5s\nfrontend f\n  bind 127.0.0.1:${port}\n${extra}  default_backend b\nbackend b\n  server s 127.0.0.1:${web.port}\n`;
  const conf = file("reload.cfg", cfg(""));
  const children: Awaited<ReturnType<typeof spawnSluice>>[] = [];
  try {
    const first = await spawnSluice(["-f", conf], { listen: false });
    children.push(first);
    assert.match(await served(port), /^HTTP\/1\.1 200 OK/);
    const second = await spawnSluice(["-f", conf, "-sf", String(first.proc.pid)], { listen: false });
    children.push(second);
    // The first lets go of its address, the second takes it, and the first finishes.
    const ended = await Promise.race([first.exited, sleep(5000).then(() => "still running")]);
    assert.equal(ended, 0, first.stderr());
    assert.match(await served(port), /^HTTP\/1\.1 200 OK/);
    assert.doesNotMatch(second.stderr(), /ALERT/);
    // A third cannot have an address another program holds: it gives back the one it took.
    const third = await spawnSluice(
      ["-f", file("reload-held.cfg", cfg(`  bind 127.0.0.1:${held}\n`)), "-sf", String(second.proc.pid)],
      {
        listen: false,
      },
    );
    children.push(third);
    assert.equal(await Promise.race([third.exited, sleep(5000).then(() => "still running")]), 1);
    assert.match(
      third.stderr(),
      new RegExp(`cannot bind socket \\(Address already in use\\) for \\[127\\.0\\.0\\.1:${held}\\]`),
    );
    assert.match(await served(port), /^HTTP\/1\.1 200 OK/);
    assert.equal(second.proc.exitCode, null);
  } finally {
    for (const c of children) await c.kill("SIGKILL");
    holder.close();
    await web.close();
  }
});

test("user and group: taken once listening, the supplementary groups dropped; unknown names refused", async (t) => {
  const bad = run([
    "-c",
    "-f",
    file("nouser.cfg", "global\n  user no-such-user-here\n  group no-such-group-here\n"),
  ]);
  assert.equal(bad.status, 1);
  assert.match(
    bad.stderr,
    /parsing \[.*nouser\.cfg:2\] : cannot find user id for 'no-such-user-here' \(0:Success\)/,
  );
  assert.match(
    bad.stderr,
    /parsing \[.*nouser\.cfg:3\] : cannot find group id for 'no-such-group-here' \(0:Success\)/,
  );
  if (process.getuid!() !== 0) return t.skip("needs root to change identity");
  const pidfile = join(dir, "identity.pid");
  const cfg = file(
    "identity.cfg",
    `global\n  user nobody\n  gid 65534\n  pidfile ${pidfile}\ndefaults\n  mode http\n  timeout client 5s\n  timeout connect 1s\n  timeout server 5s\nfrontend f\n  bind fd@3\n  http-request return status 200 content-type text/plain string up\n`,
  );
  const child = await spawnSluice(["-f", cfg]);
  try {
    assert.match(
      await exchange(child.port, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
      /\r\n\r\nup$/,
    );
    const pid = child.proc.pid!;
    assert.equal(status(pid, "Uid"), "65534\t65534\t65534\t65534");
    assert.equal(status(pid, "Gid"), "65534\t65534\t65534\t65534");
    assert.equal(status(pid, "Groups"), "");
  } finally {
    await child.kill("SIGKILL");
  }
});

test("SIGUSR1 soft-stops: the listener closes, an open request still completes", async () => {
  const b = await httpBackend("slow", (_req, res) => setTimeout(() => res.end("late"), 300));
  const cfg = file(
    "soft.cfg",
    `defaults\n  mode http\n  timeout client 5s\n  timeout connect 1s\n  timeout server 5s\nfrontend f\n  bind fd@3\n  default_backend b\nbackend b\n  server s 127.0.0.1:${b.port}\n`,
  );
  const child = await spawnSluice(["-f", cfg]);
  try {
    const pending = exchange(child.port, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 3000);
    await waitFor(() => b.seen.length === 1, 2000, "request at the server");
    child.proc.kill("SIGUSR1");
    const text = await pending;
    assert.match(text, /^HTTP\/1\.1 200 OK[\s\S]*late$/);
    assert.equal(await child.exited, 0);
  } finally {
    await child.kill("SIGKILL");
    await b.close();
  }
});

test("hard-stop-after cuts a soft stop that sessions would hold too long", async () => {
  const b = await httpBackend("never", () => undefined);
  const cfg = file(
    "hardstop.cfg",
    `global\n  hard-stop-after 300ms\ndefaults\n  mode http\n  timeout client 5s\n  timeout connect 1s\n  timeout server 5s\nfrontend f\n  bind fd@3\n  default_backend b\nbackend b\n  server s 127.0.0.1:${b.port}\n`,
  );
  const child = await spawnSluice(["-f", cfg]);
  try {
    const pending = exchange(child.port, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", 4000);
    await waitFor(() => b.seen.length === 1, 2000, "request at the server");
    const t0 = Date.now();
    child.proc.kill("SIGUSR1");
    assert.equal(await child.exited, 0);
    const took = Date.now() - t0;
    assert.ok(took >= 250 && took < 2000, `stopped after ${took} ms`);
    await pending;
  } finally {
    await child.kill("SIGKILL");
    await b.close();
  }
});
