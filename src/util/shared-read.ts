// Every socket of the proxy reads into one shared buffer (tcp-socket.ts gives it to each handle),
// and each read is copied out at once at its own size. By default Node allocates 64 KiB for every
// read, shrinks it to the size read, and pushes the chunk through the socket's Readable, which costs
// a tick per read; a proxy that writes each chunk on at once needs none of that.

// Buffer as an import: the global is a getter, a call at each use on the data path.
import { Buffer } from "node:buffer";

export const readBuffer = Buffer.allocUnsafeSlow(64 * 1024);

/**
 * Views on the buffer's first n bytes, for reads shorter than CACHED_VIEWS, each made at its size's
 * first read: Buffer.copy makes such a view for every copy of a part of its source.
 */
const CACHED_VIEWS = 4096;
const views: (Uint8Array | undefined)[] = new Array<Uint8Array | undefined>(CACHED_VIEWS).fill(undefined);

/** The last `n` bytes read, as a chunk of their own: the buffer is read into again next time. */
export function lastRead(n: number): Buffer {
  const chunk = Buffer.allocUnsafe(n);
  if (n < CACHED_VIEWS) chunk.set((views[n] ??= new Uint8Array(readBuffer.buffer, readBuffer.byteOffset, n)));
  else readBuffer.copy(chunk, 0, 0, n);
  return chunk;
}
