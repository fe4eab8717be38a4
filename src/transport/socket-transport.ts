/**
 * THE network driver (Qpid's driver that owns the socket): wraps any Duplex (net.Socket,
 * TLSSocket, a memory pair end) as one live connection. It counts bytes, stores last-activity
 * times for the idle timer, coalesces writes, tracks write back-pressure with high/low water
 * marks, pauses reads on request, and closes exactly once, with a deadline.
 *
 * Write coalescing: everything written in one tick is flushed once, from `process.nextTick`.
 * Small chunks (<= COALESCE_COPY_MAX_BYTES: headers, small bodies) are copied as they come into
 * the process-wide output slab (./output-slab.ts), where codecs also encode frame headers in
 * place (`claim`, the FrameSink of codec.ts); each run of consecutive bytes becomes one subarray
 * at flush. Larger chunks (big bodies) are queued by reference. A batch of more than one piece is
 * written under cork()/uncork(), so it leaves in one `_writev` (one libuv writev for net.Socket).
 * Copying small chunks beats a writev of many small pieces, and a writev beats copying from
 * about 1 KiB a chunk on: hence a limit per chunk, not per batch (the loopback figures are in
 * bench/history/2026-12-06-figures-from-code-comments.md). Encoding headers in place spares
 * each frame a header Buffer of its own and its copy.
 */
import type { X509Certificate } from "node:crypto";
import { EventEmitter } from "node:events";
import type { Duplex } from "node:stream";
import { TLSSocket } from "node:tls";
import { type Clock, systemClock } from "../clock.js";
import { InvalidArgumentError, TimeoutError } from "../errors.js";
import { endpointsOf, type ProxiedEndpoints } from "./address.js";
import { IdleTimer } from "./idle-timer.js";
import {
  BATCH_SLAB_BYTES,
  claimSlab,
  currentSlab,
  MAX_SLAB_CLAIM_BYTES,
  reserveSlab,
} from "./output-slab.js";
import { readBuffersOf } from "./read-buffers.js";
import type { IdleKind, IdleOptions, Transport } from "./transport.js";

/** Default high-water mark of queued output, in bytes (Netty's WriteBufferWaterMark: 64 KiB). */
export const DEFAULT_WRITE_HIGH_WATER_MARK_BYTES = 64 * 1024;
/** Default low-water mark of queued output, in bytes (Netty's WriteBufferWaterMark: 32 KiB). */
export const DEFAULT_WRITE_LOW_WATER_MARK_BYTES = 32 * 1024;
/** Bounded final write of a closing channel: the grace of `end()` before the stream is destroyed, in ms. */
export const DEFAULT_CLOSE_GRACE_MS = 3000;
/** Chunks up to this many bytes are copied into one Buffer with their small neighbours (see file TSDoc). */
export const COALESCE_COPY_MAX_BYTES = 512;

/** Options of {@link SocketTransport}. */
export interface SocketTransportOptions {
  /** `isWritable` turns false when queued output passes this, in bytes. Default 65536. */
  writeHighWaterMarkBytes?: number;
  /** `isWritable` turns true (and `drain` fires) below this, in bytes. Default 32768. */
  writeLowWaterMarkBytes?: number;
  /** Idle thresholds in ms; default none. */
  idle?: IdleOptions;
  /** Clock for activity times and timers (tests inject a fake one). Default the system clock. */
  clock?: Clock;
  /** Overrides the local address string (default: from the Duplex, see address.ts endpointsOf). */
  localAddress?: string;
  /** Overrides the remote address string. */
  remoteAddress?: string;
}

function checkBytes(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (!Number.isSafeInteger(v) || v < 0) {
    throw new InvalidArgumentError(`${name} must be an integer >= 0 (bytes), got ${String(v)}`);
  }
  return v;
}

const EMPTY = Buffer.alloc(0);

// Module-level callbacks: no closure is allocated per write or per tick.
function flushTick(t: SocketTransport): void {
  t.flush();
}

/**
 * One live connection over any Duplex; see the file TSDoc. Emits TransportEvents.
 * Reading starts at construction (unless the stream was paused explicitly), so subscribe to
 * `data` in the same tick. The stream's 'error' never escapes: it ends in `close(error)`.
 */
export class SocketTransport extends EventEmitter implements Transport {
  readonly #stream: Duplex;
  readonly #clock: Clock;
  readonly #highWaterMark: number;
  readonly #lowWaterMark: number;
  #idle: IdleTimer | undefined;
  /** This tick's output: slab runs and large chunks, in order. */
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  /** The run of slab bytes claimed last and not yet in `#pending`: slab, start, end. */
  #run: Buffer | null = null;
  #runStart = 0;
  #runEnd = 0;
  /** Where the last `claim` points (FrameSink). */
  claimBuffer: Buffer = EMPTY;
  #flushScheduled = false;
  #writable = true;
  #ending = false;
  #closed = false;
  #error: Error | undefined;
  #endDeadline: unknown;
  #bytesRead = 0;
  #bytesWritten = 0;
  #lastReadAt: number;
  #lastWriteAt: number;
  #localAddress: string;
  #remoteAddress: string;
  readonly #proxy: ProxiedEndpoints | undefined;
  // Bound once per connection, not per read or write.
  readonly #onWritten = (): void => this.#checkDrain();
  readonly #onData = (chunk: Buffer): void => {
    this.#bytesRead += chunk.length;
    this.#lastReadAt = this.#clock.now();
    this.emit("data", chunk);
  };

  constructor(stream: Duplex, options: SocketTransportOptions = {}) {
    super();
    this.#stream = stream;
    this.#clock = options.clock ?? systemClock;
    this.#highWaterMark = checkBytes(
      "writeHighWaterMarkBytes",
      options.writeHighWaterMarkBytes,
      DEFAULT_WRITE_HIGH_WATER_MARK_BYTES,
    );
    this.#lowWaterMark = checkBytes(
      "writeLowWaterMarkBytes",
      options.writeLowWaterMarkBytes,
      Math.min(DEFAULT_WRITE_LOW_WATER_MARK_BYTES, this.#highWaterMark),
    );
    if (this.#lowWaterMark > this.#highWaterMark) {
      throw new InvalidArgumentError("writeLowWaterMarkBytes must not exceed writeHighWaterMarkBytes");
    }
    const now = this.#clock.now();
    this.#lastReadAt = now;
    this.#lastWriteAt = now;
    const names = endpointsOf(stream);
    this.#localAddress = options.localAddress ?? names.local;
    this.#remoteAddress = options.remoteAddress ?? names.remote;
    this.#proxy = names.proxy;

    stream.on("error", (err: Error) => {
      // Keep the first error; the stream closes after it (autoDestroy), or we make it.
      this.#error ??= err;
      if (!stream.destroyed) stream.destroy(err);
    });
    // Half-closure is not part of the remoting protocol (Netty's ALLOW_HALF_CLOSURE is false):
    // when the peer ends, end our side too so the stream reaches 'close'.
    stream.on("end", () => this.end());
    stream.on("close", () => this.#onClose());
    stream.on("drain", this.#onWritten);
    const reader = readBuffersOf(stream);
    if (reader !== undefined) reader.attach(this.#onData);
    else stream.on("data", this.#onData);
    if (stream.destroyed) process.nextTick(() => this.#onClose());
    if (options.idle !== undefined) this.setIdle(options.idle);
  }

  get isWritable(): boolean {
    return this.#writable && !this.#ending;
  }
  /** True once no more writes are accepted: after end(), destroy() or close. */
  get isClosed(): boolean {
    return this.#ending || this.#closed;
  }
  get bytesRead(): number {
    return this.#bytesRead;
  }
  /** Bytes handed to the stream (flushed); equals what the peer received after an orderly close. */
  get bytesWritten(): number {
    return this.#bytesWritten;
  }
  get lastReadAt(): number {
    return this.#lastReadAt;
  }
  get lastWriteAt(): number {
    return this.#lastWriteAt;
  }
  get localAddress(): string {
    return this.#localAddress;
  }
  get remoteAddress(): string {
    return this.#remoteAddress;
  }
  /** What a PROXY protocol header said (tagged by proxy-acceptor.ts), or undefined. */
  get proxy(): ProxiedEndpoints | undefined {
    return this.#proxy;
  }
  /** The peer's certificate when the stream is a TLSSocket and the peer sent one. */
  get peerCertificate(): X509Certificate | undefined {
    const s = this.#stream;
    return s instanceof TLSSocket ? s.getPeerX509Certificate() : undefined;
  }
  /** Output queued and not yet written out: the stream's buffer plus this tick's batch, in bytes. */
  get queuedBytes(): number {
    return this.#stream.writableLength + this.#pendingBytes;
  }
  /** The wrapped stream (TLS peer certificates, diagnostics). */
  get stream(): Duplex {
    return this.#stream;
  }

  write(chunks: readonly Buffer[]): boolean {
    if (this.#ending || this.#closed) return false;
    for (const chunk of chunks) this.append(chunk);
    return this.#writable;
  }

  /**
   * FrameSink: reserves `bytes` of this tick's output (in order after everything queued) and
   * returns their offset in `claimBuffer`. After end() or close the bytes go nowhere.
   */
  claim(bytes: number): number {
    if (bytes > MAX_SLAB_CLAIM_BYTES) {
      const own = Buffer.allocUnsafe(bytes);
      this.claimBuffer = own;
      this.#queue(own);
      return 0;
    }
    if (this.#run === null && this.#pending.length === 0) reserveSlab(BATCH_SLAB_BYTES);
    const at = claimSlab(bytes);
    const slab = currentSlab();
    this.claimBuffer = slab;
    if (this.#ending || this.#closed) return at;
    if (slab !== this.#run || at !== this.#runEnd) {
      // Another connection claimed in between, or the slab was full: start a new run.
      this.#endRun();
      this.#run = slab;
      this.#runStart = at;
    }
    this.#runEnd = at + bytes;
    this.#queued(bytes);
    return at;
  }

  /** FrameSink: queues one chunk, copied into the slab when small (see the file TSDoc). */
  append(chunk: Buffer): void {
    const n = chunk.length;
    if (n === 0) return;
    if (n <= COALESCE_COPY_MAX_BYTES) {
      const at = this.claim(n);
      this.claimBuffer.set(chunk, at);
    } else this.#queue(chunk);
  }

  /** Queues a chunk by reference after the current run. */
  #queue(chunk: Buffer): void {
    if (this.#ending || this.#closed) return;
    this.#endRun();
    this.#pending.push(chunk);
    this.#queued(chunk.length);
  }

  /** Moves the current slab run into `#pending`. */
  #endRun(): void {
    if (this.#run === null) return;
    this.#pending.push(this.#run.subarray(this.#runStart, this.#runEnd));
    this.#run = null;
  }

  /** Accounts `bytes` more output: schedules the flush, applies the high-water mark. */
  #queued(bytes: number): void {
    this.#pendingBytes += bytes;
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      process.nextTick(flushTick, this);
    }
    if (this.#writable && this.queuedBytes > this.#highWaterMark) this.#writable = false;
  }

  /** Hands this tick's batch to the stream now (the per-tick flush; end() calls it too). */
  flush(): void {
    this.#flushScheduled = false;
    this.#endRun();
    const batch = this.#pending;
    const bytes = this.#pendingBytes;
    if (batch.length === 0 || this.#closed || this.#stream.destroyed) return;
    this.#pending = [];
    this.#pendingBytes = 0;
    this.#bytesWritten += bytes;
    this.#lastWriteAt = this.#clock.now();
    const s = this.#stream;
    // Only while above the high-water mark does a write carry a completion callback, to see
    // the queue fall below the low-water mark before the stream is fully drained.
    const cb = this.#writable ? undefined : this.#onWritten;
    if (batch.length === 1) {
      s.write(batch[0], cb);
      return;
    }
    s.cork();
    const last = batch.length - 1;
    for (let k = 0; k < last; k++) s.write(batch[k]);
    s.write(batch[last], cb);
    s.uncork();
  }

  end(graceMs = DEFAULT_CLOSE_GRACE_MS): void {
    if (this.#ending || this.#closed) return;
    if (!Number.isFinite(graceMs) || graceMs < 0) {
      throw new InvalidArgumentError(`graceMs must be a finite number >= 0, got ${String(graceMs)}`);
    }
    this.flush();
    this.#ending = true;
    this.#endDeadline = this.#clock.setTimeout(() => {
      this.#endDeadline = undefined;
      // Bounded close (Qpid's lesson): a peer that neither reads nor ends cannot hold us open.
      this.destroy(
        new TimeoutError(`connection to ${this.#remoteAddress} did not close within ${graceMs} ms`),
      );
    }, graceMs);
    this.#stream.end();
  }

  destroy(error?: Error): void {
    if (this.#closed) return;
    this.#ending = true;
    if (error !== undefined) this.#error ??= error;
    this.#dropOutput();
    if (!this.#stream.destroyed) this.#stream.destroy(error);
  }

  pause(): void {
    this.#stream.pause();
  }

  /**
   * Lets the reader (the engine's decoder) choose where the next bytes are read, when the stream
   * was created with `onread` (./read-buffers.ts); otherwise does nothing.
   */
  setReadTarget(provider: () => Buffer | undefined): void {
    const reader = readBuffersOf(this.#stream);
    if (reader !== undefined) reader.provider = provider;
  }
  resume(): void {
    if (!this.#closed) this.#stream.resume();
  }

  setIdle(options: IdleOptions): void {
    if (this.#closed) return;
    if (this.#idle === undefined) {
      this.#idle = new IdleTimer(this, (kind) => this.#emitIdle(kind), options, this.#clock);
      this.#idle.start();
    } else {
      this.#idle.setOptions(options);
      if (!this.#idle.isRunning) this.#idle.start();
    }
  }

  #emitIdle(kind: IdleKind): void {
    if (!this.#closed) this.emit("idle", kind);
  }

  #dropOutput(): void {
    this.#pending = [];
    this.#pendingBytes = 0;
    this.#run = null;
  }

  #checkDrain(): void {
    if (this.#writable || this.#closed) return;
    if (this.queuedBytes < this.#lowWaterMark || this.queuedBytes === 0) {
      this.#writable = true;
      if (!this.#ending) this.emit("drain");
    }
  }

  #onClose(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#ending = true;
    this.#dropOutput();
    this.#idle?.stop();
    if (this.#endDeadline !== undefined) {
      this.#clock.clearTimeout(this.#endDeadline);
      this.#endDeadline = undefined;
    }
    this.#stream.off("data", this.#onData);
    // A stream's own 'error' can arrive after a caller's destroy(error): the caller's reason wins.
    this.emit("close", this.#error);
  }
}
