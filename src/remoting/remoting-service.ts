/**
 * What RemotingServer and RemotingClient share (RocketMQ's RemotingService + NettyRemotingAbstract):
 * processors, RPC hooks, the request pipeline, one response table keyed by opaque, the async and
 * oneway permits, the invoke core used for client calls and server push alike, and the channel
 * events. Each channel reports to its service through the ChannelOwner interface.
 */
import { EventEmitter } from "node:events";
import type { Duplex } from "node:stream";
import { type Clock, callClock, monotonicNow } from "../clock.js";
import type { Codec } from "../codec/codec.js";
import { type CommandInit, RemotingCommand } from "../codec/remoting-command.js";
import { rocketmqCodec } from "../codec/rocketmq-codec.js";
import { ProtocolEngine } from "../engine/protocol-engine.js";
import { ChannelClosedError, ErrorCodes, isMqwireError, SendError, TimeoutError } from "../errors.js";
import { Semaphore } from "../limiter.js";
import type { Logger } from "../logger.js";
import { CallMetrics, type CallResult, diagnostics, type MetricsSnapshot } from "../metrics.js";
import type { ResolvedRemotingOptions } from "../options.js";
import { SocketTransport } from "../transport/socket-transport.js";
import type { IdleKind } from "../transport/transport.js";
import { type ChannelOwner, RemotingChannel } from "./channel.js";
import { Dispatcher } from "./dispatcher.js";
import { type RequestPipeline, type RpcHook, runAfterHooks, runBeforeHooks } from "./hooks.js";
import { type InvokeCallback, type RemotingEvents, runCallback } from "./invoke-types.js";
import type { ProcessorFunction, ProcessorOptions, RequestProcessor } from "./processor.js";
import { type ErrorCallback, type ResponseCallback, ResponseTable } from "./response-table.js";

/**
 * The promise of every oneway written at once: one settled promise shared by all of them (a
 * promise, once resolved, never changes), so the fast path allocates none.
 */
const SENT: Promise<void> = Promise.resolve();

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

export { type InvokeCallback, type InvokeOptions, type RemotingEvents, runCallback } from "./invoke-types.js";

/** A connecting side's channel: it speaks first and trusts its server, so no deadlines. */
const NO_DEADLINES = { handshakeTimeoutMs: 0, frameTimeoutMs: 0 } as const;

export abstract class RemotingService extends EventEmitter<RemotingEvents> implements ChannelOwner {
  protected readonly dispatcher: Dispatcher;
  protected readonly responseTable: ResponseTable;
  protected readonly asyncPermits: Semaphore;
  protected readonly onewayPermits: Semaphore;
  protected readonly codec: Codec<RemotingCommand>;
  protected readonly logger: Logger;
  /** The one clock of this side (options.clock): every deadline is an epoch ms of it. */
  protected readonly clock: Clock;
  /** `clock.now()` read once per synchronous run: what call deadlines are computed from. */
  protected readonly now: () => number;
  readonly #base: ResolvedRemotingOptions;
  #requestsReceived = 0;
  /** Calls this side made, and requests it served (metrics()); recorded unless options.metrics is false. */
  readonly #metricsOn: boolean;
  readonly #callMetrics = new CallMetrics();
  readonly #requestMetrics = new CallMetrics();
  /** Open channels, for the bytes of metrics(); closed ones leave their bytes in #closedBytes*. */
  readonly #live = new Set<RemotingChannel>();
  #opened = 0;
  #closedBytesIn = 0;
  #closedBytesOut = 0;

  constructor(options: ResolvedRemotingOptions, codec: Codec<RemotingCommand> | undefined) {
    super();
    this.#base = options;
    this.#metricsOn = options.metrics;
    this.logger = options.logger;
    this.clock = options.clock;
    this.now = callClock(options.clock);
    this.codec = codec ?? rocketmqCodec;
    this.dispatcher = new Dispatcher(options.logger);
    this.responseTable = new ResponseTable({
      clock: options.clock,
      logger: options.logger,
      // Every call in the table holds one async permit (#register): one hook per service gives
      // it back and records the call, instead of a wrapper closure per call.
      onSettle: (outcome, code, startedAt) => {
        this.asyncPermits.release();
        if (!this.#metricsOn) return;
        const micros = (monotonicNow() - startedAt) * 1000;
        if (outcome instanceof Error) this.#callMetrics.record(code, -1, callResultOf(outcome), micros);
        else this.#callMetrics.record(code, outcome.code, "success", micros);
      },
      createTimeoutError: (opaque, owner) =>
        new TimeoutError(
          `wait response on the channel <${(owner as RemotingChannel).remoteAddress}> timeout (opaque ${opaque})`,
        ),
    });
    this.asyncPermits = new Semaphore({ permits: options.asyncPermits, kind: "async", clock: options.clock });
    this.onewayPermits = new Semaphore({
      permits: options.onewayPermits,
      kind: "oneway",
      clock: options.clock,
    });
  }

  abstract start(): Promise<void>;

  /** A request carrying this side's serialize type, language and version (RocketMQ: the process defaults). */
  createRequest(code: number, init: Omit<CommandInit, "code" | "flag"> = {}): RemotingCommand {
    const command = RemotingCommand.createRequest(code, init);
    const base = this.#base;
    if (init.serializeType === undefined) command.serializeType = base.serializeType;
    if (init.language === undefined) command.language = base.language;
    if (init.version === undefined) command.version = base.version;
    return command;
  }
  abstract shutdown(): Promise<void>;

  /** Registers the processor of one request code, with its own concurrency limit and queue. */
  registerProcessor(
    code: number,
    processor: RequestProcessor | ProcessorFunction,
    options?: ProcessorOptions,
  ): void {
    this.dispatcher.register(code, processor, options);
  }
  /** The processor for codes nobody registered (RocketMQ's defaultRequestProcessorPair). */
  registerDefaultProcessor(
    processor: RequestProcessor | ProcessorFunction,
    options?: ProcessorOptions,
  ): void {
    this.dispatcher.registerDefault(processor, options);
  }
  /** Adds a hook run before and after every call, in registration order. */
  registerRpcHook(hook: RpcHook): void {
    this.dispatcher.registerRpcHook(hook);
  }
  /** Removes every hook. */
  clearRpcHooks(): void {
    this.dispatcher.clearRpcHooks();
  }
  /** Sets the pipeline run between the before-hooks and the processor (RocketMQ 5.3+). */
  setRequestPipeline(pipeline: RequestPipeline | undefined): void {
    this.dispatcher.setRequestPipeline(pipeline);
  }
  /** The registered hooks, in the order they run. */
  get rpcHooks(): readonly RpcHook[] {
    return this.dispatcher.rpcHooks;
  }
  /** Requests received from peers since start. */
  get requestsReceived(): number {
    return this.#requestsReceived;
  }
  /** Calls waiting for a response. */
  get pendingCalls(): number {
    return this.responseTable.size;
  }
  /** Responses that arrived after their call had ended (time-out) and were dropped. */
  get lateResponses(): number {
    return this.responseTable.lateResponses;
  }

  /**
   * A snapshot of this side's figures: connections, bytes, calls in flight, and per request
   * code, response code and result the count, errors and latency (p50, p99, max) of the calls
   * it made and of the requests it served. Per-code rows stay empty with the option `metrics:
   * false`; recording costs a few tens of ns a call (see README, "Metrics").
   */
  metrics(): MetricsSnapshot {
    let bytesIn = this.#closedBytesIn;
    let bytesOut = this.#closedBytesOut;
    for (const channel of this.#live) {
      bytesIn += channel.engine.transport.bytesRead;
      bytesOut += channel.engine.transport.bytesWritten;
    }
    return {
      connections: { open: this.#live.size, opened: this.#opened },
      bytes: { in: bytesIn, out: bytesOut },
      calls: this.#callMetrics.snapshot(this.responseTable.size),
      requests: this.#requestMetrics.snapshot(this.dispatcher.inProcess),
    };
  }

  /** @internal The per-code tables behind metrics(), for the OpenTelemetry binding. */
  get callMetrics(): { readonly calls: CallMetrics; readonly requests: CallMetrics } {
    return { calls: this.#callMetrics, requests: this.#requestMetrics };
  }

  /** Wraps a connected or accepted Duplex: driver → engine → channel. */
  protected createChannel(
    duplex: Duplex,
    negotiate: boolean,
    deadlines: { handshakeTimeoutMs: number; frameTimeoutMs: number } = NO_DEADLINES,
  ): RemotingChannel {
    const o = this.#base;
    const transport = new SocketTransport(duplex);
    const engine = new ProtocolEngine<RemotingCommand>(transport, {
      codecs: [this.codec],
      negotiate,
      maxFrameBytes: o.maxFrameBytes,
      maxHeaderBytes: o.maxHeaderBytes,
      maxExtFields: o.maxExtFields,
      handshakeTimeoutMs: deadlines.handshakeTimeoutMs,
      frameTimeoutMs: deadlines.frameTimeoutMs,
      idle: { allIdleMs: o.channelMaxIdleMs },
      closeGraceMs: o.closeGraceMs,
      logger: o.logger,
      now: this.now,
    });
    // Only the accepting side (negotiate) pauses reads while unwritable, as RocketMQ's server.
    const channel = new RemotingChannel(engine, this, o.channelMaxPendingRequests, negotiate);
    // One pair of listeners per channel gives back every oneway permit held while it was unwritable.
    const releaseHeld = (): void => {
      for (let n = channel.heldOnewayPermits; n > 0; n--) this.onewayPermits.release();
      channel.heldOnewayPermits = 0;
    };
    engine.on("drain", releaseHeld).on("close", releaseHeld);
    engine.start(channel);
    this.#opened++;
    this.#live.add(channel);
    if (diagnostics.connectionOpen.hasSubscribers) {
      diagnostics.connectionOpen.publish({ channel, side: negotiate ? "server" : "client" });
    }
    return channel;
  }

  /**
   * The invoke core (RocketMQ's invokeImpl): permit (waiting counts against the deadline), then
   * the response table, then the write. Every call ends exactly once: response, TimeoutError,
   * SendError, ChannelClosedError or the signal's reason. `hooks` runs the RPC hooks around it
   * (clients do; RocketMQ's server push does not).
   */
  protected invokeChannel(
    channel: RemotingChannel,
    request: RemotingCommand,
    deadlineAt: number,
    signal: AbortSignal | undefined,
    hooks: boolean,
  ): Promise<RemotingCommand> {
    // Fast path (no hooks, no signal, a permit free now): one Promise, no async frames. It is
    // most calls of a pipelined client; the profile showed async/await chains costing more than
    // the codec. resolve/reject go into the table as they are: no wrapper per call.
    if (
      signal === undefined &&
      (!hooks || this.dispatcher.rpcHooks.length === 0) &&
      this.asyncPermits.tryAcquire()
    ) {
      return new Promise((resolve, reject) =>
        this.#register(channel, request, deadlineAt, resolve, reject, undefined),
      );
    }
    return this.#invokeChannelSlow(channel, request, deadlineAt, signal, hooks);
  }

  /**
   * The callback form of {@link invokeChannel} (RocketMQ's invokeAsync): with no hooks and a
   * permit free, no Promise and no closure at all: the user's callback object is the call's
   * context in the response table, handed to two functions bound once per service.
   */
  protected invokeChannelCallback(
    channel: RemotingChannel,
    request: RemotingCommand,
    deadlineAt: number,
    hooks: boolean,
    callback: InvokeCallback,
  ): void {
    if ((!hooks || this.dispatcher.rpcHooks.length === 0) && this.asyncPermits.tryAcquire()) {
      this.#register(channel, request, deadlineAt, this.#succeedCallback, this.#failCallback, callback);
      return;
    }
    this.#invokeChannelSlow(channel, request, deadlineAt, undefined, hooks).then(
      (response) => this.#succeedCallback(response, callback),
      (error: Error) => this.#failCallback(error, callback),
    );
  }

  // The context of an invokeAsync call is its InvokeCallback (see invokeChannelCallback).
  readonly #succeedCallback = (response: RemotingCommand, callback: unknown): void =>
    runCallback(callback as InvokeCallback, response, null, this.logger);
  readonly #failCallback = (error: Error, callback: unknown): void =>
    runCallback(callback as InvokeCallback, null, error, this.logger);

  async #invokeChannelSlow(
    channel: RemotingChannel,
    request: RemotingCommand,
    deadlineAt: number,
    signal: AbortSignal | undefined,
    hooks: boolean,
  ): Promise<RemotingCommand> {
    const hookList = hooks ? this.dispatcher.rpcHooks : [];
    // Client side (RocketMQ's NettyRemotingClient.invokeImpl): before-hooks just before the
    // write, after-hooks only when a response arrived; a hook's error fails the call.
    const beforeError = await runBeforeHooks(hookList, channel.remoteAddress, request, channel);
    if (beforeError) throw beforeError;
    if (!this.asyncPermits.tryAcquire()) await this.asyncPermits.acquire(deadlineAt, signal);
    const response = await new Promise<RemotingCommand>((resolve, reject) =>
      this.#register(channel, request, deadlineAt, resolve, reject, undefined, signal),
    );
    const afterError = await runAfterHooks(hookList, channel.remoteAddress, request, response, channel);
    if (afterError) throw afterError;
    return response;
  }

  /**
   * With an async permit already taken: puts the call in the response table (whose `onSettle`
   * releases the permit when the call ends, however it ends) and writes the request. `context`
   * is handed back to `onResponse` / `onError`. Aborting `signal` fails the call with its reason.
   */
  #register(
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
    let onAbort: (() => void) | undefined;
    if (signal !== undefined) {
      // Only a call with a signal pays for closures: its listener must go when the call ends.
      const abort = (): void => void table.fail(opaque, signal.reason);
      const succeed = onResponse;
      const fail = onError;
      onResponse = (response, ctx) => {
        signal.removeEventListener("abort", abort);
        succeed(response, ctx);
      };
      onError = (error, ctx) => {
        signal.removeEventListener("abort", abort);
        fail(error, ctx);
      };
      onAbort = abort;
    }
    try {
      const startedAt = this.#metricsOn ? monotonicNow() : 0;
      table.add(opaque, channel, deadlineAt, onResponse, onError, context, request.code, startedAt);
    } catch (err) {
      // Not in the table, so onSettle will not run: give the permit back here.
      this.asyncPermits.release();
      onError(err as Error, context);
      return;
    }
    if (signal !== undefined) {
      // Aborted during the hooks or the permit wait: the call ends before anything is written.
      if (signal.aborted) {
        table.fail(opaque, signal.reason);
        return;
      }
      signal.addEventListener("abort", onAbort!, { once: true });
    }
    if (!channel.isActive) {
      table.fail(opaque, new ChannelClosedError(`channel to ${channel.remoteAddress} is closed`));
      return;
    }
    const refused = this.refuseWrite(channel);
    if (refused !== undefined) {
      table.fail(opaque, refused);
      return;
    }
    const cause = channel.trySend(request);
    if (cause !== undefined) {
      table.fail(opaque, new SendError(`send request to <${channel.remoteAddress}> failed`, { cause }));
    }
  }

  /**
   * Why a request must not be written to `channel` now, or undefined. Checked at the write, after
   * any permit wait, so no caller queues past it. Clients write always (a call's bytes leave
   * when the server reads; refusing above the high-water mark would fail ordinary pipelining of
   * large bodies); RemotingServer refuses pushes to a channel above it (Netty would queue them
   * without bound, RocketMQ #3651).
   */
  protected refuseWrite(_channel: RemotingChannel): Error | undefined {
    return undefined;
  }

  /**
   * RocketMQ's invokeOnewayImpl: the oneway flag, a oneway permit (waiting counts against
   * `timeoutMs`), the write. The permit is held until the channel can take writes again, so
   * unanswered oneways cannot pile up without bound in an unwritable channel. It takes a time-out,
   * not a deadline: only a wait needs the clock, and Date.now() (~50 ns here) was 6% of the
   * oneway benchmark's client profile.
   */
  protected invokeChannelOneway(
    channel: RemotingChannel,
    request: RemotingCommand,
    timeoutMs: number,
    signal: AbortSignal | undefined,
    hooks: boolean,
  ): Promise<void> {
    request.markOneway();
    // Fast path (no hooks, a permit free now): written at once and answered with a settled
    // promise, no async frame. As async functions, this and the client's invokeOneway were ~20%
    // of the oneway benchmark's client profile (two promises and two frames per frame sent).
    if ((!hooks || this.dispatcher.rpcHooks.length === 0) && this.onewayPermits.tryAcquire()) {
      const error = this.#sendOneway(channel, request);
      return error === undefined ? SENT : Promise.reject(error);
    }
    return this.#invokeChannelOnewaySlow(channel, request, this.now() + timeoutMs, signal, hooks);
  }

  async #invokeChannelOnewaySlow(
    channel: RemotingChannel,
    request: RemotingCommand,
    deadlineAt: number,
    signal: AbortSignal | undefined,
    hooks: boolean,
  ): Promise<void> {
    if (hooks) {
      const hookError = await runBeforeHooks(
        this.dispatcher.rpcHooks,
        channel.remoteAddress,
        request,
        channel,
      );
      if (hookError) throw hookError;
    }
    const permits = this.onewayPermits;
    if (!permits.tryAcquire()) await permits.acquire(deadlineAt, signal);
    const error = this.#sendOneway(channel, request);
    if (error !== undefined) throw error;
  }

  /** Writes a oneway request holding a permit; the permit is kept while the channel is unwritable. */
  #sendOneway(channel: RemotingChannel, request: RemotingCommand): Error | undefined {
    const permits = this.onewayPermits;
    const refused = this.refuseWrite(channel);
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
    if (this.#metricsOn) this.#callMetrics.record(request.code, -1, "oneway", 0);
    return undefined;
  }

  // ChannelOwner: how channels report to their service.
  /** @internal ChannelOwner: a request arrived on a channel. */
  onRequest(channel: RemotingChannel, request: RemotingCommand): void {
    this.#requestsReceived++;
    if (this.#metricsOn) request.receivedAt = monotonicNow();
    if (diagnostics.request.hasSubscribers) diagnostics.request.publish({ channel, request });
    this.dispatcher.dispatch(channel, request);
  }
  /** @internal ChannelOwner: a response arrived on a channel. */
  onResponse(channel: RemotingChannel, response: RemotingCommand): void {
    // Matched by opaque AND channel: a peer cannot complete another connection's calls.
    this.responseTable.complete(response, channel);
  }
  /** @internal ChannelOwner: a channel passed an idle threshold. */
  onChannelIdle(channel: RemotingChannel, kind: IdleKind): void {
    if (kind !== "all") return;
    this.logger.info(`${channel}: idle, closing`);
    // RocketMQ closes first, then emits IDLE (NettyConnectManageHandler.userEventTriggered).
    channel.close();
    this.emit("idle", channel.remoteAddress, channel);
  }
  onChannelClosing(channel: RemotingChannel): void {
    this.responseTable.failAll(channel, new ChannelClosedError(`channel to ${channel.remoteAddress} closed`));
  }
  /** @internal ChannelOwner: a reply to a peer's request was written, or could not be. */
  onReplied(request: RemotingCommand, response: RemotingCommand | null, result: CallResult): void {
    if (!this.#metricsOn) return;
    // Once per run, as the arrival: a processor that answers in the run its request arrived in
    // counts 0. A fresh performance.now() here (~60 ns) cost more than the rest of the metrics.
    const micros = (monotonicNow() - request.receivedAt) * 1000;
    this.#requestMetrics.record(request.code, response === null ? -1 : response.code, result, micros);
  }
  /** @internal ChannelOwner: a channel closed. */
  onChannelClose(channel: RemotingChannel, error: Error | undefined): void {
    if (this.#live.delete(channel)) {
      this.#closedBytesIn += channel.engine.transport.bytesRead;
      this.#closedBytesOut += channel.engine.transport.bytesWritten;
    }
    if (diagnostics.connectionClose.hasSubscribers) diagnostics.connectionClose.publish({ channel, error });
    // failFast: every call still waiting on this channel fails now, not at its time-out (§6.8).
    this.responseTable.failAll(
      channel,
      new ChannelClosedError(`channel to ${channel.remoteAddress} closed`, { cause: error }),
    );
    if (error) this.emit("exception", channel.remoteAddress, channel, error);
    this.channelClosed(channel);
    this.emit("close", channel.remoteAddress, channel);
  }

  /** Subclasses drop the channel from their tables. */
  protected abstract channelClosed(channel: RemotingChannel): void;
}
