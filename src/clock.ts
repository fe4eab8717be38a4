/**
 * Time and timers, injected so unit tests run on a fake clock (STYLE.md rule 10). Deadlines are
 * absolute epoch ms of this clock, combined with min and clamped before setTimeout (grpc-js
 * `src/deadline.ts`). One clock per server or client (its `clock` option): every deadline of a
 * call, a connect, a permit wait or a shutdown reads it, never `Date.now()` directly.
 */

/** Clock and timer functions. */
export interface Clock {
  /** Wall-clock epoch ms. */
  now(): number;
  /** Calls `callback` once after `delayMs` of this clock; returns a handle for clearTimeout. */
  setTimeout(callback: () => void, delayMs: number): unknown;
  /** Cancels a timer set by this clock's setTimeout; harmless for one that fired. */
  clearTimeout(handle: unknown): void;
}

/** The real clock: `Date.now` and Node's ref'd timers. */
export const systemClock: Clock = {
  // Looked up per call, as the timers are: a mocked Date (node:test mock.timers) reaches it.
  now: () => Date.now(),
  setTimeout: (callback, delayMs) => setTimeout(callback, delayMs),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** Largest delay setTimeout honours (2^31-1 ms); Node turns longer ones into 1 ms. */
export const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

/** Delay until `deadlineAt`, clamped to what setTimeout accepts. */
export function delayUntil(deadlineAt: number, now: number): number {
  return Math.min(Math.max(deadlineAt - now, 0), MAX_TIMER_DELAY_MS);
}

/**
 * Calls `onDeadline` once the clock has reached `deadlineAt` (epoch ms), unless cancelled first.
 * The rule for every deadline: setTimeout never gets more than {@link MAX_TIMER_DELAY_MS} (Node
 * warns about a longer delay and fires it after 1 ms), and a timer that fires before the deadline,
 * because its delay was clamped or Date.now lags the timer clock, re-arms for the rest. Infinity
 * is no deadline: no timer at all (grpc-js `src/deadline.ts` treats a deadline past the timer's
 * range alike).
 */
export class DeadlineTimer {
  readonly deadlineAt: number;
  readonly #onDeadline: () => void;
  readonly #clock: Clock;
  #handle: unknown = undefined;
  readonly #fire = (): void => {
    this.#handle = undefined;
    const now = this.#clock.now();
    if (now < this.deadlineAt) this.#arm(now);
    else this.#onDeadline();
  };

  constructor(deadlineAt: number, onDeadline: () => void, clock: Clock = systemClock, now = clock.now()) {
    this.deadlineAt = deadlineAt;
    this.#onDeadline = onDeadline;
    this.#clock = clock;
    if (deadlineAt !== Number.POSITIVE_INFINITY) this.#arm(now);
  }

  /** True until it fires or is cancelled (always false for Infinity). */
  get isArmed(): boolean {
    return this.#handle !== undefined;
  }

  /** Stops it; idempotent, harmless after it fired. */
  cancel(): void {
    if (this.#handle !== undefined) {
      this.#clock.clearTimeout(this.#handle);
      this.#handle = undefined;
    }
  }

  #arm(now: number): void {
    this.#handle = this.#clock.setTimeout(this.#fire, delayUntil(this.deadlineAt, now));
  }
}

/**
 * `read()` once per synchronous run of JavaScript: the first call reads and queues a microtask
 * that forgets the reading, so every later call before that microtask gets the same value. The
 * 64 calls a pipelined client makes from the responses of one socket read share one reading;
 * Node's own timers work the same way (`setTimeout` counts from the event loop's cached time).
 * Each server and client builds its own reader from its {@link Clock} (`callClock`).
 */
export function oncePerRun(read: () => number): () => number {
  let value = 0;
  let valid = false;
  const expire = (): void => {
    valid = false;
  };
  return () => {
    if (!valid) {
      value = read();
      valid = true;
      queueMicrotask(expire);
    }
    return value;
  };
}

/**
 * `performance.now()` once per synchronous run ({@link oncePerRun}): a monotonic, sub-millisecond
 * reading for latency metrics only, never for a deadline. A call's start and end are each read
 * when its run begins, as the calls issued (or the responses read) in one run happened together;
 * a fresh reading per call cost more than the rest of recording it.
 */
export const monotonicNow: () => number = oncePerRun(() => performance.now());

/**
 * The once-per-run reader of `clock.now()` ({@link oncePerRun}) that a server or client computes
 * every call deadline with. Built per instance from the injected clock, so a fake clock reaches
 * every deadline, and the deadline and the time left are read from the same source.
 */
export function callClock(clock: Clock): () => number {
  return oncePerRun(() => clock.now());
}
