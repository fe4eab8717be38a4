/**
 * One negotiated connection seen as remoting commands (Netty's Channel plus RocketMQ's
 * NettyRemotingAbstract per-channel duties). It is the FrameHandler of its protocol engine:
 * responses go to the owner's response table, requests to the owner's dispatcher. It counts the
 * requests it has in processing so the engine can stop reading when they pile up (Qpid: the
 * engine never blocks the driver; ws: a full receiver pauses the socket).
 */
import type { X509Certificate } from "node:crypto";
import type { CallResult } from "../call-metrics.js";
import { FLAG_RESPONSE, RemotingCommand, ResponseCode } from "../codec/remoting-command.js";
import { diagnostics } from "../diagnostics.js";
import type { FrameHandler } from "../engine/frame-handler.js";
import type { ProtocolEngine } from "../engine/protocol-engine.js";
import { ChannelClosedError } from "../errors.js";
import type { ProxiedEndpoints } from "../transport/address.js";
import type { ProxyTlv } from "../transport/proxy-protocol.js";
import type { IdleKind, Transport } from "../transport/transport.js";

/** What a channel reports to the server or client that owns it. */
export interface ChannelOwner {
  onRequest(channel: RemotingChannel, request: RemotingCommand): void;
  onResponse(channel: RemotingChannel, response: RemotingCommand): void;
  onChannelIdle(channel: RemotingChannel, kind: IdleKind): void;
  /** A reply to `request` was written ("success"), or not ("write_channel_failed"), or was not due ("oneway"). */
  onReplied(
    channel: RemotingChannel,
    request: RemotingCommand,
    response: RemotingCommand | null,
    result: CallResult,
  ): void;
  onChannelClose(channel: RemotingChannel, error: Error | undefined): void;
  /** close() was called: RocketMQ fails the channel's calls on the outbound close (§6.8), not when the socket is gone. */
  onChannelClosing?(channel: RemotingChannel): void;
}

let channelIds = 0;
const NO_TLVS: readonly ProxyTlv[] = Object.freeze([]);

/** A live connection carrying RocketMQ commands. */
export class RemotingChannel implements FrameHandler<RemotingCommand> {
  /** Unique per process, for logs and maps. */
  readonly id = ++channelIds;
  /** The protocol engine of this connection. */
  readonly engine: ProtocolEngine<RemotingCommand>;
  readonly #transport: Transport;
  readonly #owner: ChannelOwner;
  readonly #maxPending: number;
  readonly #remoteAddress: string;
  readonly #localAddress: string;
  readonly #proxy: ProxiedEndpoints | undefined;
  #pending = 0;
  #closed = false;
  /** Why the channel closed; undefined while open or after an orderly close. */
  closeError: Error | undefined;
  /**
   * Epoch ms at which the bytes of the last response received were read (RocketMQ's
   * ChannelWrapper.lastResponseTime): the transport's read time, so no clock call per response.
   */
  lastResponseAt = 0;
  /** @internal Oneway permits held until this channel drains or closes (Invoker). */
  heldOnewayPermits = 0;
  /**
   * Since when (a time of the owner's clock) calls on this channel have awaited a response with
   * nothing read: stamped by the first call written after bytes were read (`requestWritten`).
   */
  #awaitingSince = 0;
  /** The transport's bytesRead at that stamp; -1 before the first call. */
  #readMark = -1;
  /**
   * True once the peer sent a request newer than V5_3_1: it understands GO_AWAY, so a
   * shutting-down server leaves this channel to it (RemotingServer.shutdown).
   */
  peerUnderstandsGoAway = false;

  /** Server side: stop reading while unwritable (RocketMQ's server turns autoRead off). */
  readonly #pauseWhenUnwritable: boolean;

  /**
   * `pauseWhenUnwritable` is for servers only: a client that stopped reading because its own
   * requests are queued would stop reading the responses that drain them, and with a server that
   * does the same both sides wait for ever (seen with 16 × 1 MiB calls in flight).
   */
  constructor(
    engine: ProtocolEngine<RemotingCommand>,
    owner: ChannelOwner,
    maxPendingRequests: number,
    pauseWhenUnwritable: boolean,
  ) {
    this.#pauseWhenUnwritable = pauseWhenUnwritable;
    this.engine = engine;
    this.#transport = engine.transport;
    this.#owner = owner;
    this.#maxPending = maxPendingRequests;
    // Kept: the transport's addresses are gone once the socket is destroyed.
    this.#remoteAddress = engine.remoteAddress;
    this.#localAddress = engine.localAddress;
    this.#proxy = this.#transport.proxy;
    // RocketMQ turns autoRead off while a channel is unwritable and back on when it drains:
    // a peer that sends requests but does not read replies cannot make our output grow.
    engine.on("drain", () => this.#maybeResume());
  }

  /** The peer's address ("host:port"). */
  get remoteAddress(): string {
    return this.#remoteAddress;
  }
  /** This side's address ("host:port"). */
  get localAddress(): string {
    return this.#localAddress;
  }
  /**
   * The proxy's address when the connection came through a PROXY protocol header (a server's
   * `proxyProtocol` option); `remoteAddress` is then the real client's. Undefined otherwise,
   * and for a v2 LOCAL header (the proxy's own health check).
   */
  get proxiedBy(): string | undefined {
    return this.#proxy?.proxiedBy;
  }
  /** The TLVs of a PROXY protocol v2 header, in order (RocketMQ's `proxy_protocol_tlv_0x..`); else empty. */
  get proxyTlvs(): readonly ProxyTlv[] {
    return this.#proxy?.tlvs ?? NO_TLVS;
  }
  /** The peer's TLS certificate, when the connection is TLS and the peer sent one. */
  get peerCertificate(): X509Certificate | undefined {
    return this.#transport.peerCertificate;
  }
  /** True until the connection closes or starts closing (Netty's isActive). */
  get isActive(): boolean {
    return !this.#closed && !this.engine.isClosed;
  }
  /** False while queued output is above the high-water mark (Netty's isWritable). */
  get isWritable(): boolean {
    return this.isActive && this.engine.isWritable;
  }
  /** Requests received on this channel whose processing has not finished. */
  get pendingRequests(): number {
    return this.#pending;
  }

  /** Writes a command; false when it could not be written ({@link trySend} says why). */
  send(command: RemotingCommand): boolean {
    return this.trySend(command) === undefined;
  }

  /**
   * Writes a command and returns undefined, or returns why it could not: ChannelClosedError, or
   * the codec's own error for a command it cannot encode (InvalidArgumentError for a code beyond
   * the ROCKETMQ header's int16). Never throws, so callers keep the error as their `cause`.
   */
  trySend(command: RemotingCommand): Error | undefined {
    if (this.#closed) {
      // The reason it closed (a TLS alert, a reset) goes along, when the transport had one.
      return new ChannelClosedError(`channel to ${this.#remoteAddress} is closed`, {
        cause: this.closeError,
      });
    }
    try {
      this.engine.send(command);
      return undefined;
    } catch (err) {
      return err instanceof Error ? err : new Error(String(err));
    }
  }

  /**
   * RocketMQ's `writeResponse(channel, request, response)`: nothing for a null response or a
   * oneway request; otherwise the response takes the request's opaque, the response flag and the
   * request's serialize type (JSON-only peers depend on the mirror; 5.x dropped it, 4.9 had it).
   * Processors answering later (long polling) call this with the request they kept.
   *
   * A null response to a request that expects one means it is held to be answered later: the
   * request is marked {@link RemotingCommand.suspended}, so its eventual reply counts as long
   * polling (as RocketMQ's PullRequestHoldService marks the pulls it holds).
   */
  respond(request: RemotingCommand, response: RemotingCommand | null | undefined): boolean {
    if (request.isOneway) {
      // Counted once processed, reply or not (RocketMQ records RESULT_ONEWAY instead of writing).
      this.#owner.onReplied(this, request, response ?? null, "oneway");
      return false;
    }
    if (response == null) {
      request.suspended = true;
      return false;
    }
    response.opaque = request.opaque;
    response.flag |= FLAG_RESPONSE;
    response.serializeType = request.serializeType;
    if (this.#closed) {
      this.#owner.onReplied(this, request, response, "write_channel_failed");
      return false;
    }
    try {
      this.engine.send(response);
      this.#owner.onReplied(this, request, response, "success");
      if (diagnostics.response.hasSubscribers)
        diagnostics.response.publish({ channel: this, request, response });
      return true;
    } catch (err) {
      if (this.engine.isClosed) {
        this.#owner.onReplied(this, request, response, "write_channel_failed");
        return false;
      }
      // The codec refused the response (a code outside int16 or a key over 32767 bytes in a
      // ROCKETMQ header). RocketMQ's NettyEncoder logs and closes the channel; a SYSTEM_ERROR
      // reply fails this call alone, at once, instead of at the peer's time-out.
      const reason = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      const fallback = RemotingCommand.createResponse(
        ResponseCode.SYSTEM_ERROR,
        `response not encodable: ${reason}`,
        {
          opaque: request.opaque,
          serializeType: request.serializeType,
        },
      );
      const sent = this.send(fallback);
      this.#owner.onReplied(this, request, fallback, sent ? "success" : "write_channel_failed");
      return sent;
    }
  }

  /** Closes with a bounded final write; pending calls of this channel fail at once. */
  close(graceMs?: number): void {
    if (this.#closed || this.engine.isClosed) return;
    this.engine.close(graceMs);
    this.#owner.onChannelClosing?.(this);
  }

  /** Closes at once. */
  destroy(error?: Error): void {
    this.engine.destroy(error);
  }

  /**
   * Since when calls on this channel have awaited a response with nothing read, a time of the
   * client's clock (stamped as each call is written): a client tells a dead peer from a quiet one by it
   * (RemotingService.onChannelIdle). Meaningful only while calls are pending.
   */
  get awaitingSince(): number {
    return this.#awaitingSince;
  }

  /**
   * @internal A request that expects a response was written (Invoker). The first one after a
   * read starts the wait: a compare per call, and a clock read (`now`, once per synchronous run)
   * only when bytes arrived since the last stamp.
   */
  requestWritten(now: () => number): void {
    const read = this.#transport.bytesRead;
    if (read !== this.#readMark) {
      this.#readMark = read;
      this.#awaitingSince = now();
    }
  }

  /** @internal the dispatcher took a request of this channel. */
  requestStarted(): void {
    this.#pending++;
  }
  /** @internal a request of this channel finished processing. */
  requestFinished(): void {
    if (--this.#pending === this.#maxPending >> 1) this.#maybeResume();
  }

  #maybeResume(): void {
    if (!this.#closed && !this.isSaturated()) this.engine.resumeReading();
  }

  // FrameHandler
  onFrame(command: RemotingCommand): void {
    if (command.isResponse) {
      // No clock read per response: the transport stamps every read, and this frame came out of
      // the latest one.
      this.lastResponseAt = this.#transport.lastReadAt;
      this.#owner.onResponse(this, command);
    } else this.#owner.onRequest(this, command);
  }
  onClose(error: Error | undefined): void {
    this.#closed = true;
    this.closeError = error;
    this.#owner.onChannelClose(this, error);
  }
  onIdle(kind: IdleKind): void {
    this.#owner.onChannelIdle(this, kind);
  }
  isSaturated(): boolean {
    return this.#pending >= this.#maxPending || (this.#pauseWhenUnwritable && !this.engine.isWritable);
  }

  toString(): string {
    const via = this.#proxy === undefined ? "" : ` via ${this.#proxy.proxiedBy}`;
    return `channel#${this.id}(${this.#localAddress} <-> ${this.#remoteAddress}${via})`;
  }
}
