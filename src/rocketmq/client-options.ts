/**
 * Options shared by Producer, PullConsumer and Admin (RocketMQ's ClientConfig): named DEFAULT_*
 * constants, validated once at construction into a frozen value.
 */
import { InvalidArgumentError } from "../errors.js";
import type { RemotingClientOptions } from "../options.js";

/** RocketMQ 4.9.8's MQVersion.CURRENT_VERSION (V4_9_8's ordinal): what its Java client sends. */
export const DEFAULT_CLIENT_VERSION = 409;
/** Time-out of one request to a broker or name server, in ms (ClientConfig's mqClientApiTimeout). */
export const DEFAULT_REQUEST_TIMEOUT_MS = 3_000;
/** How often routes in use are read again from the name server, in ms (pollNameServerInterval). */
export const DEFAULT_ROUTE_REFRESH_MS = 30_000;
/** How often brokers hear from the client, in ms (heartbeatBrokerInterval). */
export const DEFAULT_HEARTBEAT_INTERVAL_MS = 30_000;

/** Options of every RocketMQ client. */
export interface ClientOptions {
  /**
   * Name servers: a list of `host:port`, or RocketMQ's `;`-separated string. Default: env
   * NAMESRV_ADDR, as RocketMQ's tools read it.
   */
  nameServer?: string | readonly string[];
  /** Time-out of each request, in ms. Default 3000. */
  requestTimeoutMs?: number;
  /** Period of the route refresh of topics in use, in ms. Default 30000. */
  routeRefreshMs?: number;
  /** Period of the heartbeat to brokers, in ms. Default 30000. */
  heartbeatIntervalMs?: number;
  /**
   * The instance part of the client id (`ip@instanceName`). Default: the process id and a
   * sequence number, so that two clients of one process are two members of a group.
   */
  instanceName?: string;
  /** Options of the underlying RemotingClient: TLS, SOCKS, connector, time-outs, version. */
  remoting?: RemotingClientOptions;
}

/** A Producer's, PullConsumer's or Admin's {@link ClientOptions} after validation, defaults applied. */
export interface ResolvedRocketmqClientOptions {
  /** The name servers, `host:port` each. */
  readonly nameServers: readonly string[];
  /** Time-out of each request, in ms. */
  readonly requestTimeoutMs: number;
  /** Period of the route refresh, in ms. */
  readonly routeRefreshMs: number;
  /** Period of the heartbeat to brokers, in ms. */
  readonly heartbeatIntervalMs: number;
  /** The instance part of the client id; undefined for the default (process id and sequence). */
  readonly instanceName: string | undefined;
  /** Options of the underlying RemotingClient, as given. */
  readonly remoting: RemotingClientOptions;
}

/** Splits RocketMQ's `a:9876;b:9876` form (commas and spaces accepted too). */
export function parseNameServerList(value: string | readonly string[]): string[] {
  const list = typeof value === "string" ? value.split(/[;,\s]+/) : [...value];
  return list.map((s) => s.trim()).filter((s) => s !== "");
}

function positiveInt(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1 || value > 2 ** 31 - 1) {
    throw new InvalidArgumentError(`${name} must be an integer between 1 and 2^31-1 (ms), got ${value}`);
  }
  return value;
}

export function resolveRocketmqClientOptions(o: ClientOptions): ResolvedRocketmqClientOptions {
  const nameServers = parseNameServerList(o.nameServer ?? process.env.NAMESRV_ADDR ?? "");
  if (nameServers.length === 0) {
    throw new InvalidArgumentError("nameServer is required (or set NAMESRV_ADDR): host:port[;host:port]");
  }
  for (const addr of nameServers) {
    if (!/^(\[[0-9a-fA-F:.]+\]|[^:\s]+):\d{1,5}$/.test(addr)) {
      throw new InvalidArgumentError(`nameServer: "${addr}" is not host:port`);
    }
  }
  return Object.freeze({
    nameServers: Object.freeze(nameServers),
    requestTimeoutMs: positiveInt("requestTimeoutMs", o.requestTimeoutMs, DEFAULT_REQUEST_TIMEOUT_MS),
    routeRefreshMs: positiveInt("routeRefreshMs", o.routeRefreshMs, DEFAULT_ROUTE_REFRESH_MS),
    heartbeatIntervalMs: positiveInt(
      "heartbeatIntervalMs",
      o.heartbeatIntervalMs,
      DEFAULT_HEARTBEAT_INTERVAL_MS,
    ),
    instanceName: o.instanceName,
    remoting: o.remoting ?? {},
  });
}
