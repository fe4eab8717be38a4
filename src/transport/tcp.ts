/**
 * TCP and Unix-socket Connector and Acceptor over node:net. TCP options are validated once and
 * applied to every connected and accepted socket, as RocketMQ's `NettyRemotingClient` /
 * `NettyRemotingServer` apply TCP_NODELAY, SO_KEEPALIVE and the connect time-out to each channel.
 *
 * Node offers no API for SO_SNDBUF, SO_RCVBUF or SO_LINGER (RocketMQ's `clientSocketSndBufSize`,
 * `serverSocketRcvBufSize`, ...), so mqwire has no such options rather than options that do nothing.
 */
import { lstat, unlink } from "node:fs/promises";
import net from "node:net";
import type { Duplex } from "node:stream";
import { ConnectError, InvalidArgumentError, TimeoutError } from "../errors.js";
import { defaultLogger, type Logger } from "../logger.js";
import { formatAddress, parseAddress, tagEndpoints } from "./address.js";
import { AfterNextPoll } from "./after-next-poll.js";
import { READ_BUFFERS, ReadBuffers } from "./read-buffers.js";
import type { Acceptor, Address, Connector, Listener, TcpOptions } from "./transport.js";

/** TCP_NODELAY on (RocketMQ sets it on both sides). */
export const DEFAULT_NO_DELAY = true;
/** SO_KEEPALIVE off, as RocketMQ. */
export const DEFAULT_KEEP_ALIVE = false;
/** Keep-alive probe delay 0: the OS default. */
export const DEFAULT_KEEP_ALIVE_INITIAL_DELAY_MS = 0;
/** Connect time-out: RocketMQ's `connectTimeoutMillis` default, 3000 ms. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 3000;
/** Socket inactivity time-out: off. */
export const DEFAULT_SOCKET_TIMEOUT_MS = 0;
/** Listen backlog: RocketMQ's `serverSocketBacklog` default, 1024. */
export const DEFAULT_BACKLOG = 1024;

/** Validates TCP options once; throws InvalidArgumentError naming the option; returns them frozen. */
export function resolveTcpOptions(options: TcpOptions = {}): Readonly<Required<TcpOptions>> {
  const bool = (name: "noDelay" | "keepAlive", fallback: boolean): boolean => {
    const v = options[name] ?? fallback;
    if (typeof v !== "boolean") throw new InvalidArgumentError(`${name} must be a boolean, got ${String(v)}`);
    return v;
  };
  const int = (name: keyof TcpOptions, fallback: number, min: number): number => {
    const v = options[name] ?? fallback;
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v < min) {
      throw new InvalidArgumentError(`${name} must be an integer >= ${min}, got ${String(v)}`);
    }
    return v;
  };
  return Object.freeze({
    noDelay: bool("noDelay", DEFAULT_NO_DELAY),
    keepAlive: bool("keepAlive", DEFAULT_KEEP_ALIVE),
    keepAliveInitialDelayMs: int("keepAliveInitialDelayMs", DEFAULT_KEEP_ALIVE_INITIAL_DELAY_MS, 0),
    connectTimeoutMs: int("connectTimeoutMs", DEFAULT_CONNECT_TIMEOUT_MS, 0),
    socketTimeoutMs: int("socketTimeoutMs", DEFAULT_SOCKET_TIMEOUT_MS, 0),
    backlog: int("backlog", DEFAULT_BACKLOG, 0),
  });
}

function onSocketTimeout(this: net.Socket): void {
  this.destroy(new TimeoutError("socket inactive past socketTimeoutMs"));
}

/** Applies the per-socket options (both sides). Unix sockets ignore noDelay/keepAlive in Node. */
function applySocketOptions(socket: net.Socket, o: Readonly<Required<TcpOptions>>): void {
  socket.setNoDelay(o.noDelay);
  socket.setKeepAlive(o.keepAlive, o.keepAliveInitialDelayMs);
  if (o.socketTimeoutMs > 0) {
    socket.setTimeout(o.socketTimeoutMs);
    socket.on("timeout", onSocketTimeout);
  }
}

/** Seams for tests: how sockets and servers are made. */
export interface TcpDeps {
  /** Default `net.connect`. */
  connect?: (options: net.NetConnectOpts) => net.Socket;
  /** Default `net.createServer`. */
  createServer?: (onConnection: (socket: net.Socket) => void) => net.Server;
  /** Where listener errors after bind go. Default the mqwire debuglog logger. */
  logger?: Logger;
  /**
   * Connector only: create sockets with `onread` into buffers the decoder chooses (see
   * ./read-buffers.ts). Only for sockets an engine reads directly: TLS and SOCKS need 'data'
   * events, so the connectors that wrap this one must leave it off. Default false.
   */
  zeroCopyReads?: boolean;
}

/**
 * Opens TCP ("host:port", "[v6]:port") and Unix ("unix:/path", "/path") connections.
 * Rejects with ConnectError (cause: the socket error, or a TimeoutError after connectTimeoutMs;
 * RocketMQ raises RemotingConnectException for both) or with the AbortSignal's reason.
 */
export class TcpConnector implements Connector {
  /** The validated, frozen options. */
  readonly options: Readonly<Required<TcpOptions>>;
  readonly #connect: (options: net.NetConnectOpts) => net.Socket;
  readonly #zeroCopyReads: boolean;

  constructor(options?: TcpOptions, deps: TcpDeps = {}) {
    this.options = resolveTcpOptions(options);
    this.#connect = deps.connect ?? net.connect;
    this.#zeroCopyReads = deps.zeroCopyReads === true;
  }

  open(target: Address, signal?: AbortSignal): Promise<Duplex> {
    let addr: ReturnType<typeof parseAddress>;
    try {
      addr = parseAddress(target);
    } catch (err) {
      return Promise.reject(err);
    }
    if (addr.kind === "memory") {
      return Promise.reject(new InvalidArgumentError(`TcpConnector cannot open "${target}"`));
    }
    if (signal?.aborted) return Promise.reject(signal.reason);
    const o = this.options;
    return new Promise<Duplex>((resolve, reject) => {
      const where = addr.kind === "tcp" ? { host: addr.host, port: addr.port } : { path: addr.path };
      const reader = this.#zeroCopyReads ? new ReadBuffers() : undefined;
      const socket = this.#connect(
        reader === undefined
          ? where
          : {
              ...where,
              onread: {
                buffer: reader.next,
                callback: (n: number, buf: Uint8Array): boolean => {
                  reader.deliver(n, buf);
                  return true;
                },
              },
            },
      );
      if (reader !== undefined) (socket as unknown as Record<symbol, unknown>)[READ_BUFFERS] = reader;
      let timer: NodeJS.Timeout | undefined;
      let late: AfterNextPoll | undefined;
      const settle = (error: unknown): void => {
        if (timer !== undefined) clearTimeout(timer);
        late?.cancel();
        socket.off("connect", onConnect);
        socket.off("error", onError);
        signal?.removeEventListener("abort", onAbort);
        if (error === undefined) {
          applySocketOptions(socket, o);
          if (addr.kind === "unix") tagEndpoints(socket, { local: addr.path, remote: addr.path });
          resolve(socket);
        } else {
          socket.destroy();
          reject(error);
        }
      };
      const onConnect = (): void => settle(undefined);
      const onError = (err: Error): void =>
        settle(new ConnectError(`connect to ${target} failed`, { cause: err }));
      const onAbort = (): void => settle(signal?.reason);
      socket.once("connect", onConnect);
      socket.once("error", onError);
      signal?.addEventListener("abort", onAbort, { once: true });
      if (o.connectTimeoutMs > 0) {
        // After one more poll: a connect done during a stall of the loop is not failed (after-next-poll.ts).
        late = new AfterNextPoll(() => {
          const cause = new TimeoutError(`connect to ${target} timed out after ${o.connectTimeoutMs} ms`);
          settle(new ConnectError(`connect to ${target} failed`, { cause }));
        });
        timer = setTimeout(late.fire, o.connectTimeoutMs);
      }
    });
  }
}

/**
 * Binds TCP ("host:port"; port 0 picks a free port, reported by the Listener) and Unix paths.
 * A stale Unix socket file is removed first, but only when it is a socket nobody accepts on.
 * Bind failures reject with InvalidArgumentError whose cause is the Node error (EADDRINUSE, ...).
 */
export class TcpAcceptor implements Acceptor {
  /** The validated, frozen options. */
  readonly options: Readonly<Required<TcpOptions>>;
  readonly #createServer: (onConnection: (socket: net.Socket) => void) => net.Server;
  readonly #logger: Logger;

  constructor(options?: TcpOptions, deps: TcpDeps = {}) {
    this.options = resolveTcpOptions(options);
    this.#createServer = deps.createServer ?? ((onConnection) => net.createServer(onConnection));
    this.#logger = deps.logger ?? defaultLogger;
  }

  async listen(address: Address, onConnection: (duplex: Duplex) => void): Promise<Listener> {
    const addr = parseAddress(address);
    if (addr.kind === "memory") throw new InvalidArgumentError(`TcpAcceptor cannot listen on "${address}"`);
    if (addr.kind === "unix") await removeStaleSocket(addr.path);
    const o = this.options;
    let peerId = 0;
    const server = this.#createServer((socket) => {
      applySocketOptions(socket, o);
      if (addr.kind === "unix") {
        // Unix peers are unnamed; a per-listener number keeps remote addresses distinct (channel maps).
        tagEndpoints(socket, { local: addr.path, remote: `${addr.path}#${++peerId}` });
      }
      onConnection(socket);
    });
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => {
        reject(new InvalidArgumentError(`cannot listen on ${address}`, { cause: err }));
      };
      server.once("error", onError);
      const opts = addr.kind === "tcp" ? { host: addr.host, port: addr.port } : { path: addr.path };
      server.listen({ ...opts, backlog: o.backlog }, () => {
        server.off("error", onError);
        resolve();
      });
    });
    const logger = this.#logger;
    server.on("error", (err) => logger.error(`listener ${address} error`, err));
    const bound = server.address();
    const port = typeof bound === "object" && bound !== null ? bound.port : 0;
    const name =
      typeof bound === "object" && bound !== null ? formatAddress(bound.address, bound.port) : address;
    return {
      address: name,
      port,
      close: () => closeServer(server),
    };
  }
}

/** Stops accepting. server.close()'s callback waits for live connections; we do not. */
function closeServer(server: net.Server): Promise<void> {
  if (!server.listening) return Promise.resolve();
  return new Promise<void>((resolve) => {
    server.close();
    // The listening handle is closed by the next loop turn (libuv uv_close).
    setImmediate(resolve);
  });
}

/** Unlinks `path` only if it is a socket and connecting to it is refused (nobody listens). */
async function removeStaleSocket(path: string): Promise<void> {
  let isSocket = false;
  try {
    isSocket = (await lstat(path)).isSocket();
  } catch {
    return; // absent: nothing to remove
  }
  if (!isSocket) return; // a regular file: let listen() fail with EADDRINUSE
  const live = await new Promise<boolean>((resolve) => {
    const probe = net.connect({ path }, () => {
      probe.destroy();
      resolve(true);
    });
    probe.once("error", () => resolve(false));
  });
  if (!live) await unlink(path).catch(() => undefined);
}
