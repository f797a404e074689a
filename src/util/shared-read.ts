// Every socket of the proxy reads into one shared buffer (tcp-socket.ts gives it to each handle),
// and each read is copied out at once at its own size. By default Node allocates 64 KiB for every
// read, shrinks it to the size read, and pushes the chunk through the socket's Readable, which costs
// a tick per read; a proxy that writes each chunk on at once needs none of that.
//
// Bulk relayed as it comes (a tunnel, a response body with a length or until the close) is the
// exception: there the copy was a third of the proxy's CPU per MB, the memory copied to being cold
// each time, and its slabs kept the garbage collector busy. A socket relaying large reads gets a
// buffer of its own for as long as they last, as haproxy gives a channel a buffer from its pool while
// data flows and takes it back once it is empty: each read is written on from there and taken by the
// kernel at once, as a rule, and the socket reads into the same memory again. Should a write keep a
// view of it, waiting for the kernel, the buffer is that write's until it is done, and the socket
// takes another.

// Buffer as an import: the global is a getter, a call at each use on the data path.
import { Buffer } from "node:buffer";

export const readBuffer = Buffer.allocUnsafeSlow(64 * 1024);

/**
 * Views on the buffer's first n bytes, for reads shorter than CACHED_VIEWS, each made at its size's
 * first read: Buffer.copy makes such a view for every copy of a part of its source.
 */
const CACHED_VIEWS = 4096;
const views: (Uint8Array | undefined)[] = new Array<Uint8Array | undefined>(CACHED_VIEWS).fill(undefined);

/**
 * Larger reads are cut from slabs of this size, as Node's pool cuts small buffers. A buffer of its own
 * per read (a 64 KiB malloc, freed at the next GC) made glibc give the top of its heap back to the
 * kernel and take it again, over and over: in a bulk tunnel, a third more system time per MB than with
 * slabs (bench/README, stop 40). A chunk still held keeps its slab: at most four times a 64 KiB read.
 */
const SLAB = 256 * 1024;
let slab = Buffer.allocUnsafeSlow(SLAB);
let slabUsed = 0;

/**
 * The last `n` bytes read into `from` (the shared buffer by default), as a chunk of their own: the
 * buffer is read into again next time.
 */
export function lastRead(n: number, from: Buffer = readBuffer): Buffer {
  if (n < CACHED_VIEWS) {
    const chunk = Buffer.allocUnsafe(n);
    chunk.set(
      from === readBuffer
        ? (views[n] ??= new Uint8Array(readBuffer.buffer, readBuffer.byteOffset, n))
        : from.subarray(0, n),
    );
    return chunk;
  }
  if (slabUsed + n > SLAB) {
    slab = Buffer.allocUnsafeSlow(SLAB);
    slabUsed = 0;
  }
  const chunk = slab.subarray(slabUsed, slabUsed + n);
  // Each chunk starts 8-byte aligned, as typed-array views over it may need.
  slabUsed += (n + 7) & ~7;
  from.copy(chunk, 0, 0, n);
  return chunk;
}

/**
 * A read this large, relayed, is bulk: it goes on from a buffer of the socket's own. A write of it is
 * never held for the round's end (tcp-socket.ts's high-water mark is no larger): it is taken at once,
 * or it waits for the kernel.
 */
export const BULK_READ = 16 * 1024;

/**
 * An own buffer's size. Twice the shared buffer's: in a bulk tunnel on this machine, reads of 64 KiB
 * cost a third more CPU per MB than reads of 128 KiB to 1 MiB, which all cost about what haproxy's do
 * (bench/README.md, stop 41).
 */
const OWN_SIZE = 128 * 1024;

/**
 * At most this many own buffers are held by sockets or kept for the next (16 MiB); one lent to a write
 * goes with it. Past that, relayed reads are copied as others are. A socket keeps its buffer while it
 * reads nothing: idle tunnels after a burst can hold them all.
 */
const OWN_BUFFERS = 128;
const spareOwn: Buffer[] = [];
/** Own buffers held by sockets. */
let ownHeld = 0;

/** A read buffer for one socket alone, or undefined when OWN_BUFFERS are out. */
export function takeOwnBuffer(): Buffer | undefined {
  const spare = spareOwn.pop();
  if (spare !== undefined) {
    ownHeld++;
    return spare;
  }
  if (ownHeld >= OWN_BUFFERS) return undefined;
  ownHeld++;
  return Buffer.allocUnsafeSlow(OWN_SIZE);
}

/** The socket reads into it no more: the next may have it. */
export function giveBackOwnBuffer(buf: Buffer): void {
  ownHeld--;
  spareOwn.push(buf);
}

/** The memory of own buffers lent to a write that holds their only view: back once it is done. */
const lentToWrite = new WeakSet<ArrayBufferLike>();

/**
 * A write keeps a view of it, `buf`, the only one: it is the write's, and comes back when the write is
 * done (writeDone). Without `buf`, who keeps views of it is unknown: it goes with them.
 */
export function lendOwnBuffer(buf?: Buffer): void {
  ownHeld--;
  if (buf !== undefined) lentToWrite.add(buf.buffer);
}

/**
 * A write that waited is done (or failed): the kernel holds none of `written` any more, and an own
 * buffer lent to it may serve the next socket, room permitting (a slow client's download lends one
 * at nearly every read).
 */
export function writeDone(written: Buffer | Buffer[]): void {
  if (!Array.isArray(written)) return backFromWrite(written);
  for (const b of written) backFromWrite(b);
}

function backFromWrite(b: Buffer): void {
  if (!lentToWrite.delete(b.buffer) || ownHeld + spareOwn.length >= OWN_BUFFERS) return;
  spareOwn.push(Buffer.from(b.buffer, 0, OWN_SIZE));
}
