/**
 * Address strings: "host:port", "[v6]:port", a Unix socket path ("unix:/path" or "/path"), or
 * "memory://name". Parsed once into a tagged value so connectors never split strings again.
 *
 * RocketMQ splits "host:port" at the last ':' (`RemotingHelper.string2SocketAddress`), which also
 * accepts a bare IPv6 host such as "::1:9876"; the bracketed form "[::1]:9876" is preferred and is
 * what {@link formatAddress} produces.
 */
import type { Duplex } from "node:stream";
import { InvalidArgumentError } from "../errors.js";
import type { ProxyTlv } from "./proxy-protocol.js";

/** A parsed TCP address; `host` carries no brackets (node:net wants "::1", not "[::1]"). */
export interface TcpAddress {
  readonly kind: "tcp";
  readonly host: string;
  readonly port: number;
}

/** A parsed Unix domain socket path. */
export interface UnixAddress {
  readonly kind: "unix";
  readonly path: string;
}

/** A parsed in-memory listener name (memory.ts). */
export interface MemoryAddress {
  readonly kind: "memory";
  readonly name: string;
}

/** Any parsed address. */
export type ParsedAddress = TcpAddress | UnixAddress | MemoryAddress;

/** Highest TCP port number. */
export const MAX_PORT = 65535;

const UNIX_PREFIX = "unix:";
const MEMORY_PREFIX = "memory://";
const DECIMAL = /^\d{1,5}$/;

/**
 * Parses an address string.
 * @throws InvalidArgumentError (`MQW_ERR_INVALID_ARGUMENT`) when the string is not one of the
 *   accepted forms or the port is outside 0..65535.
 */
export function parseAddress(addr: string): ParsedAddress {
  if (typeof addr !== "string" || addr.length === 0) {
    throw new InvalidArgumentError(`address must be a non-empty string, got ${JSON.stringify(addr)}`);
  }
  if (addr.startsWith(MEMORY_PREFIX)) {
    const name = addr.slice(MEMORY_PREFIX.length);
    if (name.length === 0) throw new InvalidArgumentError(`address "${addr}" has an empty memory name`);
    return { kind: "memory", name };
  }
  if (addr.startsWith(UNIX_PREFIX)) {
    const path = addr.slice(UNIX_PREFIX.length);
    if (path.length === 0) throw new InvalidArgumentError(`address "${addr}" has an empty unix path`);
    return { kind: "unix", path };
  }
  const colon = addr.lastIndexOf(":");
  // A path is any string with a '/' that does not end in ":port" ("/tmp/mq.sock", "./a.sock").
  if (addr.includes("/") && (colon < 0 || !DECIMAL.test(addr.slice(colon + 1)))) {
    return { kind: "unix", path: addr };
  }
  if (colon < 0) throw new InvalidArgumentError(`address "${addr}" has no port (expected host:port)`);
  let host = addr.slice(0, colon);
  const portText = addr.slice(colon + 1);
  if (host.startsWith("[")) {
    if (!host.endsWith("]")) throw new InvalidArgumentError(`address "${addr}" has an unclosed '['`);
    host = host.slice(1, -1);
  }
  if (host.length === 0) throw new InvalidArgumentError(`address "${addr}" has an empty host`);
  if (/[\s[\]/]/.test(host)) throw new InvalidArgumentError(`address "${addr}" has an invalid host`);
  if (!DECIMAL.test(portText)) throw new InvalidArgumentError(`address "${addr}" has an invalid port`);
  const port = Number(portText);
  if (port > MAX_PORT) throw new InvalidArgumentError(`address "${addr}" has a port above ${MAX_PORT}`);
  return { kind: "tcp", host, port };
}

/** Formats host and port as "host:port", bracketing IPv6 hosts ("[::1]:9876"). */
export function formatAddress(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * What a PROXY protocol header said about a connection (proxy-acceptor.ts): `remote` of the
 * EndpointNames is then the real client, and this names the proxy that relayed it.
 */
export interface ProxiedEndpoints {
  /** The proxy's own address: the socket's peer. */
  readonly proxiedBy: string;
  /** The address the client connected to at the proxy. */
  readonly destination: string;
  /** v2 TLVs, in order; empty for v1. */
  readonly tlvs: readonly ProxyTlv[];
}

/** The two ends of a connection as address strings. */
export interface EndpointNames {
  readonly local: string;
  readonly remote: string;
  /** Set when `remote` came from a PROXY protocol header. */
  readonly proxy?: ProxiedEndpoints;
}

const kEndpointNames = Symbol("mqwire.endpointNames");

/**
 * Names the ends of a Duplex that cannot name them itself: Unix sockets (node:net reports
 * `undefined` for both) and memory pairs. A wrapper that builds a new Duplex over a tagged one
 * (a TLSSocket over a Unix socket) copies the tag with `tagEndpoints(outer, endpointsOf(inner))`.
 */
export function tagEndpoints(duplex: Duplex, names: EndpointNames): void {
  (duplex as unknown as Record<symbol, EndpointNames>)[kEndpointNames] = names;
}

interface SocketLike {
  localAddress?: unknown;
  localPort?: unknown;
  remoteAddress?: unknown;
  remotePort?: unknown;
}

/**
 * The ends of a Duplex: its tag when {@link tagEndpoints} set one, else "host:port" from a
 * net.Socket's (or TLSSocket's) address properties, else empty strings.
 */
export function endpointsOf(duplex: Duplex): EndpointNames {
  const tagged = (duplex as unknown as Record<symbol, EndpointNames | undefined>)[kEndpointNames];
  if (tagged !== undefined) return tagged;
  const s = duplex as SocketLike;
  return { local: hostPort(s.localAddress, s.localPort), remote: hostPort(s.remoteAddress, s.remotePort) };
}

function hostPort(host: unknown, port: unknown): string {
  return typeof host === "string" && typeof port === "number" ? formatAddress(host, port) : "";
}

/**
 * RFC 5952 text of 16 bytes: lowercase, no leading zeros, the longest run of two or more zero
 * groups as "::"; IPv4-mapped addresses as "::ffff:a.b.c.d", as node:net reports such peers.
 */
export function formatIpv6(bytes: Buffer, at = 0): string {
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push(bytes.readUInt16BE(at + 2 * i));
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return `::ffff:${bytes[at + 12]}.${bytes[at + 13]}.${bytes[at + 14]}.${bytes[at + 15]}`;
  }
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(":");
  const left = hex.slice(0, bestStart).join(":");
  const right = hex.slice(bestStart + bestLength).join(":");
  return `${left}::${right}`;
}
