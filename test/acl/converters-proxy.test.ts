// Converters and fetches through a running proxy, each value as haproxy 2.6.12 wrote it for the same
// configuration and requests (its client at 127.0.0.1, as here).
import { test } from "node:test";
import assert from "node:assert/strict";
import { DEFAULTS, exchange, startProxy } from "../helpers/harness.js";

const FORMAT = [
  "b32=%[base32] b32s=%[base32+src,hex]",
  "crc=%[req.hdr(x-a),crc32] crca=%[req.hdr(x-a),crc32(1)] djb=%[req.hdr(x-a),djb2]",
  "sdbm=%[req.hdr(x-a),sdbm(1)] wt6=%[req.hdr(x-a),wt6]",
  "ud=%[req.hdr(x-u),url_dec] ud1=%[req.hdr(x-u),url_dec(1)] udbad=%[req.hdr(x-b),url_dec]",
  "m=%[src,ipmask(24)] m2=%[req.hdr(x-ip),ipmask(255.255.0.0,64)] m3=%[req.hdr(x-ip6),ipmask(16)]",
  "m4=%[req.hdr(x-ip6),ipmask(16,32)] c=%[req.hdr(x-a),concat(<,txn.v,>)] c2=%[req.hdr(x-a),concat(,txn.nope,)]",
  "s=%[req.hdr(x-a),strcmp(txn.v)] s2=%[str(abc),strcmp(txn.v)] s3=%[str(abd),strcmp(txn.v)] s4=%[str(ab),strcmp(txn.v)]",
].join(" ");

test("hashes, url_dec, ipmask, concat, strcmp, base32 and base32+src give haproxy's values", async () => {
  const p = await startProxy(`${DEFAULTS}frontend fe
  bind 127.0.0.1:1
  http-request set-var(txn.v) str(abc)
  http-request return status 200 content-type text/plain lf-string "${FORMAT}"
`);
  try {
    const body = async (head: string) =>
      (await exchange(p.port, Buffer.from(`${head}Connection: close\r\n\r\n`, "latin1"))).split(
        "\r\n\r\n",
      )[1];
    const first = await body(
      "GET /some/path?q=1 HTTP/1.1\r\nHost: 127.0.0.1:19301\r\nx-a: hello w\xc3\xb6rld\r\nx-u: a+b%20c?d+e%41\r\n" +
        "x-b: a%zz\r\nx-ip: 10.20.30.40\r\nx-ip6: 2001:db8:1:2::5\r\n",
    );
    assert.equal(
      Buffer.from(first!, "latin1").toString(),
      "b32=3013868930 b32s=B3A3FD827F000001 crc=2543548614 crca=1312363627 djb=3852488683 sdbm=1831290928 " +
        "wt6=2686552311 ud=a+b c?d eA ud1=a b c?d eA udbad= m=127.0.0.0 m2=10.20.0.0 m3= m4=2001:db8:: " +
        "c=hello wörld<abc> c2=hello wörld s=7 s2=0 s3=1 s4=-1",
    );
    const second = await body("GET / HTTP/1.1\r\nHost: www.example.com:8080\r\nx-ip: ::ffff:10.1.2.3\r\n");
    assert.equal(
      second,
      "b32=1519867853 b32s=5A9757CD7F000001 crc= crca= djb= sdbm= wt6= ud= ud1= udbad= m=127.0.0.0 " +
        "m2=10.1.0.0 m3= m4= c= c2= s= s2=0 s3=1 s4=-1",
    );
    // An empty value is a sample: its hashes, and shorter than "abc".
    assert.equal(
      await body("GET / HTTP/1.1\r\nHost: www.example.com:8080\r\nx-a: \r\n"),
      "b32=1519867853 b32s=5A9757CD7F000001 crc=0 crca=2874071335 djb=5381 sdbm=2874071335 wt6=4187620192 ud= " +
        "ud1= udbad= m=127.0.0.0 m2= m3= m4= c=<abc> c2= s=-1 s2=0 s3=1 s4=-1",
    );
  } finally {
    await p.stop();
  }
});

test("rules see a repeated Host or Content-Length line once, as haproxy 2.6.12's parser leaves them", async () => {
  const p = await startProxy(`${DEFAULTS}frontend fe
  bind 127.0.0.1:1
  http-request return status 200 content-type text/plain lf-string "host=%[req.hdr_cnt(host)] cl=%[req.hdr_cnt(content-length)] fhost=%[req.fhdr_cnt(host)]"
`);
  try {
    const raw = await exchange(
      p.port,
      "POST /count HTTP/1.1\r\nHost: localhost\r\nHost: LOCALHOST\r\nContent-Length: 1\r\nContent-Length: 1\r\nConnection: close\r\n\r\nx",
    );
    assert.equal(raw.split("\r\n\r\n")[1], "host=1 cl=1 fhost=1");
  } finally {
    await p.stop();
  }
});
