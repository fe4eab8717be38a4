/**
 * Pending calls by opaque: RocketMQ's `responseTable` (NettyRemotingAbstract) with its timeout
 * scanner and failFast. Differences, on purpose:
 * - removal is one delete from the index by opaque (./opaque-index.ts), shared by response,
 *   time-out and failure, so each call ends exactly once (the race of upstream issue #10575
 *   cannot happen);
 * - a call times out within `timerResolutionMs` of its deadline, not after RocketMQ's 1 s sweep
 *   plus 1 s grace (§6.7);
 * - one timer for the whole table, armed for the earliest deadline of a binary min-heap. Settled
 *   calls stay in the heap as tombstones (lazy deletion) until they reach the top or until they
 *   outnumber the live ones, when the heap is rebuilt in O(n): O(1) amortized per settle.
 *
 * Per call the table allocates one PendingCall and nothing else: callers pass shared callbacks
 * plus a per-call `context` (the InvokeCallback of invokeAsync), and the service's permit is
 * released by one settle hook for the whole table: the closures that wrapped the callbacks
 * before nearly quadrupled the heap per pending call (the pending-calls benchmark).
 */

import { type Clock, delayUntil, systemClock } from "../clock.js";
import type { RemotingCommand } from "../codec/remoting-command.js";
import { InvalidArgumentError, TimeoutError } from "../errors.js";
import { defaultLogger, type Logger } from "../logger.js";
import { at, compactHeap, popEarliest, pushByDeadline } from "./deadline-heap.js";
import { OpaqueIndex } from "./opaque-index.js";

/** How late after its deadline a call may time out, so calls due close together share one wake-up. */
export const DEFAULT_TIMER_RESOLUTION_MS = 10;
/**
 * Tombstones tolerated before a rebuild is considered (they must also outnumber live calls). Low,
 * so that settled calls die young: at 1024, with 64 calls in flight, the heap array kept growing
 * past a thousand slots and was trimmed again, garbage on every call.
 */
const MIN_TOMBSTONES_TO_COMPACT = 64;

/**
 * Receives the response of a pending call, and the `context` the call was added with. The context
 * lets a caller pass shared functions plus per-call data instead of a closure per call.
 */
export type ResponseCallback = (response: RemotingCommand, context: unknown) => void;
/** Receives why a pending call failed (TimeoutError, or the error given to `fail*`) and its `context`. */
export type ErrorCallback = (error: Error, context: unknown) => void;

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
  /** Told of every call that ends, however it ends, just before its callback. */
  settleHook?: SettleHook;
}

/**
 * Told of each call that ends: the response or the error, and the `code` and `startedAt` given
 * to `add` (the service gives back the call's permit and records its metrics there: one hook per
 * table, not a wrapper per call). An object with a method shared by every table (a class's), not
 * a closure per table: the table's call site keeps one target in a process with several clients
 * and V8 keeps it optimized (a closure per client was a new target each time, and the compiled
 * fail-all path was thrown away for it at the next channel close).
 */
export interface SettleHook {
  settled(outcome: RemotingCommand | Error, code: number, startedAt: number): void;
}

/** One pending call; fields are nulled when it ends so a tombstone holds no closures. */
class PendingCall {
  constructor(
    /** Order of `add`: failAll ends calls in this order. */
    readonly seq: number,
    readonly opaque: number,
    readonly deadlineAt: number,
    /** The request's code and when it started, for metrics (handed to the settle hook). */
    readonly code: number,
    readonly startedAt: number,
    public owner: object | null,
    public onResponse: ResponseCallback | null,
    public onError: ErrorCallback | null,
    public context: unknown,
  ) {}
}

const NO_SETTLE_HOOK: SettleHook = { settled: () => undefined };

/**
 * A call still pending; an ended one is a tombstone. `owner` is what marks it: failAll nulls it
 * first and the callbacks later (#failCalls), #bury all at once.
 */
function isLive(call: PendingCall): boolean {
  return call.owner !== null;
}

function bySeq(a: PendingCall, b: PendingCall): number {
  return a.seq - b.seq;
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
  readonly #calls = new OpaqueIndex<PendingCall>();
  #added = 0;
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
  readonly #settleHook: SettleHook;
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
    this.#settleHook = options.settleHook ?? NO_SETTLE_HOOK;
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
   * `failAll`); `deadlineAt` is epoch ms, or Infinity for a call that never times out; `context`
   * is handed back to whichever callback runs; `code` and `startedAt` only to the settle hook.
   * Throws InvalidArgumentError when `opaque` is already pending (and then neither callback nor
   * the settle hook runs).
   */
  add(
    opaque: number,
    owner: object,
    deadlineAt: number,
    onResponse: ResponseCallback,
    onError: ErrorCallback,
    context?: unknown,
    code = 0,
    startedAt = 0,
  ): void {
    if (this.#calls.get(opaque) !== undefined) {
      throw new InvalidArgumentError(`opaque ${opaque} is already pending`);
    }
    if (Number.isNaN(deadlineAt)) throw new InvalidArgumentError("deadlineAt must be a number, got NaN");
    const call = new PendingCall(
      this.#added++,
      opaque,
      deadlineAt,
      code,
      startedAt,
      owner,
      onResponse,
      onError,
      context,
    );
    this.#calls.add(call);
    if (deadlineAt === Number.POSITIVE_INFINITY) return;
    pushByDeadline(this.#heap, call);
    if (deadlineAt + this.#resolutionMs < this.#armedAt) this.#arm(deadlineAt + this.#resolutionMs);
  }

  /** True when `opaque` is pending. */
  has(opaque: number): boolean {
    return this.#calls.get(opaque) !== undefined;
  }

  /** True when a call is pending on `owner`: a scan of the table, for idle checks, never per call. */
  hasPendingOn(owner: object): boolean {
    return this.#calls.some((call) => call.owner === owner);
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
    this.#calls.delete(call);
    const onResponse = call.onResponse;
    // Never null: a call in #calls is live, #bury nulls its callbacks only after it left.
    if (onResponse === null) return false;
    const context = call.context;
    this.#bury(call);
    this.#tidy(true);
    this.#settled(call, response);
    try {
      onResponse(response, context);
    } catch (err) {
      this.#logger.error(`response-table: response callback of opaque ${response.opaque} threw`, err);
    }
    return true;
  }

  /** Ends one pending call with `error` (send failure, abort). False when it is not pending. */
  fail(opaque: number, error: Error): boolean {
    const call = this.#calls.get(opaque);
    if (call === undefined) return false;
    this.#calls.delete(call);
    const onError = call.onError;
    if (onError === null) return false; // never, as in complete()
    const context = call.context;
    this.#bury(call);
    this.#tidy();
    this.#callError(call, onError, error, context);
    return true;
  }

  /** Ends every call pending on `owner` with `error` (the channel closed: RocketMQ failFast). Returns how many. */
  failAll(owner: object, error: Error): number {
    // Filtered in place, with no closure: a predicate made per failAll was a new call target
    // each time, and the optimized scan was thrown away at every channel close.
    const victims = this.#calls.values();
    let n = 0;
    for (let i = 0; i < victims.length; i++) {
      const call = at(victims, i);
      if (call.owner === owner) victims[n++] = call;
    }
    victims.length = n;
    return this.#failCalls(victims, error);
  }

  /**
   * Ends `victims` with `error`, in the order they were added (as the Map they once lived in gave
   * them). Every one leaves the index and becomes a tombstone before any callback runs, so a
   * callback that adds or ends calls finds none of them; each keeps its callback and context
   * until its turn. No allocation per call (a kill with 10,000 calls pending ends them all
   * here), and each loop is a method of its own: V8 compiles a long loop while it runs, and a
   * loop compiled inside one method with the next was compiled before the next had run once,
   * then thrown away on reaching it.
   */
  #failCalls(victims: PendingCall[], error: Error): number {
    victims.sort(bySeq);
    this.#remove(victims);
    this.#tidy();
    this.#callErrors(victims, error);
    return victims.length;
  }

  /** Takes `victims` out of the index and makes them tombstones (owner null), callbacks kept. */
  #remove(victims: PendingCall[]): void {
    const n = victims.length;
    // One channel with every pending call (one server, or a kill): the index is emptied at once.
    const everyCall = n === this.#calls.size;
    if (everyCall) this.#calls.clear();
    for (let i = 0; i < n; i++) {
      const call = at(victims, i);
      if (!everyCall) this.#calls.delete(call);
      call.owner = null;
      if (call.deadlineAt !== Number.POSITIVE_INFINITY) this.#tombstones++;
    }
  }

  /** Runs the error callback of each of `victims` (removed by #remove), dropping their references. */
  #callErrors(victims: PendingCall[], error: Error): void {
    for (let i = 0; i < victims.length; i++) {
      const call = at(victims, i);
      const onError = call.onError;
      const context = call.context;
      call.onResponse = null;
      call.onError = null;
      call.context = undefined;
      // Never null: only this loop nulls a victim's callbacks, once.
      if (onError !== null) this.#callError(call, onError, error, context);
    }
  }

  /** Ends a removed call with `error`: the settle hook, then its error callback. */
  #callError(call: PendingCall, onError: ErrorCallback, error: Error, context: unknown): void {
    this.#settled(call, error);
    try {
      onError(error, context);
    } catch (err) {
      this.#logger.error(`response-table: error callback of opaque ${call.opaque} threw`, err);
    }
  }

  /** Tells the settle hook of a call just removed; its failure is logged and never skips the callback. */
  #settled(call: PendingCall, outcome: RemotingCommand | Error): void {
    try {
      this.#settleHook.settled(outcome, call.code, call.startedAt);
    } catch (err) {
      this.#logger.error(`response-table: the settle hook of opaque ${call.opaque} threw`, err);
    }
  }

  /** Marks a removed call as a tombstone and drops its references. */
  #bury(call: PendingCall): void {
    call.owner = null;
    call.onResponse = null;
    call.onError = null;
    call.context = undefined;
    if (call.deadlineAt !== Number.POSITIVE_INFINITY) this.#tombstones++;
  }

  /**
   * After removals: empty table → no heap, and no timer unless `keepTimer`; tombstones
   * dominating → rebuild the heap. A response that empties the table keeps the timer armed (it
   * fires once, finds nothing due and stays unarmed): with one call in flight (invokeSync) every
   * call would otherwise pay a clearTimeout and the next a setTimeout (timers' insert/unenroll
   * showed in the client's profile). Failures and shutdown still disarm, so a closed client
   * leaves no timer behind.
   */
  #tidy(keepTimer = false): void {
    if (this.#calls.size === 0) {
      this.#heap.length = 0;
      this.#tombstones = 0;
      if (!keepTimer) this.#disarm();
    } else if (this.#tombstones >= MIN_TOMBSTONES_TO_COMPACT && this.#tombstones > this.#calls.size) {
      compactHeap(this.#heap, isLive);
      this.#tombstones = 0;
    }
  }

  /** The timer callback: times out every call whose deadline has passed, then re-arms. */
  #expire(): void {
    this.#timer = undefined;
    this.#armedAt = Number.POSITIVE_INFINITY;
    const now = this.#clock.now();
    const heap = this.#heap;
    while (heap.length > 0 && at(heap, 0).deadlineAt <= now) {
      const call = popEarliest(heap);
      const { onError, owner, opaque, context } = call;
      // Both are nulled together (#bury): a tombstone.
      if (onError === null || owner === null) {
        this.#tombstones--;
        continue;
      }
      this.#calls.delete(call);
      call.owner = null;
      call.onResponse = null;
      call.onError = null;
      call.context = undefined;
      this.#timedOut++;
      let error: Error;
      try {
        error = this.#createTimeoutError(opaque, owner);
      } catch (err) {
        error = defaultTimeoutError(opaque);
        this.#logger.error("response-table: createTimeoutError threw", err);
      }
      this.#callError(call, onError, error, context);
    }
    if (this.#calls.size === 0) {
      this.#heap.length = 0;
      this.#tombstones = 0;
      this.#disarm();
    } else if (heap.length > 0 && at(heap, 0).deadlineAt + this.#resolutionMs < this.#armedAt) {
      this.#arm(at(heap, 0).deadlineAt + this.#resolutionMs);
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
}
