// The compressor's output in each format, piece by piece, and how a request and a response choose.
import { test } from "node:test";
import assert from "node:assert/strict";
import { gunzipSync, inflateRawSync, inflateSync } from "node:zlib";
import { Compressor, type CompAlgo } from "../../src/http/compressor.js";
import { chooseAlgo, compressible } from "../../src/http/compression.js";
import { newHead, parseRequest, parseResponse } from "../../src/http/parse.js";
import type { HttpHead } from "../../src/http/message.js";
import { pattern } from "../helpers/harness.js";

/** The chunks' payload, and what follows the last chunk. */
function dechunk(framed: Buffer): { data: Buffer; rest: string } {
  const parts: Buffer[] = [];
  let off = 0;
  for (;;) {
    const eol = framed.indexOf("\r\n", off);
    const size = parseInt(framed.toString("latin1", off, eol), 16);
    if (size === 0) return { data: Buffer.concat(parts), rest: framed.toString("latin1", eol + 2) };
    parts.push(framed.subarray(eol + 2, eol + 2 + size));
    off = eol + 4 + size;
  }
}

const DECODE: Record<Exclude<CompAlgo, "identity">, (b: Buffer) => Buffer> = {
  gzip: gunzipSync,
  deflate: inflateSync,
  "raw-deflate": inflateRawSync,
};

test("pieces compressed one by one make one stream in each format, at every level", () => {
  const text = Buffer.from(pattern(3, 200_000).toString("hex"), "latin1");
  for (const algo of ["gzip", "deflate", "raw-deflate"] as const)
    for (const level of [0, 1, 9]) {
      const c = new Compressor(algo, 9);
      c.level = level;
      const out: Buffer[] = [];
      for (let off = 0; off < text.length; off += 70_000) {
        const piece = text.subarray(off, off + 70_000);
        out.push(c.chunk(piece, off + 70_000 >= text.length, undefined));
      }
      const { data, rest } = dechunk(Buffer.concat(out));
      assert.equal(rest, "\r\n");
      assert.ok(DECODE[algo](data).equals(text), `${algo} at level ${level}`);
    }
});

test("a last piece without data ends the stream; trailers follow the last chunk", () => {
  for (const algo of ["gzip", "deflate", "raw-deflate"] as const) {
    const c = new Compressor(algo, 1);
    const first = c.chunk(Buffer.from("abc"), false);
    assert.equal(c.chunk(Buffer.alloc(0), false).length, 0, "nothing to send");
    const last = c.chunk(Buffer.alloc(0), true, Buffer.from("X-T: 1\r\n\r\n"));
    const { data, rest } = dechunk(Buffer.concat([first, last]));
    assert.equal(rest, "X-T: 1\r\n\r\n");
    assert.equal(DECODE[algo](data).toString(), "abc");
  }
  const id = new Compressor("identity", 1);
  assert.equal(
    Buffer.concat([id.chunk(Buffer.from("ab"), false), id.chunk(Buffer.from("c"), true)]).toString(),
    "2\r\nab\r\n1\r\nc\r\n0\r\n\r\n",
  );
});

test("the level backs off to 0 while over the limits, then climbs back", () => {
  const c = new Compressor("gzip", 3);
  for (let i = 0; i < 5; i++) c.adjust(true);
  assert.equal(c.level, 0);
  c.adjust(false);
  c.adjust(false);
  assert.equal(c.level, 2);
  for (let i = 0; i < 5; i++) c.adjust(false);
  assert.equal(c.level, 3);
});

function request(headers: string, version = "1.1", method = "GET"): HttpHead {
  const buf = Buffer.from(`${method} / HTTP/${version}\r\nHost: x\r\n${headers}\r\n`, "latin1");
  const h = parseRequest(buf, 0, buf.length, 101, newHead(buf));
  assert.ok(typeof h === "object");
  return h;
}

function response(headers: string, status = "200 OK"): HttpHead {
  const buf = Buffer.from(`HTTP/1.1 ${status}\r\n${headers}\r\n`, "latin1");
  const h = parseResponse(buf, 0, buf.length, 101, newHead(buf));
  assert.ok(typeof h === "object");
  return h;
}

test("Accept-Encoding chooses by q-value, then by order; identity when configured and nothing else is", () => {
  const algos: CompAlgo[] = ["deflate", "gzip"];
  const algo = (ae: string, list = algos) =>
    chooseAlgo(request(ae ? `Accept-Encoding: ${ae}\r\n` : ""), list);
  assert.deepEqual(algo("gzip"), { algo: "gzip", accepted: true });
  assert.deepEqual(algo("gzip, deflate"), { algo: "gzip", accepted: true });
  assert.deepEqual(algo("gzip;q=0.8, deflate;q=0.801"), { algo: "deflate", accepted: true });
  assert.deepEqual(algo("gzip ; foo=1 ; q=0.5, br"), { algo: "gzip", accepted: true });
  assert.equal(algo("gzip;q=0, br"), undefined);
  assert.equal(algo("gzipx"), undefined);
  assert.deepEqual(algo("*;q=0.1"), { algo: "deflate", accepted: true });
  assert.deepEqual(algo("br", ["identity", "gzip"]), { algo: "identity", accepted: false });
  assert.equal(algo("", ["gzip"]), undefined);
  // A client's long run of blanks costs time in proportion to it, not to its square: ten times the
  // bytes take about ten times as long (a hundred if it were quadratic). Each size's best of five
  // rounds, so that a loaded machine slows both alike.
  const long = (n: number) => `gzip${" ".repeat(n)}x, ${";".repeat(n)}`;
  assert.deepEqual(algo(long(15000)), { algo: "gzip", accepted: true });
  const time = (n: number): number => {
    let best = Infinity;
    for (let round = 0; round < 5; round++) {
      const t = performance.now();
      for (let i = 0; i < 10; i++) algo(long(n));
      best = Math.min(best, performance.now() - t);
    }
    return best;
  };
  const ratio = time(15000) / time(1500);
  assert.ok(ratio < 40, `ten times the bytes of Accept-Encoding took ${ratio.toFixed(1)} times as long`);
  // Mozilla/4 is refused unless MSIE 6 SP2 or MSIE 7 and later say they are.
  const ua = (s: string) => chooseAlgo(request(`Accept-Encoding: gzip\r\nUser-Agent: ${s}\r\n`), algos);
  assert.equal(ua("Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.1)"), undefined);
  assert.ok(ua("Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.1; SV1)"));
  assert.ok(ua("Mozilla/4.0 (compatible; MSIE 7.0; Windows NT 6.0)"));
  assert.ok(ua("Mozilla/5.0 (X11; Linux x86_64)"));
});

test("a response is compressible per its version, status, framing, coding, cache control, ETag and type", () => {
  const req = request("");
  const ok = (h: string, types: string[] = [], status?: string) =>
    compressible(response(h, status), req, types);
  assert.equal(ok("Content-Length: 5\r\n"), true);
  assert.equal(ok("Transfer-Encoding: chunked\r\n"), true);
  assert.equal(ok("Content-Length: 0\r\n"), false);
  assert.equal(ok(""), false, "close-delimited");
  assert.equal(ok("Content-Length: 5\r\n", [], "203 X"), true);
  assert.equal(ok("Content-Length: 5\r\n", [], "206 Partial Content"), false);
  assert.equal(ok("Content-Length: 5\r\nContent-Encoding: identity\r\n"), false);
  assert.equal(ok("Content-Length: 5\r\nCache-Control: max-age=1, NO-TRANSFORM\r\n"), false);
  // A comma inside a quoted string does not split the list (haproxy 2.6.12 compressed this one).
  assert.equal(ok('Content-Length: 5\r\nCache-Control: x="a, no-transform, b"\r\n'), true);
  assert.equal(ok('Content-Length: 5\r\nETag: "a"\r\n'), true);
  assert.equal(ok('Content-Length: 5\r\nETag: "a"\r\nETag: "b"\r\n'), false);
  assert.equal(ok("Content-Length: 5\r\nETag: a\r\n"), false);
  assert.equal(ok("Content-Length: 5\r\nContent-Type: Multipart/mixed\r\n"), false);
  assert.equal(ok("Content-Length: 5\r\nContent-Type: TEXT/html;charset=utf-8\r\n", ["text/html"]), true);
  assert.equal(ok("Content-Length: 5\r\nContent-Type: image/png\r\n", ["text/html"]), false);
  assert.equal(ok("Content-Length: 5\r\n", ["text/html"]), false, "a type required");
  assert.equal(compressible(response("Content-Length: 5\r\n"), request("", "1.0"), []), false);
  assert.equal(compressible(response("Content-Length: 5\r\n"), request("", "1.1", "HEAD"), []), false);
});
