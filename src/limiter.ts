/**
 * The per-processor executor on the event loop (RocketMQ pairs each processor with a bounded
 * `ThreadPoolExecutor`, whose `RejectedExecutionException` becomes SYSTEM_BUSY "[OVERLOAD]").
 * The permits half of flow control lives in semaphore.ts and is re-exported here.
 */
import { InvalidArgumentError } from "./errors.js";
import { defaultLogger } from "./logger.js";
import { DEFAULT_PROCESSOR_CONCURRENCY, DEFAULT_PROCESSOR_MAX_QUEUE } from "./options.js";
import { checkInteger } from "./semaphore.js";

export * from "./semaphore.js";

/** Queued tasks at which the limiter reports `saturated` (then the channel stops reading). */
export const DEFAULT_HIGH_WATER_MARK = 1024;

/** Options of a {@link ConcurrencyLimiter}. */
export interface ConcurrencyLimiterOptions<A = unknown, B = unknown> {
  /**
   * Tasks running at once; default {@link DEFAULT_PROCESSOR_CONCURRENCY}. RocketMQ's default executor has 8
   * threads (`serverWorkerThreads`), but a thread blocks while a processor waits; here a waiting
   * task costs only its promise, so more may be in flight. 64 equals `serverAsyncSemaphoreValue`.
   */
  concurrency?: number;
  /** Tasks waiting for a slot; beyond it `tryRun` returns false. Default {@link DEFAULT_PROCESSOR_MAX_QUEUE}. */
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
    this.concurrency = checkInteger("concurrency", options.concurrency ?? DEFAULT_PROCESSOR_CONCURRENCY, 1);
    this.maxQueue = checkInteger("maxQueue", options.maxQueue ?? DEFAULT_PROCESSOR_MAX_QUEUE, 0);
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
   * hot path. Against `tryRun(() => process(reg, channel, request))` it saves a closure and its
   * context per request. Throws InvalidArgumentError when the limiter has no runner.
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
      // biome-ignore lint/style/noNonNullAssertion: a task other than PLAIN_TASK comes only from tryRunWith, which checks #runner.
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
