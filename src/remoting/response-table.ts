/**
 * Pending calls by opaque: RocketMQ's `responseTable` (NettyRemotingAbstract) with its timeout
 * scanner and failFast. Differences, on purpose:
 * - removal is one `Map.delete` shared by response, time-out and failure, so each call ends
 *   exactly once (the race of upstream issue #10575 cannot happen);
 * - a call times out within `timerResolutionMs` of its deadline, not after RocketMQ's 1 s sweep
 *   plus 1 s grace (§6.7);
 * - one timer for the whole table, armed for the earliest deadline of a binary min-heap. Settled
 *   calls stay in the heap as tombstones (lazy deletion) until they reach the top or until they
 *   outnumber the live ones, when the heap is rebuilt in O(n): O(1) amortized per settle.
 */

import { type Clock, delayUntil, systemClock } from "../clock.js";
import type { RemotingCommand } from "../codec/remoting-command.js";
import { InvalidArgumentError, TimeoutError } from "../errors.js";
import { defaultLogger, type Logger } from "../logger.js";

/** How late after its deadline a call may time out, so calls due close together share one wake-up. */
export const DEFAULT_TIMER_RESOLUTION_MS = 10;
/** Tombstones tolerated before a rebuild is considered (they must also outnumber live calls). */
const MIN_TOMBSTONES_TO_COMPACT = 1024;

/** Receives the response of a pending call. */
export type ResponseCallback = (response: RemotingCommand) => void;
/** Receives why a pending call failed: TimeoutError, or the error given to `fail*`. */
export type ErrorCallback = (error: Error) => void;

/** Options of a {@link ResponseTable}. */
export interface ResponseTableOptions {
  /** Default `systemClock`. */
  clock?: Clock;
  /** Slack after a deadline within which its time-out fires, in ms; default {@link DEFAULT_TIMER_RESOLUTION_MS}. */
  timerResolutionMs?: number;
  /** Builds the error of a timed-out call (e.g. RocketMQ's "wait response on the channel <addr> timeout"). */
  createTimeoutError?: (opaque: number, owner: object) => Error;
  /** Where a callback that throws is reported (RocketMQ logs and continues); default `defaultLogger`. */
  logger?: Logger;
}

/** One pending call; fields are nulled when it ends so a tombstone holds no closures. */
class PendingCall {
  constructor(
    readonly opaque: number,
    readonly deadlineAt: number,
    public owner: object | null,
    public onResponse: ResponseCallback | null,
    public onError: ErrorCallback | null,
  ) {}
}

function defaultTimeoutError(opaque: number): Error {
  return new TimeoutError(`wait response timeout, opaque ${opaque}`);
}

/**
 * The pending calls of a remoting instance, keyed by opaque only (RocketMQ §16). Every call ends
 * exactly once: response, time-out, or failure, whichever removes it first. Callbacks run after
 * the call is removed, so they may add calls freely.
 */
export class ResponseTable {
  readonly #calls = new Map<number, PendingCall>();
  #heap: PendingCall[] = [];
  #tombstones = 0;
  #timer: unknown;
  #armedAt = Number.POSITIVE_INFINITY;
  #lateResponses = 0;
  #timedOut = 0;
  readonly #clock: Clock;
  readonly #resolutionMs: number;
  readonly #createTimeoutError: (opaque: number, owner: object) => Error;
  readonly #logger: Logger;
  readonly #onTimer = (): void => this.#expire();

  constructor(options: ResponseTableOptions = {}) {
    const resolution = options.timerResolutionMs ?? DEFAULT_TIMER_RESOLUTION_MS;
    if (!(resolution >= 0 && resolution <= 1000)) {
      throw new InvalidArgumentError(`timerResolutionMs must be between 0 and 1000, got ${resolution}`);
    }
    this.#resolutionMs = resolution;
    this.#clock = options.clock ?? systemClock;
    this.#createTimeoutError = options.createTimeoutError ?? defaultTimeoutError;
    this.#logger = options.logger ?? defaultLogger;
  }

  /** Calls pending now. */
  get size(): number {
    return this.#calls.size;
  }
  /** Responses dropped because no pending call matched (late after a time-out, or unknown). */
  get lateResponses(): number {
    return this.#lateResponses;
  }
  /** Calls ended by their deadline. */
  get timedOut(): number {
    return this.#timedOut;
  }
  /** Entries in the deadline heap, tombstones included (for tests and diagnostics). */
  get deadlineQueueLength(): number {
    return this.#heap.length;
  }

  /**
   * Registers a pending call. `owner` identifies the channel the request went out on (for
   * `failAll`); `deadlineAt` is epoch ms, or Infinity for a call that never times out.
   * Throws InvalidArgumentError when `opaque` is already pending.
   */
  add(
    opaque: number,
    owner: object,
    deadlineAt: number,
    onResponse: ResponseCallback,
    onError: ErrorCallback,
  ): void {
    if (this.#calls.has(opaque)) throw new InvalidArgumentError(`opaque ${opaque} is already pending`);
    if (Number.isNaN(deadlineAt)) throw new InvalidArgumentError("deadlineAt must be a number, got NaN");
    const call = new PendingCall(opaque, deadlineAt, owner, onResponse, onError);
    this.#calls.set(opaque, call);
    if (deadlineAt === Number.POSITIVE_INFINITY) return;
    this.#push(call);
    if (deadlineAt + this.#resolutionMs < this.#armedAt) this.#arm(deadlineAt + this.#resolutionMs);
  }

  /** True when `opaque` is pending. */
  has(opaque: number): boolean {
    return this.#calls.has(opaque);
  }

  /**
   * Ends the call `response.opaque` with this response. When no call matches, or `owner` is given
   * and the call went out on another channel, the response is dropped, counted in
   * `lateResponses`, and false is returned (RocketMQ §5.2 logs "not matched any request").
   */
  complete(response: RemotingCommand, owner?: object): boolean {
    const call = this.#calls.get(response.opaque);
    if (call === undefined || (owner !== undefined && call.owner !== owner)) {
      this.#lateResponses++;
      return false;
    }
    this.#calls.delete(response.opaque);
    const onResponse = call.onResponse!;
    this.#bury(call);
    this.#tidy();
    try {
      onResponse(response);
    } catch (err) {
      this.#logger.error(`response-table: response callback of opaque ${response.opaque} threw`, err);
    }
    return true;
  }

  /** Ends one pending call with `error` (send failure, abort). False when it is not pending. */
  fail(opaque: number, error: Error): boolean {
    const call = this.#calls.get(opaque);
    if (call === undefined) return false;
    this.#calls.delete(opaque);
    const onError = call.onError!;
    this.#bury(call);
    this.#tidy();
    this.#callError(onError, error, opaque);
    return true;
  }

  /** Ends every call pending on `owner` with `error` (the channel closed: RocketMQ failFast). Returns how many. */
  failAll(owner: object, error: Error): number {
    const victims: PendingCall[] = [];
    for (const call of this.#calls.values()) if (call.owner === owner) victims.push(call);
    return this.#failCalls(victims, error);
  }

  /** Ends every pending call with `error` (shutdown). Returns how many. */
  failEverything(error: Error): number {
    return this.#failCalls(Array.from(this.#calls.values()), error);
  }

  #failCalls(victims: PendingCall[], error: Error): number {
    const callbacks: ErrorCallback[] = new Array(victims.length);
    for (let i = 0; i < victims.length; i++) {
      const call = victims[i]!;
      this.#calls.delete(call.opaque);
      callbacks[i] = call.onError!;
      this.#bury(call);
    }
    this.#tidy();
    for (let i = 0; i < victims.length; i++) this.#callError(callbacks[i]!, error, victims[i]!.opaque);
    return victims.length;
  }

  #callError(onError: ErrorCallback, error: Error, opaque: number): void {
    try {
      onError(error);
    } catch (err) {
      this.#logger.error(`response-table: error callback of opaque ${opaque} threw`, err);
    }
  }

  /** Marks a removed call as a tombstone and drops its references. */
  #bury(call: PendingCall): void {
    call.owner = null;
    call.onResponse = null;
    call.onError = null;
    if (call.deadlineAt !== Number.POSITIVE_INFINITY) this.#tombstones++;
  }

  /** After removals: empty table → no heap, no timer; tombstones dominating → rebuild the heap. */
  #tidy(): void {
    if (this.#calls.size === 0) {
      this.#heap.length = 0;
      this.#tombstones = 0;
      this.#disarm();
    } else if (this.#tombstones >= MIN_TOMBSTONES_TO_COMPACT && this.#tombstones > this.#calls.size) {
      this.#compact();
    }
  }

  /** The timer callback: times out every call whose deadline has passed, then re-arms. */
  #expire(): void {
    this.#timer = undefined;
    this.#armedAt = Number.POSITIVE_INFINITY;
    const now = this.#clock.now();
    const heap = this.#heap;
    while (heap.length > 0 && heap[0]!.deadlineAt <= now) {
      const call = this.#pop();
      if (call.onError === null) {
        this.#tombstones--;
        continue;
      }
      this.#calls.delete(call.opaque);
      const { onError, owner, opaque } = call;
      call.owner = null;
      call.onResponse = null;
      call.onError = null;
      this.#timedOut++;
      let error: Error;
      try {
        error = this.#createTimeoutError(opaque, owner!);
      } catch (err) {
        error = defaultTimeoutError(opaque);
        this.#logger.error("response-table: createTimeoutError threw", err);
      }
      this.#callError(onError, error, opaque);
    }
    if (this.#calls.size === 0) {
      this.#heap.length = 0;
      this.#tombstones = 0;
      this.#disarm();
    } else if (heap.length > 0 && heap[0]!.deadlineAt + this.#resolutionMs < this.#armedAt) {
      this.#arm(heap[0]!.deadlineAt + this.#resolutionMs);
    }
  }

  #arm(fireAt: number): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#armedAt = fireAt;
    this.#timer = this.#clock.setTimeout(this.#onTimer, delayUntil(fireAt, this.#clock.now()));
  }

  #disarm(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#armedAt = Number.POSITIVE_INFINITY;
  }

  #push(call: PendingCall): void {
    const heap = this.#heap;
    let i = heap.length;
    heap.push(call);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const above = heap[parent]!;
      if (above.deadlineAt <= call.deadlineAt) break;
      heap[i] = above;
      i = parent;
    }
    heap[i] = call;
  }

  #pop(): PendingCall {
    const heap = this.#heap;
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length > 0) this.#siftDown(last, 0);
    return top;
  }

  /** Places `call` at hole `i` and moves it down until both children are later. */
  #siftDown(call: PendingCall, i: number): void {
    const heap = this.#heap;
    const n = heap.length;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && heap[child + 1]!.deadlineAt < heap[child]!.deadlineAt) child++;
      const below = heap[child]!;
      if (call.deadlineAt <= below.deadlineAt) break;
      heap[i] = below;
      i = child;
    }
    heap[i] = call;
  }

  /** Drops the tombstones in place and re-heapifies bottom-up (Floyd, O(n)). */
  #compact(): void {
    const heap = this.#heap;
    let n = 0;
    for (let i = 0; i < heap.length; i++) {
      const call = heap[i]!;
      if (call.onError !== null) heap[n++] = call;
    }
    heap.length = n;
    this.#tombstones = 0;
    for (let i = (n >> 1) - 1; i >= 0; i--) this.#siftDown(heap[i]!, i);
  }
}
