// The sample fetches of internal state and constants (bool, bin, ipv4, ipv6, meth, date, date_us,
// env, hostname, rand, uuid, stopping, proc, thread, nbproc): their values, their argument checks
// and how ACLs match them, each compared with what haproxy 2.6.12 gives for the same configuration.
import { test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { once } from "node:events";
import { hostname } from "node:os";
import { closed, startProxy, exchange, DEFAULTS, alertsFor } from "../helpers/harness.js";

/** The body of the response to one GET. */
async function body(port: number, path = "/"): Promise<string> {
  const res = await exchange(port, `GET ${path} HTTP/1.0\r\n\r\n`);
  return res.slice(res.indexOf("\r\n\r\n") + 4);
}

/** A frontend that answers with this log-format text; `global` goes first. */
const answering = (format: string, global = ""): string => `${global}${DEFAULTS}
frontend f
  bind 127.0.0.1:1
  http-request return status 200 content-type text/plain lf-string "${format}"
`;

test("the constants bool, bin, ipv4, ipv6 and meth give haproxy 2.6.12's values", async () => {
  const q = await startProxy(
    answering(
      "b=%[bool(1)] %[bool(TRUE)] %[bool(false)] %[bool(0)] bin=%[bin(414243)] hex=%[bin(41004243),hex] " +
        "nul=%[bin(41004243)] %[bin(41004243),length] %[bin(41004243),bytes(1),hex] %[bin(41004243),lower] " +
        "v4=%[ipv4(1.2.3.4)] v6=%[ipv6(0:0:0:0:0:0:0:1)] v6b=%[ipv6(::1.2.3.4)] v6c=%[ipv6(::ffff:1.2.3.4)] " +
        "v6d=%[ipv6(2001:DB8:0:0:1:0:0:1)] v6e=%[ipv6(1:0:0:2::)] m=%[meth(GET)] m2=%[meth(FOO)] me=%[meth()] " +
        "sum=%[bool(1),add(1)] mask=%[ipv4(1.2.3.4),ipmask(16)]",
    ),
  );
  try {
    assert.equal(
      await body(q.port),
      "b=1 1 0 0 bin=ABC hex=41004243 nul=A 1 004243 a v4=1.2.3.4 v6=::1 v6b=::1.2.3.4 v6c=::ffff:1.2.3.4 " +
        "v6d=2001:db8::1:0:0:1 v6e=1:0:0:2:: m=GET m2=FOO me= sum=2 mask=1.2.0.0",
    );
  } finally {
    await q.stop();
  }
});

test("date, date_us, rand, uuid, hostname and the process's numbers", async () => {
  const q = await startProxy(
    answering(
      "%[date] %[date(0,ms)] %[date(0,us)] %[date(3600)] %[date(-5,s)] %[date_us] " +
        "%[rand] %[rand(10)] %[rand(0)] %[rand(-1)] %[uuid] %[uuid(4)] %[hostname] %[stopping] %[proc] %[thread] %[nbproc]",
    ),
  );
  try {
    const before = Date.now();
    const words = (await body(q.port)).split(" ");
    const after = Date.now();
    const [
      s,
      ms,
      us,
      plusHour,
      minus5,
      usPart,
      r,
      r10,
      r0,
      rNeg,
      u1,
      u2,
      host,
      stopping,
      proc,
      thread,
      nbproc,
    ] = words;
    // One instant for the whole format, as haproxy's date is one per wake-up.
    assert.ok(Number(ms) >= before && Number(ms) <= after, `${ms} in [${before}, ${after}]`);
    assert.equal(Math.floor(Number(us) / 1000), Number(ms));
    assert.equal(Math.floor(Number(ms) / 1000), Number(s));
    assert.equal(Number(plusHour), Number(s) + 3600);
    assert.equal(Number(minus5), Number(s) - 5);
    assert.equal(Number(usPart), Number(us) % 1_000_000);
    // rand: 0 to 2^32-1; with a range, (r * range) >> 32 in 64-bit unsigned arithmetic.
    assert.ok(Number(r) >= 0 && Number(r) < 2 ** 32 && Number.isInteger(Number(r)));
    assert.ok(Number(r10) >= 0 && Number(r10) < 10);
    assert.equal(r0, "0");
    assert.equal(rNeg, "4294967295");
    const V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
    assert.match(u1!, V4);
    assert.match(u2!, V4);
    assert.notEqual(u1, u2);
    assert.equal(host, hostname());
    assert.deepEqual([stopping, proc, thread, nbproc], ["0", "1", "0", "1"]);
  } finally {
    await q.stop();
  }
});

test("env reads the environment the global section leaves, a later global section's too", async () => {
  const q = await startProxy(
    `global
  setenv FOO bar
  presetenv FOO baz
  presetenv KEPT new
  presetenv NEWV nv
  setenv GONE x
  unsetenv GONE
${DEFAULTS}
frontend f
  bind 127.0.0.1:1
  http-request return status 200 content-type text/plain lf-string "foo=%[env(FOO)] kept=%[env(KEPT)] newv=%[env(NEWV)] gone=%[env(GONE)] late=%[env(LATE)] none=%[env()] up=%[env(FOO),upper] proto=%[env(toString)]%[env(__proto__)]"
global
  setenv LATE later
`,
    { KEPT: "old" },
  );
  try {
    assert.equal(await body(q.port), "foo=bar kept=old newv=nv gone= late=later none= up=BAR proto=");
  } finally {
    await q.stop();
  }
  const r = await startProxy(
    `global
  resetenv KEEP
${DEFAULTS}
frontend f
  bind 127.0.0.1:1
  http-request return status 200 content-type text/plain lf-string "%[env(KEEP)]-%[env(DROP)]"
`,
    { KEEP: "k", DROP: "d" },
  );
  try {
    assert.equal(await body(r.port), "k-");
  } finally {
    await r.stop();
  }
});

// What each condition gives with haproxy 2.6.12 (1: it matches), in order.
const CONDITIONS: [string, boolean][] = [
  ["{ bool(1) }", true],
  ["{ bool(0) }", false],
  ["{ bool(true) -m int 1 }", true],
  ["{ bool(false) -m bool }", false],
  ["{ bin(414243) -m bin 414243 }", true],
  ["{ bin(414243) -m str ABC }", true],
  ["{ bin(414243) -m len 3 }", true],
  ["{ bin(41004243) -m bin 41004243 }", true],
  ["{ bin(414243) -m beg AB }", true],
  ["{ bin(414243) -m found }", true],
  // As text, bytes end at their first NUL.
  ["{ bin(41004243) -m str A }", true],
  ["{ bin(41004243) -m len 1 }", true],
  ["{ bin(41004243) -m sub B }", false],
  ["{ bin(41004243),bytes(0,1) -m str A }", true],
  ["{ bin(41004243),length 4 }", false],
  ["{ ipv4(10.1.2.3) 10.0.0.0/8 }", true],
  ["{ ipv4(10.1.2.3) 11.0.0.0/8 }", false],
  ["{ ipv4(10.1.2.3) -m str 10.1.2.3 }", true],
  ["{ ipv6(::1) ::1 }", true],
  ["{ ipv6(0:0::1) -m str ::1 }", true],
  ["{ ipv6(::ffff:10.1.2.3) 10.0.0.0/8 }", true],
  ["{ ipv4(10.1.2.3) ::ffff:10.1.2.3 }", true],
  ["{ ipv4(10.1.2.3) -m int 167838211 }", true],
  ["{ meth(GET) -m str get }", false],
  ["{ meth(GET) -m str -i get }", true],
  ["{ meth(FOO) -m str FOO }", true],
  ["{ meth(FOO) -m beg -i fo }", true],
  ["{ meth(get) -m str get }", true],
  ["{ meth() -m len 0 }", true],
  ["{ date gt 1000000000 }", true],
  ["{ date(0,ms) gt 1000000000000 }", true],
  ["{ date(-1000000000) lt 1000000000 }", true],
  ["{ date_us ge 0 }", true],
  ["{ env(FOO) bar }", true],
  ["{ env(NOPE) -m found }", false],
  ["{ env(BAR) -m found }", false],
  ["{ hostname -m found }", true],
  ["{ rand(1) eq 0 }", true],
  ["{ rand lt 4294967296 }", true],
  ["{ uuid -m len 36 }", true],
  ["{ stopping }", false],
  ["{ proc eq 1 }", true],
  ["{ nbproc eq 1 }", true],
  ["{ thread eq 0 }", true],
  ["{ bin(01020304),hex 01020304 }", true],
];

test("ACLs match them by their type, as haproxy 2.6.12 does", async () => {
  const rules = CONDITIONS.map(([c], i) => `  http-request set-var(txn.a${i}) bool(1) if ${c}\n`).join("");
  const format = CONDITIONS.map((_, i) => `%[var(txn.a${i})]`).join(" ");
  const q = await startProxy(`global
  setenv FOO bar
  setenv BAR baz
  unsetenv BAR
${DEFAULTS}
frontend f
  bind 127.0.0.1:1
${rules}  http-request return status 200 content-type text/plain lf-string "${format}"
`);
  try {
    const got = (await body(q.port)).split(" ");
    CONDITIONS.forEach(([c, want], i) => assert.equal(got[i] === "1", want, c));
  } finally {
    await q.stop();
  }
});

const RETURN = "http-request return status 200 content-type text/plain lf-string";
const ruleError = (expr: string, reason: string): string =>
  `error detected in frontend 'f' while parsing 'http-request return' rule : failed to parse sample expression <${expr}]> : ${reason}.`;
const aclError = (expr: string, reason: string): string =>
  `error detected while parsing ACL 'a' : ${reason} in ACL expression '${expr}'.`;

test("their arguments are refused as haproxy 2.6.12 refuses them", () => {
  const cases: [string, string][] = [
    ["bool(x)", "invalid args in fetch method 'bool' : Expects 'true', 'false', '0' or '1'"],
    ["bool", "invalid args in fetch method 'bool' : Expects 'true', 'false', '0' or '1'"],
    ["bool(constructor)", "invalid args in fetch method 'bool' : Expects 'true', 'false', '0' or '1'"],
    ["bool(1,2)", "fetch method 'bool' : expected ')' before ',2)'"],
    ["bin(4)", "invalid args in fetch method 'bin' : an even number of hex digit is expected"],
    ["bin(4g)", "invalid args in fetch method 'bin' : an hex digit is expected (found 'g')"],
    ["bin(0g0)", "invalid args in fetch method 'bin' : an even number of hex digit is expected"],
    // parse_binary fails on nothing without saying why.
    ["bin()", "invalid args in fetch method 'bin' : (null)"],
    ["meth(G@T)", "invalid args in fetch method 'meth' : expects valid method."],
    ["date(x)", "fetch method 'date' : failed to parse 'x' as type 'integer' at position 1"],
    ["date(1,x)", "invalid args in fetch method 'date' : expects 's', 'ms' or 'us', got 'x'"],
    ["date(0,)", "invalid args in fetch method 'date' : expects 's', 'ms' or 'us', got ''"],
    ["date(0,MS)", "invalid args in fetch method 'date' : expects 's', 'ms' or 'us', got 'MS'"],
    ["date(,ms)", "fetch method 'date' : expected ')' before ',ms)'"],
    ["date_us(1)", "fetch method 'date_us' : expected ')' before '1)'"],
    ["env(a,b)", "fetch method 'env' : expected ')' before ',b)'"],
    ["hostname(x)", "fetch method 'hostname' : expected ')' before 'x)'"],
    ["rand(x)", "fetch method 'rand' : failed to parse 'x' as type 'integer' at position 1"],
    ["uuid(3)", "invalid args in fetch method 'uuid' : Unsupported UUID version: '3'"],
    ["uuid(0)", "invalid args in fetch method 'uuid' : Unsupported UUID version: '0'"],
    [
      "uuid(99999999999999999999)",
      "invalid args in fetch method 'uuid' : Unsupported UUID version: '9223372036854775807'",
    ],
    ["stopping(1)", "fetch method 'stopping' : expected ')' before '1)'"],
  ];
  for (const [expr, reason] of cases) {
    // A log-format's expression runs to the end of the text: haproxy's message shows the "]" too.
    const inRule = reason.replace(/\)'$/, ")]'");
    assert.deepEqual(alertsFor(`${RETURN} "%[${expr}]"`), [ruleError(expr, inRule)], expr);
    assert.deepEqual(alertsFor(`acl a ${expr} 1`), [aclError(expr, reason)], expr);
  }
  for (const ok of [
    "bool(True)",
    "meth",
    "meth(get)",
    "date()",
    "rand()",
    "uuid()",
    "uuid(04)",
    "env",
    "env()",
  ])
    assert.deepEqual(alertsFor(`${RETURN} "%[${ok}]"`), [], ok);
});

test("ipv4 and ipv6 take what inet_pton takes", () => {
  // haproxy reads these arguments as addresses: its message lacks the "invalid args in" here.
  const bad = [
    ["ipv4", "x"],
    ["ipv4", "01.2.3.4"],
    ["ipv4", "1.2.3"],
    ["ipv4", "256.1.1.1"],
    ["ipv6", "1.2.3.4"],
    ["ipv6", "::01.2.3.4"],
    ["ipv6", "1:2:3:4:5:6:7:8:9"],
    ["ipv6", "::1:2:3:4:5:6:7:8"],
    ["ipv6", "12345::"],
    ["ipv6", ":1::"],
    ["ipv6", "1:::2"],
    ["ipv6", "1:2:3:4:5:6:7:1.2.3.4"],
    ["ipv6", "fe80::1%eth0"],
  ];
  for (const [f, a] of bad) {
    const type = f === "ipv4" ? "IPv4 address" : "IPv6 address";
    const alerts = alertsFor(`acl a ${f}(${a}) 1`);
    assert.equal(alerts.length, 1, `${f}(${a})`);
    assert.ok(
      alerts[0]!.includes(`fetch method '${f}' : failed to parse '${a}' as type '${type}' at position 1`),
      alerts[0],
    );
  }
  assert.ok(
    alertsFor(`acl a ipv4() 1`)[0]!.includes(
      "fetch method 'ipv4' : expected type 'IPv4 address' at position 1, but got nothing",
    ),
  );
  for (const ok of ["ipv4(255.255.255.255)", "ipv6(1:2:3:4:5:6:7::)", "ipv6(1:2:3:4:5:6:1.2.3.4)"])
    assert.deepEqual(alertsFor(`acl a ${ok} 1.2.3.4`), [], ok);
});

test("bin and meth have no default match method, and meth takes no int or ip one", () => {
  const must = (f: string) =>
    `error detected while parsing ACL 'a' : matching method must be specified first (using '-m') when using a sample fetch of this type ('${f}').`;
  assert.deepEqual(alertsFor("acl a bin(41) x"), [must("bin")]);
  assert.deepEqual(alertsFor("acl a meth(GET) GET"), [must("meth")]);
  assert.deepEqual(alertsFor("acl a meth GET"), [must("meth")]);
  assert.deepEqual(alertsFor("acl a meth(GET) -m int 1"), [
    "error detected while parsing ACL 'a' : matching method 'int' cannot be used with fetch keyword 'meth'.",
  ]);
});

/** How long a mode tcp connection that sends "hi" takes to be closed. */
async function closedAfter(port: number): Promise<number> {
  const t = Date.now();
  const s = net.connect(port, "127.0.0.1", () => s.write("hi"));
  s.on("error", () => undefined);
  s.resume();
  await closed(s);
  return Date.now() - t;
}

test("in tcp-request content rules, a date, rand or uuid test that fails waits for the inspect delay; stopping does not", async () => {
  const fe = (name: string, cond: string) => `
frontend ${name}
  mode tcp
  bind 127.0.0.1:1
  tcp-request inspect-delay 1s
  tcp-request content reject if { ${cond} }
  tcp-request content reject
`;
  const q = await startProxy(
    DEFAULTS +
      fe("r", "rand(1) eq 5") +
      fe("u", "uuid -m len 3") +
      fe("d", "date_us lt 0") +
      fe("s", "stopping") +
      fe("i", "int(0) eq 5"),
  );
  try {
    const [r, u, d, s, i] = await Promise.all(q.ports.map(closedAfter));
    for (const t of [r, u, d]) assert.ok(t! >= 950, `${t}ms`);
    for (const t of [s, i]) assert.ok(t! < 500, `${t}ms`);
  } finally {
    await q.stop();
  }
});

test("stopping is true for a request finished during a soft stop", async () => {
  const q = await startProxy(`${DEFAULTS}
frontend f
  bind 127.0.0.1:1
  http-request set-var(txn.s) bool(1) if { stopping }
  http-request return status 200 content-type text/plain lf-string "s=%[stopping] acl=%[var(txn.s)]"
`);
  const s = net.connect(q.port, "127.0.0.1");
  s.on("error", () => undefined);
  const chunks: Buffer[] = [];
  s.on("data", (d: Buffer) => chunks.push(d));
  await once(s, "connect");
  try {
    assert.equal(await body(q.port), "s=0 acl=");
    s.write("GET / HTTP/1.1\r\nHost: x\r\n");
    await new Promise((r) => setTimeout(r, 100));
    const stopped = q.rt.softStop();
    s.write("\r\n");
    await closed(s);
    await stopped;
    const res = Buffer.concat(chunks).toString("latin1");
    assert.equal(res.slice(res.indexOf("\r\n\r\n") + 4), "s=1 acl=1");
  } finally {
    s.destroy();
    await q.stop();
  }
});
