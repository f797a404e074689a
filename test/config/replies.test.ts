// The responses a configuration writes: errorfile, errorloc, errorfiles, http-error and http-errors
// sections, and the words of a rule's reply (lf-string, lf-file, hdr): what is read, what is refused
// and in what words (each message checked against haproxy 2.6.12 with `haproxy -c`).
import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseConfig } from "../../src/config/parse.js";
import { formatDiagnostic } from "../../src/config/load.js";
import { errorFileBytes } from "../../src/http/errorfile.js";
import { scratchDir } from "../helpers/harness.js";

const dir = scratchDir("errorfiles");
function file(name: string, text: string | Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const parse = (text: string) => parseConfig([{ name: "t.cfg", text: text.replace(/^\n/, "") }]);
const said = (text: string) =>
  parse(text).diagnostics.map((d) => formatDiagnostic(d, 1).replace(/^.*? : config : /, ""));

const BASE = `
defaults
  mode http
  timeout client 1s
  timeout connect 1s
  timeout server 1s
`;

const s503 = file("503.http", "HTTP/1.1 503 Busy\r\nContent-Length: 4\r\nX-Page: Ours\r\n\r\nbusy");
const debian503 = file(
  "debian503.http",
  "HTTP/1.0 503 Service Unavailable\r\nCache-Control: no-cache\r\nConnection: close\r\nContent-Type: text/html\r\n\r\n<html>busy</html>\n",
);

test("errorfile lines in defaults reach every proxy, a proxy's own lines win, and the files are read once", () => {
  const own = file("own503.http", "HTTP/1.1 503 Own\r\nContent-Length: 0\r\n\r\n");
  const { config, diagnostics } = parse(`${BASE}  errorfile 503 ${debian503}
  errorfile 403 ${s503}
frontend f
  bind :1
  errorfile 503 ${own}
  default_backend b
backend b
  server a 127.0.0.1:1
`);
  assert.deepEqual(diagnostics, []);
  const f = config.proxies[0]!;
  const b = config.proxies[1]!;
  assert.equal(f.errorFiles.get(503)!.head, "HTTP/1.1 503 Own\r\ncontent-length: 0\r\n");
  assert.equal(
    b.errorFiles.get(503)!.head,
    "HTTP/1.0 503 Service Unavailable\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n",
  );
  // One file, one object, wherever it is used.
  assert.equal(f.errorFiles.get(403), b.errorFiles.get(403));
});

test("an errorfile is sent with lower-case names and the Connection header its client needs", () => {
  const { config } = parse(`${BASE}frontend f
  bind :1
  errorfile 503 ${debian503}
  errorfile 403 ${s503}
`);
  const deb = config.proxies[0]!.errorFiles.get(503)!;
  // HTTP/1.0 without a length: the connection closes after it, which a 1.0 response need not say.
  assert.equal(deb.closes, true);
  assert.equal(deb.http10, true);
  assert.equal(
    errorFileBytes(deb, undefined).toString("latin1"),
    "HTTP/1.0 503 Service Unavailable\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html>busy</html>\n",
  );
  const page = config.proxies[0]!.errorFiles.get(403)!;
  assert.equal(page.closes, false);
  assert.equal(
    errorFileBytes(page, "keep-alive").toString("latin1"),
    "HTTP/1.1 503 Busy\r\ncontent-length: 4\r\nx-page: Ours\r\nconnection: keep-alive\r\n\r\nbusy",
  );
});

test("errorloc, errorloc302 and errorloc303 are redirects written like haproxy's", () => {
  const { config, diagnostics } = parse(`${BASE}frontend f
  bind :1
  errorloc 503 http://example.com/busy
  errorloc303 403 /denied
`);
  assert.deepEqual(diagnostics, []);
  const px = config.proxies[0]!;
  assert.equal(
    errorFileBytes(px.errorFiles.get(503)!, undefined).toString(),
    "HTTP/1.1 302 Found\r\ncache-control: no-cache\r\ncontent-length: 0\r\nlocation: http://example.com/busy\r\n\r\n",
  );
  assert.match(px.errorFiles.get(403)!.head, /^HTTP\/1\.1 303 See Other\r\n.*\r\nlocation: \/denied\r\n$/s);
});

test("an empty errorfile (/dev/null) is a response of nothing", () => {
  const { config } = parse(`${BASE}frontend f
  bind :1
  errorfile 408 /dev/null
`);
  assert.equal(config.proxies[0]!.errorFiles.get(408)!.empty, true);
});

test("http-errors sections and errorfiles: all their files, or those named, in order with the other lines", () => {
  const s408 = file("408.http", "HTTP/1.1 408 Late\r\nContent-Length: 0\r\n\r\n");
  const { config, diagnostics } = parse(`${BASE}frontend all
  bind :1
  errorfile 503 ${debian503}
  errorfiles site
frontend some
  bind :2
  errorfiles site 408
  errorfile 408 ${debian503}
frontend reset
  bind :3
  errorfiles site
  http-error status 408 default-errorfiles
  http-error status 503
http-errors site
  errorfile 503 ${s503}
  errorfile 408 ${s408}
`);
  assert.deepEqual(diagnostics, []);
  const [all, some, reset] = config.proxies;
  assert.equal(all!.errorFiles.get(503)!.head.split("\r\n")[0], "HTTP/1.1 503 Busy");
  assert.equal(all!.errorFiles.get(408)!.head.split("\r\n")[0], "HTTP/1.1 408 Late");
  assert.equal(some!.errorFiles.get(503), undefined);
  assert.equal(some!.errorFiles.get(408)!.head.split("\r\n")[0], "HTTP/1.0 503 Service Unavailable");
  // default-errorfiles gives the status haproxy's own page back; a bare status, an empty reply.
  assert.equal(reset!.errorFiles.get(408), undefined);
  assert.equal(
    errorFileBytes(reset!.errorFiles.get(503)!, undefined).toString(),
    "HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\r\n",
  );
});

test("http-error with a payload is a reply like a rule's", () => {
  const { config, diagnostics } = parse(`${BASE}frontend f
  bind :1
  http-error status 403 content-type text/plain string "hello there"
`);
  assert.deepEqual(diagnostics, []);
  assert.equal(
    errorFileBytes(config.proxies[0]!.errorFiles.get(403)!, undefined).toString(),
    "HTTP/1.1 403 Forbidden\r\ncontent-length: 11\r\ncontent-type: text/plain\r\n\r\nhello there",
  );
});

test("a rule's errorfile and errorfiles: the file, the section's file for its status, or an empty reply", () => {
  const { config, diagnostics } = parse(`${BASE}http-errors site
  errorfile 503 ${s503}
frontend f
  bind :1
  http-request deny errorfile ${debian503} if { path /a }
  http-request return status 503 errorfiles site if { path /b }
  http-request deny errorfiles site if { path /c }
`);
  assert.deepEqual(
    diagnostics.map((d) => d.message),
    ["Proxy 'f': status '403' referenced by an http reply not declared in http-errors section 'site'."],
  );
  const [a, b, c] = config.proxies[0]!.httpRequest.map((r) => r.action);
  assert.ok(a && "errorfile" in a && a.errorfile?.http10);
  assert.ok(b && "errorfile" in b && b.errorfile?.head.startsWith("HTTP/1.1 503 Busy"));
  assert.ok(c && "status" in c && c.errorfile === undefined && c.body === "");
});

test("bad errorfiles are refused in haproxy's words", () => {
  const cases: [string, string][] = [
    ["HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "chunk-encoded payload not supported"],
    ["HTTP/1.1 100 Continue\r\n\r\n", "invalid http status code for an error message (100)"],
    [
      "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nabc",
      "payload size does not match the announced content-length (3 != 5)",
    ],
    ["HTTP/1.1 204 No Content\r\n\r\nabc", "message payload not expected"],
    ["HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nabc", "message payload not expected"],
    ["garbage", "unable to parse headers"],
    ["HTTP/1.1 200 OK\r\n", "unable to parse headers"],
    // One byte more than haproxy's buffer holds (measured: a body of 16251 bytes is the most here).
    [
      `HTTP/1.1 200 OK\r\nContent-Length: 16252\r\n\r\n${"a".repeat(16252)}`,
      "unable to add payload into the HTX message",
    ],
  ];
  for (const [i, [text, why]] of cases.entries()) {
    const path = file(`bad${i}.http`, text);
    assert.deepEqual(said(`${BASE}frontend f\n  bind :1\n  errorfile 503 ${path}\n`), [
      `parsing [t.cfg:8] : errorfile : '${path}': ${why}`,
    ]);
  }
  const most = file("most.http", `HTTP/1.1 200 OK\r\nContent-Length: 16251\r\n\r\n${"a".repeat(16251)}`);
  assert.deepEqual(said(`${BASE}frontend f\n  bind :1\n  errorfile 503 ${most}\n`), [
    `config: errorfile '${most}' runs over the buffer space reserved to headers rewriting. It may lead to internal errors if  http-after-response rules are evaluated on this message.`,
  ]);
});

test("errorfile lines are refused in haproxy's words", () => {
  const missing = join(dir, "missing.http");
  const big = file("big.http", `HTTP/1.1 200 OK\r\n\r\n${"a".repeat(20000)}`);
  const cases: [string, string[]][] = [
    [`errorfile 414 ${s503}`, ["parsing [t.cfg:8] : errorfile : status code '414' not handled."]],
    [`errorfile abc ${s503}`, ["parsing [t.cfg:8] : errorfile : status code '0' not handled."]],
    [`errorfile 503 ${missing}`, [`parsing [t.cfg:8] : errorfile : error opening file '${missing}'.`]],
    [`errorfile 503 ${dir}`, [`parsing [t.cfg:8] : errorfile : error reading file '${dir}'.`]],
    ["errorfile 503", ["parsing [t.cfg:8] : errorfile : expects <status_code> and <file> as arguments.\n"]],
    ["errorloc 503", ["parsing [t.cfg:8] : errorloc : expects <status_code> and <url> as arguments.\n"]],
    ["errorloc302 414 /x", ["parsing [t.cfg:8] : errorloc302 : status code '414' not handled."]],
    ["errorfiles", ["parsing [t.cfg:8] : errorfiles : expects <name> as argument."]],
    ["errorfiles nope", ["proxy 'f': unknown http-errors section 'nope' (at t.cfg:8)."]],
    ["errorfiles site 414", ["parsing [t.cfg:8] : errorfiles : status code '414' not handled."]],
    [
      "errorfiles site 503 408",
      ["config: proxy 'f' : status '408' not declared in http-errors section 'site' (at t.cfg:8)."],
    ],
    ["http-error", ["parsing [t.cfg:8] : http-error : expects at least a <status> as arguments.\n"]],
    ["http-error status 414", ["parsing [t.cfg:8] : http-error: status code '414' not handled."]],
    ["http-error status 503 foo", ["parsing [t.cfg:8] : http-error : unknown keyword 'foo'."]],
    [
      "http-error status 503 string hi",
      [
        "parsing [t.cfg:8] : http-error : a content type must be defined when non-empty payload is configured",
      ],
    ],
    [
      "http-error status 503 errorfiles nope",
      ["proxy 'f': unknown http-errors section 'nope' (at t.cfg:8)."],
    ],
    [
      "http-request deny errorfiles nope",
      ["Proxy 'f': unknown http-errors section 'nope' referenced by an http reply ."],
    ],
    [
      `http-request deny errorfile ${missing}`,
      [
        `parsing [t.cfg:8] : error detected in frontend 'f' while parsing 'http-request deny' rule : error opening file '${missing}'..`,
      ],
    ],
    [
      "http-request deny status 414 errorfiles site",
      [
        "parsing [t.cfg:8] : error detected in frontend 'f' while parsing 'http-request deny' rule : status code '414' not handled by default with 'errorfiles' argument..",
      ],
    ],
    [
      `http-request deny errorfile ${s503} string x`,
      [
        "parsing [t.cfg:8] : error detected in frontend 'f' while parsing 'http-request deny' rule : unexpected 'string' argument, 'errorfile' already defined.",
      ],
    ],
    [
      `http-request deny errorfile ${s503} content-type text/plain`,
      [
        "parsing [t.cfg:8] : content-type 'text/plain' ignored by the http reply when used with an erorrfile.",
      ],
    ],
    [
      `errorfile 503 ${big}`,
      [
        `custom error message file '${big}' larger than 16384 bytes. Truncating.`,
        `parsing [t.cfg:8] : errorfile : '${big}': unable to add payload into the HTX message`,
      ],
    ],
  ];
  for (const [line, messages] of cases)
    assert.deepEqual(
      said(`${BASE}frontend f\n  bind :1\n  ${line}\nhttp-errors site\n  errorfile 503 ${s503}\n`),
      messages,
      line,
    );
});

test("http-errors sections are refused in haproxy's words", () => {
  assert.deepEqual(said(`${BASE}http-errors\n`), [
    "parsing [t.cfg:6] : missing name for http-errors section.",
  ]);
  assert.deepEqual(said(`${BASE}http-errors s!\n`), [
    "parsing [t.cfg:6] : character '!' is not permitted in 'http-errors' name 's!'.",
  ]);
  assert.deepEqual(said(`${BASE}http-errors s\nhttp-errors s\n`), [
    "parsing [t.cfg:7]: http-errors section 's' already exists (declared at t.cfg:6).",
  ]);
  assert.deepEqual(
    said(`${BASE}http-errors s\n  errorloc 503 /x\n  errorfile 414 ${s503}\n  errorfile 503\n`),
    [
      "parsing [t.cfg:7] : unknown keyword 'errorloc' in 'http-errors' section",
      "parsing [t.cfg:8] : errorfile : status code '414' not handled.",
      "parsing [t.cfg:9] : errorfile: expects <status_code> and <file> as arguments.",
    ],
  );
});

test("a rule's reply words are refused in haproxy's words", () => {
  const big = file("big.txt", "x".repeat(17000));
  const missing = join(dir, "missing.txt");
  const rule = (m: string) =>
    `parsing [t.cfg:8] : error detected in frontend 'f' while parsing 'http-request return' rule : ${m}.`;
  const cases: [string, string[]][] = [
    ['return status 200 lf-string "x"', [rule("a content type must be defined with a log-format payload")]],
    ['return status 204 content-type text/plain lf-string "x"', [rule("No body expected for 204 responses")]],
    ['return status 304 content-type text/plain string "x"', [rule("No body expected for 304 responses")]],
    [
      "return hdr Content-Length 5",
      ["parsing [t.cfg:8] : header 'Content-Length' always ignored by the http reply."],
    ],
    ["return hdr X", [rule("'hdr' expects <name> and <value> as arguments")]],
    [
      `return errorfile ${s503} hdr X y`,
      ["parsing [t.cfg:8] : hdr parameters ignored by the http reply when used with an erorrfile."],
    ],
    [
      `return content-type text/plain lf-file ${big}`,
      [rule(`file '${big}' exceeds the buffer size (17000 > 16384)`)],
    ],
    [
      `return content-type text/plain file ${big}`,
      [rule(`file '${big}' exceeds the buffer size (17000 > 16384)`)],
    ],
    [`return content-type text/plain lf-file ${missing}`, [rule(`error opening file '${missing}'`)]],
    [
      'return content-type text/plain lf-string "%[nope]"',
      [rule("failed to parse sample expression <nope]> : unknown fetch method 'nope'")],
    ],
    [
      "return hdr X %[res.hdr(y)]",
      [
        rule(
          "sample fetch <res.hdr(y)]> may not be reliably used here because it needs 'HTTP response headers' which is not available here",
        ),
      ],
    ],
    ["return lf-string x string y", [rule("unexpected 'string' argument, 'lf-string' already defined")]],
  ];
  for (const [line, messages] of cases)
    assert.deepEqual(said(`${BASE}frontend f\n  bind :1\n  http-request ${line}\n`), messages, line);
});
