/**
 * RocketMQ framing (reference §1; Java `NettyEncoder` / `NettyDecoder` over Netty's
 * `LengthFieldBasedFrameDecoder(16777216, 0, 4, 0, 4)`):
 *
 *   int32 length = 4 + headerLen + bodyLen | int32 (serializeType << 24 | headerLen) | header | body
 *
 * The decoder is pure and incremental. Whole frames inside a chunk are parsed in place; a frame
 * that spans chunks is kept as a list of chunk references and copied once, when complete.
 *
 * Memory: a decoded body is a view into the bytes received (zero-copy), so it keeps the whole
 * received chunk (often 64 KiB from a socket read) alive for as long as the command is referenced.
 * Copy the body (`Buffer.from(cmd.body)`) before storing it for long.
 */
import { InvalidArgumentError, MalformedFrameError } from "../errors.js";
import {
  type Codec,
  DEFAULT_MAX_EXT_FIELDS,
  DEFAULT_MAX_HEADER_BYTES,
  type DecoderLimits,
  type FrameDecoder,
  type FrameSink,
  type SniffResult,
} from "./codec.js";
import { checkJsonInts, JsonHeaderPass } from "./json-header.js";
import { JsonHeaderScanner } from "./json-header-parser.js";
import { JsonHeaderTemplates } from "./json-header-template.js";
import { type RemotingCommand, SerializeType } from "./remoting-command.js";
import { frameBytesOf, parseFrame, RocketmqFrameDecoder } from "./rocketmq-decoder.js";
import { encodeJsonHeader, encodeRocketmqHeader, RocketmqHeaderPass } from "./rocketmq-header.js";

/** Default maximum frame size, 16 MiB, as `com.rocketmq.remoting.frameMaxLength` (counts the length field). */
export const DEFAULT_MAX_FRAME_BYTES = 16_777_216;
/** Smallest accepted maxFrameBytes: a length field and a header-length word. */
const MIN_MAX_FRAME_BYTES = 8;
/** Largest accepted maxFrameBytes: Netty's int maximum. */
const MAX_MAX_FRAME_BYTES = 0x7fff_ffff;
/** Bodies up to this size may go with an in-place JSON header (the frame then fits int32 for sure). */
const MAX_BODY_IN_PLACE_BYTES = 0x7fff_ffff - 4 - 0xff_ffff;
/** The 24 bits of the header-length word. */
const MAX_HEADER_BYTES = 0xff_ffff;
/** Bytes before the header: the length field and the header-length word. */
const PREFIX_BYTES = 8;

/** Smallest accepted maxHeaderBytes: a ROCKETMQ header's fixed part. */
const MIN_MAX_HEADER_BYTES = 21;

/** Options of a RocketmqCodec: defaults of the decoders it creates (see DecoderLimits). */
export interface RocketmqCodecOptions extends DecoderLimits {
  /** Largest frame accepted by its decoders and `sniff`, length field included, in bytes. Default 16 MiB. */
  maxFrameBytes?: number;
}

/** A codec's or decoder's limits, validated (InvalidArgumentError names the bad one). */
interface ResolvedLimits {
  readonly maxFrameBytes: number;
  readonly maxHeaderBytes: number;
  readonly maxExtFields: number;
}

function resolveLimits(limits: DecoderLimits, fallback: ResolvedLimits): ResolvedLimits {
  const { maxHeaderBytes, maxExtFields } = limits;
  if (
    maxHeaderBytes !== undefined &&
    (!Number.isInteger(maxHeaderBytes) ||
      maxHeaderBytes < MIN_MAX_HEADER_BYTES ||
      maxHeaderBytes > MAX_HEADER_BYTES)
  ) {
    throw new InvalidArgumentError(
      `maxHeaderBytes must be an integer from ${MIN_MAX_HEADER_BYTES} to ${MAX_HEADER_BYTES}, got ${maxHeaderBytes}`,
    );
  }
  if (
    maxExtFields !== undefined &&
    (!Number.isInteger(maxExtFields) || maxExtFields < 0 || maxExtFields > 0x7fff_ffff)
  ) {
    throw new InvalidArgumentError(
      `maxExtFields must be an integer from 0 to ${0x7fff_ffff}, got ${maxExtFields}`,
    );
  }
  return {
    maxFrameBytes: resolveMaxFrameBytes(limits.maxFrameBytes, fallback.maxFrameBytes),
    maxHeaderBytes: maxHeaderBytes ?? fallback.maxHeaderBytes,
    maxExtFields: maxExtFields ?? fallback.maxExtFields,
  };
}

const DEFAULT_LIMITS: ResolvedLimits = Object.freeze({
  maxFrameBytes: DEFAULT_MAX_FRAME_BYTES,
  maxHeaderBytes: DEFAULT_MAX_HEADER_BYTES,
  maxExtFields: DEFAULT_MAX_EXT_FIELDS,
});

function resolveMaxFrameBytes(value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < MIN_MAX_FRAME_BYTES || value > MAX_MAX_FRAME_BYTES) {
    throw new InvalidArgumentError(
      `maxFrameBytes must be an integer from ${MIN_MAX_FRAME_BYTES} to ${MAX_MAX_FRAME_BYTES}, got ${value}`,
    );
  }
  return value;
}

// Big-endian store without Buffer's writeUInt32BE argument checks, which showed in the codec
// benchmark's profile though every offset here is already within bounds.

function putUint32(buf: Buffer, o: number, value: number): void {
  buf[o] = value >>> 24;
  buf[o + 1] = value >>> 16;
  buf[o + 2] = value >>> 8;
  buf[o + 3] = value;
}

/** Throws InvalidArgumentError for a header over the 24-bit limit or a frame over the int32 field. */
function checkFrameSizes(headerLen: number, length: number): void {
  if (headerLen > MAX_HEADER_BYTES) {
    throw new InvalidArgumentError(
      `header of ${headerLen} bytes exceeds the 24-bit limit of ${MAX_HEADER_BYTES}`,
    );
  }
  if (length > 0x7fff_ffff)
    throw new InvalidArgumentError(`frame of ${length} bytes exceeds the int32 length field`);
}

/**
 * The header encoders' state between their two passes, kept by a codec so that no frame
 * allocates it. An encode takes the codec's pass unless it is busy, which happens only when an
 * encode starts while another is between its passes (from a sink's `claim`): that one gets a
 * fresh pass, so nothing depends on what runs inside a claim.
 */
class HeaderPasses {
  readonly #rocketmq = new RocketmqHeaderPass();
  readonly #jsonTemplates = new JsonHeaderTemplates();
  readonly #json = new JsonHeaderPass(this.#jsonTemplates);

  rocketmq(): RocketmqHeaderPass {
    const pass = this.#rocketmq;
    return pass.busy ? new RocketmqHeaderPass() : pass;
  }

  json(): JsonHeaderPass {
    const pass = this.#json;
    return pass.busy ? new JsonHeaderPass(this.#jsonTemplates) : pass;
  }
}

/** Claims `bytes` of `sink` for the header `pass` measured; drops what `pass` kept if claim throws. */
function claimFor(sink: FrameSink, bytes: number, pass: RocketmqHeaderPass | JsonHeaderPass): number {
  try {
    return sink.claim(bytes);
  } catch (err) {
    pass.discard();
    throw err;
  }
}

/**
 * Encodes `cmd` as chunks to write in order: one buffer with the length field, the header-length
 * word and the header, then the body as its own chunk (never copied; omitted when null or empty).
 * Throws InvalidArgumentError for an unknown serialize type, a field its header cannot hold, a
 * header over 16 MiB - 1 or a frame over 2 GiB.
 */
function encodeCommand(cmd: RemotingCommand, passes: HeaderPasses): [Buffer] | [Buffer, Buffer] {
  const type = cmd.serializeType;
  let head: Buffer;
  if (type === SerializeType.JSON) head = encodeJsonHeader(cmd, PREFIX_BYTES, passes.json());
  else if (type === SerializeType.ROCKETMQ) head = encodeRocketmqHeader(cmd, PREFIX_BYTES, passes.rocketmq());
  else throw new InvalidArgumentError(`serializeType must be 0 (JSON) or 1 (ROCKETMQ), got ${type}`);
  const headerLen = head.length - PREFIX_BYTES;
  const body = cmd.body;
  const bodyLen = body === null ? 0 : body.length;
  const length = 4 + headerLen + bodyLen;
  checkFrameSizes(headerLen, length);
  putUint32(head, 0, length);
  putUint32(head, 4, (type << 24) | headerLen);
  return body === null || bodyLen === 0 ? [head] : [head, body];
}

/** RocketMQ's wire format as a Codec: the default codec, since it has no magic bytes to sniff. */
export class RocketmqCodec implements Codec<RemotingCommand> {
  readonly name = "rocketmq";
  /** Default limit of the decoders this codec creates, and the limit `sniff` applies. */
  readonly maxFrameBytes: number;
  /** Default header limit of the decoders this codec creates, in bytes. */
  readonly maxHeaderBytes: number;
  /** Default extFields limit of the decoders this codec creates. */
  readonly maxExtFields: number;
  readonly #passes = new HeaderPasses();
  /** The JSON header shapes its decoders learn and share (one per codec, not per connection). */
  readonly #decodeTemplates = new JsonHeaderTemplates();

  constructor(options: RocketmqCodecOptions = {}) {
    const limits = resolveLimits(options, DEFAULT_LIMITS);
    this.maxFrameBytes = limits.maxFrameBytes;
    this.maxHeaderBytes = limits.maxHeaderBytes;
    this.maxExtFields = limits.maxExtFields;
    Object.freeze(this);
  }

  /**
   * "need-more" below 8 bytes; "yes" when the length is at least 4 and within maxFrameBytes, the
   * type byte is 0 or 1 and the header fits; else "no". An HTTP/2 preface ("PRI " = 1347569956)
   * or a TLS record (0x16 0x03 ...) reads as a length far over 16 MiB, so both are refused.
   */
  sniff(head: Buffer): SniffResult {
    if (head.length < PREFIX_BYTES) return "need-more";
    const length = head.readUInt32BE(0);
    const word = head.readUInt32BE(4);
    if (length < 4 || length + 4 > this.maxFrameBytes) return "no";
    if (word >>> 24 > 1) return "no";
    return (word & MAX_HEADER_BYTES) <= length - 4 ? "yes" : "no";
  }

  /** A fresh decoder; each limit given in `limits` overrides this codec's. */
  createDecoder(limits: DecoderLimits = {}): FrameDecoder<RemotingCommand> {
    const { maxFrameBytes, maxHeaderBytes, maxExtFields } = resolveLimits(limits, this);
    return new RocketmqFrameDecoder(maxFrameBytes, maxHeaderBytes, maxExtFields, this.#decodeTemplates);
  }

  /** See `encodeCommand`; the body is a separate chunk. */
  encode(cmd: RemotingCommand): Buffer[] {
    return encodeCommand(cmd, this.#passes);
  }

  /**
   * The same bytes as {@link encode}, written into `sink`: a ROCKETMQ header is measured, then
   * written with its prefix straight into claimed output, and the body appended (the driver copies
   * a small one next to the header, queues a large one by reference). This spares a Buffer, its
   * pool slice and a chunks array per frame, and the copy of the header into the batch (measured
   * in the commit that added it, f362946). A JSON header without escapes or non-ASCII is written
   * in place the same way; any other goes through `encode` and is appended.
   */
  encodeInto(cmd: RemotingCommand, sink: FrameSink): void {
    const body = cmd.body;
    const bodyLen = body === null ? 0 : body.length;
    if (cmd.serializeType === SerializeType.JSON && bodyLen <= MAX_BODY_IN_PLACE_BYTES) {
      checkJsonInts(cmd);
      const pass = this.#passes.json();
      const headerLen = pass.measure(cmd);
      if (headerLen >= 0) {
        const at = claimFor(sink, PREFIX_BYTES + headerLen, pass);
        const buf = sink.claimBuffer;
        putUint32(buf, at, 4 + headerLen + bodyLen);
        putUint32(buf, at + 4, headerLen); // type byte 0: JSON
        pass.write(buf, at + PREFIX_BYTES);
        if (body !== null && bodyLen > 0) sink.append(body);
        return;
      }
    }
    if (cmd.serializeType !== SerializeType.ROCKETMQ) {
      // Escapes, non-ASCII, an unknown type or a huge frame: the general encoder (which throws).
      const chunks = encodeCommand(cmd, this.#passes);
      for (const chunk of chunks) sink.append(chunk);
      return;
    }
    const pass = this.#passes.rocketmq();
    const headerLen = pass.measure(cmd);
    const length = 4 + headerLen + bodyLen;
    if (headerLen > MAX_HEADER_BYTES || length > 0x7fff_ffff) {
      pass.discard();
      checkFrameSizes(headerLen, length);
    }
    const at = claimFor(sink, PREFIX_BYTES + headerLen, pass);
    const buf = sink.claimBuffer;
    putUint32(buf, at, length);
    putUint32(buf, at + 4, (SerializeType.ROCKETMQ << 24) | headerLen);
    pass.write(buf, at + PREFIX_BYTES);
    if (body !== null && bodyLen > 0) sink.append(body);
  }
}

/** The codec with default options (16 MiB frames). */
export const rocketmqCodec: RocketmqCodec = new RocketmqCodec();

/** A RocketmqCodec with `options`, validated once (InvalidArgumentError names the bad option). */
export function createRocketmqCodec(options: RocketmqCodecOptions = {}): RocketmqCodec {
  return new RocketmqCodec(options);
}

/** `cmd` as one whole frame, length field included (a copy; for tools and tests, not hot paths). */
export function encodeFrame(cmd: RemotingCommand): Buffer {
  const [head, body] = encodeCommand(cmd, new HeaderPasses());
  return body === undefined ? head : Buffer.concat([head, body]);
}

/**
 * Decodes exactly one whole frame, length field included. The limits of the decoder apply
 * (`maxFrameBytes`, default 16 MiB; `maxHeaderBytes`, `maxExtFields`). Throws MalformedFrameError
 * "truncated" when `buf` is shorter than the frame and InvalidArgumentError when bytes follow it.
 */
export function decodeFrame(buf: Buffer, options: RocketmqCodecOptions = {}): RemotingCommand {
  const { maxFrameBytes, maxHeaderBytes, maxExtFields } = resolveLimits(options, DEFAULT_LIMITS);
  if (buf.length < 4) throw new MalformedFrameError("truncated", `${buf.length} bytes hold no length field`);
  const frameBytes = frameBytesOf(buf.readUInt32BE(0), maxFrameBytes);
  if (buf.length < frameBytes) {
    throw new MalformedFrameError("truncated", `frame of ${frameBytes} bytes truncated to ${buf.length}`);
  }
  if (buf.length > frameBytes) {
    throw new InvalidArgumentError(
      `${buf.length - frameBytes} bytes follow the frame of ${frameBytes} bytes`,
    );
  }
  return parseFrame(buf, 4, frameBytes - 4, maxHeaderBytes, maxExtFields, new JsonHeaderScanner());
}
