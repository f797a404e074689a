// An errorfile: a whole HTTP response, written by the user, that the proxy sends in place of one of
// its own (`errorfile`, `errorloc`, `http-errors`, `http-error`, a rule's `errorfile`). Checked once,
// at start-up, the way haproxy 2.6 checks it, and sent as haproxy's encoder sends it: header names
// in lower case, the file's Connection header replaced by what the client's connection needs.
import { BodyKind, headerNameIs } from "./message.js";
import { NEED_MORE, parseResponse } from "./parse.js";
import type { ReplyConnection } from "./errors.js";

export interface ErrorFile {
  /** An empty file: nothing is sent, the connection just closes (`errorfile 408 /dev/null`). */
  empty: boolean;
  /** The connection closes after it: the file says `Connection: close`, or its body has no length. */
  closes: boolean;
  /** An HTTP/1.0 response: closing goes without saying, staying open needs `Connection: keep-alive`. */
  http10: boolean;
  /** Start line and header lines, each ending in CRLF, without the blank line. */
  head: string;
  body: Buffer;
  /** What is left of haproxy's buffer around it: haproxy warns when it is less than the rewrite reserve. */
  room: number;
  /** What haproxy counts of it (HTX_HEAD) but does not send: its Connection lines' names and values. */
  unsentHtx: number;
}

export const EMPTY_ERRORFILE: ErrorFile = {
  empty: true,
  closes: true,
  http10: false,
  head: "",
  body: Buffer.alloc(0),
  room: Infinity,
  unsentHtx: 0,
};

/**
 * Reads a response as haproxy 2.6 reads an errorfile: a status from 200 up (101 is not taken here),
 * no chunked body, a body exactly as long as its Content-Length says and none where there must not
 * be one, all of it within a buffer. Returns the errorfile, or haproxy's reason for refusing it.
 */
export function parseErrorFile(raw: Buffer, bufsize: number, maxhdr: number): ErrorFile | string {
  if (raw.length === 0) return EMPTY_ERRORFILE;
  const res = parseResponse(raw, 0, raw.length, maxhdr);
  if (res === NEED_MORE || typeof res === "number") return "unable to parse headers";
  if (res.status < 200) return `invalid http status code for an error message (${res.status})`;
  const bodyless =
    res.status === 204 || res.status === 304 || (res.body === BodyKind.Length && res.contentLength === 0);
  const body = raw.subarray(res.end);
  if (res.body === BodyKind.Chunked && res.status !== 204 && res.status !== 304)
    return "chunk-encoded payload not supported";
  if (bodyless && body.length > 0) return "message payload not expected";
  if (res.body === BodyKind.Length && !bodyless && body.length !== res.contentLength)
    return `payload size does not match the announced content-length (${body.length} != ${res.contentLength})`;
  const statusLine = `HTTP/1.${res.versionMinor} ${res.status} ${res.reason}`;
  let head = `${statusLine}\r\n`;
  // haproxy's message holds the start line (its parts and 8 bytes of bookkeeping), each header (name,
  // value and 8), the end of the head (9) and the body (and 8): all within the buffer but 68 bytes.
  let weight = statusLine.length - 2 + 8 + 9;
  let unsentHtx = 0;
  for (let i = 0; i < res.count; i++) {
    const [ns, ne, vs, ve] = res.hdr.subarray(i << 2, (i << 2) + 4);
    weight += ne! - ns! + ve! - vs! + 8;
    if (headerNameIs(res, i, "connection")) {
      unsentHtx += ne! - ns! + ve! - vs!;
      continue;
    }
    head += `${raw.toString("latin1", ns, ne).toLowerCase()}: ${raw.toString("latin1", vs, ve)}\r\n`;
  }
  const room = bufsize - 68;
  if (weight > room) return "unable to add headers into the HTX message";
  if (body.length > 0) weight += body.length + 8;
  if (weight > room) return "unable to add payload into the HTX message";
  return {
    empty: false,
    closes: res.connClose || (res.body === BodyKind.UntilClose && !bodyless),
    http10: res.versionMinor === 0,
    head,
    body: Buffer.from(body),
    room: room - weight,
    unsentHtx,
  };
}

/** The errorfile with `line` ("name: value") as the only header of its name, after the others. */
export function withHeader(f: ErrorFile, line: string): ErrorFile {
  if (f.empty) return f;
  const name = line.slice(0, line.indexOf(":") + 1);
  const lines = f.head.split("\r\n").filter((l, i) => i === 0 || (l !== "" && !l.startsWith(name)));
  return { ...f, head: `${lines.join("\r\n")}\r\n${line}\r\n` };
}

/** The bytes to send: the head with the Connection header `c` (if any), then the body. */
export function errorFileBytes(f: ErrorFile, c: ReplyConnection): Buffer {
  if (f.empty) return f.body;
  const head = Buffer.from(`${f.head}${c === undefined ? "" : `connection: ${c}\r\n`}\r\n`, "latin1");
  return Buffer.concat([head, f.body]);
}

/**
 * An answer with the Connection header `c` last in its head: haproxy's encoder writes it as the
 * answer leaves, after the lines its http-after-response rules added (theirs without close and
 * keep-alive).
 */
export function withConnection(bytes: Buffer, c: ReplyConnection): Buffer {
  const end = c === undefined ? -1 : bytes.indexOf("\r\n\r\n");
  if (end < 0) return bytes;
  return Buffer.concat([
    bytes.subarray(0, end + 2),
    Buffer.from(`connection: ${c}\r\n`),
    bytes.subarray(end + 2),
  ]);
}

/** The Connection header haproxy's encoder writes for a response of this version. */
export function connectionFor(closing: boolean, http10: boolean, requestHttp10: boolean): ReplyConnection {
  if (closing) return http10 ? undefined : "close";
  return http10 || requestHttp10 ? "keep-alive" : undefined;
}
