// Map converters, each value as haproxy 2.6.12 gave it for the same file, key and format.
import { test } from "node:test";
import assert from "node:assert/strict";
import { compileLogFormat, formatFor } from "../../src/log/log-format.js";
import { join } from "node:path";
import { scratchDir, scratchFile } from "../helpers/harness.js";
import { ctx } from "./head.js";

const dir = scratchDir("maps");
const file = (name: string, text: string): string => scratchFile(dir, name, text);
const ms = file(
  "ms.map",
  "# comment\n  \nexample.com  bk_ex  with spaces \nfoo.org\tbk_foo\n/api  api-prefix\n/api/v2 api-v2\n.org dom-org\nexample.com second\nnovalue\n  indented  val\n",
);
const mi = file("mi.map", "10.0.0.0/8 ten\n127.0.0.0/8 loop\n127.0.0.1 loop1\n::1 six\n");
const mn = file("mn.map", "42 int42\n7 seven\n");
const msi = file("msi.map", "a 1\nexample.com 2\n");

const FORMAT = [
  `s=%[req.hdr(x-k),map(${ms})]`,
  `d=%[req.hdr(x-k),map(${ms},dflt)]`,
  `beg=%[req.hdr(x-k),map_beg(${ms})]`,
  `end=%[req.hdr(x-k),map_end(${ms})]`,
  `sub=%[req.hdr(x-k),map_sub(${ms})]`,
  `dom=%[req.hdr(x-k),map_dom(${ms})]`,
  `dir=%[req.hdr(x-k),map_dir(${ms})]`,
  `reg=%[req.hdr(x-k),map_reg(${ms})]`,
  `ip=%[req.hdr(x-k),map_ip(${mi})]`,
  `int=%[req.hdr(x-k),map_int(${mn})]`,
  `si=%[req.hdr(x-k),map_str_int(${msi},7)]`,
].join("|");

const fail = (m: string): never => {
  throw new Error(m);
};

test("maps: exact keys as first written, the longest prefix or network, else the first entry that matches", () => {
  const format = compileLogFormat(FORMAT, "request", fail);
  const rows: [string, string][] = [
    [
      "example.com",
      "s=bk_ex  with spaces|d=bk_ex  with spaces|beg=bk_ex  with spaces|end=bk_ex  with spaces|sub=bk_ex  with spaces|dom=bk_ex  with spaces|dir=bk_ex  with spaces|reg=bk_ex  with spaces|ip=|int=|si=2",
    ],
    [
      "foo.org",
      "s=bk_foo|d=bk_foo|beg=bk_foo|end=bk_foo|sub=bk_foo|dom=bk_foo|dir=bk_foo|reg=bk_foo|ip=|int=|si=7",
    ],
    [
      "/api/v2/x",
      "s=|d=dflt|beg=api-v2|end=|sub=api-prefix|dom=api-prefix|dir=api-prefix|reg=api-prefix|ip=|int=|si=7",
    ],
    [
      "/api/x",
      "s=|d=dflt|beg=api-prefix|end=|sub=api-prefix|dom=api-prefix|dir=api-prefix|reg=api-prefix|ip=|int=|si=7",
    ],
    ["www.foo.org", "s=|d=dflt|beg=|end=bk_foo|sub=bk_foo|dom=bk_foo|dir=|reg=bk_foo|ip=|int=|si=7"],
    ["127.0.0.1", "s=|d=dflt|beg=|end=|sub=|dom=|dir=|reg=|ip=loop1|int=|si=7"],
    ["127.0.0.9", "s=|d=dflt|beg=|end=|sub=|dom=|dir=|reg=|ip=loop|int=|si=7"],
    ["10.1.2.3", "s=|d=dflt|beg=|end=|sub=|dom=|dir=|reg=|ip=ten|int=|si=7"],
    ["::1", "s=|d=dflt|beg=|end=|sub=|dom=|dir=|reg=|ip=six|int=|si=7"],
    ["42", "s=|d=dflt|beg=|end=|sub=|dom=|dir=|reg=|ip=|int=int42|si=7"],
    // A key without a value maps to the empty text, not to the default.
    ["novalue", "s=|d=|beg=|end=|sub=|dom=|dir=|reg=|ip=|int=|si=7"],
    ["indented", "s=val|d=val|beg=val|end=val|sub=val|dom=val|dir=val|reg=val|ip=|int=|si=7"],
    ["nothing", "s=|d=dflt|beg=|end=|sub=|dom=|dir=|reg=|ip=|int=|si=7"],
    [
      "a.example.com/api",
      "s=|d=dflt|beg=|end=api-prefix|sub=bk_ex  with spaces|dom=bk_ex  with spaces|dir=api-prefix|reg=bk_ex  with spaces|ip=|int=|si=7",
    ],
    ["a", "s=|d=dflt|beg=|end=|sub=|dom=|dir=|reg=|ip=|int=|si=1"],
  ];
  for (const [key, line] of rows)
    assert.equal(formatFor(format, ctx(`GET / HTTP/1.1\nX-K: ${key}`)), line, key);
});

test("maps as haproxy 2.6.12 reads them: # opens a comment in the first column only, integer ranges, addresses written short, no default for what is no address", () => {
  const mh = file("mh.map", "  #hash v1\nkeyonly\n");
  const mr = file("mr.map", "10-20 teen\n1:5 low\n");
  const mipv = file("mipv.map", "a 10.1.2.3:80\nb 10.0.0.0/8\nc ::0001\n");
  const format = compileLogFormat(
    `m1=%[req.hdr(x-k),map(${mh},D)]|m3=%[req.hdr(x-n),map_int(${mr},D)]|m4=%[req.hdr(x-k),map_ip(${mi},D)]|m5=%[req.hdr(x-k),map_str_ip(${mipv})]`,
    "request",
    fail,
  );
  const rows: [string, string, string][] = [
    ["#hash", "15", "m1=v1|m3=teen|m4=|m5="],
    ["keyonly", "3", "m1=|m3=low|m4=|m5="],
    ["a", "15", "m1=D|m3=teen|m4=|m5=10.1.2.3"],
    ["b", "15", "m1=D|m3=teen|m4=|m5=10.0.0.0"],
    ["c", "15", "m1=D|m3=teen|m4=|m5=::1"],
    ["127.0.0.1", "3", "m1=D|m3=low|m4=loop1|m5="],
  ];
  for (const [k, n, line] of rows)
    assert.equal(formatFor(format, ctx(`GET / HTTP/1.1\nX-K: ${k}\nX-N: ${n}`)), line, k);
});

test("a map that cannot be read or whose lines do not fit its type is refused in haproxy 2.6.12's words", () => {
  const refusal = (expr: string) => {
    try {
      compileLogFormat(`%[${expr}]`, "request", fail);
    } catch (e) {
      return (e as Error).message.replace(/^failed to parse sample expression <.*?\]> : /, "");
    }
    return undefined;
  };
  assert.equal(
    refusal("path,map(/nonexistent)"),
    "invalid args in converter 'map' : failed to open pattern file </nonexistent>",
  );
  assert.equal(
    refusal(`path,map_int(${ms})`),
    `invalid args in converter 'map_int' : 'example.com' is not a number at line 3 of file '${ms}'`,
  );
  assert.equal(
    refusal(`path,map_str_int(${ms})`),
    `invalid args in converter 'map_str_int' : unable to parse 'bk_ex  with spaces' at line 3 of file '${ms}'`,
  );
  assert.equal(
    refusal(`path,map_ip(${ms})`),
    `invalid args in converter 'map_ip' : 'example.com' is not a valid IPv4 or IPv6 address at line 3 of file '${ms}'`,
  );
  assert.equal(
    refusal(`path,map_str_ip(${mi})`),
    `invalid args in converter 'map_str_ip' : unable to parse 'ten' at line 1 of file '${mi}'`,
  );
  assert.equal(
    refusal(`path,map_str_ip(${file("mip.map", "example.com 1.2.3.4\n")},nope)`),
    "invalid args in converter 'map_str_ip' : map: cannot parse default ip <nope>.",
  );
  assert.equal(refusal(`path,map_ip_str(${mi})`), "unknown converter 'map_ip_str'");
  assert.equal(
    refusal(`path,map_str_int(${file("mh2.map", "  #hash v1\n")},9)`),
    `invalid args in converter 'map_str_int' : unable to parse 'v1' at line 1 of file '${join(dir, "mh2.map")}'`,
  );
});

test("map_regm: the first key that matches, its value filled with the key's groups (haproxy 2.6.12)", () => {
  const regm = file(
    "regm.map",
    "# comment\n^/api/(v[0-9]+)/(.*)$  backend_\\1_\\2\n^/static/  static\n^/(a+)b$  X\\1\\1\\0\\9.\n(x)?y  [\\1]\n",
  );
  const format = compileLogFormat(
    `m=%[req.hdr(x-k),map_regm(${regm})] d=%[req.hdr(x-k),map_regm(${regm},def)] r=%[req.hdr(x-k),map_reg(${regm})]`,
    "request",
    fail,
  );
  const rows: [string, string][] = [
    ["/api/v2/users", "m=backend_v2_users d=backend_v2_users r=backend_\\1_\\2"],
    ["/static/a.css", "m=static d=static r=static"],
    ["/aab", "m=Xaaaa/aab. d=Xaaaa/aab. r=X\\1\\1\\0\\9."],
    ["/zz", "m= d=def r="],
    ["y", "m=[] d=[] r=[\\1]"],
  ];
  for (const [key, want] of rows)
    assert.equal(formatFor(format, ctx(`GET / HTTP/1.1\nX-K: ${key}`)), want, key);
});
