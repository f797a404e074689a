// Table-driven: one ACL line against one request. Expectations marked "haproxy:" were checked
// against haproxy 2.6.12 with tiny configs (http-request set-var-fmt ... if ACL, then return).
import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { compileAcl } from "../../src/acl/index.js";
import { ctx, spec } from "./head.js";
import { scratchDir } from "../helpers/harness.js";
import type { SampleContext } from "../../src/acl/index.js";

const R1 = `GET /p/a.html?a=1&b=2;c=3 HTTP/1.1
Host: www.Example.com
Connection: keep-alive, Upgrade
Upgrade: websocket
X: a,,b
X: "q,1", z
Cookie: sid=abc; lang = fr ,theme=dark; flag
Cookie: sid=def
Content-Length: 12
X-Forwarded-For: 10.1.2.3, 192.168.0.1:8080
X-V6: ::ffff:5.6.7.8
Empty:`;

const R2 = `POST http://h2.example.org/api/v1 HTTP/1.0
Host: h2.example.org
Transfer-Encoding: chunked`;

const R3 = `OPTIONS * HTTP/1.1
Host: x`;

// For the explicit -m ip / dom / dir / reg rows and -n below.
const R4 = `GET /a/b/c.txt?x=/d HTTP/1.1
Host: Example.COM:8080
X-Ip: 10.1.2.3, 192.168.0.1
X-Ip6: ::ffff:10.9.8.7
X-V6net: 2001:db8::7
X-Port: 10.1.2.3:80
X-Short: 10.1.2
X-Junk: 10.1.2.3x
X-Zeros: 0010.1.2.3
X-Dots: 10.1.2.3.4
X-Bad-Port: 10.1.2.3:65536`;

const RES = `HTTP/1.1 404 Not Found
Content-Type: text/html
Set-Cookie: a=1
Set-Cookie: b=2`;

type Row = [
  line: string,
  req: string,
  expected: boolean,
  extra?: Partial<SampleContext> & { resHead?: string },
];

const rows: Row[] = [
  // hdr: exact string by default, every comma-separated value tried
  ["hdr(host) www.Example.com", R1, true],
  ["hdr(host) www.example.com", R1, false],
  ["hdr(host) -i www.example.com", R1, true],
  ["hdr(Connection) -i upgrade", R1, true],
  ["hdr(connection) Upgrade", R1, true],
  ["hdr(connection) keep-alive,", R1, false],
  ["hdr(x) b", R1, true],
  ["hdr(x) q,1", R1, false],
  ['hdr(x) "q,1"', R1, true], // quoted strings are not split
  ["hdr(x,1) a", R1, true],
  ["hdr(x,2) a", R1, false],
  ["hdr(x,2) -m len 0", R1, true], // haproxy: "a,,b" has an empty middle value
  ["hdr(x,-1) z", R1, true],
  ["hdr(x,-5) a", R1, true],
  ["hdr(x,-6) -m found", R1, false],
  ["hdr(x) -m found", R1, true],
  ["hdr(nope) -m found", R1, false],
  ["hdr(nope) -m len 0", R1, false],
  ["hdr(empty) -m found", R1, true],
  ["hdr(empty) -m len 0", R1, true],
  ["hdr() -m str websocket", R1, true], // no name: every header's values
  ["req.hdr(upgrade) websocket", R1, true],
  ["req.fhdr(connection) keep-alive, Upgrade", R1, false], // the word splits; see next
  ["req.fhdr(x) -m sub ,,", R1, true], // fhdr keeps the whole line
  ['req.fhdr(x,-1) -m beg "q,1"', R1, true],
  // hdr_cnt / fhdr_cnt: int by default
  ["hdr_cnt(x) 5", R1, true], // haproxy: "a,,b" counts 3
  ["req.hdr_cnt(X) eq 5", R1, true],
  ["req.fhdr_cnt(x) 2", R1, true],
  ["hdr_cnt(nope) 0", R1, true],
  ["hdr_cnt(nope) -m found", R1, true], // a count always exists
  ["hdr_cnt(cookie) gt 1", R1, true],
  ["hdr_cnt(host) gt 1 0", R3, true], // the operator applies to every following number
  ["hdr_cnt(x) lt 5 9", R1, true],
  ["hdr_cnt(x) lt -3", R1, false], // haproxy: "-3" is a range ":3", the operator is ignored
  ["hdr_cnt(x) 2:5", R1, true],
  ["hdr_cnt(x) 6:", R1, false],
  ["hdr_cnt(x) :5", R1, true],
  ["hdr_cnt(x) 3-5", R1, true], // '-' separates a range too
  ["hdr_cnt(x) ge 5", R1, true],
  ["hdr_cnt(x) gt 5", R1, false],
  ["hdr_cnt(x) le 4", R1, false],
  ["hdr_cnt() gt 10", R1, true],
  ["hdr_cnt(x) -m bool", R1, true],
  ["hdr_cnt(nope) -m bool", R1, false],
  // hdr_val / hdr_ip
  ["hdr_val(content-length) 12", R1, true],
  ["hdr_val(content-length) gt 100", R1, false],
  ["req.hdr_val(content-length) 10:20", R1, true],
  ["hdr_val(x) 0", R1, true], // non-numeric values read as 0
  ["hdr_ip(x-forwarded-for) 10.0.0.0/8", R1, true],
  ["hdr_ip(x-forwarded-for) 192.168.0.1", R1, true], // haproxy: "ip:port" gives the ip
  ["hdr_ip(x-forwarded-for,1) 192.168.0.0/16", R1, false],
  ["req.hdr_ip(x-v6) 5.6.7.8", R1, true], // v4-mapped matches the v4 pattern
  ["hdr_ip(host) -m found", R1, false],
  // derived header keywords
  ["hdr_beg(host) www.", R1, true],
  ["hdr_beg(host) -i WWW.EX", R1, true],
  ["hdr_beg(host) -m str www.Example.com", R1, true], // haproxy: -m overrides the derived method
  ["hdr_end(host) .com", R1, true],
  ["hdr_end(host) .COM", R1, false],
  ["hdr_sub(host) ample", R1, true],
  ["hdr_sub(host) -i EXAMPLE", R1, true],
  ["hdr_dom(host) Example", R1, true],
  ["hdr_dom(host) .Example.", R1, true],
  ["hdr_dom(host) xample", R1, false],
  ["hdr_dom(host) -i example.COM", R1, true],
  ["hdr_dir(host) www", R1, false],
  ["hdr_reg(host) ^www\\.[A-Z]", R1, true],
  ["hdr_reg(host) -i ^WWW", R1, true],
  ["hdr_reg(host) ^Example", R1, false],
  ["hdr_len(host) 15", R1, true],
  ["hdr_len(host) gt 20", R1, false],
  // path / url / query / base / url_param
  ["path /p/a.html", R1, true],
  ["path_beg /p/", R1, true],
  ["path_end .html", R1, true],
  ["path_end .HTML", R1, false],
  ["path_end -i .HTML", R1, true],
  ["path_sub /a.", R1, true],
  ["path_dir p", R1, true],
  ["path_dir a", R1, false],
  ["path_dir p/a.html", R1, true],
  ["path_dom html", R1, true],
  ["path_reg ^/p/[a-z]+\\.html$", R1, true],
  ["path_len 9", R1, true],
  ["path /api/v1", R2, true], // absolute-form: the path after the authority
  ["path -m found", R3, false], // haproxy: "*" has no path
  ["path,lower -m beg /p/", R1, true],
  ["path,upper /P/A.HTML", R1, true],
  ["url /p/a.html?a=1&b=2;c=3", R1, true],
  ["url_beg http://", R2, true],
  ["url *", R3, true],
  ["url_len 21", R1, true],
  ["query a=1&b=2;c=3", R1, true],
  ["query -m found", R2, false],
  ["base www.Example.com/p/a.html", R1, true],
  ["base h2.example.org/api/v1", R2, true],
  ["base_beg www.", R1, true],
  ["url_param(b) 2", R1, true],
  ["url_param(c) 3", R1, true], // haproxy: ';' separates parameters too
  ["url_param(a) 1", R1, true],
  ["url_param(d) -m found", R1, false],
  ["urlp(b) -m int 2", R1, true],
  ["urlp_beg(b) 2", R1, true],
  ["url_param() 2", R1, true], // no name: any parameter
  // method / version
  ["method GET", R1, true],
  ["method GET HEAD", R1, true],
  ["method get", R1, false],
  ["method -i get", R1, false], // haproxy: -i does not apply to a known method
  ["method -m beg G", R1, true],
  ["method POST", R2, true],
  ["method OPTIONS", R3, true],
  ["req.ver 1.1", R1, true],
  ["req_ver 1.0", R2, true],
  ["req.ver -m int 1", R1, true],
  // addresses, ports, names
  ["src 127.0.0.1", R1, true],
  ["src 127.0.0.0/8", R1, true],
  ["src 127.1", R1, true], // haproxy: inet_aton forms
  ["src 127.0.0.0/255.0.0.0", R1, true],
  ["src 10.0.0.0/8 192.168.0.0/16", R1, false],
  ["src ::1", R1, false],
  ["src ::/0", R1, true], // haproxy: a v4 client is ::ffff:a.b.c.d for v6 patterns
  ["src 1.2.3.4/32", R1, true, { src: "::ffff:1.2.3.4" }],
  ["src 1.2.3.0/24", R1, true, { src: "::ffff:1.2.3.4" }],
  ["src ::ffff:1.2.3.4", R1, true, { src: "1.2.3.4" }],
  ["src 2001:db8::/32", R1, true, { src: "2001:db8:0:1::5" }],
  ["src 2001:db8::/32", R1, false, { src: "2001:db9::5" }],
  ["src ::1", R1, true, { src: "::1" }],
  ["src -m beg 127.", R1, true],
  ["src_port gt 1024", R1, true],
  ["src_port -m len 5", R1, true],
  ["dst 127.0.0.1", R1, true],
  ["dst_port 8080", R1, true],
  ["dst_port 80 443", R1, false],
  ["fe_name fe", R1, true],
  // Before a backend is chosen, haproxy's stream has the frontend as its backend (2.6.12).
  ["be_name fe", R1, true],
  ["be_name bk", R1, true, { beName: "bk" }],
  ["nbsrv(bk) 2", R1, true],
  ["nbsrv(empty) eq 0", R1, true],
  ["nbsrv(nope) -m found", R1, false],
  ["nbsrv lt 1", R1, true, { beName: "empty" }],
  // cookies
  ["req.cook(sid) abc", R1, true],
  ["req.cook(sid) def", R1, true],
  ["cook(lang) fr", R1, true],
  ["cook(theme) dark", R1, true], // haproxy: ',' separates cookies too
  ["cook(flag) -m found", R1, false], // no '=': not a cookie
  ["cook(SID) -m found", R1, false], // names are case-sensitive
  ["cook_beg(sid) ab", R1, true],
  ["req.cook_cnt(sid) 2", R1, true],
  ["req.cook_cnt 4", R1, true],
  ["cook_cnt(none) 0", R1, true],
  ["req.cook(sid) -m found", R3, false],
  // response side
  ["status 404", R1, true, { resHead: RES }],
  ["status 200:299", R1, false, { resHead: RES }],
  ["status -m found", R1, false],
  ["res.hdr(content-type) text/html", R1, true, { resHead: RES }],
  ["res.hdr_cnt(set-cookie) 2", R1, true, { resHead: RES }],
  ["shdr_beg(content-type) text/", R1, true, { resHead: RES }],
  ["res.hdr(content-type) -m found", R1, false],
  // flags and empty patterns
  ["hdr(host) -- www.Example.com", R1, true],
  ["hdr(host)", R1, false], // no pattern: never matches
  ["hdr(upgrade) '' websocket", R1, false], // quoted "" ends haproxy's word list; see below
  ["always_true -m bool", R1, true],
  ["always_false -m found", R1, true],
  ["path -m bool", R1, false], // haproxy: "/p" casts to int 0
  ["hdr_val(content-length) -m bool", R1, true],
  // Explicit -m ip / dom / dir / reg / beg / end / sub and -n. Every expectation in this block was
  // verified against haproxy 2.6.12: one frontend per row with `acl a <row>`,
  // `http-request return status 200 if a` then `http-request return status 403`, and the row's
  // request sent raw from Node over 127.0.0.1 (R1 with its 12-byte body).
  ["hdr(host) -m dom -i Example.COM", R1, true],
  ["hdr(host) -m dom Example.COM", R1, false],
  ["hdr(host) -i -m dom EXAMPLE", R1, true],
  ["hdr(host) -m dom www.Example", R1, true], // several whole words
  ["hdr(host) -m dom ample.com", R1, false],
  ["path -m dom html", R1, true],
  ["hdr(host) -m dom -i example.com", R4, true], // ':' is a dom delimiter
  ["hdr(host) -m dom 8080", R4, true],
  ["path -m dir /a/b", R4, true],
  ["path -m dir /A/B", R4, false],
  ["path -m dir -i /A/B/", R4, true],
  ["path -m dir a/b/c", R4, false], // "c.txt": '.' is not a dir delimiter
  ["path -m dir b/c.txt", R4, true],
  ["url -m dir d", R4, true], // "?x=/d": '/' and '?' delimit, the query included
  ["url -m dir x", R4, false], // "x=" is not a whole word
  ["path -m dir a.html", R1, true],
  ["path -m dir /p/a", R1, false],
  ["hdr(x) -m reg ^a.*z$", R1, false], // each comma-separated value on its own
  ["req.fhdr(x) -m reg ^a,.*b$", R1, true],
  ["hdr(x,-1) -m reg ^z$", R1, true],
  ["hdr(host) -m reg ^www\\.example\\.com$", R1, false],
  ["hdr(host) -m reg -i ^www\\.example\\.com$", R1, true],
  ["hdr(host) -i -m reg ^WWW", R1, true],
  ["hdr(host) -m reg Example", R1, true], // not anchored
  ["hdr_cnt(x) -m reg ^5$", R1, true], // the count cast to a string
  ["src -m reg ^127\\.", R1, true],
  ["req.hdr(x-ip) -m ip 10.0.0.0/8", R4, true],
  ["req.hdr(x-ip) -m ip 192.168.0.1", R4, true],
  ["req.hdr(x-ip) -m ip 172.16.0.0/12", R4, false],
  // haproxy: the string-to-address cast (buf2ip) reads a leading IPv4 address and ignores the rest.
  ["req.fhdr(x-ip) -m ip 10.0.0.0/8", R4, true],
  ["req.fhdr(x-ip) -m ip 192.168.0.1", R4, false],
  ["req.hdr(x-port) -m ip 10.1.2.3", R4, true],
  ["req.hdr(x-junk) -m ip 10.1.2.3", R4, true],
  ["req.hdr(x-zeros) -m ip 10.1.2.3", R4, true], // any number of digits per octet
  ["req.hdr(x-dots) -m ip 10.1.2.3", R4, false], // a fifth part spoils it
  ["req.hdr(x-short) -m ip 10.1.0.2", R4, false], // no inet_aton short forms in samples
  ["req.hdr(x-ip6) -m ip 10.0.0.0/8", R4, true], // v4-mapped matches the v4 pattern
  ["req.hdr(x-ip) -m ip ::ffff:10.0.0.0/104", R4, true],
  ["req.hdr(x-v6net) -m ip 2001:db8::/32", R4, true],
  ["req.hdr(x-v6net) -m ip 10.0.0.0/8", R4, false],
  ["hdr(host) -m ip 0.0.0.0/0", R4, false],
  ["src -m ip 127.0.0.1", R1, true],
  ["src -m ip 10.0.0.0/8", R1, false],
  ["dst -m ip 127.0.0.0/8", R1, true],
  ["hdr_val(content-length) -m ip 0.0.0.12", R1, true], // an int casts to an IPv4 address
  // hdr_ip is stricter than the cast: the whole value, or an address, ':' and a port 0..65535.
  ["hdr_ip(x-port) 10.1.2.3", R4, true],
  ["hdr_ip(x-ip) 192.168.0.1", R4, true],
  ["hdr_ip(x-junk) -m found", R4, false],
  ["hdr_ip(x-bad-port) -m found", R4, false],
  ["hdr_ip(x-zeros) 10.1.2.3", R4, true],
  ["hdr_ip(x-zeros) -m str 10.1.2.3", R4, true], // an address sample prints canonically
  // -n only forbids DNS while parsing patterns (src -n localhost is an error: see errors.test.ts).
  ["src -n 127.0.0.1", R1, true],
  ["src -n -m ip 127.0.0.0/8", R1, true],
  ["src localhost", R1, true],
  ["hdr(host) -n www.Example.com", R1, true], // accepted and ignored on strings
  ["hdr(host) -n -i WWW.EXAMPLE.COM", R1, true],
  ["req.hdr(x-ip) -n -m ip 10.0.0.0/8", R4, true],
  ["path -m beg -i /P/", R1, true],
  ["path -m end .html", R1, true],
  ["path -m sub /a.", R1, true],
];

for (const [line, req, expected, extra] of rows) {
  test(`acl ${line}${extra ? " " + JSON.stringify(extra).slice(0, 40) : ""}`, () => {
    const s = spec(line);
    s.words = s.words.map((w) => (w === "''" ? "" : w));
    const acl = compileAcl(s);
    assert.equal(acl.match(ctx(req, extra)), expected);
  });
}

test("the same compiled ACL gives the same answers on many requests", () => {
  const acl = compileAcl(spec("hdr(x) b"));
  const c1 = ctx(R1);
  const c2 = ctx(R2);
  for (let i = 0; i < 3; i++) {
    assert.equal(acl.match(c1), true);
    assert.equal(acl.match(c2), false);
  }
});

test("-f reads patterns from a file: comments, blank lines, leading blanks", () => {
  const dir = scratchDir("acl");
  const file = join(dir, "hosts.lst");
  writeFileSync(file, "# hosts\n\n  other.example\nwww.example.com\r\n#www.Example.com\n");
  assert.equal(compileAcl(spec(`hdr(host) -f ${file}`)).match(ctx(R1)), false);
  assert.equal(compileAcl(spec(`hdr(host) -i -f ${file}`)).match(ctx(R1)), true);
  assert.equal(compileAcl(spec(`hdr(host) -f ${file} www.Example.com`)).match(ctx(R1)), true);
  writeFileSync(file, "10.0.0.0/8\n127.0.0.0/8\n");
  assert.equal(compileAcl(spec(`src -f ${file}`)).match(ctx(R1)), true);
});

test("many exact strings use a Set, with and without -i", () => {
  const many = Array.from({ length: 20 }, (_, i) => `h${i}.example`).join(" ");
  assert.equal(compileAcl(spec(`hdr(host) ${many} www.Example.com`)).match(ctx(R1)), true);
  assert.equal(compileAcl(spec(`hdr(host) -i ${many} WWW.EXAMPLE.COM`)).match(ctx(R1)), true);
  assert.equal(compileAcl(spec(`hdr(host) ${many}`)).match(ctx(R1)), false);
});
