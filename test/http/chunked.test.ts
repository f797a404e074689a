import { test } from "node:test";
import assert from "node:assert/strict";
import { ChunkedScanner } from "../../src/http/chunked.js";

const bytes = (s: string): Buffer => Buffer.from(s, "latin1");

/** Scans `all` in two calls cut at `cut`; returns the bytes counted and the scanner. */
function scanSplit(all: Buffer, cut: number, sc = new ChunkedScanner()): [number, ChunkedScanner] {
  let n = sc.scan(all, 0, cut);
  if (!sc.done && !sc.error && n === cut) n += sc.scan(all, cut, all.length);
  return [n, sc];
}

/** Feeds one byte per call. */
function scanBytes(all: Buffer, sc = new ChunkedScanner()): [number, ChunkedScanner] {
  let n = 0;
  for (let i = 0; i < all.length && !sc.done && !sc.error; i++) n += sc.scan(all, i, i + 1);
  return [n, sc];
}

const GOOD: [string, string, number][] = [
  ["one chunk", "5\r\nhello\r\n0\r\n\r\n", 5],
  ["last chunk only", "0\r\n\r\n", 0],
  ["extensions and a trailer", "5;ext=1\r\nhello\r\n0A\r\n0123456789\r\n0;x\r\nTrailer: t\r\n\r\n", 15],
  ["upper and lower hex", "a\r\n0123456789\r\nA\r\n0123456789\r\n0\r\n\r\n", 20],
  ["bare LF", "2\nab\n0\n\n", 2],
  ["blank after the size", "2 \r\nab\r\n0\t\r\n\r\n", 2],
  ["blanks before an extension", "2 ; a=b\r\nab\r\n0\r\n\r\n", 2],
  ["extension with odd bytes", '2;a="b c"\x01\xff\r\nab\r\n0\r\n\r\n', 2],
  ["leading zeros", "00000000000000000000002\r\nab\r\n0000\r\n\r\n", 2],
  ["two trailers, LF", "1\r\nx\r\n0\r\nA: 1\nB:\t2 \r\n\r\n", 1],
  ["payload bytes look like framing", "5\r\n0\r\n\r\n\r\n0\r\n\r\n", 5],
  ["a Content-Length trailer", "1\r\nx\r\n0\r\nContent-Length: 5\r\ncontent-length:05 , 5\r\n\r\n", 1],
];

const BAD: [string, string][] = [
  ["not hex", "zz\r\n"],
  ["empty size", "\r\n"],
  ["0x prefix", "0x2\r\nab\r\n0\r\n\r\n"],
  ["blank inside the size", "2 2\r\nab\r\n"],
  ["blank before the size", " 2\r\nab\r\n"],
  ["CR without LF after the size", "2\rab"],
  ["data not followed by CRLF", "5\r\nhelloX"],
  ["data followed by CR and garbage", "5\r\nhello\rX"],
  // haproxy 2.6 refuses 2^52 and more.
  ["size overflow", "10000000000000\r\n"],
  ["trailer without colon", "5\r\nhello\r\n0\r\nbad trailer\r\n\r\n"],
  ["trailer with control byte", "5\r\nhello\r\n0\r\nX: bad\x01\r\n\r\n"],
  ["trailer obs-fold", "0\r\nX: a\r\n b\r\n\r\n"],
  ["trailer empty name", "0\r\n: a\r\n\r\n"],
  ["CR then garbage at the end", "0\r\n\rX"],
  // haproxy 2.6 reads a Content-Length trailer as it reads the header.
  ["Content-Length trailer not a number", '0\r\nContent-Length:"5\r\n\r\n'],
  ["Content-Length trailer empty", "0\r\nContent-Length:\r\n\r\n"],
  ["Content-Length trailer of two numbers", "0\r\ncontent-length: 5, 6\r\n\r\n"],
  ["Content-Length trailer ending in a comma", "0\r\nContent-Length: 5,\r\n\r\n"],
];

test("chunked bodies end where they end, however the bytes are split", () => {
  const after = "GET /next HTTP/1.1\r\n\r\n";
  for (const [name, body, payload] of GOOD) {
    const all = bytes(body + after);
    for (let cut = 0; cut <= all.length; cut++) {
      const [n, sc] = scanSplit(all, cut);
      assert.deepEqual(
        [sc.error, sc.done, n, sc.payload],
        [false, true, body.length, payload],
        `${name}, cut ${cut}`,
      );
    }
    const [n, sc] = scanBytes(all);
    assert.deepEqual(
      [sc.error, sc.done, n, sc.payload],
      [false, true, body.length, payload],
      `${name}, bytewise`,
    );
    // Once done, nothing more is taken.
    assert.equal(sc.scan(all, body.length, all.length), 0);
  }
});

test("three-way splits of a body with every kind of line", () => {
  const body = "3;e\r\nabc\r\n0\r\nT: 1\r\n\r\n";
  const all = bytes(body);
  for (let a = 0; a <= all.length; a++)
    for (let b = a; b <= all.length; b++) {
      const sc = new ChunkedScanner();
      const n = sc.scan(all, 0, a) + sc.scan(all, a, b) + sc.scan(all, b, all.length);
      assert.deepEqual([n, sc.done, sc.error, sc.payload], [body.length, true, false, 3], `${a}/${b}`);
    }
});

test("an incomplete body is neither done nor in error, and counts what it saw", () => {
  const sc = new ChunkedScanner();
  const part = bytes("a\r\n01234");
  assert.equal(sc.scan(part, 0, part.length), part.length);
  assert.deepEqual([sc.done, sc.error, sc.payload], [false, false, 5]);
});

test("bad framing sets error, at any split", () => {
  for (const [name, text] of BAD) {
    const all = bytes(text);
    for (let cut = 0; cut <= all.length; cut++) {
      const [n, sc] = scanSplit(all, cut);
      assert.equal(sc.error, true, `${name}, cut ${cut}`);
      assert.equal(sc.done, false, `${name}, cut ${cut}`);
      assert.ok(n < all.length, `${name}: stops before the offending byte`);
    }
    assert.equal(scanBytes(all)[1].error, true, `${name}, bytewise`);
  }
});

test("size lines and trailer sections longer than maxLine are refused", () => {
  const long = bytes("1;" + "x".repeat(100) + "\r\nx\r\n0\r\n\r\n");
  assert.equal(scanSplit(long, 50, new ChunkedScanner(64))[1].error, true);
  assert.equal(scanSplit(long, 50, new ChunkedScanner(200))[1].done, true);
  const trailers = bytes("0\r\n" + "T: v\r\n".repeat(20) + "\r\n");
  assert.equal(scanSplit(trailers, 7, new ChunkedScanner(64))[1].error, true);
  assert.equal(scanSplit(trailers, 7, new ChunkedScanner(200))[1].done, true);
  // Chunk data does not count.
  const big = bytes("1000\r\n" + "d".repeat(4096) + "\r\n0\r\n\r\n");
  assert.equal(scanSplit(big, 100, new ChunkedScanner(64))[1].done, true);
});

test("a trailer name longer than 255 bytes, or as many trailer lines as tune.http.maxhdr, is refused", () => {
  const named = (n: number) => bytes(`0\r\n${"n".repeat(n)}: v\r\n\r\n`);
  assert.equal(scanSplit(named(255), 100)[1].done, true);
  assert.equal(scanSplit(named(256), 100)[1].error, true);
  assert.equal(scanBytes(named(256))[1].error, true);
  const lines = (n: number) => bytes("0\r\n" + "T: v\r\n".repeat(n) + "\r\n");
  assert.equal(scanSplit(lines(100), 50)[1].done, true, "100 lines, tune.http.maxhdr 101 by default");
  assert.equal(scanSplit(lines(101), 50)[1].error, true);
  assert.equal(scanSplit(lines(4), 9, new ChunkedScanner(16384, false, 5))[1].done, true);
  assert.equal(scanSplit(lines(5), 9, new ChunkedScanner(16384, false, 5))[1].error, true);
  // The count starts again with each body.
  const sc = new ChunkedScanner(16384, false, 5);
  assert.equal(scanSplit(lines(4), 9, sc)[1].done, true);
  sc.reset();
  assert.equal(scanSplit(lines(4), 9, sc)[1].done, true);
});

test("reset makes a scanner ready for the next body", () => {
  const sc = new ChunkedScanner();
  const bad = bytes("zz");
  sc.scan(bad, 0, bad.length);
  assert.equal(sc.error, true);
  sc.reset();
  const good = bytes("2\r\nab\r\n0\r\n\r\n");
  assert.equal(sc.scan(good, 0, good.length), good.length);
  assert.deepEqual([sc.done, sc.error, sc.payload], [true, false, 2]);
  sc.reset();
  assert.deepEqual([sc.done, sc.error, sc.payload], [false, false, 0]);
});

test("a large payload is counted exactly", () => {
  const sc = new ChunkedScanner();
  const size = 0x1_0000_0000 + 5;
  const headLine = bytes(size.toString(16) + "\r\n");
  assert.equal(sc.scan(headLine, 0, headLine.length), headLine.length);
  const block = Buffer.alloc(1 << 20);
  let left = size;
  while (left > 0) {
    const n = Math.min(left, block.length);
    assert.equal(sc.scan(block, 0, n), n);
    left -= n;
  }
  const tail = bytes("\r\n0\r\n\r\n");
  assert.equal(sc.scan(tail, 0, tail.length), tail.length);
  assert.deepEqual([sc.done, sc.payload], [true, size]);
});

/** What a normalizing scanner sends for `all` fed in pieces cut at `cuts`. */
function normalize(all: Buffer, cuts: number[]): string {
  const sc = new ChunkedScanner(16384, true);
  const sent: Buffer[] = [];
  let from = 0;
  for (const to of [...cuts, all.length]) {
    const n = sc.scan(all, from, to);
    sent.push(sc.normalized ?? all.subarray(from, from + n));
    from += n;
    if (sc.done) break;
  }
  assert.equal(sc.done, true);
  return Buffer.concat(sent).toString("latin1");
}

const NORMALIZED: [string, string, string][] = [
  ["regular framing", "5\r\nhello\r\n0\r\nT: 1\r\n\r\n", "5\r\nhello\r\n0\r\nT: 1\r\n\r\n"],
  ["bare LF everywhere", "2\nab\n0\nA: 1\n\n", "2\r\nab\r\n0\r\nA: 1\r\n\r\n"],
  ["extensions and blanks", "2 ; a=b\r\nab\r\n0;x\r\n\r\n", "2\r\nab\r\n0\r\n\r\n"],
  ["extension ended by a bare LF", "2;e\nab\r\n0\t\n\n", "2\r\nab\r\n0\r\n\r\n"],
  ["mixed line ends", "1\r\nx\n0\r\nA: 1\nB: 2\r\n\n", "1\r\nx\r\n0\r\nA: 1\r\nB: 2\r\n\r\n"],
];

test("a normalizing scanner sends CRLF line ends and no extensions, however the bytes are split", () => {
  for (const [name, text, want] of NORMALIZED) {
    const all = bytes(text);
    for (let a = 0; a <= all.length; a++)
      for (let b = a; b <= all.length; b++)
        assert.equal(normalize(all, [a, b]), want, `${name}, cut ${a}/${b}`);
    const each = Array.from({ length: all.length }, (_, i) => i + 1);
    assert.equal(normalize(all, each), want, `${name}, bytewise`);
  }
});

test("regular framing is sent as it is, without a copy", () => {
  const sc = new ChunkedScanner(16384, true);
  const all = bytes("5\r\nhello\r\n0\r\nT: 1\r\n\r\n");
  assert.equal(sc.scan(all, 0, all.length), all.length);
  assert.equal(sc.normalized, undefined);
  // A scanner that only finds the end of bodies never builds anything.
  const plain = new ChunkedScanner();
  const lf = bytes("2\nab\n0\n\n");
  assert.equal(plain.scan(lf, 0, lf.length), lf.length);
  assert.equal(plain.normalized, undefined);
});
