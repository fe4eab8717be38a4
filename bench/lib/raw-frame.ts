/**
 * The raw baseline's wire format, the least a framed request/response protocol can carry:
 *
 * ```
 * u32 BE length (of what follows) | u8 kind | body (the --size bytes)
 * ```
 *
 * No correlation id: a connection's responses come back in request order, so the client matches
 * them FIFO. RocketMQ's frame (remoting-command.ts) adds a header and an opaque on top of this;
 * the difference between the two is what the raw-vs-mqwire ratios measure.
 */

/** Bytes before the body: the length prefix and the kind byte. */
export const RAW_HEADER_BYTES = 5;
/** A request: the server answers it with a response of the same body. */
export const KIND_REQUEST = 0;
/** A oneway frame: the server counts it and answers nothing. */
export const KIND_ONEWAY = 1;
/** A response to a request. */
export const KIND_RESPONSE = 2;

/** Bodies at least this large are written by reference (writev), never copied into a batch. */
export const LARGE_BODY_BYTES = 16 * 1024;

/** Writes one frame header (length prefix and kind) for a body of `bodyBytes` at `offset`. */
export function writeRawHeader(target: Buffer, offset: number, kind: number, bodyBytes: number): void {
  target.writeUInt32BE(bodyBytes + 1, offset);
  target[offset + 4] = kind;
}

/**
 * `count` copies of one frame of `kind` back to back, body filled with a pattern. A client
 * sends k frames as `batch.subarray(0, k * frameBytes)`: no encoding or allocation per request,
 * which is what makes the raw client the ceiling rather than a competitor.
 */
export function buildFrameBatch(kind: number, bodyBytes: number, count: number): Buffer {
  const frameBytes = RAW_HEADER_BYTES + bodyBytes;
  const batch = Buffer.allocUnsafe(frameBytes * count);
  for (let i = 0; i < count; i++) {
    const at = i * frameBytes;
    writeRawHeader(batch, at, kind, bodyBytes);
    for (let j = 0; j < bodyBytes; j++) batch[at + RAW_HEADER_BYTES + j] = j & 0xff;
  }
  return batch;
}

/**
 * Counts the frames that end in each chunk of a byte stream, without copying or looking at the
 * bodies: all a pipelining client needs to know is how many responses arrived. A length prefix
 * split across reads is collected byte by byte; a body split across reads is skipped.
 */
export class FrameCounter {
  /** Bytes still to skip of the frame in progress, after its length prefix. */
  private skip = 0;
  /** The first bytes of a length prefix split across reads. */
  private readonly prefix = Buffer.alloc(4);
  private prefixFill = 0;

  /** The number of frames completed by `chunk`. */
  push(chunk: Buffer): number {
    const length = chunk.length;
    let offset = 0;
    let frames = 0;
    while (offset < length) {
      if (this.skip > 0) {
        const take = Math.min(this.skip, length - offset);
        this.skip -= take;
        offset += take;
        if (this.skip === 0) frames++;
      } else if (this.prefixFill === 0 && length - offset >= 4) {
        // The common case: a whole length prefix in this chunk; skip the frame in one step.
        const rest = chunk.readUInt32BE(offset);
        offset += 4;
        if (length - offset >= rest) {
          offset += rest;
          frames++;
        } else {
          this.skip = rest - (length - offset);
          offset = length;
        }
      } else {
        this.prefix[this.prefixFill++] = chunk[offset++]!;
        if (this.prefixFill === 4) {
          this.prefixFill = 0;
          this.skip = this.prefix.readUInt32BE(0);
        }
      }
    }
    return frames;
  }
}
