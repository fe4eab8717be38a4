/**
 * The Codec contract: how the protocol engine turns bytes into frames and frames into bytes.
 * Decoders are pure (no I/O, no timers), so they are tested byte by byte at every chunk
 * boundary (ws `lib/receiver.js`, grpc-js `src/stream-decoder.ts`).
 */

/**
 * Default of {@link DecoderLimits.maxHeaderBytes}: 256 KiB. Java has no header limit below the
 * frame's; a broker refuses message properties over 32767 characters, which JSON escaping can
 * grow at most sixfold (192 KiB), and every other RocketMQ header is a few dozen short fields. A
 * JSON header the fast scanner leaves goes through `JSON.parse`: the limit bounds how long one
 * hostile frame can stall the event loop.
 */
export const DEFAULT_MAX_HEADER_BYTES = 256 * 1024;
/**
 * Default of {@link DecoderLimits.maxExtFields}: 1024. RocketMQ's headers carry up to a few dozen
 * fields (custom header fields, plus what hooks add); without a limit one 16 MiB frame of tiny keys
 * stalls the event loop for seconds (RELIABILITY.md).
 */
export const DEFAULT_MAX_EXT_FIELDS = 1024;

/** A codec's answer to the first bytes of a connection. */
export type SniffResult = "yes" | "no" | "need-more";

/** Limits a decoder enforces before allocating anything. */
export interface DecoderLimits {
  /**
   * Largest frame accepted, counted as RocketMQ counts it: the length field's value plus the 4
   * bytes of the field itself (Netty's LengthFieldBasedFrameDecoder). Default 16 MiB.
   */
  maxFrameBytes?: number;
  /**
   * Largest frame header accepted, in bytes (JSON text or ROCKETMQ binary; the body is not
   * counted). From 21 (a ROCKETMQ header's fixed part) to 16777215 (the 24-bit field). Default
   * 256 KiB ({@link DEFAULT_MAX_HEADER_BYTES}).
   */
  maxHeaderBytes?: number;
  /**
   * Most extFields a header may carry: entries on the wire for ROCKETMQ (empty ones too), keys of
   * the object for JSON (null values too). Default 1024 ({@link DEFAULT_MAX_EXT_FIELDS}).
   */
  maxExtFields?: number;
}

/** An incremental decoder: feed it chunks in order, get whole frames back. */
export interface FrameDecoder<F> {
  /**
   * Appends `chunk` and returns every frame now complete, in order. Correct for any split of the
   * byte stream. Throws a typed error (`MQW_ERR_FRAME_TOO_LARGE`, `MQW_ERR_MALFORMED_FRAME`) on
   * bad input; the stream is then unusable and the connection should close.
   */
  push(chunk: Buffer): F[];
  /** Bytes held for a frame not yet complete. */
  readonly bufferedBytes: number;
  /**
   * Optional: a buffer the next bytes of the stream should be read into, when the decoder can
   * take them there without a copy (the tail of a large pending frame); `push` must then be
   * given exactly the bytes read into it. Undefined: any buffer will do.
   */
  readBuffer?(): Buffer | undefined;
}

/**
 * Where {@link Codec.encodeInto} writes: output memory claimed by exact size, plus chunks queued
 * in order after it. The network driver implements it (SocketTransport), so a frame's prefix and
 * header are written straight into the connection's outgoing batch: no Buffer per frame.
 */
export interface FrameSink {
  /**
   * Reserves `bytes` bytes of output, in order after everything queued before, and returns their
   * offset in {@link claimBuffer}, which the caller fills at once (before any other call on the
   * sink: the next claim may hand out another buffer).
   */
  claim(bytes: number): number;
  /** The buffer the last {@link claim} points into. */
  readonly claimBuffer: Buffer;
  /** Queues one chunk after the claimed bytes (a small one may be copied, a large one is not). */
  append(chunk: Buffer): void;
}

/** A wire format. */
export interface Codec<F> {
  /** Short name for logs and negotiation ("rocketmq"). */
  readonly name: string;
  /** Looks at the first bytes of a connection: is this my protocol? */
  sniff(head: Buffer): SniffResult;
  /** A new decoder for one connection, enforcing `limits`. */
  createDecoder(limits?: DecoderLimits): FrameDecoder<F>;
  /** Encodes a frame as chunks to write in order; a body is its own chunk, never copied. */
  encode(frame: F): Buffer[];
  /**
   * Optional: encodes `frame` into `sink` (the same bytes as {@link encode}). Throws as `encode`
   * does, before anything is claimed, so a refused frame leaves the sink untouched.
   */
  encodeInto?(frame: F, sink: FrameSink): void;
}
