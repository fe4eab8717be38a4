/**
 * Options of servers and clients: named DEFAULT_* constants (RocketMQ's NettyServerConfig /
 * NettyClientConfig values unless a note says why not), validated once and frozen
 * (STYLE.md rule 2). Nothing deep in the code reads raw options.
 */
import { type Clock, systemClock } from "./clock.js";
import { type Codec, DEFAULT_MAX_EXT_FIELDS, DEFAULT_MAX_HEADER_BYTES } from "./codec/codec.js";
import type { RemotingCommand } from "./codec/remoting-command.js";
import { LanguageCode, SerializeType } from "./codec/remoting-command.js";
import { DEFAULT_MAX_FRAME_BYTES } from "./codec/rocketmq-codec.js";
import { InvalidArgumentError } from "./errors.js";
import { defaultLogger, type Logger } from "./logger.js";
import type { ProxyProtocolMode } from "./transport/proxy-acceptor.js";
import { DEFAULT_CLOSE_GRACE_MS } from "./transport/socket-transport.js";
import type { SocksProxyConfig } from "./transport/socks.js";
import { DEFAULT_CONNECT_TIMEOUT_MS } from "./transport/tcp.js";
import type { TlsClientOptions } from "./transport/tls.js";
import type { Connector, TcpOptions } from "./transport/transport.js";

/**
 * Smallest `maxFrameBytes` a server or client accepts: room for RocketMQ's length and
 * header-length words and a minimal header. (A bare ProtocolEngine, codec-neutral, takes 1.)
 */
const MIN_REMOTING_FRAME_BYTES = 64;
/** Time a new connection has to send enough bytes to choose a codec (Qpid: guard against silent peers). */
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;
/** Client async permits (`com.rocketmq.remoting.clientAsyncSemaphoreValue`). */
export const DEFAULT_CLIENT_ASYNC_PERMITS = 65535;
/** Client one-way permits (`com.rocketmq.remoting.clientOnewaySemaphoreValue`). */
export const DEFAULT_CLIENT_ONEWAY_PERMITS = 65535;
/** Server async permits (`NettyServerConfig.serverAsyncSemaphoreValue`). */
export const DEFAULT_SERVER_ASYNC_PERMITS = 64;
/** Server one-way permits (`NettyServerConfig.serverOnewaySemaphoreValue`). */
export const DEFAULT_SERVER_ONEWAY_PERMITS = 256;
/**
 * Requests one processor runs at once (a Promise-returning processor holds its slot until it
 * settles). RocketMQ gives most processors an 8–16 thread pool; on one event loop a slot is
 * cheap and the limit is about fairness between codes; 64 equals `serverAsyncSemaphoreValue`.
 */
export const DEFAULT_PROCESSOR_CONCURRENCY = 64;
/** Requests queued per processor before SYSTEM_BUSY "[OVERLOAD]" (RocketMQ's bounded queues hold 10 000+). */
export const DEFAULT_PROCESSOR_MAX_QUEUE = 10_000;
/**
 * All-idle time after which a channel is closed: RocketMQ's 120 s on both sides. A client also
 * takes it as the reader-idle time of a dead peer (RemotingOptions.channelMaxIdleMs), well above
 * the 15-20 s a broker holds a long poll.
 */
export const DEFAULT_CHANNEL_MAX_IDLE_MS = 120_000;
/** Default time-out of a call, in ms (RocketMQ's mqClientApiTimeout). */
export const DEFAULT_TIMEOUT_MS = 3_000;
/** Requests one channel may have in processing before its socket stops being read. */
export const DEFAULT_CHANNEL_MAX_PENDING_REQUESTS = 1_024;
/** First reconnect back-off after a failed connect, in ms (doubles per failure, ±20% jitter). */
export const DEFAULT_RECONNECT_BASE_MS = 100;
/** Cap of the reconnect back-off, in ms. */
export const DEFAULT_RECONNECT_MAX_MS = 10_000;
/** Period of the name-server reachability scan: RocketMQ runs it every connectTimeoutMillis. */
export const DEFAULT_NAME_SERVER_SCAN_MS = 3_000;
/** Grace of a graceful server shutdown, in ms. */
export const DEFAULT_SHUTDOWN_GRACE_MS = 10_000;
/** Time a server gives one frame from its first byte to its last, in ms. */
export const DEFAULT_FRAME_TIMEOUT_MS = 60_000;
/** PROXY protocol headers are not read unless asked for (the spec: never guess, configure). */
export const DEFAULT_PROXY_PROTOCOL: ProxyProtocolMode = "off";
const PROXY_PROTOCOL_MODES: readonly string[] = ["off", "optional", "required"];

/**
 * Connections a server holds at once (handshaking ones included); one more is closed at accept,
 * logged and counted. RocketMQ has no such limit; 10,000 is well above a broker's usual client
 * count and well below what exhausts a process's memory or file descriptors.
 */
export const DEFAULT_MAX_CONNECTIONS = 10_000;

// Defaults that the codec and the transports apply on their own are declared there, below this
// module, and re-exported here: each is written once, and this is where users find them all.
export {
  DEFAULT_CLOSE_GRACE_MS,
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_MAX_EXT_FIELDS,
  DEFAULT_MAX_FRAME_BYTES,
  DEFAULT_MAX_HEADER_BYTES,
};

/** Options shared by servers and clients. */
export interface RemotingOptions {
  /** Serialize type of commands this side creates. Default JSON (RocketMQ's default). */
  serializeType?: SerializeType;
  /**
   * `language` of commands this side creates. Default JAVA: RocketMQ servers before 5.3.2 cannot
   * map NODE_JS (13), and a Java peer should not be able to tell mqwire from itself.
   */
  language?: LanguageCode;
  /**
   * `version` of commands this side creates (RocketMQ's MQVersion ordinal, 479 for 5.3.3).
   * Default 0, as RocketMQ's RemotingCommand without `rocketmq.remoting.version`. Name servers
   * answer standard JSON routes from 401; above 475 a shutting-down server answers GO_AWAY
   * (code 1500), which a client retries once on a new connection unless `reconnectOnGoAway` is
   * false (see there).
   */
  version?: number;
  /**
   * Close a channel after this many ms with neither read nor write (either side, as RocketMQ);
   * 0 disables. Default 120000, RocketMQ's. A client also closes a channel that has read nothing
   * for this long while calls await a response, having waited at least half of it (a dead or
   * paused peer: the all-idle rule never fires while the client keeps writing); its calls fail
   * with MQW_ERR_CHANNEL_CLOSED and the next call reconnects. So keep it above the longest time
   * a server may hold a call unanswered: a long-polling pull or pop is held up to its suspend
   * time (RocketMQ's consumers ask for 15 s, PullConsumer's `maxSuspendMs` is 20 s).
   */
  channelMaxIdleMs?: number;
  /** Largest frame accepted, in bytes (length field + 4). Default 16 MiB. */
  maxFrameBytes?: number;
  /** Largest frame header accepted, in bytes (21 to 16777215). Default 256 KiB. */
  maxHeaderBytes?: number;
  /** Most extFields a received header may carry. Default 1024. */
  maxExtFields?: number;
  /** Requests a channel may have in processing before reads pause. Default 1024. */
  channelMaxPendingRequests?: number;
  /** Permits for in-flight async calls (invoke, invokeAsync, invokeSync). */
  asyncPermits?: number;
  /** Permits for in-flight oneway calls. */
  onewayPermits?: number;
  /** Bounded final write when a channel closes, in ms. Default 3000. */
  closeGraceMs?: number;
  /** TCP options for sockets this side opens or accepts. */
  tcp?: TcpOptions;
  /** Where mqwire logs. Default: NODE_DEBUG=mqwire. */
  logger?: Logger;
  /** Codec of the wire format. Default: RocketMQ's. */
  codec?: Codec<RemotingCommand>;
  /**
   * Per-code counts and latencies in `metrics()` (and OpenTelemetry). Default true; false saves
   * their cost per call (README, "Metrics"); connections and bytes are counted either way.
   */
  metrics?: boolean;
  /**
   * Where every "now" of this side comes from: call, connect, permit-wait and shutdown deadlines
   * are epoch ms of this clock, and the response table's and permit waits' timers are its
   * timers. Default the system clock (`Date.now` and Node's timers); tests pass a fake one.
   */
  clock?: Clock;
}

/** Options common to servers and clients after validation, frozen: every default applied. */
export interface ResolvedRemotingOptions {
  /** Serialize type of the commands `createRequest` makes. */
  readonly serializeType: SerializeType;
  /** Language written into the commands `createRequest` makes. */
  readonly language: LanguageCode;
  /** Version written into the commands `createRequest` makes. */
  readonly version: number;
  /** A channel with no traffic for this long is closed, in ms. */
  readonly channelMaxIdleMs: number;
  /** Largest frame accepted, in bytes, counted as RocketMQ counts it. */
  readonly maxFrameBytes: number;
  /** Largest frame header accepted, in bytes. */
  readonly maxHeaderBytes: number;
  /** Most extFields a received header may carry. */
  readonly maxExtFields: number;
  /** Requests in processing per channel before the channel stops reading. */
  readonly channelMaxPendingRequests: number;
  /** Async calls in flight at once (RocketMQ's permitsAsync). */
  readonly asyncPermits: number;
  /** Oneway calls in flight at once (RocketMQ's permitsOneway). */
  readonly onewayPermits: number;
  /** Time a closing channel gets to flush its last writes, in ms. */
  readonly closeGraceMs: number;
  /** TCP socket options. */
  readonly tcp: TcpOptions;
  /** Where mqwire logs. */
  readonly logger: Logger;
  /** Whether calls and requests are recorded per code for `metrics()`. */
  readonly metrics: boolean;
  /** The one source of "now" (and of deadline timers) of this side. */
  readonly clock: Clock;
}

/**
 * Validates one integer option; `name` goes into the error message. The one integer check of
 * every option of servers, clients and protocol engines.
 */
export function intOption(
  name: string,
  value: unknown,
  fallback: number,
  min = 0,
  max = 2 ** 31 - 1,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new InvalidArgumentError(
      `option ${name} must be an integer in [${min}, ${max}], got ${String(value)}`,
    );
  }
  return value;
}

/** Validates one boolean option. */
export function boolOption(name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== "boolean") throw new InvalidArgumentError(`option ${name} must be a boolean`);
  return value;
}

/** Validates the options common to servers and clients; throws `InvalidArgumentError` naming the option. */
export function resolveRemotingOptions(
  o: RemotingOptions,
  defaults: { asyncPermits: number; onewayPermits: number },
): ResolvedRemotingOptions {
  const serializeType = o.serializeType ?? SerializeType.JSON;
  if (serializeType !== SerializeType.JSON && serializeType !== SerializeType.ROCKETMQ) {
    throw new InvalidArgumentError(
      "option serializeType must be SerializeType.JSON or SerializeType.ROCKETMQ",
    );
  }
  return {
    serializeType,
    language: intOption("language", o.language, LanguageCode.JAVA, 0, 255),
    version: intOption("version", o.version, 0, -32768, 2 ** 31 - 1),
    channelMaxIdleMs: intOption("channelMaxIdleMs", o.channelMaxIdleMs, DEFAULT_CHANNEL_MAX_IDLE_MS),
    maxFrameBytes: intOption(
      "maxFrameBytes",
      o.maxFrameBytes,
      DEFAULT_MAX_FRAME_BYTES,
      MIN_REMOTING_FRAME_BYTES,
    ),
    maxHeaderBytes: intOption("maxHeaderBytes", o.maxHeaderBytes, DEFAULT_MAX_HEADER_BYTES, 21, 0xff_ffff),
    maxExtFields: intOption("maxExtFields", o.maxExtFields, DEFAULT_MAX_EXT_FIELDS),
    channelMaxPendingRequests: intOption(
      "channelMaxPendingRequests",
      o.channelMaxPendingRequests,
      DEFAULT_CHANNEL_MAX_PENDING_REQUESTS,
      1,
    ),
    asyncPermits: intOption("asyncPermits", o.asyncPermits, defaults.asyncPermits, 1),
    onewayPermits: intOption("onewayPermits", o.onewayPermits, defaults.onewayPermits, 1),
    closeGraceMs: intOption("closeGraceMs", o.closeGraceMs, DEFAULT_CLOSE_GRACE_MS),
    tcp: Object.freeze({ ...o.tcp }),
    logger: o.logger ?? defaultLogger,
    metrics: boolOption("metrics", o.metrics, true),
    clock: clockOption(o.clock),
  };
}

function clockOption(value: unknown): Clock {
  if (value === undefined) return systemClock;
  const c = value as Partial<Clock> | null;
  if (
    typeof c !== "object" ||
    c === null ||
    typeof c.now !== "function" ||
    typeof c.setTimeout !== "function" ||
    typeof c.clearTimeout !== "function"
  ) {
    throw new InvalidArgumentError("option clock must have now(), setTimeout() and clearTimeout()");
  }
  return c as Clock;
}

/** Options of a RemotingServer. */
export interface RemotingServerOptions extends RemotingOptions {
  /** Grace of `shutdown()` when none is given, in ms. Default 10000. */
  shutdownGraceMs?: number;
  /** Time a new connection has to send its first bytes, in ms. Default 10000. */
  handshakeTimeoutMs?: number;
  /** Connections held at once; one more is closed at accept (logged, counted). Default 10000. */
  maxConnections?: number;
  /**
   * Time a frame may take from its first byte to its last, in ms; 0 disables. Default 60000. A
   * peer that drips a frame resets the idle timers with every byte; this closes it (RocketMQ has
   * no such rule). Generous for a 16 MiB frame on a slow link.
   */
  frameTimeoutMs?: number;
  /**
   * HAProxy PROXY protocol v1/v2 header before anything else (TLS too): "off" (default; a header
   * is refused as a bad frame), "optional" (read when present, as RocketMQ 5.1.4+), "required"
   * (a connection without one is closed); a header must be complete within handshakeTimeoutMs.
   */
  proxyProtocol?: ProxyProtocolMode;
}

/** Server options after validation, frozen. */
export interface ResolvedServerOptions extends ResolvedRemotingOptions {
  /** Time `shutdown()` lets requests in process finish, in ms. */
  readonly shutdownGraceMs: number;
  /** Time for a connection's first bytes (and PROXY header, TLS handshake), in ms. */
  readonly handshakeTimeoutMs: number;
  /** Connections held at once; more are closed at accept. */
  readonly maxConnections: number;
  /** Time a frame may take from its first byte to its last, in ms; 0: no limit. */
  readonly frameTimeoutMs: number;
  /** Whether a PROXY protocol header is read before the first frame. */
  readonly proxyProtocol: ProxyProtocolMode;
}

/** Validates server options once; throws `InvalidArgumentError` naming the option. */
export function resolveServerOptions(o: RemotingServerOptions = {}): ResolvedServerOptions {
  return Object.freeze({
    ...resolveRemotingOptions(o, {
      asyncPermits: DEFAULT_SERVER_ASYNC_PERMITS,
      onewayPermits: DEFAULT_SERVER_ONEWAY_PERMITS,
    }),
    shutdownGraceMs: intOption("shutdownGraceMs", o.shutdownGraceMs, DEFAULT_SHUTDOWN_GRACE_MS),
    handshakeTimeoutMs: intOption("handshakeTimeoutMs", o.handshakeTimeoutMs, DEFAULT_HANDSHAKE_TIMEOUT_MS),
    maxConnections: intOption("maxConnections", o.maxConnections, DEFAULT_MAX_CONNECTIONS, 1),
    frameTimeoutMs: intOption("frameTimeoutMs", o.frameTimeoutMs, DEFAULT_FRAME_TIMEOUT_MS),
    proxyProtocol: proxyProtocolOption(o.proxyProtocol),
  });
}

function proxyProtocolOption(value: unknown): ProxyProtocolMode {
  if (value === undefined) return DEFAULT_PROXY_PROTOCOL;
  if (typeof value !== "string" || !PROXY_PROTOCOL_MODES.includes(value)) {
    throw new InvalidArgumentError(
      `option proxyProtocol must be one of ${PROXY_PROTOCOL_MODES.join(", ")}, got ${String(value)}`,
    );
  }
  return value as ProxyProtocolMode;
}

/** Options of a RemotingClient. */
export interface RemotingClientOptions extends RemotingOptions {
  /** Connect time-out, in ms. Default 3000 (RocketMQ's connectTimeoutMillis). */
  connectTimeoutMs?: number;
  /** Time-out of a call that names none, in ms. Default 3000. */
  defaultTimeoutMs?: number;
  /**
   * Close the channel when a sync call times out, unless the connect itself used most of the
   * budget (RocketMQ's clientCloseSocketIfTimeout, default true, with the #7057 guard).
   */
  closeSocketIfTimeout?: boolean;
  /** First reconnect back-off, in ms. Default 100. */
  reconnectBaseMs?: number;
  /** Reconnect back-off cap, in ms. Default 10000. */
  reconnectMaxMs?: number;
  /**
   * On a GO_AWAY reply (a RocketMQ 5.x server shutting down gracefully; sent only to requests
   * with version > 475), open a new connection and send a copy of the request (new opaque, the
   * time left) once more, as RocketMQ's enableReconnectForGoAway does; the channel that said
   * GO_AWAY closes once its last call in flight ends, and a second GO_AWAY fails the call with
   * MQW_ERR_SEND. False: the GO_AWAY reply is the call's response. Default true.
   */
  reconnectOnGoAway?: boolean;
  /** Scan name servers for reachability. Default true (RocketMQ's isScanAvailableNameSrv). */
  scanNameServers?: boolean;
  /** Period of the name-server scan, in ms. Default 3000. */
  nameServerScanMs?: number;
  /** Opens connections; default picks TCP, Unix or memory by the address. */
  connector?: Connector;
  /** Speak TLS to servers (RocketMQ's useTLS / tls.enable). */
  tls?: TlsClientOptions;
  /**
   * SOCKS5 proxies by target CIDR, as RocketMQ's socksProxyConfig: an object or its JSON text,
   * e.g. `{"0.0.0.0/0": {"addr": "127.0.0.1:1080", "username": "u", "password": "p"}}`.
   */
  socksProxy?: SocksProxyConfig | string;
}

/** Client options after validation, frozen. */
export interface ResolvedClientOptions extends ResolvedRemotingOptions {
  /** Time to open a connection, in ms. */
  readonly connectTimeoutMs: number;
  /** Time-out of a call that names none, in ms. */
  readonly defaultTimeoutMs: number;
  /** Close a channel whose call timed out (RocketMQ's clientCloseSocketIfTimeout). */
  readonly closeSocketIfTimeout: boolean;
  /** First back-off after a failed connect, in ms; it doubles up to `reconnectMaxMs`. */
  readonly reconnectBaseMs: number;
  /** Longest back-off after failed connects, in ms. */
  readonly reconnectMaxMs: number;
  /** Scan name servers for reachability after `start()`. */
  readonly scanNameServers: boolean;
  /** Reconnect and resend once on a GO_AWAY reply. */
  readonly reconnectOnGoAway: boolean;
  /** Period of the name-server scan, in ms. */
  readonly nameServerScanMs: number;
}

/** Validates client options once; throws `InvalidArgumentError` naming the option. */
export function resolveClientOptions(o: RemotingClientOptions = {}): ResolvedClientOptions {
  const reconnectBaseMs = intOption("reconnectBaseMs", o.reconnectBaseMs, DEFAULT_RECONNECT_BASE_MS);
  const resolved = {
    ...resolveRemotingOptions(o, {
      asyncPermits: DEFAULT_CLIENT_ASYNC_PERMITS,
      onewayPermits: DEFAULT_CLIENT_ONEWAY_PERMITS,
    }),
    connectTimeoutMs: intOption("connectTimeoutMs", o.connectTimeoutMs, DEFAULT_CONNECT_TIMEOUT_MS, 1),
    defaultTimeoutMs: intOption("defaultTimeoutMs", o.defaultTimeoutMs, DEFAULT_TIMEOUT_MS, 1),
    closeSocketIfTimeout: boolOption("closeSocketIfTimeout", o.closeSocketIfTimeout, true),
    reconnectBaseMs,
    reconnectMaxMs: intOption("reconnectMaxMs", o.reconnectMaxMs, DEFAULT_RECONNECT_MAX_MS, reconnectBaseMs),
    scanNameServers: boolOption("scanNameServers", o.scanNameServers, true),
    reconnectOnGoAway: boolOption("reconnectOnGoAway", o.reconnectOnGoAway, true),
    nameServerScanMs: intOption("nameServerScanMs", o.nameServerScanMs, DEFAULT_NAME_SERVER_SCAN_MS, 10),
  };
  return Object.freeze({
    ...resolved,
    tcp: Object.freeze({ connectTimeoutMs: resolved.connectTimeoutMs, ...o.tcp }),
  });
}
