/**
 * RemotingClient (RocketMQ's NettyRemotingClient): one channel per address, opened once however
 * many calls race for it; invoke / invokeSync / invokeAsync / invokeOneway, with `addr` null
 * meaning "a name server"; processors for the requests a server pushes; name-server selection,
 * fail-over and reachability scan.
 */
import { type RemotingCommand, ResponseCode } from "../codec/remoting-command.js";
import { ConnectError, ErrorCodes, InvalidArgumentError, isMqwireError, SendError } from "../errors.js";
import { type RemotingClientOptions, type ResolvedClientOptions, resolveClientOptions } from "../options.js";
import type { Connector } from "../transport/transport.js";
import type { RemotingChannel } from "./channel.js";
import { ChannelTable } from "./channel-table.js";
import { clientConnector } from "./client-connector.js";
import { copyWithNewOpaque, mayGetGoAway } from "./go-away.js";
import { checkTimeoutMs } from "./invoke-types.js";
import { NameServers } from "./name-servers.js";
import { type InvokeCallback, type InvokeOptions, RemotingService, runCallback } from "./remoting-service.js";

/** RocketMQ closes a timed-out sync call's channel only when time was left (#7057's guard). */
const CLOSE_GUARD_MIN_MS = 100;

/**
 * RocketMQ's NettyRemotingClient: calls to servers and name servers over one channel per address, and
 * processors for what servers push.
 */
export class RemotingClient extends RemotingService {
  /** The options as validated at construction. */
  readonly options: ResolvedClientOptions;
  readonly #connector: Connector;
  readonly #table: ChannelTable;
  readonly #nameServers: NameServers;
  /** Channel → the address it was opened for (the table's key). */
  readonly #addrOf = new WeakMap<RemotingChannel, string>();
  /** Channels that answered GO_AWAY: out of the table, open until their last call in flight ends. */
  readonly #draining = new Set<RemotingChannel>();
  /** Calls that may get GO_AWAY in flight per channel, so that a drained one closes after its last. */
  readonly #goAwayCalls = new WeakMap<RemotingChannel, number>();
  #state: "new" | "running" | "stopped" = "new";

  constructor(options: RemotingClientOptions = {}) {
    const resolved = resolveClientOptions(options);
    super(resolved, options.codec);
    this.options = resolved;
    this.#connector = options.connector ?? clientConnector(resolved, options);
    this.#table = new ChannelTable(
      (addr, signal) => this.#open(addr, signal),
      resolved.reconnectBaseMs,
      resolved.reconnectMaxMs,
      resolved.connectTimeoutMs,
      resolved.clock,
    );
    this.#nameServers = new NameServers(
      {
        connect: (addr, deadlineAt, signal) => this.#table.get(addr, deadlineAt, signal),
        peek: (addr) => this.#table.peek(addr),
        close: (addr) => this.#table.close(addr),
        backOff: (addr, cause) => this.#table.backOff(addr, cause),
      },
      Math.random,
      resolved.clock,
    );
  }

  /** Starts the name-server scan (when enabled). Calls work without start() too. */
  async start(): Promise<void> {
    if (this.#state === "stopped") throw new InvalidArgumentError("client is shut down");
    this.#state = "running";
    if (this.options.scanNameServers) {
      this.#nameServers.startScan(this.options.nameServerScanMs, this.options.connectTimeoutMs);
    }
  }

  /** Closes every channel, draining ones included; pending calls fail with ChannelClosedError. */
  async shutdown(): Promise<void> {
    this.#state = "stopped";
    this.#nameServers.stopScan();
    const channels = [...this.#table.channels(), ...this.#draining];
    this.#draining.clear();
    // Abandons connects in progress too: their signal aborts and #open destroys a late socket.
    this.#table.clear();
    // channels() and #draining hold active channels only, so each engine still emits close.
    // Testing isActive right after close() would resolve at once: close() makes it false.
    await Promise.all(
      channels.map(
        (channel) =>
          new Promise<void>((resolve) => {
            channel.engine.once("close", () => resolve());
            channel.close();
          }),
      ),
    );
    await this.dispatcher.closeProcessors();
  }

  async #open(addr: string, signal: AbortSignal): Promise<RemotingChannel> {
    if (this.#state === "stopped") throw new ConnectError(`connect to ${addr} failed: client is shut down`);
    // RocketMQ's client fires CONNECT when the connect is issued, ACTIVE when it succeeded.
    this.emit("connect", addr, undefined);
    const duplex = await this.#connector.open(addr, signal);
    // The connect outlived its time-out or a shutdown (clear() aborts it): do not keep the socket.
    if (signal.aborted) {
      duplex.destroy();
      throw new ConnectError(`connect to ${addr} abandoned`, { cause: signal.reason });
    }
    const channel = this.createChannel(duplex, { side: "client" });
    this.#addrOf.set(channel, addr);
    // A server that refuses after the handshake (a TLS 1.3 alert) closes it before it is used.
    if (!channel.isActive)
      throw new ConnectError(`connection to ${addr} closed at once`, { cause: channel.closeError });
    this.emit("active", addr, channel);
    return channel;
  }

  protected channelClosed(channel: RemotingChannel): void {
    const addr = this.#addrOf.get(channel);
    if (addr !== undefined) this.#table.remove(addr, channel);
    this.#draining.delete(channel);
  }

  /**
   * `channel` answered GO_AWAY: drop it from the table if it is still its address's channel (a
   * GO_AWAY that arrives after the reconnect must not drop the new one: RocketMQ's
   * ChannelWrapper.reconnect(channel) checks isWrapperOf(channel) alike), and close it once its
   * last call in flight has ended: the shutting-down server waits for us to leave rather than
   * close it under requests we are still sending (RemotingServer.shutdown).
   */
  #drain(channel: RemotingChannel): void {
    const addr = this.#addrOf.get(channel);
    if (addr !== undefined) this.#table.remove(addr, channel);
    if (!channel.isActive || this.#state === "stopped") return;
    // The shutting-down server leaves the channel to us: close it after our last call on it.
    if ((this.#goAwayCalls.get(channel) ?? 0) === 0) channel.close();
    else this.#draining.add(channel);
  }

  /** `call` on `channel`, counted so that a drained channel closes when its last call ends. */
  async #counted(channel: RemotingChannel, call: Promise<RemotingCommand>): Promise<RemotingCommand> {
    this.#goAwayCalls.set(channel, (this.#goAwayCalls.get(channel) ?? 0) + 1);
    try {
      return await call;
    } finally {
      const left = (this.#goAwayCalls.get(channel) ?? 1) - 1;
      this.#goAwayCalls.set(channel, left);
      if (left === 0 && this.#draining.delete(channel)) channel.close();
    }
  }

  /**
   * The absolute deadline of a call (Infinity: none), or an InvalidArgumentError for a bad
   * time-out, returned, not thrown (the call path's error convention, ./invoker.ts).
   */
  #checkDeadline(timeoutMs: number | undefined): number | InvalidArgumentError {
    const t = checkTimeoutMs(timeoutMs, this.options.defaultTimeoutMs);
    return typeof t === "number" ? this.now() + t : t;
  }

  /** The live channel of `addr` without waiting, when there is one (the fast path of every call). */
  #liveChannel(addr: string | null): RemotingChannel | undefined {
    return addr === null || this.#state === "stopped" ? undefined : this.#table.peek(addr);
  }

  /** The channel of `addr` (null: the chosen name server), connecting when needed, within `deadlineAt`. */
  #connect(addr: string | null, deadlineAt: number, signal?: AbortSignal): Promise<RemotingChannel> {
    if (this.#state === "stopped") return Promise.reject(new ConnectError("client is shut down"));
    return addr === null
      ? this.#nameServers.channel(deadlineAt, signal)
      : this.#table.get(addr, deadlineAt, signal);
  }

  /**
   * Sends `request` to `addr` (null: a name server, under invokeSync's time-out rule) and resolves
   * with the response. Rejects with
   * MQW_ERR_TIMEOUT, MQW_ERR_CONNECT, MQW_ERR_SEND, MQW_ERR_CHANNEL_CLOSED,
   * MQW_ERR_TOO_MANY_REQUESTS or the signal's reason.
   */
  invoke(
    addr: string | null,
    request: RemotingCommand,
    options: InvokeOptions = {},
  ): Promise<RemotingCommand> {
    if (addr === null) return this.#invokeSyncRule(null, request, options.timeoutMs, options.signal);
    const deadlineAt = this.#checkDeadline(options.timeoutMs);
    if (typeof deadlineAt !== "number") return Promise.reject(deadlineAt);
    return mayGetGoAway(request, this.options.reconnectOnGoAway)
      ? this.#invokeRetryingGoAway(this.#liveChannel(addr), addr, request, deadlineAt, options.signal)
      : this.#invokeOnce(addr, request, deadlineAt, options.signal);
  }

  #invokeOnce(
    addr: string | null,
    request: RemotingCommand,
    deadlineAt: number,
    signal: AbortSignal | undefined,
  ): Promise<RemotingCommand> {
    const ready = this.#liveChannel(addr);
    if (ready !== undefined) return this.invoker.invoke(ready, request, deadlineAt, signal, this.rpcHooks);
    return this.#connect(addr, deadlineAt, signal).then((channel) =>
      this.invoker.invoke(channel, request, deadlineAt, signal, this.rpcHooks),
    );
  }

  /**
   * A call that may get GO_AWAY, on `channel` when one is live (RocketMQ 5.x, reference §6.6):
   * the server is shutting down gracefully, so the channel the GO_AWAY came on is drained
   * (#drain), a new connection is opened (one, however many calls got GO_AWAY), and a copy of
   * the request with a new opaque is sent once with the time left. A second GO_AWAY drains that
   * channel too and fails the call with MQW_ERR_SEND.
   */
  async #invokeRetryingGoAway(
    channel: RemotingChannel | undefined,
    addr: string | null,
    request: RemotingCommand,
    deadlineAt: number,
    signal: AbortSignal | undefined,
  ): Promise<RemotingCommand> {
    const first = channel ?? (await this.#connect(addr, deadlineAt, signal));
    const response = await this.#counted(
      first,
      this.invoker.invoke(first, request, deadlineAt, signal, this.rpcHooks),
    );
    if (response.code !== ResponseCode.GO_AWAY) return response;
    this.#drain(first);
    this.logger.info(`GO_AWAY from ${first}: reconnecting and sending request ${request.code} again`);
    const next = this.#liveChannel(addr) ?? (await this.#connect(addr, deadlineAt, signal));
    const retry = await this.#counted(
      next,
      this.invoker.invoke(next, copyWithNewOpaque(request), deadlineAt, signal, this.rpcHooks),
    );
    if (retry.code === ResponseCode.GO_AWAY) {
      this.#drain(next);
      throw new SendError(`received GO_AWAY twice (${first}, ${next}) for request code ${request.code}`);
    }
    return retry;
  }

  /**
   * RocketMQ's invokeSync: as `invoke`, and on a time-out the channel is closed (when
   * closeSocketIfTimeout, and unless the connect used most of the budget: RocketMQ #7057).
   */
  invokeSync(addr: string | null, request: RemotingCommand, timeoutMs?: number): Promise<RemotingCommand> {
    return this.#invokeSyncRule(addr, request, timeoutMs, undefined);
  }

  /**
   * A call under invokeSync's rule: a time-out closes the channel (see invokeSync), a send
   * failure too. Calls to a name server (addr null) take this rule in every style: RocketMQ calls
   * name servers with invokeSync only, whose close moves the sticky choice on (§9.3); without it
   * a name server that accepts and never answers held every promise or callback call (the
   * protocol clients' route queries) for ever. A name server closed so also backs off as a
   * refused connect does (NameServers.timedOut): it accepts connects, so otherwise it stayed in
   * the available list and every later selection that reached it cost a whole time-out again.
   */
  async #invokeSyncRule(
    addr: string | null,
    request: RemotingCommand,
    timeoutMs: number | undefined,
    signal: AbortSignal | undefined,
  ): Promise<RemotingCommand> {
    const deadlineAt = this.#checkDeadline(timeoutMs);
    if (typeof deadlineAt !== "number") throw deadlineAt;
    const total = timeoutMs ?? this.options.defaultTimeoutMs;
    // Time left once connected: all of it with a live channel, so the clock is read again only
    // after a connect, and from the same clock as the deadline.
    let remaining = total;
    let channel = this.#liveChannel(addr);
    if (channel === undefined) {
      channel = await this.#connect(addr, deadlineAt, signal);
      remaining = deadlineAt - this.now();
    }
    try {
      return await (mayGetGoAway(request, this.options.reconnectOnGoAway)
        ? this.#invokeRetryingGoAway(channel, addr, request, deadlineAt, signal)
        : this.invoker.invoke(channel, request, deadlineAt, signal, this.rpcHooks));
    } catch (err) {
      if (isMqwireError(err, ErrorCodes.TIMEOUT) && this.options.closeSocketIfTimeout) {
        if (remaining > CLOSE_GUARD_MIN_MS || remaining > total / 4) {
          this.logger.warn(`closing ${channel} because of a time-out (invokeSync's rule)`);
          channel.close();
          const nameServer = addr === null ? this.#addrOf.get(channel) : undefined;
          if (nameServer !== undefined) this.#nameServers.timedOut(nameServer, err);
        }
      } else if (isMqwireError(err, ErrorCodes.SEND)) channel.close();
      throw err;
    }
  }

  /** RocketMQ's invokeAsync: the callback's operationSucceed or operationFail runs exactly once. */
  invokeAsync(
    addr: string | null,
    request: RemotingCommand,
    timeoutMs: number,
    callback: InvokeCallback,
  ): void {
    if (addr === null) {
      this.#invokeSyncRule(null, request, timeoutMs, undefined).then(
        (response) => runCallback(callback, response, null, this.logger),
        (error: Error) => runCallback(callback, null, error, this.logger),
      );
      return;
    }
    const deadlineAt = this.#checkDeadline(timeoutMs);
    if (typeof deadlineAt !== "number") {
      runCallback(callback, null, deadlineAt, this.logger);
      return;
    }
    if (mayGetGoAway(request, this.options.reconnectOnGoAway)) {
      this.#invokeRetryingGoAway(this.#liveChannel(addr), addr, request, deadlineAt, undefined).then(
        (response) => runCallback(callback, response, null, this.logger),
        (error: Error) => runCallback(callback, null, error, this.logger),
      );
      return;
    }
    const ready = this.#liveChannel(addr);
    if (ready !== undefined) {
      this.invoker.invokeCallback(ready, request, deadlineAt, this.rpcHooks, callback);
      return;
    }
    this.#connect(addr, deadlineAt).then(
      (channel) => this.invoker.invokeCallback(channel, request, deadlineAt, this.rpcHooks, callback),
      (error: Error) => runCallback(callback, null, error, this.logger),
    );
  }

  /** RocketMQ's invokeOneway: resolves once the request is written; no response is expected. */
  invokeOneway(addr: string | null, request: RemotingCommand, timeoutMs?: number): Promise<void> {
    // Not async: with a live channel the write happens now and no async frame is kept (see
    // Invoker.invokeOneway), and the clock is read only when something must wait.
    const t = checkTimeoutMs(timeoutMs, this.options.defaultTimeoutMs);
    if (typeof t !== "number") return Promise.reject(t);
    const ready = this.#liveChannel(addr);
    if (ready !== undefined) return this.invoker.invokeOneway(ready, request, t, undefined, this.rpcHooks);
    const deadlineAt = this.now() + t;
    return this.#connect(addr, deadlineAt).then((channel) =>
      this.invoker.invokeOneway(
        channel,
        request,
        Math.max(0, deadlineAt - this.now()),
        undefined,
        this.rpcHooks,
      ),
    );
  }

  /** Replaces the name-server list (shuffled on change; a dropped choice is closed). */
  updateNameServerAddressList(addrs: readonly string[]): void {
    this.#nameServers.update(addrs);
  }
  /** The name servers set by `updateNameServerAddressList`. */
  getNameServerAddressList(): string[] {
    return this.#nameServers.list;
  }
  /** Name servers the reachability scan (or a call) last reached. */
  getAvailableNameServerList(): string[] {
    return this.#nameServers.available;
  }
  /** The name server calls with `addr` null go to now, if chosen. */
  get chosenNameServer(): string | undefined {
    return this.#nameServers.chosen;
  }
  /** Runs one reachability scan now. */
  scanNameServers(): Promise<void> {
    return this.#nameServers.scan(this.options.connectTimeoutMs);
  }

  /** Closes the channels of these addresses; their pending calls fail at once. */
  closeChannels(addrs: readonly string[]): void {
    for (const addr of addrs) this.#table.close(addr);
  }

  /** RocketMQ's isChannelWritable: the channel's writability, true when there is no channel. */
  isChannelWritable(addr: string): boolean {
    return this.#table.peek(addr)?.isWritable ?? true;
  }

  /** Connects (or reuses the channel) and reports whether `addr` answers. */
  async isAddressReachable(addr: string): Promise<boolean> {
    if (!addr) return false;
    try {
      const channel = await this.#table.get(addr, this.now() + this.options.connectTimeoutMs);
      return channel.isActive;
    } catch {
      return false;
    }
  }

  /** The active channel of `addr`, if any (for diagnostics and tests). */
  channelOf(addr: string): RemotingChannel | undefined {
    return this.#table.peek(addr);
  }
}
