/**
 * SOCKS5 Connector with RocketMQ's per-address proxy map (reference §9.6; NettyRemotingClient
 * `getProxy`, `RemotingHelper.ipInCIDR`, `proxy/SocksProxyConfig.java`). The map's keys are IPv4
 * CIDRs and its values name a proxy; the first key, in insertion order, that matches the target
 * wins; no match connects directly. As in RocketMQ the proxy resolves host names (the name goes
 * through as a SOCKS5 DOMAINNAME), and TLS, when asked for, runs inside the tunnel: the proxy
 * handler sits first in the pipeline, before the SslHandler.
 *
 * The SOCKS5 handshake (RFC 1928, user/password auth RFC 1929) is the `socks` package's,
 * run over a stream opened by the injected fallback Connector, so the TCP options apply to the leg
 * to the proxy as well.
 */
import { isIPv4 } from "node:net";
import type { Duplex } from "node:stream";
import { SocksClient } from "socks";
import { ConnectError, InvalidArgumentError } from "../errors.js";
import { parseAddress, type TcpAddress } from "./address.js";
import { DEFAULT_CONNECT_TIMEOUT_MS } from "./tcp.js";
import { checkPositiveMs, failOpen, openDeadline, type TlsClientOptions, TlsConnector } from "./tls.js";
import type { Address, Connector } from "./transport.js";

/** The key that matches every target, host names included (RocketMQ `RemotingHelper.DEFAULT_CIDR_ALL`). */
export const CIDR_ALL = "0.0.0.0/0";
/** RFC 1929 caps user name and password at 255 bytes each. */
const MAX_AUTH_FIELD_BYTES = 255;
const CIDR = /^(\d{1,3}(?:\.\d{1,3}){3})\/(\d{1,2})$/;

/** One proxy of the map, as in RocketMQ's `SocksProxyConfig`. */
export interface SocksProxyEntry {
  /** The proxy, "host:port". */
  addr: string;
  /** User name; authentication is used only when both it and `password` are non-empty. */
  username?: string;
  /** Password for the user name. */
  password?: string;
}

/** RocketMQ's `socksProxyConfig`: IPv4 CIDR → proxy. Keys never look like integers, so order holds. */
export type SocksProxyConfig = Record<string, SocksProxyEntry>;

/** A validated map entry. */
export interface SocksProxyRule {
  /** The map key, for logs. */
  readonly key: string;
  /** True for the key `0.0.0.0/0`, which matches every address (RocketMQ's catch-all). */
  readonly all: boolean;
  /** Network address, unsigned 32-bit. */
  readonly network: number;
  /** Network mask, unsigned 32-bit. */
  readonly mask: number;
  /** The proxy's "host:port", as given. */
  readonly addr: string;
  /** The proxy's host, parsed from `addr`. */
  readonly host: string;
  /** The proxy's port, parsed from `addr`. */
  readonly port: number;
  /** User name for the proxy, if any. */
  readonly username: string | undefined;
  /** Password for the proxy, if any. */
  readonly password: string | undefined;
}

/** Options of {@link SocksConnector}. */
export interface SocksConnectorOptions {
  /** The proxy map, or its JSON text (RocketMQ's `socksProxyConfig`). Default {} (always direct). */
  proxies?: SocksProxyConfig | string;
  /**
   * A plain byte connector (e.g. TcpConnector): opens unmatched targets directly and the leg to
   * each proxy. Not a TlsConnector: TLS comes from `tls`, over either route.
   */
  fallback: Connector;
  /** TLS over the tunnel or the direct connection (RocketMQ's `useTLS`). Default none. */
  tls?: TlsClientOptions;
  /** Time for the whole open (proxy leg, SOCKS handshake, TLS), in ms. Default 3000. */
  connectTimeoutMs?: number;
}

function ipv4ToInt(ip: string): number {
  const [a, b, c, d] = ip.split(".").map(Number) as [number, number, number, number];
  return ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
}

function authField(key: string, name: string, value: unknown): string | undefined {
  if (value === undefined || value === null || value === "") return undefined;
  if (typeof value !== "string" || Buffer.byteLength(value) > MAX_AUTH_FIELD_BYTES) {
    throw new InvalidArgumentError(`proxies["${key}"].${name} must be a string of at most 255 bytes`);
  }
  return value;
}

/**
 * Validates a proxy map once (an object or its JSON text); throws InvalidArgumentError naming
 * the bad key. Keys are "a.b.c.d/n" CIDRs; RocketMQ's parser throws on anything else too.
 */
export function parseSocksProxyConfig(config: SocksProxyConfig | string = {}): readonly SocksProxyRule[] {
  let map: unknown = config;
  if (typeof config === "string") {
    try {
      map = JSON.parse(config);
    } catch (err) {
      throw new InvalidArgumentError("proxies is not valid JSON", { cause: err });
    }
  }
  if (typeof map !== "object" || map === null || Array.isArray(map)) {
    throw new InvalidArgumentError("proxies must be an object of CIDR → { addr, username?, password? }");
  }
  const rules: SocksProxyRule[] = [];
  for (const [key, value] of Object.entries(map)) {
    const m = CIDR.exec(key);
    const ip = m?.[1] ?? "";
    const prefix = m === null ? -1 : Number(m[2]);
    if (!isIPv4(ip) || prefix > 32) {
      throw new InvalidArgumentError(`proxies key "${key}" is not an IPv4 CIDR (a.b.c.d/n)`);
    }
    const entry = value as Partial<SocksProxyEntry> | null;
    if (typeof entry !== "object" || entry === null || typeof entry.addr !== "string") {
      throw new InvalidArgumentError(`proxies["${key}"] must be an object with addr "host:port"`);
    }
    let proxy: TcpAddress;
    try {
      const parsed = parseAddress(entry.addr);
      if (parsed.kind !== "tcp" || parsed.port === 0) throw new InvalidArgumentError("not host:port");
      proxy = parsed;
    } catch (err) {
      throw new InvalidArgumentError(`proxies["${key}"].addr "${entry.addr}" is not host:port`, {
        cause: err,
      });
    }
    const username = authField(key, "username", entry.username);
    const password = authField(key, "password", entry.password);
    // Mask by arithmetic, so /0 is 0 (Java's `-1 << 32` would leave it all ones).
    const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
    rules.push(
      Object.freeze({
        key,
        all: key === CIDR_ALL,
        network: (ipv4ToInt(ip) & mask) >>> 0,
        mask,
        addr: entry.addr,
        host: proxy.host,
        port: proxy.port,
        // RocketMQ authenticates only when both are non-blank (NettyRemotingClient.createBootstrap).
        username: username !== undefined && password !== undefined ? username : undefined,
        password: username !== undefined && password !== undefined ? password : undefined,
      }),
    );
  }
  return Object.freeze(rules);
}

/**
 * The rule for a target host: the first that is {@link CIDR_ALL} or whose CIDR holds the host
 * as an IPv4 literal; host names and IPv6 match only {@link CIDR_ALL}. Undefined: go direct.
 */
export function selectSocksProxy(rules: readonly SocksProxyRule[], host: string): SocksProxyRule | undefined {
  const ip = isIPv4(host) ? ipv4ToInt(host) : undefined;
  for (const rule of rules) {
    if (rule.all) return rule;
    if (ip !== undefined && (ip & rule.mask) >>> 0 === rule.network) return rule;
  }
  return undefined;
}

/**
 * Opens connections through the SOCKS5 proxy the map picks, else directly through `fallback`;
 * with `tls`, TLS runs over either. Rejects with ConnectError (cause: the proxy's or the socket's
 * error, or a TimeoutError after connectTimeoutMs) or with the AbortSignal's reason.
 */
export class SocksConnector implements Connector {
  /** The validated proxy map, in match order. */
  readonly rules: readonly SocksProxyRule[];
  readonly #fallback: Connector;
  readonly #timeoutMs: number;
  readonly #tls: TlsConnector | undefined;

  constructor(options: SocksConnectorOptions) {
    if (typeof options?.fallback?.open !== "function") {
      throw new InvalidArgumentError("fallback must be a Connector (e.g. a TcpConnector)");
    }
    this.rules = parseSocksProxyConfig(options.proxies);
    this.#fallback = options.fallback;
    this.#timeoutMs = checkPositiveMs(
      "connectTimeoutMs",
      options.connectTimeoutMs,
      DEFAULT_CONNECT_TIMEOUT_MS,
    );
    const plain: Connector = { open: (target, signal) => this.#openPlain(target, signal) };
    this.#tls =
      options.tls === undefined
        ? undefined
        : new TlsConnector(
            { ...options.tls, connectTimeoutMs: options.tls.connectTimeoutMs ?? this.#timeoutMs },
            plain,
          );
  }

  /** The rule `target` would go through, or undefined for a direct connection. */
  proxyFor(target: Address): SocksProxyRule | undefined {
    const addr = parseAddress(target);
    // Like RocketMQ, only "host:port" targets can be proxied (getProxy needs a ':').
    return addr.kind === "tcp" ? selectSocksProxy(this.rules, addr.host) : undefined;
  }

  open(target: Address, signal?: AbortSignal): Promise<Duplex> {
    return this.#tls === undefined ? this.#openPlain(target, signal) : this.#tls.open(target, signal);
  }

  async #openPlain(target: Address, signal: AbortSignal | undefined): Promise<Duplex> {
    if (signal?.aborted) throw signal.reason;
    const rule = this.proxyFor(target);
    const what =
      rule === undefined
        ? `connect to ${target}`
        : `connect to ${target} through SOCKS5 proxy ${rule.addr} (rule ${rule.key})`;
    const deadline = openDeadline(this.#timeoutMs, signal, what);
    try {
      return rule === undefined
        ? await this.#fallback.open(target, deadline.signal)
        : await this.#tunnel(rule, parseAddress(target) as TcpAddress, deadline.signal, what);
    } catch (err) {
      throw failOpen(err, deadline.signal, signal, what);
    } finally {
      deadline.clear();
    }
  }

  async #tunnel(rule: SocksProxyRule, dest: TcpAddress, signal: AbortSignal, what: string): Promise<Duplex> {
    let leg: Duplex | undefined;
    // The socks package takes no signal: destroying the leg makes it reject.
    const onAbort = (): void => {
      leg?.destroy();
    };
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      leg = await this.#fallback.open(rule.addr, signal);
      if (signal.aborted) throw signal.reason;
      const { socket } = await SocksClient.createConnection({
        command: "connect",
        proxy: { host: rule.host, port: rule.port, type: 5, userId: rule.username, password: rule.password },
        destination: { host: dest.host, port: dest.port },
        existing_socket: leg,
        // A backstop only: `signal` (openDeadline) bounds the tunnel and fails it only after one
        // more poll (after-next-poll.ts); the package's timer, which has no such step, must not
        // run first. The package never clears it (it lingers, unref'd, until it fires): twice
        // the time-out, not more.
        timeout: 2 * this.#timeoutMs,
      });
      await settleSocket(socket);
      return socket;
    } catch (err) {
      leg?.destroy();
      throw new ConnectError(`${what} failed`, { cause: err });
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
  }
}

/**
 * After 'established', the socks package re-emits the bytes that followed the SOCKS reply and
 * resume()s the socket in a setImmediate (build/client/socksclient.js connect()); with no 'data'
 * listener yet, both would lose data. Catch them, then hand the socket over as a fresh one:
 * bytes put back, flowing state unset, so the next owner's first 'data' listener starts the flow.
 */
async function settleSocket(socket: Duplex): Promise<void> {
  const early: Buffer[] = [];
  let failure: unknown;
  const onData = (chunk: Buffer): void => {
    early.push(chunk);
  };
  const onError = (err: Error): void => {
    failure ??= err;
  };
  const onClose = (): void => {
    failure ??= new ConnectError("SOCKS tunnel closed right after it opened");
  };
  socket.on("data", onData);
  socket.on("error", onError);
  socket.on("close", onClose);
  await new Promise<void>((resolve) => setImmediate(resolve));
  socket.off("data", onData);
  socket.off("error", onError);
  socket.off("close", onClose);
  socket.pause();
  for (const chunk of early.reverse()) socket.unshift(chunk);
  (socket as { readableFlowing: boolean | null }).readableFlowing = null;
  if (failure !== undefined) throw failure;
}
