/**
 * RemotingServer (RocketMQ's NettyRemotingServer): listens on one or more addresses, wraps each
 * accepted connection as a channel (driver → negotiating engine → channel), dispatches requests
 * to processors, pushes requests to connected clients, and shuts down gracefully.
 */
import type { Duplex } from "node:stream";
import { DeadlineTimer } from "../clock.js";
import type { RemotingCommand } from "../codec/remoting-command.js";
import { InvalidArgumentError, TooManyRequestsError } from "../errors.js";
import {
  DEFAULT_TIMEOUT_MS,
  type RemotingServerOptions,
  type ResolvedServerOptions,
  resolveServerOptions,
} from "../options.js";
import { ProxyProtocolAcceptor } from "../transport/proxy-acceptor.js";
import { defaultAcceptor } from "../transport/routing.js";
import { TlsAcceptor, type TlsServerOptions } from "../transport/tls-server.js";
import type { Acceptor, Address, Listener } from "../transport/transport.js";
import type { RemotingChannel } from "./channel.js";
import { checkTimeoutMs } from "./invoke-types.js";
import { NO_HOOKS } from "./invoker.js";
import { type InvokeCallback, type InvokeOptions, RemotingService, runCallback } from "./remoting-service.js";

/** Server options: the shared ones plus where to listen and how to accept. */
export interface ServerOptions extends RemotingServerOptions {
  /** Addresses `start()` listens on. Default ["127.0.0.1:0"]. */
  listen?: Address[];
  /** Accepts connections; default routes TCP, Unix and memory:// by address. */
  acceptor?: Acceptor;
  /**
   * TLS on the listening ports, sniffed per connection as RocketMQ's TlsModeHandler does:
   * mode "permissive" serves TLS and plaintext on one port, "enforcing" only TLS.
   */
  tls?: TlsServerOptions;
}

/**
 * Longest a shutting-down server waits for a channel with nothing in process to stay silent
 * before closing it, in ms (a tenth of the grace when that is less): long enough for a peer that
 * just got its answers to send its next request and get GO_AWAY, instead of meeting a close.
 */
const MAX_SHUTDOWN_QUIET_MS = 1000;
/** How often a shutting-down server looks for channels it can close, in ms. */
const SHUTDOWN_SWEEP_MS = 10;

/** Options of a graceful shutdown. */
export interface ShutdownOptions {
  /**
   * Longest the shutdown takes, in ms: requests in process get until then to be answered. A number
   * >= 0 or Infinity. Default the server's shutdownGraceMs.
   */
  graceMs?: number;
}

/**
 * RocketMQ's NettyRemotingServer: accepts connections, runs processors and hooks, and pushes requests to
 * connected clients.
 */
export class RemotingServer extends RemotingService {
  /** The options as validated at construction. */
  readonly options: ResolvedServerOptions;
  readonly #acceptor: Acceptor;
  readonly #listenOn: readonly Address[];
  readonly #listeners: Listener[] = [];
  readonly #channels = new Set<RemotingChannel>();
  #state: "new" | "running" | "stopping" | "stopped" = "new";
  #shutdown: Promise<void> | undefined;
  #refusedConnections = 0;
  /** During a shutdown: resolves it once the last channel has closed. */
  #onAllClosed: (() => void) | undefined;

  constructor(options: ServerOptions = {}) {
    const resolved = resolveServerOptions(options);
    super(resolved, options.codec);
    this.options = resolved;
    let acceptor = options.acceptor ?? defaultAcceptor(resolved.tcp, resolved.logger);
    // The PROXY header comes first on the wire, before a TLS handshake (HAProxy sends it first).
    if (resolved.proxyProtocol !== "off") {
      acceptor = new ProxyProtocolAcceptor(
        acceptor,
        { mode: resolved.proxyProtocol, timeoutMs: resolved.handshakeTimeoutMs },
        resolved.logger,
      );
    }
    this.#acceptor = options.tls ? new TlsAcceptor(acceptor, options.tls, resolved.logger) : acceptor;
    this.#listenOn = Object.freeze([...(options.listen ?? ["127.0.0.1:0"])]);
  }

  /** Listens on the configured addresses. */
  async start(): Promise<void> {
    if (this.#state !== "new") throw new InvalidArgumentError(`server cannot start: it is ${this.#state}`);
    this.#state = "running";
    try {
      for (const address of this.#listenOn) await this.listen(address);
    } catch (err) {
      await this.shutdown({ graceMs: 0 });
      throw err;
    }
  }

  /** Listens on one more address; returns the bound one (real port when 0 was asked). */
  async listen(address: Address): Promise<string> {
    if (this.#state !== "running")
      throw new InvalidArgumentError(`server cannot listen: it is ${this.#state}`);
    const listener = await this.#acceptor.listen(address, (duplex) => this.#accept(duplex));
    this.#listeners.push(listener);
    return listener.address;
  }

  /** Qpid's `bind(port, addresses[])`: listens on `port` at each host. */
  async bind(port: number, hosts: readonly string[] = ["0.0.0.0"]): Promise<string[]> {
    const bound: string[] = [];
    for (const host of hosts)
      bound.push(await this.listen(host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`));
    return bound;
  }

  /** Bound addresses, with real ports. */
  get addresses(): string[] {
    return this.#listeners.map((l) => l.address);
  }
  /** Port of the first TCP listener (0 if none). */
  get port(): number {
    return this.#listeners.find((l) => l.port > 0)?.port ?? 0;
  }
  /** Live channels. */
  get channels(): ReadonlySet<RemotingChannel> {
    return this.#channels;
  }
  /** Connections closed at accept because `maxConnections` were open. */
  get refusedConnections(): number {
    return this.#refusedConnections;
  }

  #accept(duplex: Duplex): void {
    if (this.#state !== "running") {
      duplex.destroy();
      return;
    }
    // Handshaking channels count: a flood of silent connections must not grow without bound
    // while it waits for handshakeTimeoutMs (RELIABILITY.md, "Hostile input and limits").
    if (this.#channels.size >= this.options.maxConnections) {
      this.#refusedConnections++;
      const peer = (duplex as { remoteAddress?: string }).remoteAddress ?? "a peer";
      this.logger.warn(
        `refusing connection from ${peer}: maxConnections (${this.options.maxConnections}) connections are open`,
      );
      duplex.destroy();
      return;
    }
    let channel: RemotingChannel;
    try {
      channel = this.createChannel(duplex, { side: "server", deadlines: this.options });
    } catch (err) {
      this.logger.warn(`accepting a connection failed: ${String(err)}`);
      duplex.destroy();
      return;
    }
    if (!channel.isActive) return;
    this.#channels.add(channel);
    this.emit("connect", channel.remoteAddress, channel);
  }

  protected channelClosed(channel: RemotingChannel): void {
    this.#channels.delete(channel);
    if (this.#channels.size === 0) this.#onAllClosed?.();
  }

  /**
   * Pushes never queue past the high-water mark: to a channel whose queued output is above it (a
   * client that stopped reading), every push (invoke, invokeSync, invokeAsync, invokeOneway)
   * fails at once with MQW_ERR_TOO_MANY_REQUESTS, as an empty permit pool does, and nothing is
   * written. Netty would queue it without bound (RocketMQ #3651); the channel stays open, and
   * `channel.isWritable` (with the engine's `drain`) tells when pushing works again.
   */
  protected override refuseWrite(channel: RemotingChannel): Error | undefined {
    if (channel.isWritable || !channel.isActive) return undefined;
    return new TooManyRequestsError(
      `push to ${channel.remoteAddress} refused: its output is above the high-water mark (the peer is not reading)`,
    );
  }

  /**
   * Pushes a request to a connected client and waits for its response. A `timeoutMs` below 0 or
   * not a number rejects with MQW_ERR_INVALID_ARGUMENT, as on every push.
   */
  invoke(
    channel: RemotingChannel,
    request: RemotingCommand,
    options: InvokeOptions = {},
  ): Promise<RemotingCommand> {
    const t = checkTimeoutMs(options.timeoutMs, DEFAULT_TIMEOUT_MS);
    if (typeof t !== "number") return Promise.reject(t);
    return this.invoker.invoke(channel, request, this.now() + t, options.signal, NO_HOOKS);
  }
  /** RocketMQ's `invokeSync(channel, request, timeoutMillis)`. */
  invokeSync(
    channel: RemotingChannel,
    request: RemotingCommand,
    timeoutMs: number,
  ): Promise<RemotingCommand> {
    return this.invoke(channel, request, { timeoutMs });
  }
  /** RocketMQ's `invokeAsync(channel, request, timeoutMillis, callback)`. */
  invokeAsync(
    channel: RemotingChannel,
    request: RemotingCommand,
    timeoutMs: number,
    callback: InvokeCallback,
  ): void {
    const t = checkTimeoutMs(timeoutMs, DEFAULT_TIMEOUT_MS);
    if (typeof t !== "number") runCallback(callback, null, t, this.logger);
    else this.invoker.invokeCallback(channel, request, this.now() + t, NO_HOOKS, callback);
  }
  /** RocketMQ's `invokeOneway(channel, request, timeoutMillis)`: resolves once written. */
  invokeOneway(channel: RemotingChannel, request: RemotingCommand, timeoutMs: number): Promise<void> {
    const t = checkTimeoutMs(timeoutMs, DEFAULT_TIMEOUT_MS);
    if (typeof t !== "number") return Promise.reject(t);
    return this.invoker.invokeOneway(channel, request, t, undefined, NO_HOOKS);
  }

  /**
   * Graceful shutdown, over at most `graceMs` (a number >= 0, or Infinity; beyond setTimeout's
   * range is fine): stop accepting connections; from then on take no new request (GO_AWAY to
   * peers newer than RocketMQ 5.3.1, which retry elsewhere; older peers' requests are dropped
   * and their channel closed, see Dispatcher.beginShutdown); answer every request taken; close
   * each channel of an older peer once nothing it took is in process and it is quiet (no read
   * for a tenth of the grace, at most a second), and leave a newer peer's to the peer, which
   * closes it after GO_AWAY; at the end of the grace close the rest at once. Calls still pending
   * on a closed channel (pushes included) fail with ChannelClosedError. Rejects with
   * InvalidArgumentError for a bad `graceMs`.
   */
  shutdown(options: ShutdownOptions = {}): Promise<void> {
    const graceMs = options.graceMs ?? this.options.shutdownGraceMs;
    if (typeof graceMs !== "number" || !(graceMs >= 0)) {
      return Promise.reject(
        new InvalidArgumentError(`graceMs must be a number >= 0 or Infinity, got ${String(graceMs)}`),
      );
    }
    // Every caller waits for the same shutdown: a second call must not resolve before the first.
    this.#shutdown ??= this.#shutdownOnce(graceMs);
    return this.#shutdown;
  }

  async #shutdownOnce(graceMs: number): Promise<void> {
    this.#state = "stopping";
    const clock = this.clock;
    const deadlineAt = clock.now() + graceMs;
    const quietMs = Math.min(graceMs / 10, MAX_SHUTDOWN_QUIET_MS);
    const refused = new Set<RemotingChannel>();
    // No new request from the first moment, as RocketMQ sets isShuttingDown before it sleeps.
    this.dispatcher.beginShutdown((channel) => refused.add(channel));
    const listenersClosed = Promise.allSettled(this.#listeners.map((l) => l.close()));
    this.#listeners.length = 0;
    const closed = new Promise<void>((resolve) => {
      this.#onAllClosed = resolve;
    });
    const closeAt = (now: number): number =>
      Math.min(this.options.closeGraceMs, Math.max(0, deadlineAt - now));
    // Quiet is judged by this loop's own sweeps, not by the last read's time: after a stall of
    // this process, the timers run before the reads that waited in the kernel, so a channel
    // counts as quiet only once two sweeps, with a poll for reads between, saw no new byte.
    const quiet = new Map<RemotingChannel, { bytesRead: number; since: number; sweeps: number }>();
    const sweep = (): void => {
      const now = clock.now();
      for (const channel of this.#channels) {
        if (!channel.isActive) continue;
        const bytesRead = channel.engine.transport.bytesRead;
        let q = quiet.get(channel);
        if (q === undefined || q.bytesRead !== bytesRead || channel.pendingRequests > 0) {
          q = { bytesRead, since: now, sweeps: 0 };
          quiet.set(channel, q);
        } else q.sweeps++;
        if (channel.pendingRequests > 0) continue;
        if (refused.has(channel)) channel.close(closeAt(now));
        // A peer that understands GO_AWAY gets one on its next request and then leaves (an mqwire
        // client closes the channel once its calls on it end): closing under it instead would
        // fail the requests it is sending, as ChannelClosedError rather than a retry.
        else if (!channel.peerUnderstandsGoAway && q.sweeps >= 2 && now - q.since >= quietMs) {
          channel.close(closeAt(now));
        }
      }
      if (this.#channels.size === 0) this.#onAllClosed?.();
    };
    const sweeper = setInterval(sweep, SHUTDOWN_SWEEP_MS);
    // Clamped and re-armed past 2^31-1 ms; Infinity arms nothing (src/clock.ts).
    const deadline = new DeadlineTimer(
      deadlineAt,
      () => {
        // The grace is over: what is left closes now (no second wait for a last write), its
        // calls in process unanswered.
        for (const channel of [...this.#channels]) channel.destroy();
      },
      clock,
    );
    sweep();
    await closed;
    clearInterval(sweeper);
    deadline.cancel();
    this.#onAllClosed = undefined;
    await listenersClosed;
    await this.dispatcher.closeProcessors();
    this.#state = "stopped";
  }
}
