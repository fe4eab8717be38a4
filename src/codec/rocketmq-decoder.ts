/**
 * The incremental RocketMQ frame decoder (see ./rocketmq-codec.ts for the framing) and the frame
 * parser both decoders of the codec share.
 */
import { FrameTooLargeError, MalformedFrameError } from "../errors.js";
import type { FrameDecoder } from "./codec.js";
import { JsonHeaderScanner } from "./json-header-parser.js";
import { JsonHeaderTemplates } from "./json-header-template.js";
import { type RemotingCommand, SerializeType } from "./remoting-command.js";
import { decodeJsonHeader, decodeRocketmqHeader } from "./rocketmq-header.js";

/** Frames from this size on may be read in place (FrameDecoder.readBuffer). */
const IN_PLACE_MIN_FRAME_BYTES = 64 * 1024;
/** ... once 1/IN_PLACE_AFTER_FRACTION of the frame has arrived. */
const IN_PLACE_AFTER_FRACTION = 8;
/** The 24 bits of the header-length word. */
const MAX_HEADER_BYTES = 0xff_ffff;

// Big-endian access without Buffer's readUInt32BE argument checks, which showed in
// the codec benchmark's profile though every offset here is already within bounds.

function getUint32(buf: Buffer, o: number): number {
  // biome-ignore lint/style/noNonNullAssertion: in bounds, the callers checked o + 4 <= buf.length
  return ((buf[o]! << 24) | (buf[o + 1]! << 16) | (buf[o + 2]! << 8) | buf[o + 3]!) >>> 0;
}

/** Checks a length field; returns the whole frame size (length + 4). Runs before any allocation. */
export function frameBytesOf(length: number, maxFrameBytes: number): number {
  if (length < 4) throw new MalformedFrameError("length-too-small", `frame length ${length} is below 4`);
  const frameBytes = length + 4;
  if (frameBytes > maxFrameBytes) throw new FrameTooLargeError(frameBytes, maxFrameBytes);
  return frameBytes;
}

/**
 * Parses the frame whose header-length word starts at `start` and whose length field said
 * `length`. The body is a view into `buf`, or null when empty (as Java). A header over
 * `maxHeaderBytes` is refused before it is read; `maxExtFields` bounds its extFields. A JSON
 * header goes through `scanner` (the decoder's own).
 */
export function parseFrame(
  buf: Buffer,
  start: number,
  length: number,
  maxHeaderBytes: number,
  maxExtFields: number,
  scanner: JsonHeaderScanner,
): RemotingCommand {
  const word = getUint32(buf, start);
  const type = word >>> 24;
  const headerLen = word & MAX_HEADER_BYTES;
  if (type !== SerializeType.JSON && type !== SerializeType.ROCKETMQ) {
    throw new MalformedFrameError("serialize-type", `unknown serialize type ${type}`);
  }
  if (headerLen > length - 4) {
    throw new MalformedFrameError(
      "header-length",
      `header length ${headerLen} exceeds frame length ${length}`,
    );
  }
  if (headerLen > maxHeaderBytes) {
    throw new MalformedFrameError(
      "header-too-large",
      `header of ${headerLen} bytes exceeds the maximum of ${maxHeaderBytes}`,
    );
  }
  const headerStart = start + 4;
  const headerEnd = headerStart + headerLen;
  const cmd =
    type === SerializeType.ROCKETMQ
      ? decodeRocketmqHeader(buf, headerStart, headerEnd, maxExtFields)
      : decodeJsonHeader(buf, headerStart, headerEnd, maxExtFields, scanner);
  const end = start + length;
  if (end > headerEnd) cmd.body = buf.subarray(headerEnd, end);
  return cmd;
}

/**
 * The incremental RocketMQ frame decoder; see the module comment.
 *
 * A frame spanning chunks is copied on completion, not chunk by chunk as it arrives. Filling a
 * buffer allocated once 1/8 of the frame had arrived was measured (async echo, 1 MiB bodies) and
 * dropped: it decodes faster alone, but loses with client and server on one core each, the
 * benchmark's setting, because the server's write of the echoed body then reads a buffer whose
 * start has left the cache. Copied on completion, the frame is the last thing written, still in
 * cache for whoever reads it next; and nothing is allocated for a frame until all of it has
 * arrived, whatever its length field declares. The exception is `readBuffer`: a
 * reader that can choose where bytes land (a client socket with `onread`) gets the frame's tail
 * to read into once an eighth of the frame has arrived, and then only that eighth is copied.
 */
export class RocketmqFrameDecoder implements FrameDecoder<RemotingCommand> {
  readonly #maxFrameBytes: number;
  readonly #maxHeaderBytes: number;
  readonly #maxExtFields: number;
  readonly #scanner: JsonHeaderScanner;
  /** Pieces of the one frame not yet complete, in order. */
  #chunks: Buffer[] = [];
  #buffered = 0;
  /** Size of the pending frame once its length field is known, else 0. */
  #frameBytes = 0;
  /** The pending frame's buffer once `readBuffer` handed out its tail (it is filled in place). */
  #target: Buffer | null = null;
  #error: unknown = null;

  /**
   * The limits must have been validated (RocketmqCodec.createDecoder does). `templates`: the JSON
   * header shapes this decoder compares headers with and learns (a codec's decoders share one).
   */
  constructor(
    maxFrameBytes: number,
    maxHeaderBytes: number,
    maxExtFields: number,
    templates: JsonHeaderTemplates = new JsonHeaderTemplates(),
  ) {
    this.#scanner = new JsonHeaderScanner(templates);
    this.#maxFrameBytes = maxFrameBytes;
    this.#maxHeaderBytes = maxHeaderBytes;
    this.#maxExtFields = maxExtFields;
  }

  get bufferedBytes(): number {
    return this.#buffered;
  }

  push(chunk: Buffer): RemotingCommand[] {
    if (this.#error !== null) throw this.#error;
    const scanner = this.#scanner;
    scanner.hold(); // one view of the chunk's memory for all its JSON headers
    try {
      return this.#push(chunk);
    } catch (err) {
      // A framing error leaves the stream position unknown: stay failed, as Netty closes the channel.
      this.#error = err;
      this.#chunks = [];
      this.#buffered = 0;
      this.#target = null;
      throw err;
    } finally {
      scanner.release();
    }
  }

  /**
   * Where the next bytes would best be read: the unfilled tail of a pending frame of at least
   * IN_PLACE_MIN_FRAME_BYTES of which an eighth has arrived (allocated now, the bytes so far
   * copied in), else undefined. A chunk read into it is taken without a copy (see
   * ../transport/read-buffers.ts): for large frames this spares the copy of each one and the read
   * Buffers the GC would free.
   */
  readBuffer(): Buffer | undefined {
    const frameBytes = this.#frameBytes;
    if (this.#error !== null || frameBytes < IN_PLACE_MIN_FRAME_BYTES || this.#buffered >= frameBytes) {
      return undefined;
    }
    // Allocated only once an eighth of the frame is here: a peer that declares 16 MiB and sends
    // a few bytes makes us hold what it sent, not what it declared (at most 8x, within
    // maxFrameBytes); the first eighth is then copied once.
    if (this.#target === null && this.#buffered < frameBytes / IN_PLACE_AFTER_FRACTION) return undefined;
    let target = this.#target;
    if (target === null) {
      target = Buffer.allocUnsafe(frameBytes);
      let pos = 0;
      for (const piece of this.#chunks) {
        target.set(piece, pos);
        pos += piece.length;
      }
      this.#chunks = [];
      this.#target = target;
    }
    return target.subarray(this.#buffered);
  }

  #push(chunk: Buffer): RemotingCommand[] {
    const frames: RemotingCommand[] = [];
    let offset = 0;
    if (this.#buffered > 0) {
      offset = this.#completePending(chunk, frames);
      if (offset < 0) return frames;
    }
    const size = chunk.length;
    while (size - offset >= 4) {
      const frameBytes = frameBytesOf(getUint32(chunk, offset), this.#maxFrameBytes);
      if (size - offset < frameBytes) {
        this.#frameBytes = frameBytes;
        break;
      }
      frames.push(
        parseFrame(
          chunk,
          offset + 4,
          frameBytes - 4,
          this.#maxHeaderBytes,
          this.#maxExtFields,
          this.#scanner,
        ),
      );
      offset += frameBytes;
    }
    if (offset < size) {
      this.#chunks.push(offset === 0 ? chunk : chunk.subarray(offset));
      this.#buffered = size - offset;
    }
    return frames;
  }

  /**
   * Adds `chunk` to the pending frame. Returns how many bytes of `chunk` completed it (the frame
   * is then parsed into `frames`), or -1 when the whole chunk was taken and the frame still waits.
   */
  #completePending(chunk: Buffer, frames: RemotingCommand[]): number {
    if (this.#target !== null) return this.#fillTarget(this.#target, chunk, frames);
    if (this.#frameBytes === 0) {
      if (this.#buffered + chunk.length < 4) {
        this.#append(chunk);
        return -1;
      }
      this.#frameBytes = frameBytesOf(this.#readLength(chunk), this.#maxFrameBytes);
    }
    const missing = this.#frameBytes - this.#buffered;
    if (chunk.length < missing) {
      this.#append(chunk);
      return -1;
    }
    const frame = Buffer.allocUnsafe(this.#frameBytes);
    // Uint8Array#set rather than Buffer#copy: the same memcpy without copy's argument
    // normalisation.
    let pos = 0;
    for (const piece of this.#chunks) {
      frame.set(piece, pos);
      pos += piece.length;
    }
    if (missing === chunk.length) frame.set(chunk, pos);
    else chunk.copy(frame, pos, 0, missing);
    this.#chunks = [];
    this.#buffered = 0;
    this.#frameBytes = 0;
    frames.push(
      parseFrame(frame, 4, frame.length - 4, this.#maxHeaderBytes, this.#maxExtFields, this.#scanner),
    );
    return missing;
  }

  /** `#completePending` for a frame filled in place: a chunk read into the target is not copied. */
  #fillTarget(target: Buffer, chunk: Buffer, frames: RemotingCommand[]): number {
    const at = this.#buffered;
    const take = Math.min(this.#frameBytes - at, chunk.length);
    const inPlace = chunk.buffer === target.buffer && chunk.byteOffset === target.byteOffset + at;
    if (!inPlace) target.set(take === chunk.length ? chunk : chunk.subarray(0, take), at);
    this.#buffered = at + take;
    if (this.#buffered < this.#frameBytes) return -1;
    this.#target = null;
    this.#buffered = 0;
    this.#frameBytes = 0;
    frames.push(
      parseFrame(target, 4, target.length - 4, this.#maxHeaderBytes, this.#maxExtFields, this.#scanner),
    );
    return take;
  }

  #append(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
  }

  /** The length field when its 4 bytes straddle the buffered pieces and `chunk`. */
  #readLength(chunk: Buffer): number {
    let value = 0;
    let n = 0;
    for (const piece of [...this.#chunks, chunk]) {
      for (const byte of piece) {
        if (n === 4) return value;
        value = value * 256 + byte;
        n++;
      }
    }
    return value; // the caller checked that 4 bytes are there
  }
}
