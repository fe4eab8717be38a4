/**
 * Idle detection from last-activity times with ONE re-armed timer per connection.
 *
 * The transport only stores `lastReadAt` / `lastWriteAt` on each read and write; no timer is
 * touched there (Qpid's lesson: timers come from last activity, never one per read or write).
 * The timer wakes at the earliest deadline any enabled kind could reach, checks every kind, fires
 * the ones that passed, and re-arms at the next earliest deadline.
 *
 * Semantics follow Netty's `IdleStateHandler` (used by RocketMQ's `NettyRemotingServer` with
 * all-idle = 120 s): a kind fires once when its threshold of inactivity passes, and again after
 * each further full period of inactivity; activity restarts its period.
 */

import { type Clock, MAX_TIMER_DELAY_MS, systemClock } from "../clock.js";
import { InvalidArgumentError } from "../errors.js";
import type { IdleKind, IdleOptions } from "./transport.js";

/** Where the idle timer reads activity times (the transport). */
export interface ActivitySource {
  readonly lastReadAt: number;
  readonly lastWriteAt: number;
}

/** Validates idle thresholds once: each must be a finite integer >= 0 (0 disables it). */
export function resolveIdleOptions(options: IdleOptions = {}): Readonly<Required<IdleOptions>> {
  const check = (name: keyof IdleOptions): number => {
    const v = options[name] ?? 0;
    if (!Number.isInteger(v) || v < 0) {
      throw new InvalidArgumentError(`${name} must be an integer >= 0 (ms), got ${String(v)}`);
    }
    return v;
  };
  return Object.freeze({
    readerIdleMs: check("readerIdleMs"),
    writerIdleMs: check("writerIdleMs"),
    allIdleMs: check("allIdleMs"),
  });
}

/**
 * Reader-, writer- and all-idle detection for one connection.
 * Created stopped; `start()` arms it, `stop()` clears its one timer (call it on close, so no
 * timer keeps the process alive afterwards).
 */
export class IdleTimer {
  readonly #source: ActivitySource;
  readonly #onIdle: (kind: IdleKind) => void;
  readonly #clock: Clock;
  #options: Readonly<Required<IdleOptions>>;
  #handle: unknown = undefined;
  #running = false;
  // When each kind last fired, or when the timer was armed: the period restarts from the later
  // of this and the last activity, which gives Netty's "again after another full period".
  #readerMark = 0;
  #writerMark = 0;
  #allMark = 0;
  readonly #tick = (): void => this.#check();

  constructor(
    source: ActivitySource,
    onIdle: (kind: IdleKind) => void,
    options?: IdleOptions,
    clock?: Clock,
  ) {
    this.#source = source;
    this.#onIdle = onIdle;
    this.#clock = clock ?? systemClock;
    this.#options = resolveIdleOptions(options);
  }

  /** The thresholds in force. */
  get options(): Readonly<Required<IdleOptions>> {
    return this.#options;
  }

  /** True while armed with at least one enabled kind. */
  get isRunning(): boolean {
    return this.#running;
  }

  /** Replaces the thresholds and re-arms; periods restart now. */
  setOptions(options: IdleOptions): void {
    this.#options = resolveIdleOptions(options);
    if (this.#running) this.start();
  }

  /** Arms the timer; every period starts from now (or from later activity). */
  start(): void {
    this.#clear();
    const now = this.#clock.now();
    this.#readerMark = now;
    this.#writerMark = now;
    this.#allMark = now;
    const { readerIdleMs, writerIdleMs, allIdleMs } = this.#options;
    this.#running = readerIdleMs > 0 || writerIdleMs > 0 || allIdleMs > 0;
    if (this.#running) this.#arm(now);
  }

  /** Clears the timer. Idempotent. */
  stop(): void {
    this.#running = false;
    this.#clear();
  }

  #clear(): void {
    if (this.#handle !== undefined) {
      this.#clock.clearTimeout(this.#handle);
      this.#handle = undefined;
    }
  }

  /** The earliest deadline over the enabled kinds, as absolute epoch ms. */
  #nextDeadline(): number {
    const { readerIdleMs, writerIdleMs, allIdleMs } = this.#options;
    const read = this.#source.lastReadAt;
    const write = this.#source.lastWriteAt;
    let next = Number.POSITIVE_INFINITY;
    if (readerIdleMs > 0) next = Math.min(next, Math.max(read, this.#readerMark) + readerIdleMs);
    if (writerIdleMs > 0) next = Math.min(next, Math.max(write, this.#writerMark) + writerIdleMs);
    if (allIdleMs > 0) next = Math.min(next, Math.max(read, write, this.#allMark) + allIdleMs);
    return next;
  }

  #arm(now: number): void {
    // Clamp before setTimeout (grpc-js src/deadline.ts): >= 1 ms so a clock that lags the timer
    // cannot spin, <= 2^31-1 so Node does not fire an overlong delay at once.
    const delay = Math.min(Math.max(this.#nextDeadline() - now, 1), MAX_TIMER_DELAY_MS);
    this.#handle = this.#clock.setTimeout(this.#tick, delay);
  }

  #check(): void {
    this.#handle = undefined;
    if (!this.#running) return;
    const now = this.#clock.now();
    const { readerIdleMs, writerIdleMs, allIdleMs } = this.#options;
    const read = this.#source.lastReadAt;
    const write = this.#source.lastWriteAt;
    const fired: IdleKind[] = [];
    if (readerIdleMs > 0 && now - Math.max(read, this.#readerMark) >= readerIdleMs) {
      this.#readerMark = now;
      fired.push("reader");
    }
    if (writerIdleMs > 0 && now - Math.max(write, this.#writerMark) >= writerIdleMs) {
      this.#writerMark = now;
      fired.push("writer");
    }
    if (allIdleMs > 0 && now - Math.max(read, write, this.#allMark) >= allIdleMs) {
      this.#allMark = now;
      fired.push("all");
    }
    // Re-arm before calling out: a handler may stop() (close the connection) or write.
    this.#arm(now);
    for (const kind of fired) {
      if (!this.#running) return;
      this.#onIdle(kind);
    }
  }
}
