import { test } from "node:test";
import assert from "node:assert/strict";
import type { HttpHead } from "../../src/http/message.js";
import { parseRequest } from "../../src/http/parse.js";
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
