/**
 * What RemotingServer and RemotingClient share (RocketMQ's RemotingService + NettyRemotingAbstract):
 * processors, RPC hooks, the request pipeline, one response table keyed by opaque, the async and
 * oneway permits, the invoke core used for client calls and server push alike, and the channel
 * events. Each channel reports to its service through the ChannelOwner interface.
 */
import { EventEmitter } from "node:events";
import type { Duplex } from "node:stream";
import type { Codec } from "../codec/codec.js";
import { type CommandInit, RemotingCommand } from "../codec/remoting-command.js";
import { rocketmqCodec } from "../codec/rocketmq-codec.js";
import { ProtocolEngine } from "../engine/protocol-engine.js";
import { ChannelClosedError, SendError, TimeoutError } from "../errors.js";
import { Semaphore } from "../limiter.js";
import type { Logger } from "../logger.js";
import type { ResolvedRemotingOptions } from "../options.js";
import { SocketTransport } from "../transport/socket-transport.js";
import type { IdleKind } from "../transport/transport.js";
import { type ChannelOwner, RemotingChannel } from "./channel.js";
import { Dispatcher } from "./dispatcher.js";
import { type RequestPipeline, type RpcHook, runAfterHooks, runBeforeHooks } from "./hooks.js";
import type { ProcessorFunction, ProcessorOptions, RequestProcessor } from "./processor.js";
import { ResponseTable } from "./response-table.js";

/** Channel events (RocketMQ's ChannelEventListener), each with the remote address and the channel. */
export interface RemotingEvents {
  /** Server: a connection was accepted. Client: a connect was issued. */
  connect: [remoteAddress: string, channel: RemotingChannel | undefined];
  /** Client only: the connect succeeded. */
  active: [remoteAddress: string, channel: RemotingChannel];
  /** The channel closed, for any reason. */
  close: [remoteAddress: string, channel: RemotingChannel];
  /** No read and no write for channelMaxIdleMs: the channel was closed. */
  idle: [remoteAddress: string, channel: RemotingChannel];
  /** The channel failed (malformed frame, socket error); it is closed. */
  exception: [remoteAddress: string, channel: RemotingChannel, error: Error];
}

/** Per-call options of every invoke. */
export interface InvokeOptions {
  /** Time-out of the whole call in ms, connect and permit wait included. */
  timeoutMs?: number;
  /** Aborting ends the call with the signal's reason. */
  signal?: AbortSignal;
}

/** RocketMQ's InvokeCallback: exactly one of succeed / fail runs, then complete. */
export interface InvokeCallback {
  operationSucceed?(response: RemotingCommand): void;
  operationFail?(error: Error): void;
  operationComplete?(response: RemotingCommand | null, error: Error | null): void;
}

/** Runs an InvokeCallback for a settled call; a throwing callback is logged, never rethrown. */
export function runCallback(
  callback: InvokeCallback,
  response: RemotingCommand | null,
  error: Error | null,
  logger: Logger,
): void {
  try {
    if (error === null) callback.operationSucceed?.(response!);
    else callback.operationFail?.(error);
    callback.operationComplete?.(response, error);
  } catch (err) {
    logger.warn(`invoke callback threw: ${String(err)}`);
  }
}

export abstract class RemotingService extends EventEmitter<RemotingEvents> implements ChannelOwner {
  protected readonly dispatcher: Dispatcher;
  protected readonly responseTable: ResponseTable;
  protected readonly asyncPermits: Semaphore;
  protected readonly onewayPermits: Semaphore;
  protected readonly codec: Codec<RemotingCommand>;
  protected readonly logger: Logger;
  readonly #base: ResolvedRemotingOptions;
  #requestsReceived = 0;

  constructor(options: ResolvedRemotingOptions, codec: Codec<RemotingCommand> | undefined) {
    super();
    this.#base = options;
    this.logger = options.logger;
    this.codec = codec ?? rocketmqCodec;
    this.dispatcher = new Dispatcher(options.logger);
    this.responseTable = new ResponseTable({
      logger: options.logger,
      createTimeoutError: (opaque, owner) =>
        new TimeoutError(
          `wait response on the channel <${(owner as RemotingChannel).remoteAddress}> timeout (opaque ${opaque})`,
        ),
    });
    this.asyncPermits = new Semaphore({ permits: options.asyncPermits, kind: "async" });
    this.onewayPermits = new Semaphore({ permits: options.onewayPermits, kind: "oneway" });
  }

  abstract start(): Promise<void>;

  /** A request carrying this side's serialize type (RocketMQ: the process default). */
  createRequest(code: number, init: Omit<CommandInit, "code" | "flag"> = {}): RemotingCommand {
    const command = RemotingCommand.createRequest(code, init);
    if (init.serializeType === undefined) command.serializeType = this.#base.serializeType;
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
  clearRpcHooks(): void {
    this.dispatcher.clearRpcHooks();
  }
  /** Sets the pipeline run between the before-hooks and the processor (RocketMQ 5.3+). */
  setRequestPipeline(pipeline: RequestPipeline | undefined): void {
    this.dispatcher.setRequestPipeline(pipeline);
  }
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

  /** Wraps a connected or accepted Duplex: driver → engine → channel. */
  protected createChannel(duplex: Duplex, negotiate: boolean, handshakeTimeoutMs?: number): RemotingChannel {
    const o = this.#base;
    const transport = new SocketTransport(duplex);
    const engine = new ProtocolEngine<RemotingCommand>(transport, {
      codecs: [this.codec],
      negotiate,
      maxFrameBytes: o.maxFrameBytes,
      handshakeTimeoutMs: handshakeTimeoutMs ?? 0,
      idle: { allIdleMs: o.channelMaxIdleMs },
      closeGraceMs: o.closeGraceMs,
      logger: o.logger,
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
    // the codec.
    if (
      signal === undefined &&
      (!hooks || this.dispatcher.rpcHooks.length === 0) &&
      this.asyncPermits.tryAcquire()
    ) {
      return new Promise((resolve, reject) => this.#register(channel, request, deadlineAt, resolve, reject));
    }
    return this.#invokeChannelSlow(channel, request, deadlineAt, signal, hooks);
  }

  /**
   * The callback form of {@link invokeChannel} (RocketMQ's invokeAsync): with no hooks and a
   * permit free, no Promise at all.
   */
  protected invokeChannelCallback(
    channel: RemotingChannel,
    request: RemotingCommand,
    deadlineAt: number,
    hooks: boolean,
    callback: InvokeCallback,
  ): void {
    const logger = this.logger;
    if ((!hooks || this.dispatcher.rpcHooks.length === 0) && this.asyncPermits.tryAcquire()) {
      this.#register(
        channel,
        request,
        deadlineAt,
        (response) => runCallback(callback, response, null, logger),
        (error) => runCallback(callback, null, error, logger),
      );
      return;
    }
    this.#invokeChannelSlow(channel, request, deadlineAt, undefined, hooks).then(
      (response) => runCallback(callback, response, null, logger),
      (error: Error) => runCallback(callback, null, error, logger),
    );
  }

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
    const beforeError = await runBeforeHooks(hookList, channel.remoteAddress, request);
    if (beforeError) throw beforeError;
    if (!this.asyncPermits.tryAcquire()) await this.asyncPermits.acquire(deadlineAt, signal);
    const response = await new Promise<RemotingCommand>((resolve, reject) =>
      this.#register(channel, request, deadlineAt, resolve, reject, signal),
    );
    const afterError = await runAfterHooks(hookList, channel.remoteAddress, request, response);
    if (afterError) throw afterError;
    return response;
  }

  /**
   * With an async permit already taken: puts the call in the response table (which releases the
   * permit when the call ends, however it ends) and writes the request.
   */
  #register(
    channel: RemotingChannel,
    request: RemotingCommand,
    deadlineAt: number,
    onResponse: (response: RemotingCommand) => void,
    onError: (error: Error) => void,
    signal?: AbortSignal,
  ): void {
    const opaque = request.opaque;
    const permits = this.asyncPermits;
    let onAbort: (() => void) | undefined;
    try {
      this.responseTable.add(
        opaque,
        channel,
        deadlineAt,
        (response) => {
          permits.release();
          if (onAbort) signal!.removeEventListener("abort", onAbort);
          onResponse(response);
        },
        (error) => {
          permits.release();
          if (onAbort) signal!.removeEventListener("abort", onAbort);
          onError(error);
        },
      );
    } catch (err) {
      permits.release();
      onError(err as Error);
      return;
    }
    if (signal) {
      if (signal.aborted) {
        this.responseTable.fail(opaque, signal.reason);
        return;
      }
      onAbort = () => this.responseTable.fail(opaque, signal.reason);
      signal.addEventListener("abort", onAbort, { once: true });
    }
    if (!channel.isActive) {
      this.responseTable.fail(
        opaque,
        new ChannelClosedError(`channel to ${channel.remoteAddress} is closed`),
      );
    } else if (!channel.send(request)) {
      this.responseTable.fail(opaque, new SendError(`send request to <${channel.remoteAddress}> failed`));
    }
  }

  /**
   * RocketMQ's invokeOnewayImpl: the oneway flag, a oneway permit (waiting counts against the
   * deadline), the write. The permit is held until the channel can take writes again, so
   * unanswered oneways cannot pile up without bound in an unwritable channel.
   */
  protected async invokeChannelOneway(
    channel: RemotingChannel,
    request: RemotingCommand,
    deadlineAt: number,
    signal: AbortSignal | undefined,
    hooks: boolean,
  ): Promise<void> {
    request.markOneway();
    if (hooks) {
      const hookError = await runBeforeHooks(this.dispatcher.rpcHooks, channel.remoteAddress, request);
      if (hookError) throw hookError;
    }
    const permits = this.onewayPermits;
    if (!permits.tryAcquire()) await permits.acquire(deadlineAt, signal);
    if (!channel.isActive || !channel.send(request)) {
      permits.release();
      throw new SendError(`send oneway request to <${channel.remoteAddress}> failed`);
    }
    if (channel.isWritable) permits.release();
    else channel.heldOnewayPermits++;
  }

  // ChannelOwner: how channels report to their service.
  onRequest(channel: RemotingChannel, request: RemotingCommand): void {
    this.#requestsReceived++;
    this.dispatcher.dispatch(channel, request);
  }
  onResponse(channel: RemotingChannel, response: RemotingCommand): void {
    // Matched by opaque AND channel: a peer cannot complete another connection's calls.
    this.responseTable.complete(response, channel);
  }
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
  onChannelClose(channel: RemotingChannel, error: Error | undefined): void {
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
