// Error wording, checked against `haproxy -c` 2.6.12 (the text after "error detected while parsing ACL 'x' : ").
import { test } from "node:test";
import assert from "node:assert/strict";
import { compileAcl } from "../../src/acl/index.js";
import { spec, where } from "./head.js";

const rows: [line: string, message: string | RegExp][] = [
  ["nosuch x", "unknown fetch method 'nosuch' in ACL expression 'nosuch'."],
  ["REQ_CONTENT", "unknown fetch method 'REQ_CONTENT' in ACL expression 'REQ_CONTENT'."],
  [
    "hdr(host) -x foo",
    "'-x' is not a valid ACL option. Please use '--' before any pattern beginning with a '-'.",
  ],
  [
    "hdr_val(x) -5",
    "'-5' is not a valid ACL option. Please use '--' before any pattern beginning with a '-'.",
  ],
  ["hdr(host) -m foo x", "unknown matching method 'foo' when parsing ACL expression."],
  ["hdr(host) -m", "unknown matching method '' when parsing ACL expression."],
  ["hdr_cnt(host) abc", "'abc' is not a number."],
  ["src_port 1.2", "'1.2' is not a number."],
  ["hdr_cnt(host) 1:x", "'1:x' is not a valid number range."],
  ["hdr_cnt(host) 3:1", "'3:1' is not a valid number range."],
  ["hdr_cnt(x) :", "':' is not a valid number range."],
  ["hdr_cnt(x) gt abc", "'abc' is neither a number nor a supported operator."],
  ["hdr_reg(host) (a", /^regex '\(a' is invalid/],
  ["src 1.2.3.400", "'1.2.3.400' is not a valid IPv4 or IPv6 address."],
  ["src foo.invalid", "'foo.invalid' is not a valid IPv4 or IPv6 address."],
  ["src -n localhost", "'localhost' is not a valid IPv4 or IPv6 address."],
  ["src 1.2.3.0/33", "'1.2.3.0/33' is not a valid IPv4 or IPv6 address."],
  ["src ::1/129", "'::1/129' is not a valid IPv4 or IPv6 address."],
  ["hdr(host) -f /nonexistent/file", "failed to open pattern file </nonexistent/file>."],
  ["hdr(a,x) y", "ACL keyword 'hdr' : failed to parse 'x' as type 'integer' at position 2."],
  ["hdr(a,1,2) x", "ACL keyword 'hdr' : expected ')' before ',2)'."],
  ["hdr(host x", "ACL keyword 'hdr' : expected ')'."],
  ["src(a) 1.2.3.4", "fetch method 'src' : expected ')' before 'a)' in ACL expression 'src(a)'."],
  [
    "req.cook(a,b) 1",
    "fetch method 'req.cook' : expected ')' before ',b)' in ACL expression 'req.cook(a,b)'.",
  ],
  ["path,foo x", "ACL keyword 'path' : unknown converter 'foo'.."],
  [
    "path,field(0,/) x",
    "ACL keyword 'path' : invalid args in converter 'field' : Unexpected value 0 for index..",
  ],
  [
    "path,field(x,/) x",
    "ACL keyword 'path' : invalid arg 1 in converter 'field' : failed to parse 'x' as type 'integer' at position 1..",
  ],
  ["path,lower(1) x", "ACL keyword 'path' : invalid arg 1 in converter 'lower' : expected ')' before '1)'.."],
  [
    "path,add(x) 1",
    "ACL keyword 'path' : invalid args in converter 'add' : expects an integer or a variable name..",
  ],
  ["method -m int 1", "matching method 'int' cannot be used with fetch keyword 'method'."],
  ["bin(41) -m bool", "matching method 'bool' cannot be used with fetch keyword 'bin'."],
  ["method,ipmask(24) 1.2.3.4", "ACL keyword 'method' : converter 'ipmask' cannot be applied.."],
  // haproxy knows these: Sluice says it lacks them rather than that they do not exist.
  ["ssl_fc", "fetch method 'ssl_fc' is not supported by sluice yet in ACL expression 'ssl_fc'."],
  ["path,ungrpc(1) x", "ACL keyword 'path' : converter 'ungrpc' is not supported by sluice yet.."],
  ["bool(1) -m ip 1.2.3.4", "matching method 'ip' cannot be used with fetch keyword 'bool'."],
  ["bin(41),add(1) 1", "converter 'add' cannot be applied in ACL expression 'bin(41),add(1)'."],
  ["req.hdrs,add(1) 1", "converter 'add' cannot be applied in ACL expression 'req.hdrs,add(1)'."],
  [
    "bool(1),ipmask(24) 1.2.3.4",
    "converter 'ipmask' cannot be applied in ACL expression 'bool(1),ipmask(24)'.",
  ],
  [
    "meth(GET),ipmask(24) 1.2.3.4",
    "converter 'ipmask' cannot be applied in ACL expression 'meth(GET),ipmask(24)'.",
  ],
  // iif takes a boolean: an integer or text is one, an address (IPv4 too), bytes or a method is not.
  ["src,iif(a,b) a", "converter 'iif' cannot be applied in ACL expression 'src,iif(a,b)'."],
  ["ipv6(::1),iif(a,b) a", "converter 'iif' cannot be applied in ACL expression 'ipv6(::1),iif(a,b)'."],
  [
    "src,ipmask(24),iif(a,b) a",
    "converter 'iif' cannot be applied in ACL expression 'src,ipmask(24),iif(a,b)'.",
  ],
  ["bin(41),iif(a,b) a", "converter 'iif' cannot be applied in ACL expression 'bin(41),iif(a,b)'."],
  ["method,iif(a,b) a", "ACL keyword 'method' : converter 'iif' cannot be applied.."],
  // What debug, json_query and the JWT queries give is of any type (haproxy 2.6's SMP_T_ANY, not the
  // input's): an ACL names its method, whatever the fetch's type.
  [
    "bin(41),debug A",
    "matching method must be specified first (using '-m') when using a sample fetch of this type ('bin').",
  ],
  [
    "src,debug 127.0.0.1",
    "matching method must be specified first (using '-m') when using a sample fetch of this type ('src').",
  ],
  [
    "str(a),json_query('$.a') 1",
    "matching method must be specified first (using '-m') when using a sample fetch of this type ('str').",
  ],
  [
    "str(a.b.c),jwt_payload_query('$.a') 1",
    "matching method must be specified first (using '-m') when using a sample fetch of this type ('str').",
  ],
];

for (const [line, message] of rows) {
  test(`error: acl x ${line}`, () => {
    assert.throws(
      () => compileAcl(spec(line)),
      (e: Error & { where?: unknown }) => {
        assert.equal(e.name, "ConfigError");
        assert.deepEqual(e.where, where);
        if (typeof message === "string") assert.equal(e.message, message);
        else assert.match(e.message, message);
        return true;
      },
    );
  });
}

test("a name prefixes the message as haproxy does", () => {
  assert.throws(() => compileAcl(spec("nosuch"), "x"), {
    message:
      "error detected while parsing ACL 'x' : unknown fetch method 'nosuch' in ACL expression 'nosuch'.",
  });
});

test("accepted by haproxy: operators without numbers, `-i` alone, -m found with patterns", () => {
  for (const l of [
    "hdr_cnt(host) eq",
    "hdr(host) -i",
    "hdr(host) -m found x",
    "src 1.2.3.4/255.0.255.0",
    "src localhost",
    "src,debug -m ip 127.0.0.1",
    "method,debug -m int 5",
    "str(a),debug,lower a",
  ])
    compileAcl(spec(l));
});

test("no pattern: haproxy's warning", () => {
  const warnings: string[] = [];
  compileAcl(spec("hdr(host)"), "x", (m) => warnings.push(m));
  compileAcl(spec("hdr(host) --"), "x", (m) => warnings.push(m));
  compileAcl(spec("hdr(host) -m found"), "x", (m) => warnings.push(m));
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /no pattern to match against were provided/);
});
