import { test } from "node:test";
import assert from "node:assert/strict";
import type { HttpHead } from "../../src/http/message.js";
import { parseRequest, parseResponse } from "../../src/http/parse.js";
import { cleanConnectionHeaders } from "../../src/http/connection.js";
import { HeadEdits, serializeHead } from "../../src/http/serialize.js";

test("serializeHead copies byte ranges, drops and adds lines, replaces the start line", () => {
  const text = "GET /x HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Keep: y\r\n\r\n";
  const h = parseRequest(Buffer.from(text, "latin1"), 0, text.length, 101) as HttpHead;
  assert.equal(typeof h, "object");
  const e = new HeadEdits();
  assert.equal(serializeHead(h, e).toString("latin1"), text);
  e.dropHeader(1);
  e.add.push("X-Forwarded-For: 127.0.0.1");
  assert.equal(
    serializeHead(h, e).toString("latin1"),
    "GET /x HTTP/1.1\r\nHost: x\r\nX-Keep: y\r\nX-Forwarded-For: 127.0.0.1\r\n\r\n",
  );
  e.reset();
  e.startLine = "PUT /y HTTP/1.1";
  assert.equal(serializeHead(h, e).toString("latin1").split("\r\n")[0], "PUT /y HTTP/1.1");
});

test("serializeHead rewrites a value in place under the sender's name, and keeps bare-LF lines as sent", () => {
  const text = "GET / HTTP/1.1\nHost: x\r\nX-A: 1\nX-b: 2\r\nX-C: 3\n\n";
  const h = parseRequest(Buffer.from(text, "latin1"), 0, text.length, 101) as HttpHead;
  const e = new HeadEdits();
  e.rewriteHeader(2, "two");
  e.dropHeader(1);
  e.add.push("X-D: 4");
  assert.equal(
    serializeHead(h, e).toString("latin1"),
    "GET / HTTP/1.1\nHost: x\r\nX-b: two\r\nX-C: 3\nX-D: 4\r\n\r\n",
  );
  e.reset();
  e.rewriteHeader(0, "y");
  e.dropHeader(3);
  assert.equal(serializeHead(h, e).toString("latin1"), "GET / HTTP/1.1\nHost: y\r\nX-A: 1\nX-b: 2\r\n\r\n");
});

test("cleanConnectionHeaders takes out close and keep-alive as haproxy does", () => {
  const clean = (value: string): string => {
    const text = `HTTP/1.1 200 OK\r\nConnection: ${value}\r\nContent-Length: 0\r\n\r\n`;
    const h = parseResponse(Buffer.from(text, "latin1"), 0, text.length, 101) as HttpHead;
    const e = new HeadEdits();
    cleanConnectionHeaders(h, e);
    return serializeHead(h, e).toString("latin1").split("\r\n")[1]!;
  };
  assert.equal(clean("close"), "Content-Length: 0");
  assert.equal(clean("Keep-Alive"), "Content-Length: 0");
  assert.equal(clean("Upgrade"), "Connection: Upgrade");
  assert.equal(clean("keep-alive, Upgrade"), "Connection: Upgrade");
  // The bytes before the first word taken out stay; the words after it follow bare commas.
  assert.equal(clean("X-A , close, X-B,keep-alive, X-C"), "Connection: X-A ,X-B,X-C");
  assert.equal(clean("keep-alive, X-D ,close,,X-E"), "Connection: X-D,,X-E");
  // One word, as haproxy reads it: not a close.
  assert.equal(clean("keep-alive close"), "Connection: keep-alive close");
});

test("serializeHead appends the first bytes of a tail, with or without edits", () => {
  const text = "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 5\r\n\r\n";
  const h = parseResponse(Buffer.from(text, "latin1"), 0, text.length, 101) as HttpHead;
  const tail = Buffer.from("hello, and what follows", "latin1");
  const e = new HeadEdits();
  assert.equal(serializeHead(h, e, tail, 5).toString("latin1"), text + "hello");
  e.dropHeader(0);
  assert.equal(
    serializeHead(h, e, tail, 5).toString("latin1"),
    "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
  );
});
