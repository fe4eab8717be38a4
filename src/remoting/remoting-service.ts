/**
 * What RemotingServer and RemotingClient share (RocketMQ's RemotingService + NettyRemotingAbstract):
 * processors, RPC hooks, the request pipeline, one response table keyed by opaque, the async and
 * oneway permits and the invoke core used for client calls and server push alike (./invoker.ts),
 * and the channel events. Each channel reports to its service through the ChannelOwner interface.
 *
 * Error convention: see ./invoker.ts (the call path): public calls reject or run their callback,
 * never throw; synchronous steps return their error as a value, named check…/try…/refuse….
 */
import { EventEmitter } from "node:events";
import type { Duplex } from "node:stream";
import { CallMetrics, type CallResult, type MetricsSnapshot } from "../call-metrics.js";
import { type Clock, callClock, monotonicNow } from "../clock.js";
import type { Codec } from "../codec/codec.js";
import { type CommandInit, RemotingCommand } from "../codec/remoting-command.js";
import { rocketmqCodec } from "../codec/rocketmq-codec.js";
import { diagnostics } from "../diagnostics.js";
import { ProtocolEngine } from "../engine/protocol-engine.js";
import { ChannelClosedError } from "../errors.js";
import type { Logger } from "../logger.js";
import type { ResolvedRemotingOptions } from "../options.js";
import { SocketTransport } from "../transport/socket-transport.js";
import type { IdleKind } from "../transport/transport.js";
import { type ChannelOwner, RemotingChannel } from "./channel.js";
import { Dispatcher } from "./dispatcher.js";
import type { RequestPipeline, RpcHook } from "./hooks.js";
import type { RemotingEvents } from "./invoke-types.js";
import { Invoker } from "./invoker.js";
import type { ProcessorFunction, ProcessorOptions, RequestProcessor } from "./processor.js";

export { type InvokeCallback, type InvokeOptions, type RemotingEvents, runCallback } from "./invoke-types.js";

/** Which end of a connection a channel is (see {@link RemotingService.createChannel}). */
export interface ChannelSide {
  /**
   * "server": the accepting end, which negotiates the codec from the peer's first bytes, applies
   * `deadlines`, and pauses reads while unwritable (RocketMQ's server turns autoRead off).
   * "client": the connecting end, which speaks first with its one codec and trusts its server.
   */
  side: "server" | "client";
  /** Handshake and frame deadlines, in ms (0: none); server side only. */
  deadlines?: { handshakeTimeoutMs: number; frameTimeoutMs: number };
}

/**
 * @internal What a server learns of its clients from their heartbeats (src/rocketmq/client-connections.ts
 * implements it; the remoting layer neither reads bodies nor knows which codes matter).
 */
export interface ClientRegistry {
  /** A reply to a request was written, or could not be; the registry picks the codes it reads. */
  onReplied(channel: RemotingChannel, request: RemotingCommand, response: RemotingCommand | null): void;
  /** The channel closed. */
  forget(channel: RemotingChannel): void;
}

/** A connecting side's channel: it speaks first and trusts its server, so no deadlines. */
const NO_DEADLINES = { handshakeTimeoutMs: 0, frameTimeoutMs: 0 } as const;

export abstract class RemotingService extends EventEmitter<RemotingEvents> implements ChannelOwner {
  protected readonly dispatcher: Dispatcher;
  /** Sends requests and waits for their answers: permits, the response table, the write. */
  protected readonly invoker: Invoker;
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
    this.invoker = new Invoker({
      logger: options.logger,
      clock: options.clock,
      now: this.now,
      asyncPermits: options.asyncPermits,
      onewayPermits: options.onewayPermits,
      callMetrics: options.metrics ? this.#callMetrics : undefined,
      refuseWrite: (channel) => this.refuseWrite(channel),
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
    return this.invoker.responseTable.size;
  }
  /** Responses that arrived after their call had ended (time-out) and were dropped. */
  get lateResponses(): number {
    return this.invoker.responseTable.lateResponses;
  }

  /**
   * A snapshot of this side's figures: connections, bytes, calls in flight, and per request
   * code, response code and result the count, errors and latency (p50, p99, max) of the calls
   * it made and of the requests it served. Per-code rows stay empty with the option `metrics:
   * false`; what recording costs: README, "Metrics".
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
      calls: this.#callMetrics.snapshot(this.invoker.responseTable.size),
      requests: this.#requestMetrics.snapshot(this.dispatcher.inProcess),
    };
  }

  /**
   * @internal Sees every reply (it reads HEART_BEAT's and UNREGISTER_CLIENT's) and every channel's close:
   * set by the OpenTelemetry binding's broker connection gauges, undefined otherwise.
   */
  clientRegistry: ClientRegistry | undefined;

  /** @internal The per-code tables behind metrics(), for the OpenTelemetry binding. */
  get callMetrics(): { readonly calls: CallMetrics; readonly requests: CallMetrics } {
    return { calls: this.#callMetrics, requests: this.#requestMetrics };
  }

  /** Wraps a connected or accepted Duplex: driver → engine → channel. */
  protected createChannel(duplex: Duplex, { side, deadlines = NO_DEADLINES }: ChannelSide): RemotingChannel {
    const o = this.#base;
    const server = side === "server";
    const transport = new SocketTransport(duplex);
    const engine = new ProtocolEngine<RemotingCommand>(transport, {
      codecs: [this.codec],
      negotiate: server,
      maxFrameBytes: o.maxFrameBytes,
      maxHeaderBytes: o.maxHeaderBytes,
      maxExtFields: o.maxExtFields,
      handshakeTimeoutMs: server ? deadlines.handshakeTimeoutMs : 0,
      frameTimeoutMs: server ? deadlines.frameTimeoutMs : 0,
      // A client also watches reads alone: a peer that stopped answering while we keep writing
      // never makes the channel all-idle (see onChannelIdle).
      idle: server
        ? { allIdleMs: o.channelMaxIdleMs }
        : { allIdleMs: o.channelMaxIdleMs, readerIdleMs: o.channelMaxIdleMs },
      closeGraceMs: o.closeGraceMs,
      logger: o.logger,
      now: this.now,
    });
    const channel = new RemotingChannel(engine, this, o.channelMaxPendingRequests, server);
    // One pair of listeners per channel gives back every oneway permit held while it was unwritable.
    const releaseHeld = (): void => this.invoker.releaseHeldOnewayPermits(channel);
    engine.on("drain", releaseHeld).on("close", releaseHeld);
    engine.start(channel);
    this.#opened++;
    this.#live.add(channel);
    if (diagnostics.connectionOpen.hasSubscribers) {
      diagnostics.connectionOpen.publish({ channel, side });
    }
    return channel;
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
    this.invoker.responseTable.complete(response, channel);
  }
  /**
   * @internal ChannelOwner: a channel passed an idle threshold. All-idle (no read, no write)
   * closes it, as RocketMQ does on both sides. Reader-idle, set on client channels only, closes
   * one whose peer looks dead: see {@link #closeIfDead}.
   */
  onChannelIdle(channel: RemotingChannel, kind: IdleKind): void {
    if (kind === "reader") {
      this.#closeIfDead(channel);
      return;
    }
    if (kind !== "all") return;
    this.logger.info(`${channel}: idle, closing`);
    // RocketMQ closes first, then emits IDLE (NettyConnectManageHandler.userEventTriggered).
    channel.close();
    this.emit("idle", channel.remoteAddress, channel, "all");
  }

  /**
   * Nothing read for channelMaxIdleMs while calls await a response: the peer is taken for dead
   * (paused, or gone behind a network that drops packets) and the channel is closed, its calls
   * failing with MQW_ERR_CHANNEL_CLOSED and the next call opening a new one. The all-idle rule
   * never fires while we keep writing (RocketMQ's client has the same gap: allIdle only). A quiet
   * peer is not dead: the calls must have waited at least half the idle time with nothing read
   * ({@link RemotingChannel.awaitingSince}), so a call made just before the threshold, on a
   * channel that carried only oneways, is not counted against it; one made right after the
   * peer's last answer is. Long polls are answered well within the default (see the option).
   */
  #closeIfDead(channel: RemotingChannel): void {
    const idleMs = this.#base.channelMaxIdleMs;
    if (this.now() - channel.awaitingSince < idleMs / 2) return;
    const table = this.invoker.responseTable;
    if (!table.hasPendingOn(channel)) return;
    const why = `nothing read for ${idleMs} ms while calls awaited a response`;
    this.logger.warn(`${channel}: ${why}, closing it as dead`);
    // Failed here, before close() fails them with a plain message, so that they carry the reason.
    table.failAll(channel, new ChannelClosedError(`channel to ${channel.remoteAddress} closed: ${why}`));
    channel.close();
    this.emit("idle", channel.remoteAddress, channel, "reader");
  }
  onChannelClosing(channel: RemotingChannel): void {
    this.invoker.responseTable.failAll(
      channel,
      new ChannelClosedError(`channel to ${channel.remoteAddress} closed`),
    );
  }
  /** @internal ChannelOwner: a reply to a peer's request was written, or could not be. */
  onReplied(
    channel: RemotingChannel,
    request: RemotingCommand,
    response: RemotingCommand | null,
    result: CallResult,
  ): void {
    this.clientRegistry?.onReplied(channel, request, response);
    if (!this.#metricsOn) return;
    // Once per run, as the arrival: a processor that answers in the run its request arrived in
    // counts 0. A fresh performance.now() here cost more than the rest of the metrics.
    const micros = (monotonicNow() - request.receivedAt) * 1000;
    const responseCode = response === null ? -1 : response.code;
    this.#requestMetrics.record(request.code, responseCode, result, micros, request.suspended);
  }
  /** @internal ChannelOwner: a channel closed. */
  onChannelClose(channel: RemotingChannel, error: Error | undefined): void {
    this.clientRegistry?.forget(channel);
    if (this.#live.delete(channel)) {
      this.#closedBytesIn += channel.engine.transport.bytesRead;
      this.#closedBytesOut += channel.engine.transport.bytesWritten;
    }
    if (diagnostics.connectionClose.hasSubscribers) diagnostics.connectionClose.publish({ channel, error });
    // failFast: every call still waiting on this channel fails now, not at its time-out (§6.8).
    this.invoker.responseTable.failAll(
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
