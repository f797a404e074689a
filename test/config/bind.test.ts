// The options of a bind line: read into the model, refused, or accepted with a warning, in the
// words haproxy 2.6.12 used for the same lines (docs/haproxy-behaviour.md section 80).
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseConfig } from "../../src/config/parse.js";

const BASE = `defaults\n  mode http\n  timeout client 1s\n  timeout connect 1s\n  timeout server 1s\n`;

/** A frontend of BASE with this bind line (line 7), or these lines. */
const read = (lines: string) =>
  parseConfig(
    [{ name: "t.cfg", text: `${BASE}frontend f\n  ${lines}\n  default_backend b\nbackend b\n` }],
    {},
  );

const messages = (lines: string, level: "alert" | "warning") =>
  read(lines)
    .diagnostics.filter((d) => d.level === level)
    .map((d) => d.message);

const H = "'bind 127.0.0.1:1' in section 'frontend'";

test("backlog, maxconn, v4v6, v6only, proto, name and id reach the model", () => {
  const { config, diagnostics } = read(
    "bind 127.0.0.1:1,127.0.0.1:2 backlog 7 maxconn 5x v4v6 proto h1 name web\n  bind 127.0.0.1:3 v4v6 v6only id 9\n  bind 127.0.0.1:4 v6only v4v6 maxconn abc",
  );
  assert.deepEqual(
    diagnostics.filter((d) => d.level !== "warning"),
    [],
  );
  const binds = config.frontends[0]!.binds;
  // atol: `5x` is 5, `abc` 0 (no limit of the bind's own).
  assert.deepEqual(
    binds.map((b) => [b.port, b.backlog, b.maxconn, b.v6only, b.proto, b.name, b.id]),
    [
      [1, 7, 5, false, "h1", "web", undefined],
      [2, 7, 5, false, "h1", "web", undefined],
      [3, undefined, undefined, true, undefined, undefined, 9],
      [4, undefined, 0, true, undefined, undefined, undefined],
    ],
  );
});

test("bad values are refused in haproxy's words", () => {
  const cases: [string, string][] = [
    ["backlog", `${H} : 'backlog' : missing value`],
    ["backlog -1", `${H} : 'backlog' : invalid value -1, must be > 0`],
    ["maxconn ''", `${H} : 'maxconn' : missing value`],
    // A C int: 3000000000 wraps.
    ["maxconn 3000000000", `${H} : 'maxconn' : invalid value -1294967296, must be >= 0`],
    ["id", `${H} : 'id' : expects an integer argument`],
    ["id 5x", `${H} : 'id' : expects an integer argument, found '5x'`],
    ["id 0", `${H} : 'id' : custom id has to be > 0`],
    ["name", `${H} : 'name' : missing name`],
    ["nice 2000", `${H} : 'nice' : invalid value 2000, allowed range is -1024..1024`],
    ["process 2", `${H} : 'process' : '2' is not a valid number/range. It supports numbers from 1 to 1.`],
    ["process x", `${H} : 'process' : 'x' is not a valid number/range.`],
    ["thread 65", `${H} : '65' : '65' is not a valid number/range. It supports numbers from 1 to 64.`],
    ["thread", `${H} : '' : '' is not a valid number/range. It supports numbers from 1 to 64.`],
    ["shards x", `${H} : 'shards' : invalid value 0, allowed range is 1..64 or 'by-thread'`],
    ["proto", `${H} : 'proto' : missing value`],
    ["proto foo", `${H} : 'proto' :  unknown MUX protocol 'foo'`],
    ["level foo", `${H} : 'level' only supports 'user', 'operator', and 'admin' (got 'foo')`],
    ["level", `${H} : 'level' : missing level`],
    ["expose-fd x", `${H} : 'expose-fd' only supports 'listeners' (got 'x')`],
    ["severity-output x", `${H} : 'severity-output' only supports 'none', 'number', and 'string' (got 'x')`],
    ["mode 999", `${H} : 'mode' : missing or invalid mode '999' (octal integer expected)`],
    ["uid", `${H} : 'uid' : missing value`],
    ["user", `${H} : 'user' : missing user name`],
    ["user no-such-user-here", `${H} : 'user' : unknown user name 'no-such-user-here'`],
    ["group no-such-group-here", `${H} : 'group' : unknown group name 'no-such-group-here'`],
    ["foo", `${H}: unknown keyword 'foo'.`],
    ["tfo x", `${H}: unknown keyword 'x'.`],
  ];
  for (const [options, expected] of cases) {
    const alerts = read(`bind 127.0.0.1:1 ${options}`).diagnostics.filter((d) => d.level === "alert");
    assert.deepEqual(
      alerts.map((d) => [d.where?.line, d.message]),
      [[7, expected]],
      options,
    );
  }
});

test("an id names one socket, once per frontend", () => {
  assert.deepEqual(messages("bind 127.0.0.1:1-2 id 3", "alert"), [
    "'bind 127.0.0.1:1-2' in section 'frontend' : 'id' can only be used with a single socket",
  ]);
  assert.deepEqual(messages("bind 127.0.0.1:1 id 3\n  bind 127.0.0.1:2 id 3", "alert"), [
    "'bind 127.0.0.1:2' in section 'frontend' : 'id' : custom id 3 already used at t.cfg:7 ('bind 127.0.0.1:1')",
  ]);
});

test("proto must fit the frontend's mode, once every line of it is read", () => {
  const text = `${BASE}frontend f\n  bind 127.0.0.1:1-2 proto none\n  bind 127.0.0.1:3 proto h1\n  mode tcp\n  default_backend b\nbackend b\n  mode tcp\n`;
  const d = parseConfig([{ name: "t.cfg", text }], {}).diagnostics;
  assert.deepEqual(
    d.filter((x) => x.level === "alert").map((x) => [x.where, x.message]),
    [[undefined, "frontend 'f' : MUX protocol 'h1' is not usable for 'bind 127.0.0.1:3' at [t.cfg:8]."]],
  );
});

test("what Sluice cannot do is refused, naming the option and why", () => {
  const cases: [string, RegExp][] = [
    ["ssl crt /x.pem", /'ssl' is a TLS setting, and TLS is not supported by sluice yet\.$/],
    ["alpn h2", /'alpn' is a TLS setting, and TLS is not supported by sluice yet\.$/],
    ["verify none", /'verify' is a TLS setting, and TLS is not supported by sluice yet\.$/],
    [
      "interface lo",
      /'interface' is not supported by sluice: Node\.js cannot set SO_BINDTODEVICE on a socket\.$/,
    ],
    ["mss 1400", /'mss' is not supported by sluice: Node\.js cannot set TCP_MAXSEG/],
    ["transparent", /'transparent' is not supported by sluice: Node\.js cannot set IP_TRANSPARENT/],
    ["namespace n", /'namespace' is not supported by sluice: Node\.js cannot set a network namespace/],
    ["tcp-ut 10s", /'tcp-ut' is not supported by sluice: Node\.js cannot set TCP_USER_TIMEOUT/],
    ["accept-netscaler-cip 1", /'accept-netscaler-cip' is not supported by sluice yet/],
    ["quic-force-retry", /'quic-force-retry' is not supported by sluice: it speaks no QUIC\.$/],
    ["proto h2", /'proto h2' is not supported by sluice yet: it speaks HTTP\/1 only\.$/],
    ["shards 2", /'shards 2' is not supported by sluice yet/],
  ];
  for (const [options, re] of cases) {
    const { config, diagnostics } = read(`bind 127.0.0.1:1 ${options}`);
    const alerts = diagnostics.filter((d) => d.level === "alert");
    assert.equal(alerts.length, 1, options);
    assert.equal(alerts[0]!.where?.line, 7);
    assert.ok(alerts[0]!.message.startsWith(`${H} : '`), alerts[0]!.message);
    assert.match(alerts[0]!.message, re);
    assert.equal(config.frontends[0]!.binds.length, 0);
  }
});

test("a UNIX socket is refused, by its path as by unix@", () => {
  assert.deepEqual(messages("bind /run/x.sock mode 600", "alert"), [
    "'bind' : '/run/x.sock' is a UNIX socket's path: sluice binds TCP sockets only.",
  ]);
  assert.deepEqual(messages("bind unix@/run/x.sock", "alert"), [
    "'bind' : address family 'unix@' is not supported in 'unix@/run/x.sock'",
  ]);
});

test("what could change nothing here is accepted with a warning that says why", () => {
  const cases: [string, RegExp][] = [
    ["defer-accept", /'defer-accept' has no effect in sluice: Node\.js cannot set TCP_DEFER_ACCEPT/],
    ["tfo", /'tfo' has no effect in sluice: Node\.js cannot set TCP_FASTOPEN/],
    ["nice 10", /'nice' has no effect in sluice, which has no scheduler/],
    ["thread 1-2", /'thread' has no effect in sluice, which runs one thread/],
    ["level admin", /'level' applies to the stats socket only/],
    ["expose-fd listeners", /'expose-fd' applies to the stats socket only/],
    ["severity-output number", /'severity-output' applies to the stats socket only/],
    ["mode 600", /'mode' applies to UNIX sockets only: a TCP listener ignores it, in haproxy as here/],
    ["uid 0", /'uid' applies to UNIX sockets only/],
    ["gid x", /'gid' applies to UNIX sockets only/],
    ["user root", /'user' applies to UNIX sockets only/],
    ["group root", /'group' applies to UNIX sockets only/],
  ];
  for (const [options, re] of cases) {
    const { config, diagnostics } = read(`bind 127.0.0.1:1 ${options}`);
    assert.deepEqual(
      diagnostics.filter((d) => d.level === "alert"),
      [],
      options,
    );
    const w = diagnostics.filter((d) => d.level === "warning");
    assert.equal(w.length, 1, options);
    assert.match(w[0]!.message, new RegExp(`^${H.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} : `));
    assert.match(w[0]!.message, re);
    assert.match(w[0]!.message, /; ignored\.$/);
    assert.equal(config.frontends[0]!.binds.length, 1);
  }
  // haproxy's own deprecation warning, and nothing more: one process is all there is.
  assert.deepEqual(messages("bind 127.0.0.1:1 process 1/2", "warning"), [
    `${H} : 'process 1/2' on 'bind' lines is deprecated and will be removed in 2.7. Please use 'thread 2' instead.`,
  ]);
  // One shard is what Sluice does anyway.
  assert.deepEqual(read("bind 127.0.0.1:1 shards 1").diagnostics, []);
});

test("a backend's bind is read and ignored: no warning beyond haproxy's", () => {
  const { diagnostics } = parseConfig(
    [{ name: "t.cfg", text: `${BASE}backend b\n  bind 127.0.0.1:1 tfo maxconn 3 nice 4 user root\n` }],
    {},
  );
  assert.deepEqual(
    diagnostics.map((d) => d.message),
    ["'bind' ignored because backend 'b' has no frontend capability."],
  );
});
