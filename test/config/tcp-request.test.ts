// tcp-request lines: each message below was recorded from haproxy 2.6.12 (`haproxy -c`) with the
// same lines, except where a comment says sluice refuses what haproxy takes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseConfig } from "../../src/config/parse.js";

const BASE = `defaults
  mode http
  timeout client 1s
  timeout connect 1s
  timeout server 1s
`;

/** The diagnostics of `lines` in a frontend (its first line is line 8), with a backend `b`. */
const said = (lines: string, backendLines = "") =>
  parseConfig(
    [
      {
        name: "t.cfg",
        text: `${BASE}frontend f\n  bind :1\n${lines}  default_backend b\nbackend b\n${backendLines}`,
      },
    ],
    {},
  ).diagnostics.map((d) => `${d.level} ${d.where?.line}: ${d.message}`);

const L4 =
  "'accept', 'reject', 'capture', 'expect-proxy', 'expect-netscaler-cip', 'track-sc0' ... 'track-sc2', 'sc-inc-gpc(*)', 'sc-inc-gpc0(*)', 'sc-inc-gpc1(*)', 'sc-set-gpt(*)', 'sc-set-gpt0(*)', 'set-var-fmt(*)', 'set-var(*)', 'unset-var(*)', 'set-dst', 'set-dst-port', 'set-mark', 'set-src', 'set-src-port', 'set-tos', 'silent-drop'";

test("tcp-request: haproxy 2.6.12's refusals", () => {
  const cases: [string, string[]][] = [
    ["  tcp-request\n", ["alert 8: missing argument for 'tcp-request' in frontend 'f'"]],
    [
      "  tcp-request bogus accept\n",
      [
        "alert 8: 'tcp-request' expects 'inspect-delay', 'connection', or 'content' in frontend 'f' (got 'bogus')",
      ],
    ],
    [
      "  tcp-request connection\n",
      [`alert 8: 'tcp-request connection' expects ${L4} in frontend 'f' (got '').\n`],
    ],
    [
      "  tcp-request session bogus\n",
      [`alert 8: 'tcp-request session' expects ${L4} in frontend 'f' (got 'bogus').\n`],
    ],
    [
      "  tcp-request content bogus\n",
      [
        "alert 8: 'tcp-request content' expects 'accept', 'reject', 'capture', 'expect-proxy', 'expect-netscaler-cip', 'track-sc0' ... 'track-sc2', 'ot-group', 'set-log-level', 'set-nice', 'switch-mode', 'use-service', 'sc-inc-gpc(*)', 'sc-inc-gpc0(*)', 'sc-inc-gpc1(*)', 'sc-set-gpt(*)', 'sc-set-gpt0(*)', 'send-spoe-group', 'do-resolve(*)', 'set-var-fmt(*)', 'set-var(*)', 'unset-var(*)', 'set-src', 'set-src-port', 'set-dst', 'set-dst-port', 'set-mark', 'set-tos', 'silent-drop', 'set-priority-class', 'set-priority-offset' in frontend 'f' (got 'bogus').\n",
      ],
    ],
    [
      "  tcp-request connection expect-proxy\n",
      ["alert 8: 'tcp-request connection expect-proxy' only supports 'layer4' in frontend 'f' (got '')"],
    ],
    [
      "  tcp-request connection expect-proxy layer7\n",
      [
        "alert 8: 'tcp-request connection expect-proxy' only supports 'layer4' in frontend 'f' (got 'layer7')",
      ],
    ],
    [
      "  tcp-request session expect-proxy layer4\n",
      ["alert 8: 'expect-proxy layer4' is not allowed in 'tcp-request session' rules in frontend 'f'"],
    ],
    [
      "  tcp-request content reject foo\n",
      ["alert 8: 'tcp-request content reject' only accepts 'if' or 'unless', in frontend 'f' (got 'foo')"],
    ],
    [
      "  tcp-request connection expect-proxy layer4 foo\n",
      [
        "alert 8: 'tcp-request connection expect-proxy' only accepts 'if' or 'unless', in frontend 'f' (got 'foo')",
      ],
    ],
    [
      "  tcp-request connection reject if foo\n",
      [
        "alert 8: 'tcp-request connection reject' : error detected in frontend 'f' while parsing 'if' condition : no such ACL : 'foo'",
      ],
    ],
    [
      "  tcp-request content reject if { path_x /x }\n",
      [
        "alert 8: 'tcp-request content reject' : error detected in frontend 'f' while parsing 'if' condition : unknown fetch method 'path_x' in ACL expression 'path_x'",
      ],
    ],
    [
      "  tcp-request session accept if { src 1.2.3.4\n",
      [
        "alert 8: 'tcp-request session accept' : error detected in frontend 'f' while parsing 'if' condition : missing closing '}' in condition",
      ],
    ],
    [
      "  tcp-request inspect-delay\n",
      ["alert 8: 'tcp-request inspect-delay' expects a positive delay in milliseconds, in frontend 'f'"],
    ],
    [
      "  tcp-request inspect-delay 3x\n",
      [
        "alert 8: 'tcp-request inspect-delay' expects a positive delay in milliseconds, in frontend 'f' (unexpected character 'x')",
      ],
    ],
    [
      "  tcp-request inspect-delay 99999999999\n",
      [
        "alert 8: 'tcp-request inspect-delay' expects a positive delay in milliseconds, in frontend 'f' (timer overflow in '99999999999', maximum value is 2147483647 ms or ~24.8 days)",
      ],
    ],
    [
      "  tcp-request inspect-delay 2s\n  tcp-request inspect-delay 3s\n",
      ["warning 9: ignoring tcp-request inspect-delay (was already defined) in frontend 'f'"],
    ],
    // haproxy takes these; sluice says what it does not do yet rather than ignore them.
    [
      "  tcp-request connection set-var(sess.a) src\n",
      ["alert 8: 'tcp-request connection set-var(sess.a)' is not supported by sluice yet."],
    ],
    [
      "  tcp-request content set-var(txn.a) src\n",
      ["alert 8: 'tcp-request content set-var(txn.a)' is not supported by sluice yet."],
    ],
  ];
  for (const [lines, messages] of cases) assert.deepEqual(said(lines), messages, lines);
  assert.deepEqual(
    said("", "  tcp-request connection reject\n  tcp-request session reject\n  tcp-request content reject\n"),
    [
      "alert 10: tcp-request connection is not allowed because backend b is not a frontend",
      "alert 11: tcp-request session is not allowed because backend b is not a frontend",
    ],
  );
  const anonymous = parseConfig(
    [
      {
        name: "t.cfg",
        text: "defaults\n  mode http\n  tcp-request connection reject\n  tcp-request inspect-delay 2s\n",
      },
    ],
    {},
  ).diagnostics.map((d) => d.message);
  assert.deepEqual(anonymous, [
    "tcp-request connection is not allowed in anonymous 'defaults' sections",
    "tcp-request inspect-delay is not allowed in anonymous 'defaults' sections",
  ]);
  const inDefaults = parseConfig(
    [{ name: "t.cfg", text: "defaults\n  mode http\n  tcp-request bogus x\n  tcp-request\n" }],
    {},
  ).diagnostics.map((d) => d.message);
  assert.deepEqual(inDefaults, [
    "'tcp-request' expects 'inspect-delay', 'connection', or 'content' in defaults section (got 'bogus')",
    "missing argument for 'tcp-request' in defaults section",
  ]);
  assert.deepEqual(said("  tcp-request session expect-netscaler-cip layer4\n"), [
    "alert 8: 'expect-netscaler-cip layer4' is not allowed in 'tcp-request session' rules in frontend 'f'",
  ]);
});

test("tcp-request: haproxy 2.6.12's warnings for rules written after those that run after them, and for ACLs that cannot match there", () => {
  const cases: [string, string[]][] = [
    [
      "  http-request deny if { path /a }\n  tcp-request connection reject if { src 127.0.0.2 }\n",
      ["warning 9: a 'tcp-request' rule placed after an 'http-request' rule will still be processed before."],
    ],
    [
      "  tcp-request content accept\n  tcp-request connection expect-proxy layer4\n",
      [
        "warning 9: a 'tcp-request' rule placed after a 'tcp-request content' rule will still be processed before.",
      ],
    ],
    [
      "  tcp-request content accept\n  tcp-request session accept\n  tcp-request connection accept\n",
      [
        "warning 9: a 'tcp-request' rule placed after a 'tcp-request content' rule will still be processed before.",
        "warning 10: a 'tcp-request' rule placed after a 'tcp-request session' rule will still be processed before.",
      ],
    ],
    [
      "  monitor fail if { path /m }\n  tcp-request content reject if { path /x }\n",
      ["warning 9: a 'tcp-request' rule placed after a 'monitor fail' rule will still be processed before."],
    ],
    [
      "  redirect location /x if { path /r }\n  tcp-request content accept\n",
      ["warning 9: a 'tcp-request' rule placed after a 'redirect' rule will still be processed before."],
    ],
    [
      "  tcp-request connection reject if HTTP\n",
      [
        "warning 8: acl 'HTTP' will never match in 'tcp-request connection' because it only involves keywords that are incompatible with 'frontend tcp-request connection rule'",
      ],
    ],
    [
      "  tcp-request session reject if { req.len gt 3 } || { be_name x }\n",
      [
        "warning 8: anonymous acl will never match in 'tcp-request session' because it uses keyword 'req.len' which is incompatible with 'frontend tcp-request session rule'",
        "warning undefined: Proxy 'f': L6 sample fetches ignored on HTTP proxies (declared at t.cfg:8).",
      ],
    ],
    [
      "  acl mix src 1.2.3.4\n  acl mix path /x\n  tcp-request connection reject if mix\n",
      [
        "warning 10: acl 'mix' involves keyword 'path' which is incompatible with 'frontend tcp-request connection rule'",
      ],
    ],
    [
      "  tcp-request content reject if { res.hdr(x) y } || { status 200 }\n",
      [
        "warning 8: anonymous acl will never match in 'tcp-request content' because it uses keyword 'res.hdr' which is incompatible with 'frontend tcp-request content rule'",
      ],
    ],
    // Samples of the connection, the frontend, and constants exist from the accept on.
    [
      "  tcp-request connection reject if { src_port 1 } { dst 1.2.3.4 } { dst_port 3 } { fe_name f } { always_true } !WAIT_END\n",
      [],
    ],
    // HTTP samples exist where content rules run; haproxy notes the raw bytes' length (checked last).
    [
      "  tcp-request content reject if HTTP_1.1 || { req.len gt 3 } || { path /x }\n",
      ["warning undefined: Proxy 'f': L6 sample fetches ignored on HTTP proxies (declared at t.cfg:8)."],
    ],
  ];
  for (const [lines, messages] of cases) assert.deepEqual(said(lines), messages, lines);
  assert.deepEqual(said("", "  tcp-request content accept if { res.hdr(x) y }\n"), [
    "warning 10: anonymous acl will never match in 'tcp-request content' because it uses keyword 'res.hdr' which is incompatible with 'backend tcp-request content rule'",
  ]);
});

test("the request's raw bytes: haproxy 2.6.12's refusals of req.payload without a match method, and of bad hexadecimal patterns", () => {
  const acl = (line: string) =>
    parseConfig(
      [
        {
          name: "t.cfg",
          text: `${BASE.replace("mode http", "mode tcp")}frontend f\n  bind :1\n  acl a ${line}\n`,
        },
      ],
      {},
    ).diagnostics.map((d) => d.message);
  assert.deepEqual(acl("req.payload(0,3) 616263"), [
    "error detected while parsing ACL 'a' : matching method must be specified first (using '-m') when using a sample fetch of this type ('req.payload').",
  ]);
  assert.deepEqual(acl("req.payload(0,3) -m bin 61626"), [
    "error detected while parsing ACL 'a' : an even number of hex digit is expected.",
  ]);
  assert.deepEqual(acl("req.payload(0,3) -m bin zz"), [
    "error detected while parsing ACL 'a' : an hex digit is expected (found 'z').",
  ]);
  for (const ok of [
    "req.payload(0,3) -m bin 616263",
    "req.payload(0,3),lower abc",
    "req.ssl_sni -i a.example",
    "req_ssl_sni a.example",
    "req.ssl_hello_type 1",
    "req_ssl_hello_type 1",
  ])
    assert.deepEqual(acl(ok), [], ok);
});
