/**
 * Contracts of the network driver (Qpid's split): a Connector opens a Duplex, an Acceptor binds
 * and hands over accepted Duplexes, and one Transport (socket-transport.ts) wraps any Duplex as
 * one live connection. Nothing above the transport touches a socket.
 */
import type { X509Certificate } from "node:crypto";
import type { Duplex } from "node:stream";
import type { ProxiedEndpoints } from "./address.js";

/** Which side of inactivity fired (Netty's IdleStateHandler states). */
export type IdleKind = "reader" | "writer" | "all";

/** Idle thresholds in milliseconds; 0 disables one. One re-armed timer serves all three. */
export interface IdleOptions {
  /** Nothing read for this long, in ms. Default 0 (off). */
  readerIdleMs?: number;
  /** Nothing written for this long, in ms. Default 0 (off). */
  writerIdleMs?: number;
  /** Nothing read or written for this long, in ms. Default 0 (off). */
  allIdleMs?: number;
}

/**
 * TCP options applied by the TCP connector and acceptor. Node exposes no API for SO_SNDBUF,
 * SO_RCVBUF or SO_LINGER, so mqwire does not pretend to set them.
 */
export interface TcpOptions {
  /** TCP_NODELAY. Default true (RocketMQ sets it on both sides). */
  noDelay?: boolean;
  /** SO_KEEPALIVE. Default false, as RocketMQ. */
  keepAlive?: boolean;
  /** Idle time before the first keep-alive probe, in ms. Default 0 (the OS default). */
  keepAliveInitialDelayMs?: number;
  /** Connect time-out in ms (client). Default 3000, RocketMQ's connectTimeoutMillis. */
  connectTimeoutMs?: number;
  /** Socket inactivity time-out in ms; on expiry the socket is destroyed. Default 0 (off). */
  socketTimeoutMs?: number;
  /** Listen backlog (server). Default 1024, RocketMQ's serverSocketBacklog. */
  backlog?: number;
}

/** Where to connect or listen: "host:port", "[v6]:port", a Unix socket path, or "memory://name". */
export type Address = string;

/** Opens a connection. Rejects with `MQW_ERR_CONNECT` or `MQW_ERR_TIMEOUT`. */
export interface Connector {
  /** Opens a connection to `target`; `signal` abandons it. */
  open(target: Address, signal?: AbortSignal): Promise<Duplex>;
}

/** A bound listener. */
export interface Listener {
  /** The bound address, with the real port when 0 was asked for ("127.0.0.1:40123"). */
  readonly address: Address;
  /** The bound port, or 0 for Unix and memory listeners. */
  readonly port: number;
  /** Stops accepting; live connections are left to their owners. */
  close(): Promise<void>;
}

/** Binds an address and hands over every accepted connection. */
export interface Acceptor {
  /** Binds `address` and calls `onConnection` with each accepted connection. */
  listen(address: Address, onConnection: (duplex: Duplex) => void): Promise<Listener>;
}

/** What a transport tells its single owner (the protocol engine). */
export interface TransportEvents {
  /** Bytes arrived. */
  data: [chunk: Buffer];
  /** Queued output fell below the low-water mark: writable again. */
  drain: [];
  /** An idle threshold passed. */
  idle: [kind: IdleKind];
  /** The connection closed; `error` says why, undefined for an orderly close. */
  close: [error: Error | undefined];
}

/** One live connection as the engine sees it. */
export interface Transport {
  /**
   * Queues chunks for writing and returns at once (never blocks). Chunks written in the same
   * tick leave in one writev. Returns `isWritable` after queueing.
   */
  write(chunks: readonly Buffer[]): boolean;
  /**
   * Optional FrameSink (codec.ts) methods: codecs with `encodeInto` then write frames straight
   * into the outgoing batch. SocketTransport has them; a transport without them gets `write`.
   */
  claim?(bytes: number): number;
  /** FrameSink: the buffer `claim` reserved space in. */
  readonly claimBuffer?: Buffer;
  /** FrameSink: queues a chunk after what was claimed, without copying it. */
  append?(chunk: Buffer): void;
  /** Half-closes after flushing; destroys if the peer has not finished by `graceMs` (default 3000). */
  end(graceMs?: number): void;
  /** Closes at once; `close` fires with `error`. */
  destroy(error?: Error): void;
  /** Stops reading (read back-pressure). */
  pause(): void;
  /** Optional: lets the reader choose where the next bytes are read (SocketTransport). */
  setReadTarget?(provider: () => Buffer | undefined): void;
  /** Starts reading again after `pause()`. */
  resume(): void;
  /** False while queued output is above the high-water mark; `drain` fires when it is again. */
  readonly isWritable: boolean;
  /** True once no more writes are accepted. */
  readonly isClosed: boolean;
  /** Bytes read so far. */
  readonly bytesRead: number;
  /** Bytes written so far. */
  readonly bytesWritten: number;
  /** Epoch ms of the last read / write, or of creation. */
  readonly lastReadAt: number;
  /** Epoch ms of the last write, or of creation. */
  readonly lastWriteAt: number;
  /** This side's address. */
  readonly localAddress: string;
  /** The peer; on a server behind a PROXY protocol header, the real client (see `proxy`). */
  readonly remoteAddress: string;
  /** Optional: what a PROXY protocol header said (the proxy's address, TLVs); undefined without one. */
  readonly proxy?: ProxiedEndpoints | undefined;
  /** Optional: the peer's TLS certificate, when the connection is TLS and the peer sent one. */
  readonly peerCertificate?: X509Certificate | undefined;
  /** Re-arms the idle timer with new thresholds. */
  setIdle(options: IdleOptions): void;
  /** Adds a listener. */
  on<E extends keyof TransportEvents>(event: E, listener: (...args: TransportEvents[E]) => void): this;
  /** Adds a listener called once. */
  once<E extends keyof TransportEvents>(event: E, listener: (...args: TransportEvents[E]) => void): this;
  /** Removes a listener. */
  off<E extends keyof TransportEvents>(event: E, listener: (...args: TransportEvents[E]) => void): this;
}
