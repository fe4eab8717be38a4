/**
 * RocketMQ's in-flight permits (`semaphoreAsync` / `semaphoreOneway` in
 * remoting/netty/NettyRemotingAbstract.java): fair, with a bounded wait queue. Pure: time comes
 * from an injectable {@link Clock}.
 */
import { type Clock, DeadlineTimer, systemClock } from "./clock.js";
import { InvalidArgumentError, TimeoutError, TooManyRequestsError } from "./errors.js";

/** Callers that may wait for a permit at once; Java's queue is unbounded, ours is not (STYLE §8). */
export const DEFAULT_MAX_WAITERS = 10_000;
export function checkInteger(name: string, value: number, min: number): number {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new InvalidArgumentError(`${name} must be an integer >= ${min}, got ${value}`);
  }
  return value;
}

/** Options of a {@link Semaphore}. */
export interface SemaphoreOptions {
  /** Permits available at start (required); e.g. options.ts's DEFAULT_CLIENT_ASYNC_PERMITS. */
  permits: number;
  /** Most callers queued in `acquire` at once; default {@link DEFAULT_MAX_WAITERS}. */
  maxWaiters?: number;
  /** Which RocketMQ semaphore this is, for error messages only; default "async". */
  kind?: "async" | "oneway";
  /** Default {@link systemClock}. */
  clock?: Clock;
}

/** One queued `acquire`: a node of the FIFO's doubly linked list, so time-out and abort unlink in O(1). */
class Waiter {
  timer: DeadlineTimer | undefined = undefined;
  onAbort: (() => void) | undefined = undefined;
  next: Waiter | undefined = undefined;
  constructor(
    readonly resolve: () => void,
    readonly reject: (reason: unknown) => void,
    readonly startedAt: number,
    readonly deadlineAt: number,
    readonly signal: AbortSignal | undefined,
    public prev: Waiter | undefined,
  ) {}
}

/**
 * A fair counting semaphore (Java `new Semaphore(n, true)`, as RocketMQ builds it). Fair means a
 * free permit goes to the longest waiter; a new caller never overtakes the queue. Permits are not
 * tied to callers: release each acquired permit exactly once (RocketMQ wraps it in
 * `SemaphoreReleaseOnlyOnce`).
 */
export class Semaphore {
  /** Total permits, as configured. */
  readonly permits: number;
  readonly maxWaiters: number;
  readonly #kind: "Async" | "Oneway";
  readonly #clock: Clock;
  #available: number;
  #waiting = 0;
  #first: Waiter | undefined;
  #last: Waiter | undefined;

  constructor(options: SemaphoreOptions) {
    this.permits = checkInteger("permits", options.permits, 1);
    this.maxWaiters = checkInteger("maxWaiters", options.maxWaiters ?? DEFAULT_MAX_WAITERS, 0);
    this.#kind = options.kind === "oneway" ? "Oneway" : "Async";
    this.#clock = options.clock ?? systemClock;
    this.#available = this.permits;
  }

  /** Permits free right now. */
  get available(): number {
    return this.#available;
  }
  /** Callers queued in `acquire`. */
  get waiting(): number {
    return this.#waiting;
  }

  /**
   * Takes a permit if one is free and nobody is queued (fairness: no barging), without waiting.
   * The hot path: no promise, no allocation.
   */
  tryAcquire(): boolean {
    if (this.#available > 0 && this.#waiting === 0) {
      this.#available--;
      return true;
    }
    return false;
  }

  /**
   * Waits in FIFO order for a permit until `deadlineAt` (epoch ms), like RocketMQ's
   * `semaphore.tryAcquire(timeoutMillis)`. Rejects with TooManyRequestsError when no permit is
   * free and the call has no time left ("invoke too fast") or the wait queue is full; with
   * TimeoutError when the deadline passes while queued; with `signal.reason` on abort.
   */
  acquire(deadlineAt: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.tryAcquire()) return Promise.resolve();
    const now = this.#clock.now();
    if (!(deadlineAt > now)) {
      return Promise.reject(new TooManyRequestsError(`invoke${this.#kind}Impl invoke too fast`));
    }
    if (this.#waiting >= this.maxWaiters) {
      const message = `invoke${this.#kind}Impl too many callers waiting for a permit: ${this.#waiting}`;
      return Promise.reject(new TooManyRequestsError(message));
    }
    return new Promise<void>((resolve, reject) => {
      const waiter = new Waiter(resolve, reject, now, deadlineAt, signal, this.#last);
      if (this.#last === undefined) this.#first = waiter;
      else this.#last.next = waiter;
      this.#last = waiter;
      this.#waiting++;
      waiter.timer = new DeadlineTimer(deadlineAt, () => this.#onTimeout(waiter), this.#clock, now);
      if (signal !== undefined) {
        waiter.onAbort = () => this.#abandon(waiter, signal.reason);
        signal.addEventListener("abort", waiter.onAbort, { once: true });
      }
    });
  }

  /** Returns a permit: to the longest waiter if there is one, else to the pool. */
  release(): void {
    const waiter = this.#first;
    if (waiter !== undefined) {
      this.#unlink(waiter);
      waiter.resolve();
      return;
    }
    if (this.#available >= this.permits) {
      throw new InvalidArgumentError("Semaphore.release() called more often than a permit was acquired");
    }
    this.#available++;
  }

  #onTimeout(waiter: Waiter): void {
    const waiting = this.#waiting;
    this.#abandon(
      waiter,
      new TimeoutError(
        `invoke${this.#kind}Impl tryAcquire semaphore timeout, ${waiter.deadlineAt - waiter.startedAt}ms, ` +
          `waiting thread nums: ${waiting} semaphore${this.#kind}Value: ${this.#available}`,
      ),
    );
  }

  #abandon(waiter: Waiter, reason: unknown): void {
    this.#unlink(waiter);
    waiter.reject(reason);
  }

  /** Removes a waiter from the queue and drops its timer and abort listener; idempotent. */
  #unlink(waiter: Waiter): void {
    if (waiter.prev === undefined && this.#first !== waiter) return; // already gone
    if (waiter.prev === undefined) this.#first = waiter.next;
    else waiter.prev.next = waiter.next;
    if (waiter.next === undefined) this.#last = waiter.prev;
    else waiter.next.prev = waiter.prev;
    waiter.prev = undefined;
    waiter.next = undefined;
    this.#waiting--;
    waiter.timer?.cancel();
    waiter.timer = undefined;
    if (waiter.onAbort !== undefined) {
      waiter.signal?.removeEventListener("abort", waiter.onAbort);
      waiter.onAbort = undefined;
    }
  }
}
