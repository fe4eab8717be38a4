/**
 * Reads into buffers of our choosing (net.Socket's `onread` option) instead of the 64 KiB Buffer
 * Node allocates per read. Two uses:
 * - a large frame arriving: the decoder (`FrameDecoder.readBuffer`) hands out the unfilled tail
 *   of the frame's own buffer, so the kernel writes the bytes where they belong: no copy when the
 *   frame completes, and no 64 KiB read Buffer per read for the GC to free;
 * - anything else: regions of a 64 KiB slab shared by all connections, sized per connection
 *   (see below; frames decoded from a read keep viewing it, as they view Node's read Buffers).
 *
 * Only for sockets the engine reads directly: TLS and SOCKS read through 'data' events, which
 * `onread` turns off. TcpConnector creates the socket with it when asked (`zeroCopyReads`).
 */

/** Size of one shared read slab, bytes (Node's own read size). */
export const READ_SLAB_BYTES = 64 * 1024;
/** Smallest and largest region one read is given, bytes; a connection starts at the smallest. */
export const MIN_READ_BYTES = 1024;
export const MAX_READ_BYTES = READ_SLAB_BYTES;

// The read slab shared by every connection. A region handed to a socket is held by it until its
// next read (an idle connection holds its region), so regions are sized per connection by what
// its reads bring: doubled when a read fills one, halved when a read uses under a quarter. An
// idle connection whose last read was small therefore holds 1 KiB, not the 64 KiB Node would
// allocate for a read (and Node holds nothing while idle: that is the price of `onread`).
let slab: Buffer = Buffer.allocUnsafeSlow(READ_SLAB_BYTES);
let used = 0;

/** Where a socket created with `onread` reads, and who gets the bytes. */
export class ReadBuffers {
  /** The region handed to the socket last, and the slab it came from (null: the decoder's). */
  #region: Buffer | null = null;
  #regionSlab: Buffer | null = null;
  #regionStart = 0;
  #size = MIN_READ_BYTES;
  #early: Buffer[] = [];
  #onData: ((chunk: Buffer) => void) | undefined;
  /** The reader's preferred target for the next read, if any (the decoder's frame tail). */
  provider: (() => Buffer | undefined) | undefined;

  /** The `onread.buffer` function: the next read's target. */
  readonly next = (): Buffer => {
    const preferred = this.provider?.();
    if (preferred !== undefined && preferred.length > 0) {
      this.#region = preferred;
      this.#regionSlab = null;
      return preferred;
    }
    const size = this.#size;
    if (READ_SLAB_BYTES - used < size) {
      slab = Buffer.allocUnsafeSlow(READ_SLAB_BYTES);
      used = 0;
    }
    this.#regionSlab = slab;
    this.#regionStart = used;
    used += size;
    const region = slab.subarray(this.#regionStart, used);
    this.#region = region;
    return region;
  };

  /** The `onread.callback` function: `n` bytes arrived at the start of `buf`. */
  readonly deliver = (n: number, buf: Uint8Array): void => {
    const region = buf as Buffer;
    if (region === this.#region && this.#regionSlab !== null) {
      const size = region.length;
      // The region is still the slab's last: give back what the read did not use.
      if (this.#regionSlab === slab && used === this.#regionStart + size) used = this.#regionStart + n;
      if (n === size) this.#size = Math.min(MAX_READ_BYTES, size * 2);
      else if (n < size >> 2) this.#size = Math.max(MIN_READ_BYTES, size >> 1);
    }
    const chunk = region.subarray(0, n);
    if (this.#onData !== undefined) this.#onData(chunk);
    else this.#early.push(chunk);
  };

  /** Where the bytes go from now on; bytes that arrived before are handed over first. */
  attach(onData: (chunk: Buffer) => void): void {
    this.#onData = onData;
    const early = this.#early;
    this.#early = [];
    for (const chunk of early) onData(chunk);
  }
}

/** The property under which a socket created with `onread` carries its ReadBuffers. */
export const READ_BUFFERS: unique symbol = Symbol("mqwire.readBuffers");

/** The ReadBuffers of a stream created with `onread`, if any. */
export function readBuffersOf(stream: object): ReadBuffers | undefined {
  return (stream as { [READ_BUFFERS]?: ReadBuffers })[READ_BUFFERS];
}
