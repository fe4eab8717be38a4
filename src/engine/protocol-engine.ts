/**
 * The protocol engine: one per connection, between the network driver (a Transport) and the
 * channel (a FrameHandler). Bytes in become frames out, synchronously and in order; frames to
 * send become chunks for the transport. Qpid's split (qpid-java `ProtocolEngine`,
 * `MultiVersionProtocolEngine`): the driver owns the socket and never waits on the engine; the
 * engine never blocks the driver, it only decodes and routes, and pauses reading when the
 * handler says its queue is full (ws `lib/receiver.js` → `socket.pause()`).
 *
 * Policy stays above: idle events are forwarded, not acted on (the channel closes on all-idle, as
 * RocketMQ's `NettyConnectManageHandler.userEventTriggered` does after `IdleStateHandler` fires).
 *
 * Error convention: the owner's misuse throws (`send` before a codec is chosen or after close,
 * `start` twice, bad options). Whatever the peer, the codec or the handler does wrong is caught
 * here and ends the connection, with the error as the close reason (`handler.onClose(error)`,
 * the `close` event) and a log line; nothing is returned as a value.
 */
import { EventEmitter } from "node:events";
import type { Codec, FrameDecoder, FrameSink } from "../codec/codec.js";
import { ChannelClosedError, InvalidArgumentError, MalformedFrameError, SendError } from "../errors.js";
import type { IdleKind, Transport } from "../transport/transport.js";
import {
  type ProtocolEngineOptions,
  type ResolvedEngineOptions,
  resolveEngineOptions,
} from "./engine-options.js";
import type { FrameHandler } from "./frame-handler.js";
import { Negotiator } from "./negotiator.js";

export { type ProtocolEngineOptions, resolveEngineOptions } from "./engine-options.js";

/** Events of a protocol engine, for its owner (channel, server registry). */
export interface ProtocolEngineEvents<F> {
  /** The transport can take writes again after `send` returned false (server back-pressure). */
  drain: [];
  /** Negotiation chose a codec (server side); not emitted when the codec was given. */
  negotiated: [codec: Codec<F>];
  /** The connection is gone; fired right after `handler.onClose`, once. */
  close: [error: Error | undefined];
}

/**
 * Drives one connection: negotiates the codec (when asked), decodes bytes into frames for a
 * FrameHandler, encodes frames to the transport, forwards idle and drain, applies read
 * back-pressure, and closes exactly once.
 *
 * Sending before negotiation completes throws `SendError` (`MQW_ERR_SEND`): in RocketMQ the server
 * never speaks first, and a client passes its single codec with `negotiate: false`, so a send
 * without a codec is a bug, not something to queue. Sending after `close`/`destroy` throws
 * `ChannelClosedError` (`MQW_ERR_CHANNEL_CLOSED`).
 *
 * `handler.onClose` runs once: synchronously inside `destroy()` and on decode, handler or
 * negotiation errors; after the transport's `close` event for a graceful `close()` or a peer close.
 * After `close()` or `destroy()` inbound bytes are no longer decoded.
 */
export class ProtocolEngine<F> extends EventEmitter<ProtocolEngineEvents<F>> {
  readonly #transport: Transport;
  readonly #options: ResolvedEngineOptions<F>;
  #handler: FrameHandler<F> | undefined;
  #codec: Codec<F> | undefined;
  /** The transport as a FrameSink when both it and the codec support encoding in place. */
  #sink: FrameSink | undefined;
  #decoder: FrameDecoder<F> | undefined;
  #negotiator: Negotiator<F> | undefined;
  #handshakeTimer: NodeJS.Timeout | undefined;
  /** When the frame now partly received began (a once-per-run clock), 0 when none is. */
  #frameStartedAt = 0;
  #frameTimer: NodeJS.Timeout | undefined;
  #paused = false;
  /** No more sends or decoding: close() or destroy() was called, or the transport closed. */
  #closing = false;
  /** destroy() was called (the transport is gone or going). */
  #destroyed = false;
  /** onClose delivered. */
  #finished = false;
  #closeError: Error | undefined;

  constructor(transport: Transport, options: ProtocolEngineOptions<F>) {
    super();
    this.#transport = transport;
    this.#options = resolveEngineOptions(options);
    // Not negotiating: resolveEngineOptions made sure there is exactly one codec.
    const only = this.#options.negotiate ? undefined : this.#options.codecs[0];
    if (only === undefined) {
      this.#negotiator = new Negotiator(this.#options.codecs, this.#options.maxSniffBytes);
    } else {
      this.#useCodec(only);
    }
  }

  /** The chosen codec, or undefined while negotiating. */
  get codec(): Codec<F> | undefined {
    return this.#codec;
  }
  /** The transport this engine reads and writes. */
  get transport(): Transport {
    return this.#transport;
  }
  /** True once close() or destroy() was called or the connection ended. */
  get isClosed(): boolean {
    return this.#closing;
  }
  /** The peer's address ("host:port"). */
  get remoteAddress(): string {
    return this.#transport.remoteAddress;
  }
  /** This side's address ("host:port"). */
  get localAddress(): string {
    return this.#transport.localAddress;
  }
  /** False while the transport's output is above its high-water mark; `drain` follows. */
  get isWritable(): boolean {
    return !this.#closing && this.#transport.isWritable;
  }
  /** True while reading is paused because the handler reported saturation. */
  get isReadPaused(): boolean {
    return this.#paused;
  }

  /** Starts reading and hands every frame to `handler`. Call once. */
  start(handler: FrameHandler<F>): void {
    if (this.#handler !== undefined) throw new InvalidArgumentError("ProtocolEngine.start called twice");
    this.#handler = handler;
    const t = this.#transport;
    t.on("data", this.#onData);
    t.on("drain", this.#onDrain);
    t.on("idle", this.#onIdle);
    t.on("close", this.#onTransportClose);
    if (this.#destroyed) {
      // destroy() before start(): the handler still learns, once, that the connection is gone.
      this.#finish(this.#closeError);
      return;
    }
    if (t.isClosed) {
      // The transport ended before we listened; its close event may be gone already.
      this.#closing = true;
      this.#finish(undefined);
      return;
    }
    if (this.#options.idle !== undefined) t.setIdle(this.#options.idle);
    if (this.#negotiator !== undefined && this.#options.handshakeTimeoutMs > 0) {
      this.#handshakeTimer = setTimeout(this.#onHandshakeTimeout, this.#options.handshakeTimeoutMs);
      // The socket keeps the process alive while it is open; this timer need not.
      this.#handshakeTimer.unref();
    }
  }

  /** Resumes reading after the handler's queue drained below its high-water mark. */
  resumeReading(): void {
    if (!this.#paused || this.#closing) return;
    this.#paused = false;
    this.#transport.resume();
  }

  /**
   * Encodes `frame` with the chosen codec and queues it on the transport (never blocks).
   * @returns `isWritable` after queueing: false means wait for `drain` before sending more.
   * @throws SendError before a codec is chosen, ChannelClosedError after close.
   */
  send(frame: F): boolean {
    if (this.#closing) throw new ChannelClosedError(`connection to ${this.remoteAddress} is closed`);
    const codec = this.#codec;
    if (codec === undefined) {
      throw new SendError(`cannot send to ${this.remoteAddress} before protocol negotiation completes`);
    }
    const sink = this.#sink;
    if (sink === undefined) return this.#transport.write(codec.encode(frame));
    // biome-ignore lint/style/noNonNullAssertion: #useCodec sets #sink only for a codec with encodeInto.
    codec.encodeInto!(frame, sink);
    return this.#transport.isWritable;
  }

  /**
   * Closes gracefully: queued output is flushed, then the transport half-closes and is destroyed
   * if the peer has not finished within `graceMs` (bounded close, Qpid's lesson).
   */
  close(graceMs: number = this.#options.closeGraceMs): void {
    if (this.#closing) return;
    this.#closing = true;
    this.#clearTimers();
    this.#transport.end(graceMs);
  }

  /** Closes at once; `handler.onClose(error)` runs before this returns (if started). */
  destroy(error?: Error): void {
    if (this.#destroyed || this.#finished) return;
    this.#destroyed = true;
    this.#closing = true;
    this.#clearTimers();
    this.#closeError = error;
    this.#transport.destroy(error);
    this.#finish(error);
  }

  // Listeners are fields bound once per engine: no closure per chunk on the data path.

  readonly #onData = (chunk: Buffer): void => {
    if (this.#closing) return;
    let frames: F[];
    try {
      let bytes = chunk;
      let decoder = this.#decoder;
      if (decoder === undefined) {
        // No decoder yet: the negotiator is there until #useCodec replaces it.
        const result = this.#negotiator?.push(chunk);
        if (result === undefined) return;
        this.#clearHandshakeTimer();
        decoder = this.#useCodec(result.codec);
        this.#options.logger.debug(`mqwire: ${this.remoteAddress} speaks ${result.codec.name}`);
        this.emit("negotiated", result.codec);
        if (this.#closing) return;
        bytes = result.head;
      }
      frames = decoder.push(bytes);
      if (this.#options.frameTimeoutMs > 0) this.#trackPartialFrame(decoder, frames.length);
    } catch (err) {
      this.#fail(asError(err), "refused input", "warn");
      return;
    }
    // biome-ignore lint/style/noNonNullAssertion: start() sets #handler before it attaches #onData.
    const handler = this.#handler!;
    try {
      for (let i = 0; i < frames.length; i++) {
        // biome-ignore lint/style/noNonNullAssertion: i < frames.length.
        handler.onFrame(frames[i]!);
        // The handler may close or destroy the engine from inside onFrame.
        if (this.#closing) return;
      }
    } catch (err) {
      // A bug above must not kill the process or the other connections: close this one only.
      this.#fail(asError(err), "frame handler threw", "error");
      return;
    }
    if (!this.#paused && handler.isSaturated()) {
      this.#paused = true;
      this.#transport.pause();
    }
  };

  readonly #onDrain = (): void => {
    if (!this.#closing) this.emit("drain");
  };

  readonly #onIdle = (kind: IdleKind): void => {
    if (!this.#closing) this.#handler?.onIdle(kind);
  };

  readonly #onTransportClose = (error: Error | undefined): void => {
    this.#closing = true;
    this.#clearTimers();
    this.#finish(error);
  };

  readonly #onFrameTimeout = (): void => {
    this.#frameTimer = undefined;
    if (this.#closing || this.#frameStartedAt === 0) return;
    // Reads paused by our own back-pressure: the peer is not the one holding the frame back.
    const now = this.#options.now();
    if (this.#paused) this.#frameStartedAt = now;
    const left = this.#frameStartedAt + this.#options.frameTimeoutMs - now;
    if (left > 0) {
      this.#armFrameTimer(left);
      return;
    }
    const limit = this.#options.frameTimeoutMs;
    const error = new MalformedFrameError(
      "frame-deadline",
      `a frame was not complete ${limit} ms after its first byte`,
    );
    this.#fail(error, "frame deadline", "warn");
  };

  /**
   * Starts the frame deadline when a partial frame is left buffered: a new one when this push
   * completed frames (what is left began in it) or none was pending; nothing while the same
   * frame keeps arriving, and nothing at all when the decoder holds no partial frame.
   */
  #trackPartialFrame(decoder: FrameDecoder<F>, completed: number): void {
    if (decoder.bufferedBytes === 0) {
      this.#frameStartedAt = 0;
      return;
    }
    if (completed > 0 || this.#frameStartedAt === 0) {
      this.#frameStartedAt = this.#options.now();
      if (this.#frameTimer === undefined) this.#armFrameTimer(this.#options.frameTimeoutMs);
    }
  }

  #armFrameTimer(delayMs: number): void {
    this.#frameTimer = setTimeout(this.#onFrameTimeout, delayMs);
    this.#frameTimer.unref();
  }

  readonly #onHandshakeTimeout = (): void => {
    this.#handshakeTimer = undefined;
    if (this.#closing || this.#negotiator === undefined || this.#decoder !== undefined) return;
    this.#fail(this.#negotiator.timeout(this.#options.handshakeTimeoutMs), "handshake deadline", "warn");
  };

  /** Switches to `codec` for good and returns its decoder. */
  #useCodec(codec: Codec<F>): FrameDecoder<F> {
    this.#codec = codec;
    const t = this.#transport;
    this.#sink =
      codec.encodeInto !== undefined && t.claim !== undefined && t.append !== undefined
        ? (t as Transport & FrameSink)
        : undefined;
    const { maxFrameBytes, maxHeaderBytes, maxExtFields } = this.#options;
    const decoder = codec.createDecoder({ maxFrameBytes, maxHeaderBytes, maxExtFields });
    this.#decoder = decoder;
    if (decoder.readBuffer !== undefined && t.setReadTarget !== undefined) {
      // biome-ignore lint/style/noNonNullAssertion: checked just above; the closure loses the narrowing.
      t.setReadTarget(() => decoder.readBuffer!());
    }
    this.#negotiator = undefined;
    return decoder;
  }

  /**
   * A connection-level failure: log why with the peer's address (Qpid: an unknown protocol is
   * closed with a logged reason), then destroy. Bad bytes from a peer are a warning; a throwing
   * handler is our bug, an error.
   */
  #fail(error: Error, what: string, level: "warn" | "error"): void {
    const code = (error as { code?: unknown }).code ?? error.name;
    this.#options.logger[level](
      `mqwire: closing connection ${this.remoteAddress}: ${what}: ${code}: ${error.message}`,
    );
    this.destroy(error);
  }

  /** Delivers onClose once; before start() it waits for start() to deliver it. */
  #finish(error: Error | undefined): void {
    const handler = this.#handler;
    if (this.#finished || handler === undefined) return;
    this.#finished = true;
    try {
      handler.onClose(error);
    } catch (err) {
      this.#options.logger.error(`mqwire: onClose of ${this.remoteAddress} threw: ${asError(err).message}`);
    }
    this.emit("close", error);
  }

  #clearHandshakeTimer(): void {
    if (this.#handshakeTimer !== undefined) {
      clearTimeout(this.#handshakeTimer);
      this.#handshakeTimer = undefined;
    }
  }

  /** Both deadlines, when the connection is going. */
  #clearTimers(): void {
    this.#clearHandshakeTimer();
    if (this.#frameTimer !== undefined) {
      clearTimeout(this.#frameTimer);
      this.#frameTimer = undefined;
    }
  }
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
