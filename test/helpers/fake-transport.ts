/**
 * A Transport for unit tests: an EventEmitter that records what the engine does to it (writes,
 * pause/resume, end, destroy, setIdle) and lets the test play the peer (receive, idle, drain,
 * peer close). Like nats.js' heartbeat tests, the narrow interface keeps the fake trivial.
 */
import { EventEmitter } from "node:events";
import type { IdleKind, IdleOptions, Transport, TransportEvents } from "../../src/transport/transport.js";

/** Options of a fake transport. */
export interface FakeTransportOptions {
  /** Emit `close` synchronously inside destroy()/end() instead of on the next tick. Default false. */
  closeSync?: boolean;
  remoteAddress?: string;
  localAddress?: string;
}

/** A recording Transport. */
export class FakeTransport extends EventEmitter<TransportEvents> implements Transport {
  /** Every write() call's chunks, in order. */
  readonly writes: Buffer[][] = [];
  pauseCount = 0;
  resumeCount = 0;
  paused = false;
  /** The graceMs of end(), once called. */
  endedWith: number | undefined;
  ended = false;
  destroyed = false;
  destroyError: Error | undefined;
  idleOptions: IdleOptions | undefined;
  closeCount = 0;
  writable = true;
  isClosed = false;
  bytesRead = 0;
  bytesWritten = 0;
  lastReadAt = Date.now();
  lastWriteAt = Date.now();
  readonly localAddress: string;
  readonly remoteAddress: string;
  readonly #closeSync: boolean;

  constructor(options: FakeTransportOptions = {}) {
    super();
    this.#closeSync = options.closeSync ?? false;
    this.remoteAddress = options.remoteAddress ?? "127.0.0.1:50000";
    this.localAddress = options.localAddress ?? "127.0.0.1:10911";
  }

  get isWritable(): boolean {
    return this.writable;
  }

  /** All bytes written so far, concatenated. */
  get written(): Buffer {
    return Buffer.concat(this.writes.flat());
  }

  write(chunks: readonly Buffer[]): boolean {
    if (this.isClosed) throw new Error("write after close");
    this.writes.push([...chunks]);
    for (const c of chunks) this.bytesWritten += c.length;
    return this.writable;
  }
  end(graceMs?: number): void {
    this.ended = true;
    this.endedWith = graceMs;
    this.#close(undefined);
  }
  destroy(error?: Error): void {
    this.destroyed = true;
    this.destroyError = error;
    this.#close(error);
  }
  pause(): void {
    this.pauseCount++;
    this.paused = true;
  }
  resume(): void {
    this.resumeCount++;
    this.paused = false;
  }
  setIdle(options: IdleOptions): void {
    this.idleOptions = options;
  }

  // The peer's side.

  /** Delivers bytes as the socket would. */
  receive(chunk: Buffer): void {
    this.bytesRead += chunk.length;
    this.emit("data", chunk);
  }
  fireIdle(kind: IdleKind): void {
    this.emit("idle", kind);
  }
  /** Sets isWritable; going writable again emits `drain`. */
  setWritable(writable: boolean): void {
    this.writable = writable;
    if (writable) this.emit("drain");
  }
  /** The peer closed (or the socket failed with `error`). */
  peerClose(error?: Error): void {
    this.#close(error);
  }

  #close(error: Error | undefined): void {
    if (this.isClosed) return;
    this.isClosed = true;
    const emit = (): void => {
      this.closeCount++;
      this.emit("close", error);
    };
    if (this.#closeSync) emit();
    else process.nextTick(emit);
  }
}
