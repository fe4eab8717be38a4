/**
 * The invoke core that RemotingClient's calls and RemotingServer's pushes share (RocketMQ's
 * NettyRemotingAbstract.invokeImpl and invokeOnewayImpl): the async and oneway permits, the
 * response table that pending calls wait in, and the write. Channels and processors are the
 * service's (remoting-service.ts); this file only sends requests and waits for their answers.
 *
 * Error convention of the call path (this file, remoting-client.ts, remoting-server.ts): a
 * public call never throws. It rejects its promise, or runs its callback's operationFail, with
 * an MqwireError (or the AbortSignal's reason, or what an RPC hook failed with). Inside, a
 * synchronous step that can fail returns its error as a value instead of throwing, and is named
 * for it: `check…` (`number | InvalidArgumentError`), `try…` and `refuse…` (`Error |
 * undefined`). The fast path then needs neither try/catch nor an async frame, and its caller
 * turns the value into the call's rejection or callback. Async steps reject.
 */

import type { CallMetrics, CallResult } from "../call-metrics.js";
import { type Clock, monotonicNow } from "../clock.js";
import type { RemotingCommand } from "../codec/remoting-command.js";
import { ChannelClosedError, ErrorCodes, isMqwireError, SendError, TimeoutError } from "../errors.js";
import { Semaphore } from "../limiter.js";
import type { Logger } from "../logger.js";
import type { RemotingChannel } from "./channel.js";
import { type RpcHook, runAfterHooks, runBeforeHooks } from "./hooks.js";
import { type InvokeCallback, runCallback } from "./invoke-types.js";
import {
  type ErrorCallback,
  type ResponseCallback,
  ResponseTable,
  type SettleHook,
} from "./response-table.js";

/**
 * The promise of every oneway written at once: one settled promise shared by all of them (a
 * promise, once resolved, never changes), so the fast path allocates none.
 */
const SENT: Promise<void> = Promise.resolve();

/** The hooks of a call that runs none (RocketMQ's server push). */
export const NO_HOOKS: readonly RpcHook[] = Object.freeze([]);

/** The `result` of a call that ended with `error` (RocketMQ's names where it has one). */
function callResultOf(error: Error): CallResult {
  if (!isMqwireError(error)) return "cancelled"; // an AbortSignal's reason: nothing else fails a call
  switch (error.code) {
    case ErrorCodes.TIMEOUT:
      return "timeout";
    case ErrorCodes.SEND:
      return "write_channel_failed";
    case ErrorCodes.CHANNEL_CLOSED:
      return "channel_closed";
    default:
      return "error";
  }
}

/** What an {@link Invoker} is built from. */
export interface InvokerOptions {
  readonly logger: Logger;
  /** Of the response table's and the permit waits' deadlines. */
  readonly clock: Clock;
  /** The service's once-per-run reader of `clock` (oneway deadlines are computed only on a wait). */
  readonly now: () => number;
  readonly asyncPermits: number;
  readonly onewayPermits: number;
  /** Where calls are recorded; undefined with the option `metrics: false`. */
  readonly callMetrics: CallMetrics | undefined;
  /** Why a request must not be written to `channel` now, or undefined (see RemotingService.refuseWrite). */
  readonly refuseWrite: (channel: RemotingChannel) => Error | undefined;
}

/** Sends requests on channels and waits for their answers; one per server or client. */
export class Invoker implements SettleHook {
  /** Pending calls by opaque. */
  readonly responseTable: ResponseTable;
  /** RocketMQ's semaphoreAsync: one permit per call in the response table. */
  readonly asyncPermits: Semaphore;
  /** RocketMQ's semaphoreOneway: one permit per oneway being written. */
  readonly onewayPermits: Semaphore;
  readonly #logger: Logger;
  readonly #now: () => number;
  readonly #callMetrics: CallMetrics | undefined;
  readonly #refuseWrite: (channel: RemotingChannel) => Error | undefined;

  constructor(o: InvokerOptions) {
    this.#logger = o.logger;
    this.#now = o.now;
    this.#callMetrics = o.callMetrics;
    this.#refuseWrite = o.refuseWrite;
    this.responseTable = new ResponseTable({
      clock: o.clock,
      logger: o.logger,
      settleHook: this,
      createTimeoutError: (opaque, owner) =>
        new TimeoutError(
          `wait response on the channel <${(owner as RemotingChannel).remoteAddress}> timeout (opaque ${opaque})`,
        ),
    });
    this.asyncPermits = new Semaphore({ permits: o.asyncPermits, kind: "async", clock: o.clock });
    this.onewayPermits = new Semaphore({ permits: o.onewayPermits, kind: "oneway", clock: o.clock });
  }

  /**
   * @internal The response table's SettleHook. Every call in the table holds one async permit
   * (#registerAndWrite): one hook per table gives it back and records the call, instead of a
   * wrapper closure per call.
   */
  settled(outcome: RemotingCommand | Error, code: number, startedAt: number): void {
    this.asyncPermits.release();
    const metrics = this.#callMetrics;
    if (metrics === undefined) return;
    const micros = (monotonicNow() - startedAt) * 1000;
    if (outcome instanceof Error) metrics.record(code, -1, callResultOf(outcome), micros, false);
    else metrics.record(code, outcome.code, "success", micros, false);
  }

  /** Gives back every oneway permit `channel` held while it was unwritable (on drain and close). */
  releaseHeldOnewayPermits(channel: RemotingChannel): void {
    for (let n = channel.heldOnewayPermits; n > 0; n--) this.onewayPermits.release();
    channel.heldOnewayPermits = 0;
  }

  /**
   * The invoke core (RocketMQ's invokeImpl): `hooks` before the write, then a permit (waiting
   * counts against the deadline), the response table, the write, and `hooks` after the response.
   * Every call ends exactly once: response, TimeoutError, SendError, ChannelClosedError, a hook's
   * error or the signal's reason. Clients pass their RPC hooks; server pushes {@link NO_HOOKS}.
   */
  invoke(
    channel: RemotingChannel,
    request: RemotingCommand,
    deadlineAt: number,
    signal: AbortSignal | undefined,
    hooks: readonly RpcHook[],
  ): Promise<RemotingCommand> {
    // Fast path (no hooks, no signal, a permit free now): one Promise, no async frame, and
    // resolve/reject go into the table as they are. It is most calls of a pipelined client,
    // where async/await chains showed up in the profile.
    if (signal === undefined && hooks.length === 0 && this.asyncPermits.tryAcquire()) {
      return new Promise((resolve, reject) =>
        this.#registerAndWrite(channel, request, deadlineAt, resolve, reject, undefined),
      );
    }
    return this.#invokeSlow(channel, request, deadlineAt, signal, hooks);
  }

  /**
   * The callback form of {@link invoke} (RocketMQ's invokeAsync): with no hooks and a permit
   * free, no Promise and no closure at all: the user's callback object is the call's context in
   * the response table, handed to two functions bound once per invoker.
   */
  invokeCallback(
    channel: RemotingChannel,
    request: RemotingCommand,
    deadlineAt: number,
    hooks: readonly RpcHook[],
    callback: InvokeCallback,
  ): void {
    if (hooks.length === 0 && this.asyncPermits.tryAcquire()) {
      this.#registerAndWrite(
        channel,
        request,
        deadlineAt,
        this.#succeedCallback,
        this.#failCallback,
        callback,
      );
      return;
    }
    this.#invokeSlow(channel, request, deadlineAt, undefined, hooks).then(
      (response) => this.#succeedCallback(response, callback),
      (error: Error) => this.#failCallback(error, callback),
    );
  }

  // The context of an invokeAsync call is its InvokeCallback (see invokeCallback).
  readonly #succeedCallback = (response: RemotingCommand, callback: unknown): void =>
    runCallback(callback as InvokeCallback, response, null, this.#logger);
  readonly #failCallback = (error: Error, callback: unknown): void =>
    runCallback(callback as InvokeCallback, null, error, this.#logger);

  async #invokeSlow(
    channel: RemotingChannel,
    request: RemotingCommand,
    deadlineAt: number,
    signal: AbortSignal | undefined,
    hooks: readonly RpcHook[],
  ): Promise<RemotingCommand> {
    // Client side (RocketMQ's NettyRemotingClient.invokeImpl): before-hooks just before the
    // write, after-hooks only when a response arrived; a hook's error fails the call.
    const beforeError = await runBeforeHooks(hooks, channel.remoteAddress, request, channel);
    if (beforeError) throw beforeError;
    if (!this.asyncPermits.tryAcquire()) await this.asyncPermits.acquire(deadlineAt, signal);
    const response = await new Promise<RemotingCommand>((resolve, reject) =>
      this.#registerAndWrite(channel, request, deadlineAt, resolve, reject, undefined, signal),
    );
    const afterError = await runAfterHooks(hooks, channel.remoteAddress, request, response, channel);
    if (afterError) throw afterError;
    return response;
  }

  /**
   * With an async permit already taken: puts the call in the response table (whose settle hook
   * releases the permit when the call ends, however it ends) and writes the request. `context`
   * is handed back to `onResponse` / `onError`. Aborting `signal` fails the call with its reason.
   */
  #registerAndWrite(
    channel: RemotingChannel,
    request: RemotingCommand,
    deadlineAt: number,
    onResponse: ResponseCallback,
    onError: ErrorCallback,
    context: unknown,
    signal?: AbortSignal,
  ): void {
    const opaque = request.opaque;
    const table = this.responseTable;
    let abort: (() => void) | undefined;
    if (signal !== undefined) {
      // Only a call with a signal pays for closures: its listener must go when the call ends.
      const onAbort = (): void => void table.fail(opaque, signal.reason);
      const succeed = onResponse;
      const fail = onError;
      onResponse = (response, ctx) => {
        signal.removeEventListener("abort", onAbort);
        succeed(response, ctx);
      };
      onError = (error, ctx) => {
        signal.removeEventListener("abort", onAbort);
        fail(error, ctx);
      };
      abort = onAbort;
    }
    try {
      const startedAt = this.#callMetrics !== undefined ? monotonicNow() : 0;
      table.add(opaque, channel, deadlineAt, onResponse, onError, context, request.code, startedAt);
    } catch (err) {
      // Not in the table, so the settle hook will not run: give the permit back here.
      this.asyncPermits.release();
      onError(err as Error, context);
      return;
    }
    if (signal !== undefined && abort !== undefined) {
      // Aborted during the hooks or the permit wait: the call ends before anything is written.
      if (signal.aborted) {
        table.fail(opaque, signal.reason);
        return;
      }
      signal.addEventListener("abort", abort, { once: true });
    }
    if (!channel.isActive) {
      // The reason it closed (a TLS alert, a reset) goes along, when the transport had one.
      const closed = `channel to ${channel.remoteAddress} is closed`;
      table.fail(opaque, new ChannelClosedError(closed, { cause: channel.closeError }));
      return;
    }
    const refused = this.#refuseWrite(channel);
    if (refused !== undefined) {
      table.fail(opaque, refused);
      return;
    }
    const cause = channel.trySend(request);
    if (cause !== undefined) {
      table.fail(opaque, new SendError(`send request to <${channel.remoteAddress}> failed`, { cause }));
    } else channel.requestWritten(this.#now);
  }

  /**
   * RocketMQ's invokeOnewayImpl: the oneway flag, `hooks` before the write, a oneway permit
   * (waiting counts against `timeoutMs`), the write. The permit is held until the channel can
   * take writes again, so unanswered oneways cannot pile up without bound in an unwritable
   * channel. It takes a time-out, not a deadline: only a wait needs the clock, and a clock read
   * per oneway showed in the oneway benchmark's profile.
   */
  invokeOneway(
    channel: RemotingChannel,
    request: RemotingCommand,
    timeoutMs: number,
    signal: AbortSignal | undefined,
    hooks: readonly RpcHook[],
  ): Promise<void> {
    request.markOneway();
    // Fast path (no hooks, a permit free now): written at once and answered with a settled
    // promise, no async frame (two promises and two frames per frame sent showed in the profile).
    if (hooks.length === 0 && this.onewayPermits.tryAcquire()) {
      const error = this.#trySendOneway(channel, request);
      return error === undefined ? SENT : Promise.reject(error);
    }
    return this.#invokeOnewaySlow(channel, request, this.#now() + timeoutMs, signal, hooks);
  }

  async #invokeOnewaySlow(
    channel: RemotingChannel,
    request: RemotingCommand,
    deadlineAt: number,
    signal: AbortSignal | undefined,
    hooks: readonly RpcHook[],
  ): Promise<void> {
    const hookError = await runBeforeHooks(hooks, channel.remoteAddress, request, channel);
    if (hookError) throw hookError;
    const permits = this.onewayPermits;
    if (!permits.tryAcquire()) await permits.acquire(deadlineAt, signal);
    const error = this.#trySendOneway(channel, request);
    if (error !== undefined) throw error;
  }

  /** Writes a oneway request holding a permit; the permit is kept while the channel is unwritable. */
  #trySendOneway(channel: RemotingChannel, request: RemotingCommand): Error | undefined {
    const permits = this.onewayPermits;
    const refused = this.#refuseWrite(channel);
    if (refused !== undefined) {
      permits.release();
      return refused;
    }
    // trySend refuses a closed or closing channel too (ChannelClosedError, kept as the cause).
    const cause = channel.trySend(request);
    if (cause !== undefined) {
      permits.release();
      return new SendError(`send oneway request to <${channel.remoteAddress}> failed`, { cause });
    }
    if (channel.isWritable) permits.release();
    else channel.heldOnewayPermits++;
    // A oneway's latency is its write, done by now: counted, no clock read.
    this.#callMetrics?.record(request.code, -1, "oneway", 0, false);
    return undefined;
  }
}
