import { test } from "node:test";
import assert from "node:assert/strict";
import { compileCondition, PREDEFINED_NAMES } from "../../src/acl/index.js";
import { compileLogFormat, formatFor } from "../../src/log/log-format.js";
import type { AclSpec, CondTerm, Condition } from "../../src/config/model.js";
import { ctx, spec, where } from "./head.js";

/** Parses "a !b || { hdr(x) y } c" into a Condition (test-local, blanks only). */
function cond(text: string, unless = false): Condition {
  const groups: CondTerm[][] = [[]];
  const words = text.split(/\s+/).filter((w) => w !== "");
  let negate = false;
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    if (w === "||" || w === "or") groups.push([]);
    else if (w === "!") negate = true;
    else if (w === "{") {
      const end = words.indexOf("}", i);
      groups[groups.length - 1]!.push({ negate, anon: spec(words.slice(i + 1, end).join(" ")) });
      i = end;
      negate = false;
    } else {
      groups[groups.length - 1]!.push({ negate: negate || w.startsWith("!"), name: w.replace(/^!/, "") });
      negate = false;
    }
  }
  return { unless, groups, where };
}

function acls(lines: string[]): Map<string, AclSpec[]> {
  const m = new Map<string, AclSpec[]>();
  for (const l of lines) {
    const [name, ...rest] = l.split(/\s+/);
    const list = m.get(name!) ?? [];
    list.push(spec(rest.join(" ")));
    m.set(name!, list);
  }
  return m;
}

const WS = acls([
  "hdr_connection_upgrade hdr(Connection) -i upgrade",
  "hdr_upgrade_websocket hdr(Upgrade) -i websocket",
  "hdr_websocket_key hdr_cnt(Sec-WebSocket-Key) eq 1",
  "hdr_websocket_version hdr_cnt(Sec-WebSocket-Version) eq 1",
  "is_api path_beg /api",
  "is_api hdr(host) api.example.com",
  "is_get method GET",
]);

const UPGRADE = `GET /chat HTTP/1.1
Host: www.example.com
Connection: keep-alive, Upgrade
Upgrade: websocket
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==
Sec-WebSocket-Version: 13`;
const PLAIN = `GET /index.html HTTP/1.1
Host: www.example.com`;
const PARTIAL = `GET /chat HTTP/1.1
Host: www.example.com
Upgrade: websocket`;

const articleRule =
  "! hdr_connection_upgrade ! hdr_upgrade_websocket ! hdr_websocket_key ! hdr_websocket_version";

const rows: [condition: string, req: string, expected: boolean, unless?: boolean][] = [
  // the article's deny rule only matches when all four are missing
  [articleRule, PLAIN, true],
  [articleRule, UPGRADE, false],
  [articleRule, PARTIAL, false],
  ["hdr_connection_upgrade hdr_upgrade_websocket hdr_websocket_key hdr_websocket_version", UPGRADE, true],
  ["hdr_connection_upgrade hdr_upgrade_websocket hdr_websocket_key", PARTIAL, false],
  // several acl lines with one name are ORed
  ["is_api", `GET /api/x HTTP/1.1\nHost: a`, true],
  ["is_api", `GET /x HTTP/1.1\nHost: api.example.com`, true],
  ["is_api", PLAIN, false],
  // groups ORed, terms ANDed, negation, unless
  ["is_api || is_get", PLAIN, true],
  ["is_api or is_get", PLAIN, true],
  ["is_api is_get", PLAIN, false],
  ["!is_api is_get", PLAIN, true],
  ["is_get", PLAIN, false, true],
  ["is_api", PLAIN, true, true],
  // anonymous ACLs
  ["{ path_end .html }", PLAIN, true],
  ["! { path_end .html }", PLAIN, false],
  ["{ hdr(x) -m found } || { hdr(host) -m end .com }", PLAIN, true],
  ["! { hdr(x) -m found }", PLAIN, true], // absent header: the ACL fails, its negation matches
  // predefined
  ["TRUE", PLAIN, true],
  ["FALSE", PLAIN, false],
  ["HTTP", PLAIN, true],
  ["HTTP_1.1", PLAIN, true],
  ["HTTP_1.0", PLAIN, false],
  ["HTTP_1.0", `GET / HTTP/1.0`, true],
  ["METH_GET", PLAIN, true],
  ["METH_GET", `HEAD / HTTP/1.1`, true],
  ["METH_HEAD", `HEAD / HTTP/1.1`, true],
  ["METH_POST", `POST / HTTP/1.1\nContent-Length: 1`, true],
  ["METH_PUT", `PUT / HTTP/1.1`, true],
  ["METH_DELETE", `DELETE / HTTP/1.1`, true],
  ["METH_OPTIONS", `OPTIONS * HTTP/1.1`, true],
  ["METH_TRACE", `TRACE / HTTP/1.1`, true],
  ["METH_CONNECT", `CONNECT h:443 HTTP/1.1`, true],
  ["METH_CONNECT", PLAIN, false],
  ["HTTP_URL_SLASH", PLAIN, true],
  ["HTTP_URL_ABS", `GET http://h/ HTTP/1.1\nHost: h`, true],
  ["HTTP_URL_ABS", PLAIN, false],
  ["HTTP_URL_STAR", `OPTIONS * HTTP/1.1`, true],
  ["LOCALHOST", PLAIN, true],
  ["HTTP_CONTENT", `POST / HTTP/1.1\nContent-Length: 5`, true],
  ["HTTP_CONTENT", `POST / HTTP/1.1\nContent-Length: 0`, false],
  // haproxy 2.6: HTTP_CONTENT is req.hdr_val(content-length) gt 0, so chunked does not match it
  ["HTTP_CONTENT", `POST / HTTP/1.1\nTransfer-Encoding: chunked`, false],
  // haproxy 2.6: REQ_CONTENT (req.len gt 0) is true for every HTTP request, even a bodiless GET
  ["REQ_CONTENT", PLAIN, true],
  ["WAIT_END", PLAIN, true],
];

for (const [c, req, expected, unless] of rows) {
  test(`${unless ? "unless" : "if"} ${c} / ${req.split("\n")[0]}`, () => {
    const f = compileCondition(cond(c, unless), WS);
    assert.equal(f(ctx(req)), expected);
  });
}

test("LOCALHOST matches ::1 and not other clients", () => {
  const f = compileCondition(cond("LOCALHOST"), WS);
  assert.equal(f(ctx(PLAIN, { src: "::1" })), true);
  assert.equal(f(ctx(PLAIN, { src: "10.0.0.1" })), false);
});

test("every predefined ACL compiles", () => {
  for (const n of PREDEFINED_NAMES) compileCondition(cond(n), new Map());
  assert.equal(PREDEFINED_NAMES.length, 20);
});

test("a user ACL shadows a predefined one of the same name", () => {
  const f = compileCondition(cond("TRUE"), acls(["TRUE always_false -m bool"]));
  assert.equal(f(ctx(PLAIN)), false);
});

test("unknown ACL name", () => {
  assert.throws(() => compileCondition(cond("nope"), WS), {
    name: "ConfigError",
    message: "no such ACL : 'nope'.",
  });
  assert.throws(() => compileCondition(cond("nope"), WS, "http-request deny"), {
    message: "error detected while parsing an 'http-request deny' condition : no such ACL : 'nope'.",
  });
});

test("log-format sample expressions: sample-mode values, nothing for a missing one", () => {
  const c = ctx(`GET /A/b?x=1&x=2 HTTP/1.1\nHost: H.example\nX: 1, 2\nX: 3\nCookie: s=1; s=2`);
  const fail = (m: string): never => {
    throw new Error(m);
  };
  const fmt = (f: string) => formatFor(compileLogFormat(f, "request", fail), c);
  assert.equal(fmt("%[hdr(x)]"), "3"); // the last occurrence
  assert.equal(fmt("%[hdr(x,1)]"), "1");
  assert.equal(fmt("%[req.fhdr(x,1)]"), "1, 2");
  assert.equal(fmt("%[hdr_cnt(x)]"), "3");
  assert.equal(fmt("%[hdr(host),lower]"), "h.example");
  assert.equal(fmt("%[path,upper]"), "/A/B");
  assert.equal(fmt("%[url_param(x)]"), "1");
  assert.equal(fmt("%[req.cook(s)]"), "2");
  assert.equal(fmt("%[src]"), "127.0.0.1");
  assert.equal(fmt("%[base]"), "H.example/A/b");
  assert.equal(fmt("<%[hdr(nope)]>"), "<>");
  assert.equal(fmt("a  b %% %[method]%[path]"), "a  b % GET/A/b");
  assert.equal(compileLogFormat("plain %% text", "request", fail), "plain % text");
  assert.throws(
    () => fmt("%[path,nope]"),
    /^Error: failed to parse sample expression <path,nope\]> : unknown converter 'nope'$/,
  );
  assert.throws(
    () => fmt("%[nope]x"),
    /^Error: failed to parse sample expression <nope\]x> : unknown fetch method 'nope'$/,
  );
  assert.throws(() => fmt("%[src"), /^Error: missing ']' after 'src'$/);
  assert.throws(() => fmt("50%"), /^Error: truncated line after '%'$/);
  assert.throws(() => fmt("%[]"), /^Error: failed to parse sample expression <\]> : missing fetch method$/);
  assert.throws(() => fmt("%[res.hdr(x)]"), /needs 'HTTP response headers' which is not available here/);
  assert.throws(
    () => compileLogFormat("%[path]", "response", fail),
    /^Error: sample fetch <path\]> may not be reliably used here because it needs 'HTTP request headers' which is not available here$/,
  );
  // A rule's argument never quotes a sample and escapes its control bytes; a name or set-var-fmt
  // keeps them, and quotes. Without a stream, log variables are not there.
  assert.equal(fmt("%{+Q}[src] %{+Q}[hdr(nope)]|%{+Q}ci|%ci|%{+M}ci"), '127.0.0.1 |""||-');
  const bytes = ctx(`GET /a%01b%0d%0a%09%7f%c3%a9%25 HTTP/1.1\nHost: h`);
  const dec = (purpose: "rule" | "name") =>
    formatFor(compileLogFormat("%[path,url_dec]|%{+Q}[path,url_dec]", "request", fail, purpose), bytes);
  assert.equal(dec("rule"), "/a%01b%0D%0A\t%7F\xc3\xa9%|/a%01b%0D%0A\t%7F\xc3\xa9%");
  assert.equal(dec("name"), '/a\x01b\r\n\t\x7f\xc3\xa9%|"/a\x01b\r\n\t\x7f\xc3\xa9%"');
  assert.throws(() => fmt("%si %sslv"), /log-format variable '%sslv' is not supported by sluice yet/);
});
