import { test } from "node:test";
import assert from "node:assert/strict";
import { BodyKind, type HttpHead } from "../../src/http/message.js";
import { parseRequest, parseResponse } from "../../src/http/parse.js";
import { outFraming, reframer } from "../../src/http/reframe.js";
import { ChunkedScanner } from "../../src/http/chunked.js";
import { HeadEdits, normalizeHead } from "../../src/http/serialize.js";

/** A head as rules leave it: read back with `received` false. */
function rewritten(text: string): HttpHead {
  const buf = Buffer.from(text, "latin1");
  const h = (text.startsWith("HTTP/") ? parseResponse : parseRequest)(
    buf,
    0,
    buf.length,
    101,
    undefined,
    false,
  );
  assert.equal(typeof h, "object", text);
  return h as HttpHead;
}

test("a rewritten head may say a length beside chunked, and its first valid length counts; a received one may not", () => {
  const both = "POST / HTTP/1.1\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n";
  const h = rewritten(both);
  assert.deepEqual([h.body, h.contentLength, h.strayLengths], [BodyKind.Chunked, 2, false]);
  assert.equal(parseRequest(Buffer.from(both), 0, both.length, 101), 400);
  const stray = rewritten(
    "POST / HTTP/1.1\r\nContent-Length: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n",
  );
  assert.deepEqual([stray.body, stray.contentLength, stray.strayLengths], [BodyKind.Length, 3, true]);
  assert.equal(
    rewritten("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n").contentLength,
    5,
  );
});

test("outFraming reads the head that leaves as haproxy's HTTP/1 layer does", () => {
  const f = (text: string, bodyless = false, mayChunk = true) =>
    outFraming(rewritten(text), bodyless, mayChunk);
  // No line frames the body: chunked is added in HTTP/1.1, nothing in 1.0 or where the message may not chunk.
  assert.deepEqual(f("POST / HTTP/1.1\r\n\r\n"), {
    length: -1,
    chunked: true,
    addChunked: true,
    close: false,
    drop: undefined,
  });
  assert.equal(f("POST / HTTP/1.0\r\n\r\n").chunked, false);
  assert.equal(f("HTTP/1.1 200 OK\r\n\r\n", false, false).chunked, false);
  // Both: the length holds the payload, and the connection closes; chunked in 1.0 closes too.
  assert.deepEqual(f("POST / HTTP/1.1\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n"), {
    length: 2,
    chunked: true,
    addChunked: false,
    close: true,
    drop: undefined,
  });
  assert.equal(f("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n").close, true);
  // A request received without a body is held to 0: a length a rule gave it is left out.
  assert.deepEqual(f("GET / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 0\r\n\r\n", true).drop, [0]);
  // Elsewhere, what differs from the first valid length is left out as any head leaves.
  const edits = new HeadEdits();
  normalizeHead(
    rewritten("POST / HTTP/1.1\r\nContent-Length: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n"),
    edits,
  );
  assert.deepEqual(
    [0, 1, 2].map((i) => edits.isDropped(i)),
    [true, false, true],
  );
});

test("a Reframer chunks a raw body, unchunks a chunked one, and refuses a payload past the length", () => {
  const chunk = outFraming(rewritten("POST / HTTP/1.1\r\n\r\n"), false, true);
  const wrap = reframer(BodyKind.Length, 30, chunk)!;
  assert.equal(wrap.next(Buffer.alloc(26, "a"), false, undefined)!.toString(), `1A\r\n${"a".repeat(26)}\r\n`);
  assert.equal(wrap.next(Buffer.from("bcde"), true, undefined)!.toString(), "4\r\nbcde\r\n0\r\n\r\n");
  // The same framing either side: nothing to do.
  assert.equal(reframer(BodyKind.Chunked, -1, chunk), undefined);
  assert.equal(
    reframer(
      BodyKind.Length,
      3,
      outFraming(rewritten("POST / HTTP/1.1\r\nContent-Length: 3\r\n\r\n"), false, true),
    ),
    undefined,
  );

  const three = outFraming(rewritten("POST / HTTP/1.1\r\nContent-Length: 3\r\n\r\n"), false, true);
  const unwrap = reframer(BodyKind.Chunked, -1, three)!;
  const sc = new ChunkedScanner(16384, true);
  sc.data = [];
  const body = Buffer.from("2\r\nab\r\n1\r\nc\r\n0\r\nX-T: 1\r\n\r\n");
  const n = sc.scan(body, 0, body.length);
  assert.equal(unwrap.next(body.subarray(0, n), sc.done, sc)!.toString(), "abc");

  const two = outFraming(rewritten("POST / HTTP/1.1\r\nContent-Length: 2\r\n\r\n"), false, true);
  assert.equal(reframer(BodyKind.Length, 3, two)!.next(Buffer.from("abc"), true, undefined), undefined);
  sc.reset();
  sc.scan(body, 0, body.length);
  assert.equal(reframer(BodyKind.Chunked, -1, two)!.next(body, true, sc), undefined);
});
