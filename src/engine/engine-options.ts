/**
 * The protocol engine's options, validated once into a frozen value (STYLE.md rule 2) with the
 * defaults and the integer check of ../options.ts. Kept beside the engine so that
 * protocol-engine.ts holds only the per-connection work.
 */
import { systemClock } from "../clock.js";
import type { Codec } from "../codec/codec.js";
import { InvalidArgumentError } from "../errors.js";
import { defaultLogger, type Logger } from "../logger.js";
import {
  DEFAULT_CLOSE_GRACE_MS,
  DEFAULT_HANDSHAKE_TIMEOUT_MS,
  DEFAULT_MAX_FRAME_BYTES,
  intOption,
} from "../options.js";
import type { IdleOptions } from "../transport/transport.js";
import { DEFAULT_MAX_SNIFF_BYTES } from "./negotiator.js";

/** Options of one protocol engine. */
export interface ProtocolEngineOptions<F> {
  /** Candidate codecs in sniff order (catch-all last); at least one. */
  codecs: readonly Codec<F>[];
  /**
   * Choose the codec from the peer's first bytes (server side). Default true. A client, which
   * speaks first and knows what it speaks, passes `false` with exactly one codec.
   */
  negotiate?: boolean;
  /** Largest frame the decoder accepts, in bytes. Default 16 MiB. */
  maxFrameBytes?: number;
  /** Largest frame header the decoder accepts, in bytes; unset leaves the codec's default. */
  maxHeaderBytes?: number;
  /** Most extFields a header may carry; unset leaves the codec's default. */
  maxExtFields?: number;
  /** Deadline for negotiation from `start()`, in ms; 0 disables it. Default 10000. */
  handshakeTimeoutMs?: number;
  /**
   * Deadline for one frame from its first byte to its last, in ms; 0 (the default) disables it.
   * A peer that drips a frame byte by byte resets the idle timers with every byte; this closes it.
   * Time with reads paused by back-pressure does not count.
   */
  frameTimeoutMs?: number;
  /** Most bytes sniffed before a "no" decision. Default 64. */
  maxSniffBytes?: number;
  /** Idle thresholds passed to `transport.setIdle` at start; unset leaves the transport's own. */
  idle?: IdleOptions;
  /** Default grace of `close()`, in ms. Default 3000. */
  closeGraceMs?: number;
  /** Where close reasons go. Default: NODE_DEBUG=mqwire. */
  logger?: Logger;
  /**
   * Epoch-ms reader of the frame deadline (`frameTimeoutMs`); a server passes the once-per-run
   * reader of its clock. Default the system clock.
   */
  now?: () => number;
}

export interface ResolvedEngineOptions<F> {
  readonly codecs: readonly Codec<F>[];
  readonly negotiate: boolean;
  readonly maxFrameBytes: number;
  readonly maxHeaderBytes: number | undefined;
  readonly maxExtFields: number | undefined;
  readonly handshakeTimeoutMs: number;
  readonly frameTimeoutMs: number;
  readonly maxSniffBytes: number;
  readonly idle: IdleOptions | undefined;
  readonly closeGraceMs: number;
  readonly logger: Logger;
  readonly now: () => number;
}

/** Looked up per call, as systemClock does: a mocked Date reaches it. */
const systemNow = (): number => systemClock.now();

function optionalInt(name: string, value: number | undefined, min: number): number | undefined {
  return value === undefined ? undefined : intOption(name, value, min, min);
}

/** Validates engine options once (STYLE.md rule 2) and returns a frozen copy. */
export function resolveEngineOptions<F>(options: ProtocolEngineOptions<F>): ResolvedEngineOptions<F> {
  const codecs = options?.codecs;
  if (!Array.isArray(codecs) || codecs.length === 0) {
    throw new InvalidArgumentError("codecs must be a non-empty array of Codec");
  }
  const negotiate = options.negotiate ?? true;
  if (!negotiate && codecs.length !== 1) {
    throw new InvalidArgumentError("negotiate: false needs exactly one codec");
  }
  return Object.freeze({
    codecs: Object.freeze(codecs.slice()),
    negotiate,
    maxFrameBytes: intOption("maxFrameBytes", options.maxFrameBytes, DEFAULT_MAX_FRAME_BYTES, 1),
    // The codec checks its own ranges when it makes the decoder.
    maxHeaderBytes: optionalInt("maxHeaderBytes", options.maxHeaderBytes, 1),
    maxExtFields: optionalInt("maxExtFields", options.maxExtFields, 0),
    handshakeTimeoutMs: intOption(
      "handshakeTimeoutMs",
      options.handshakeTimeoutMs,
      DEFAULT_HANDSHAKE_TIMEOUT_MS,
    ),
    frameTimeoutMs: intOption("frameTimeoutMs", options.frameTimeoutMs, 0),
    maxSniffBytes: intOption("maxSniffBytes", options.maxSniffBytes, DEFAULT_MAX_SNIFF_BYTES, 1),
    idle: options.idle === undefined ? undefined : Object.freeze({ ...options.idle }),
    closeGraceMs: intOption("closeGraceMs", options.closeGraceMs, DEFAULT_CLOSE_GRACE_MS),
    logger: options.logger ?? defaultLogger,
    now: options.now ?? systemNow,
  });
}
