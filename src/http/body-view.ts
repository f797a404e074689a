// A request body as haproxy's body fetches (req.body, req.body_len, req.body_size, req.body_param)
// see it: the payload its buffer holds now, decoded from its chunks, and what the framing announces
// beyond (haproxy's HTX "extra": the rest of a Content-Length, or of the chunk under way).
import { ChunkedScanner } from "./chunked.js";

export interface BodyView {
  data: Buffer;
  more: number;
}

const EMPTY = Buffer.alloc(0);
const scanner = new ChunkedScanner();

/** No body, or none in the buffer yet: `more` is what a Content-Length still announces. */
export const noBody = (more: number): BodyView => ({ data: EMPTY, more });

/** A Content-Length body of which `left` bytes were announced, `buf` starting with them. */
export function lengthBody(buf: Buffer, left: number, cap: number): BodyView {
  const n = Math.min(buf.length, left, cap);
  return { data: buf.subarray(0, n), more: left - n };
}

/**
 * A chunked body at the start of `buf`: the payload of its chunks, up to the trailers. Past `cap`,
 * what is announced beyond is the rest of the chunk the cap falls in (or of the one starting there,
 * whose size haproxy has read).
 */
export function chunkedBody(buf: Buffer, bufsize: number, cap: number): BodyView {
  scanner.reset(bufsize);
  const pieces: Buffer[] = (scanner.data = []);
  scanner.scan(buf, 0, buf.length);
  scanner.data = undefined;
  let at = 0;
  for (const piece of pieces) {
    const end = at + piece.length;
    if (end > cap) {
      // One scan gives each chunk's data as one piece: this one is the chunk the cap falls in.
      const data = Buffer.concat(pieces, end).subarray(0, cap);
      const rest = end - cap + (piece === pieces.at(-1) ? scanner.dataLeft : 0);
      return { data, more: rest };
    }
    at = end;
  }
  return { data: pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces, at), more: scanner.dataLeft };
}
