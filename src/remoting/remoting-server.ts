/**
 * RemotingServer (RocketMQ's NettyRemotingServer): listens on one or more addresses, wraps each
 * accepted connection as a channel (driver → negotiating engine → channel), dispatches requests
 * to processors, pushes requests to connected clients, and shuts down gracefully.
 */
import type { Duplex } from "node:stream";
import { callTimeNow } from "../clock.js";
import type { RemotingCommand } from "../codec/remoting-command.js";
import { InvalidArgumentError } from "../errors.js";
import {
  DEFAULT_TIMEOUT_MS,
  type RemotingServerOptions,
  type ResolvedServerOptions,
  resolveServerOptions,
} from "../options.js";
import { defaultAcceptor } from "../transport/routing.js";
import { TlsAcceptor, type TlsServerOptions } from "../transport/tls-server.js";
import type { Acceptor, Address, Listener } from "../transport/transport.js";
import type { RemotingChannel } from "./channel.js";
import { checkTimeoutMs } from "./invoke-types.js";
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

/** Options of a graceful shutdown. */
export interface ShutdownOptions {
  /** Most ms to wait for in-flight requests before closing. Default the server's shutdownGraceMs. */
  graceMs?: number;
}

export class RemotingServer extends RemotingService {
  readonly options: ResolvedServerOptions;
  readonly #acceptor: Acceptor;
  readonly #listenOn: readonly Address[];
  readonly #listeners: Listener[] = [];
  readonly #channels = new Set<RemotingChannel>();
  #state: "new" | "running" | "stopping" | "stopped" = "new";
  #shutdown: Promise<void> | undefined;

  constructor(options: ServerOptions = {}) {
    const resolved = resolveServerOptions(options);
    super(resolved, options.codec);
    this.options = resolved;
    const acceptor = options.acceptor ?? defaultAcceptor(resolved.tcp, resolved.logger);
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

  #accept(duplex: Duplex): void {
    if (this.#state !== "running") {
      duplex.destroy();
      return;
    }
    let channel: RemotingChannel;
    try {
      channel = this.createChannel(duplex, true, this.options.handshakeTimeoutMs);
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
    return this.invokeChannel(channel, request, callTimeNow() + t, options.signal, false);
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
    else this.invokeChannelCallback(channel, request, callTimeNow() + t, false, callback);
  }
  /** RocketMQ's `invokeOneway(channel, request, timeoutMillis)`: resolves once written. */
  invokeOneway(channel: RemotingChannel, request: RemotingCommand, timeoutMs: number): Promise<void> {
    const t = checkTimeoutMs(timeoutMs, DEFAULT_TIMEOUT_MS);
    if (typeof t !== "number") return Promise.reject(t);
    return this.invokeChannelOneway(channel, request, t, undefined, false);
  }

  /**
   * Graceful shutdown: stop accepting, answer GO_AWAY to peers newer than RocketMQ 5.3.1 (older
   * ones are still served), wait up to `graceMs` for requests in process, then close every
   * channel with a bounded final write; pushed calls still pending fail with ChannelClosedError.
   */
  shutdown(options: ShutdownOptions = {}): Promise<void> {
    // Every caller waits for the same shutdown: a second call must not resolve before the first.
    this.#shutdown ??= this.#shutdownOnce(options);
    return this.#shutdown;
  }

  async #shutdownOnce(options: ShutdownOptions): Promise<void> {
    this.#state = "stopping";
    const graceMs = options.graceMs ?? this.options.shutdownGraceMs;
    // GO_AWAY from the first moment, as RocketMQ sets isShuttingDown before it sleeps.
    this.dispatcher.shuttingDown = true;
    await Promise.allSettled(this.#listeners.map((l) => l.close()));
    this.#listeners.length = 0;
    if (graceMs > 0 && this.dispatcher.inProcess > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        this.dispatcher.whenIdle(),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, graceMs);
        }),
      ]);
      clearTimeout(timer);
    }
    const closing = [...this.#channels].map(
      (channel) =>
        new Promise<void>((resolve) => {
          // isActive turns false as soon as close() starts: wait for the engine's "close". A
          // channel whose onClose already ran has left #channels (channelClosed).
          if (!this.#channels.has(channel)) return resolve();
          channel.engine.once("close", () => resolve());
          channel.close(Math.min(graceMs, this.options.closeGraceMs));
        }),
    );
    await Promise.all(closing);
    await this.dispatcher.closeProcessors();
    this.#state = "stopped";
  }
}
