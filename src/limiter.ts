/**
 * Flow control on the event loop: RocketMQ's in-flight permits (`semaphoreAsync` /
 * `semaphoreOneway` in remoting/netty/NettyRemotingAbstract.java) and the per-processor executor
 * (a bounded `ThreadPoolExecutor` per processor, whose `RejectedExecutionException` becomes
 * SYSTEM_BUSY "[OVERLOAD]"). Both are pure: time comes from an injectable {@link Clock}.
 */
import { type Clock, delayUntil, systemClock } from "./clock.js";
import { InvalidArgumentError, TimeoutError, TooManyRequestsError } from "./errors.js";
import { defaultLogger } from "./logger.js";

/** Client async permits (`com.rocketmq.remoting.clientAsyncSemaphoreValue`). */
export const DEFAULT_CLIENT_ASYNC_PERMITS = 65535;
/** Client one-way permits (`com.rocketmq.remoting.clientOnewaySemaphoreValue`). */
export const DEFAULT_CLIENT_ONEWAY_PERMITS = 65535;
/** Server async permits (`NettyServerConfig.serverAsyncSemaphoreValue`). */
export const DEFAULT_SERVER_ASYNC_PERMITS = 64;
/** Server one-way permits (`NettyServerConfig.serverOnewaySemaphoreValue`). */
export const DEFAULT_SERVER_ONEWAY_PERMITS = 256;
/** Callers that may wait for a permit at once; Java's queue is unbounded, ours is not (STYLE §8). */
export const DEFAULT_MAX_WAITERS = 10_000;
function checkInteger(name: string, value: number, min: number): number {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new InvalidArgumentError(`${name} must be an integer >= ${min}, got ${value}`);
  }
  return value;
}

/** Options of a {@link Semaphore}. */
export interface SemaphoreOptions {
  /** Permits available at start (required); e.g. {@link DEFAULT_CLIENT_ASYNC_PERMITS}. */
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
  timer: unknown = undefined;
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
      this.#armTimer(waiter, now);
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

  #armTimer(waiter: Waiter, now: number): void {
    waiter.timer = this.#clock.setTimeout(() => this.#onTimer(waiter), delayUntil(waiter.deadlineAt, now));
  }

  #onTimer(waiter: Waiter): void {
    waiter.timer = undefined;
    const now = this.#clock.now();
    // A timer may fire early: a clamped long delay, or Date.now lagging the monotonic timer clock.
    if (now < waiter.deadlineAt) {
      this.#armTimer(waiter, now);
      return;
    }
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
    if (waiter.timer !== undefined) {
      this.#clock.clearTimeout(waiter.timer);
      waiter.timer = undefined;
    }
    if (waiter.onAbort !== undefined) {
      waiter.signal?.removeEventListener("abort", waiter.onAbort);
      waiter.onAbort = undefined;
    }
  }
}

/** Tasks running at once per processor. See {@link ConcurrencyLimiterOptions.concurrency}. */
export const DEFAULT_CONCURRENCY = 64;
/** Tasks queued per processor before SYSTEM_BUSY "[OVERLOAD]" (RocketMQ's bounded queues hold 10 000+). */
export const DEFAULT_MAX_QUEUE = 10_000;
/** Queued tasks at which the limiter reports `saturated` (then the channel stops reading). */
export const DEFAULT_HIGH_WATER_MARK = 1024;

/** Options of a {@link ConcurrencyLimiter}. */
export interface ConcurrencyLimiterOptions<A = unknown, B = unknown> {
  /**
   * Tasks running at once; default {@link DEFAULT_CONCURRENCY}. RocketMQ's default executor has 8
   * threads (`serverWorkerThreads`), but a thread blocks while a processor waits; here a waiting
   * task costs only its promise, so more may be in flight. 64 equals `serverAsyncSemaphoreValue`.
   */
  concurrency?: number;
  /** Tasks waiting for a slot; beyond it `tryRun` returns false. Default {@link DEFAULT_MAX_QUEUE}. */
  maxQueue?: number;
  /** Queued count that turns `saturated` on; default min({@link DEFAULT_HIGH_WATER_MARK}, maxQueue), at least 1. */
  highWaterMark?: number;
  /** Queued count at or below which `saturated` turns off and drain listeners run; default highWaterMark / 4. */
  lowWaterMark?: number;
  /** Gets what a task threw or rejected with (tasks should report their own failures); default logs it. */
  onError?: (error: unknown) => void;
  /**
   * The task run by `tryRunWith(a, b)`: one function for the limiter's life, so submitting work
   * allocates no closure per task (the dispatcher's hot path).
   */
  runner?: (a: A, b: B) => unknown;
}

/** Work for a {@link ConcurrencyLimiter}: synchronous, or returning a promise that settles when done. */
export type LimiterTask = () => unknown;

function logTaskError(error: unknown): void {
  defaultLogger.error("limiter: a task failed", error);
}

/** Second slot of a queued `tryRun(task)` pair: the first holds a task, not a runner argument. */
const PLAIN_TASK = Symbol("plain task");

/**
 * The per-processor executor on the event loop: at most `concurrency` tasks in flight, then a
 * bounded FIFO queue; a full queue refuses work (Java's `RejectedExecutionException`) so the
 * dispatcher answers SYSTEM_BUSY at once instead of buffering without limit. A task whose result
 * is not thenable is done when it returns, with no promise allocated (the hot path).
 */
export class ConcurrencyLimiter<A = unknown, B = unknown> {
  readonly concurrency: number;
  readonly maxQueue: number;
  readonly highWaterMark: number;
  readonly lowWaterMark: number;
  readonly #onError: (error: unknown) => void;
  readonly #runner: ((a: A, b: B) => unknown) | undefined;
  #active = 0;
  /** Queued work as flat pairs, (task, PLAIN_TASK) or (a, b): no object per queued task. */
  #queue: unknown[] = [];
  #head = 0;
  #saturated = false;
  #pumping = false;
  #drainListeners: (() => void)[] = [];
  // Bound once: attaching them to a task's promise allocates nothing else.
  readonly #settled = (): void => {
    this.#active--;
    this.#pump();
  };
  readonly #failed = (error: unknown): void => {
    this.#report(error);
    this.#settled();
  };

  constructor(options: ConcurrencyLimiterOptions<A, B> = {}) {
    this.concurrency = checkInteger("concurrency", options.concurrency ?? DEFAULT_CONCURRENCY, 1);
    this.maxQueue = checkInteger("maxQueue", options.maxQueue ?? DEFAULT_MAX_QUEUE, 0);
    const high = options.highWaterMark ?? Math.max(1, Math.min(DEFAULT_HIGH_WATER_MARK, this.maxQueue));
    this.highWaterMark = checkInteger("highWaterMark", high, 1);
    this.lowWaterMark = checkInteger("lowWaterMark", options.lowWaterMark ?? Math.floor(high / 4), 0);
    if (this.lowWaterMark >= this.highWaterMark) {
      const message = `lowWaterMark (${this.lowWaterMark}) must be below highWaterMark (${high})`;
      throw new InvalidArgumentError(message);
    }
    this.#onError = options.onError ?? logTaskError;
    this.#runner = options.runner;
  }

  /** Tasks running now. */
  get active(): number {
    return this.#active;
  }
  /** Tasks waiting for a slot. */
  get queued(): number {
    return (this.#queue.length - this.#head) >> 1;
  }
  /** True from the moment `queued` reaches the high-water mark until it falls to the low-water mark. */
  get saturated(): boolean {
    return this.#saturated;
  }

  /**
   * Runs `task` now if a slot is free, else queues it. False when the queue is full: the caller
   * answers SYSTEM_BUSY "[OVERLOAD]". Never throws for a task's failure.
   */
  tryRun(task: LimiterTask): boolean {
    return this.#submit(task, PLAIN_TASK);
  }

  /**
   * As {@link tryRun}, the task being the `runner` option applied to `(a, b)`: the dispatcher's
   * hot path. Against `tryRun(() => process(reg, channel, request))` it saves the closure and its
   * context, 121 B a request in the echo server's heap profile. Throws InvalidArgumentError when
   * the limiter has no runner.
   */
  tryRunWith(a: A, b: B): boolean {
    if (this.#runner === undefined) throw new InvalidArgumentError("tryRunWith needs the runner option");
    return this.#submit(a, b);
  }

  #submit(a: unknown, b: unknown): boolean {
    if (this.#active < this.concurrency && this.#head === this.#queue.length) {
      this.#active++;
      this.#run(a, b);
      // A synchronous task may have queued work re-entrantly while holding the last slot.
      if (this.#head !== this.#queue.length) this.#pump();
      return true;
    }
    if (this.queued >= this.maxQueue) return false;
    this.#queue.push(a, b);
    if (!this.#saturated && this.queued >= this.highWaterMark) this.#saturated = true;
    return true;
  }

  /** Calls `listener` each time the limiter stops being saturated. Returns the unsubscribe function. */
  onDrain(listener: () => void): () => void {
    this.#drainListeners.push(listener);
    return () => {
      const i = this.#drainListeners.indexOf(listener);
      if (i !== -1) this.#drainListeners.splice(i, 1);
    };
  }

  /** Runs a queued pair whose slot is already counted in `#active`; gives the slot back when it is done. */
  #run(a: unknown, b: unknown): void {
    let result: unknown;
    try {
      result = b === PLAIN_TASK ? (a as LimiterTask)() : this.#runner!(a as A, b as B);
    } catch (error) {
      this.#active--;
      this.#report(error);
      return;
    }
    if (result == null || typeof (result as PromiseLike<unknown>).then !== "function") {
      this.#active--;
      return;
    }
    try {
      (result as PromiseLike<unknown>).then(this.#settled, this.#failed);
    } catch (error) {
      this.#failed(error);
    }
  }

  #pump(): void {
    if (this.#pumping) return; // the outer loop picks up what re-entrant calls add
    this.#pumping = true;
    try {
      while (this.#active < this.concurrency && this.#head < this.#queue.length) {
        // FIFO pop of one pair, moving the head; compacted once the dead prefix dominates.
        const queue = this.#queue;
        const head = this.#head;
        const a = queue[head];
        const b = queue[head + 1];
        queue[head] = queue[head + 1] = undefined;
        this.#head = head + 2;
        if (this.#head === queue.length) {
          queue.length = 0;
          this.#head = 0;
        } else if (this.#head >= 2048 && this.#head * 2 >= queue.length) {
          this.#queue = queue.slice(this.#head);
          this.#head = 0;
        }
        this.#active++;
        this.#run(a, b);
      }
    } finally {
      this.#pumping = false;
    }
    if (this.#saturated && this.queued <= this.lowWaterMark) {
      this.#saturated = false;
      for (const listener of this.#drainListeners.slice()) {
        try {
          listener();
        } catch (error) {
          this.#report(error);
        }
      }
    }
  }

  #report(error: unknown): void {
    try {
      this.#onError(error);
    } catch {
      // An error reporter that throws has nowhere left to report to.
    }
  }
}
