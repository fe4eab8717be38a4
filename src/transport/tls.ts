/**
 * TLS client for the network driver; the server side (RocketMQ's TLS modes by sniffing the first
 * byte) is in tls-server.ts. TLS sits below negotiation: what leaves here is a plaintext Duplex.
 *
 * {@link TlsConnector} opens a plain stream through any Connector (TCP by default, SOCKS, memory)
 * and runs `tls.connect({ socket })` over it ({@link wrapClientTls}). Over a net.Socket Node wraps
 * the socket's native handle (lib/_tls_wrap.js), so this costs nothing over
 * `tls.connect({ host, port })`, and the TCP options, address parsing and TLS inside a SOCKS
 * tunnel share one path.
 *
 * Not offered: RocketMQ's `tls.test.mode.enable` (reference §10.4: a client that trusts every
 * server). `rejectUnauthorized: false` does the same on request; it is never the default.
 */
import { X509Certificate } from "node:crypto";
import { isIP } from "node:net";
import type { Duplex } from "node:stream";
import * as tls from "node:tls";
import { ConnectError, InvalidArgumentError, MqwireError, TimeoutError } from "../errors.js";
import { endpointsOf, parseAddress, tagEndpoints } from "./address.js";
import { AfterNextPoll } from "./after-next-poll.js";
import { DEFAULT_CONNECT_TIMEOUT_MS, TcpConnector } from "./tcp.js";
import type { Address, Connector } from "./transport.js";

/** Client TLS options (RocketMQ's `tls.client.*`). */
export interface TlsClientOptions {
  /** Trusted CA certificates, PEM (`tls.client.trustCertPath`). Default: Node's root CAs. */
  ca?: tls.SecureContextOptions["ca"];
  /** Client certificate chain, PEM, for mutual TLS (`tls.client.certPath`). Default none. */
  cert?: tls.SecureContextOptions["cert"];
  /** Private key of `cert`, PEM (`tls.client.keyPath`). Default none. */
  key?: tls.SecureContextOptions["key"];
  /** Passphrase of `key` (`tls.client.keyPassword`). Default none. */
  passphrase?: string;
  /** SNI name and the name the certificate must match. Default: the target host. */
  servername?: string;
  /**
   * Verify the server certificate (`tls.client.authServer`). Default true. RocketMQ's test mode
   * trusts every server; `false` does the same and leaves the connection open to interception.
   */
  rejectUnauthorized?: boolean;
  /** Time for the connection and the TLS handshake together, in ms. Default 3000. */
  connectTimeoutMs?: number;
}

/** Client options after validation, frozen; the secure context is built once. */
export interface ResolvedTlsClientOptions {
  /** The context built from the key, certificate and CAs given. */
  readonly secureContext: tls.SecureContext;
  /** The SNI name sent and checked against the certificate; undefined: the host connected to. */
  readonly servername: string | undefined;
  /** Whether a server certificate the CAs do not vouch for fails the connection. */
  readonly rejectUnauthorized: boolean;
  /** Time for the connection and the TLS handshake together, in ms. */
  readonly connectTimeoutMs: number;
}

/**
 * @internal Resolved option objects, recognised by identity, so that a per-connection call never
 * validates again.
 */
export const resolvedOptions = new WeakSet<object>();

/** @internal Validates a boolean option. */
export function checkBoolean(name: string, value: unknown, fallback: boolean): boolean {
  const v = value ?? fallback;
  if (typeof v !== "boolean") throw new InvalidArgumentError(`${name} must be a boolean, got ${String(v)}`);
  return v;
}

/** @internal Validates a positive duration option, in ms. */
export function checkPositiveMs(name: string, value: unknown, fallback: number): number {
  const v = value ?? fallback;
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v <= 0) {
    throw new InvalidArgumentError(`${name} must be an integer > 0 (ms), got ${String(v)}`);
  }
  return v;
}

/** @internal Builds a secure context; bad key material is an InvalidArgumentError naming it. */
export function buildSecureContext(owner: string, o: tls.SecureContextOptions): tls.SecureContext {
  // createSecureContext skips CA text that holds no PEM certificate without a word, which would
  // surface only as "untrusted" at the first handshake; parse each entry here instead.
  for (const ca of o.ca === undefined ? [] : Array.isArray(o.ca) ? o.ca : [o.ca]) {
    try {
      new X509Certificate(ca);
    } catch (err) {
      throw new InvalidArgumentError(`${owner}: ca is not a PEM certificate`, { cause: err });
    }
  }
  try {
    return tls.createSecureContext(o);
  } catch (err) {
    throw new InvalidArgumentError(`${owner}: key, cert or passphrase is not usable`, { cause: err });
  }
}

/** Validates client options once; throws InvalidArgumentError naming the option. */
export function resolveTlsClientOptions(
  options: TlsClientOptions | ResolvedTlsClientOptions = {},
): ResolvedTlsClientOptions {
  if (resolvedOptions.has(options)) return options as ResolvedTlsClientOptions;
  const o = options as TlsClientOptions;
  if (o.servername !== undefined && (typeof o.servername !== "string" || o.servername.length === 0)) {
    throw new InvalidArgumentError(`servername must be a non-empty string, got ${String(o.servername)}`);
  }
  const result: ResolvedTlsClientOptions = Object.freeze({
    secureContext: buildSecureContext("TLS client", {
      ca: o.ca,
      cert: o.cert,
      key: o.key,
      passphrase: o.passphrase,
    }),
    servername: o.servername,
    rejectUnauthorized: checkBoolean("rejectUnauthorized", o.rejectUnauthorized, true),
    connectTimeoutMs: checkPositiveMs("connectTimeoutMs", o.connectTimeoutMs, DEFAULT_CONNECT_TIMEOUT_MS),
  });
  resolvedOptions.add(result);
  return result;
}

/** @internal What {@link openDeadline} returns. */
export interface OpenDeadline {
  /** Aborts at the deadline or with the caller's signal. */
  readonly signal: AbortSignal;
  /** Disarms the timer and unlinks the caller's signal; call once the open settled. */
  clear(): void;
}

/**
 * One deadline for a multi-step open: aborts with a TimeoutError after `timeoutMs`, or with the
 * caller's reason when `parent` aborts. {@link failOpen} maps the outcome to the Connector contract.
 * @internal shared by the TLS and SOCKS connectors.
 */
export function openDeadline(timeoutMs: number, parent: AbortSignal | undefined, what: string): OpenDeadline {
  const ctl = new AbortController();
  const onAbort = (): void => ctl.abort(parent?.reason);
  parent?.addEventListener("abort", onAbort, { once: true });
  // After one more poll: an open done during a stall of the loop is not failed (after-next-poll.ts).
  const late = new AfterNextPoll(() =>
    ctl.abort(new TimeoutError(`${what} timed out after ${timeoutMs} ms`)),
  );
  const timer = setTimeout(late.fire, timeoutMs);
  return {
    signal: ctl.signal,
    clear(): void {
      clearTimeout(timer);
      late.cancel();
      parent?.removeEventListener("abort", onAbort);
    },
  };
}

/**
 * The error an open rejects with: the caller's abort reason; ConnectError with the TimeoutError as
 * cause after the deadline (RocketMQ raises RemotingConnectException for both); mqwire errors as
 * they are; anything else as the cause of a ConnectError.
 * @internal
 */
export function failOpen(
  err: unknown,
  deadline: AbortSignal,
  parent: AbortSignal | undefined,
  what: string,
): unknown {
  if (parent?.aborted) return parent.reason;
  if (deadline.aborted) return new ConnectError(`${what} failed`, { cause: deadline.reason });
  if (err instanceof MqwireError) return err;
  return new ConnectError(`${what} failed`, { cause: err });
}

/** Options of {@link wrapClientTls} besides the TLS options. */
export interface WrapTlsOptions {
  /**
   * The host the certificate must match, and the SNI name unless it is an IP; `servername` wins.
   * With neither, Node checks the certificate against "localhost" (lib/_tls_wrap.js).
   */
  host?: string;
  /** Aborts the handshake; the promise rejects with the signal's reason. */
  signal?: AbortSignal;
}

/**
 * Runs a client TLS handshake over an open Duplex (a TCP socket, a SOCKS tunnel, a memory pair)
 * and resolves the TLSSocket once the server is verified. On failure both streams are destroyed
 * and the promise rejects with ConnectError (cause: the TLS error or a TimeoutError).
 */
export function wrapClientTls(
  duplex: Duplex,
  options: TlsClientOptions | ResolvedTlsClientOptions,
  { host, signal }: WrapTlsOptions = {},
): Promise<tls.TLSSocket> {
  let o: ResolvedTlsClientOptions;
  try {
    o = resolveTlsClientOptions(options);
  } catch (err) {
    duplex.destroy();
    return Promise.reject(err);
  }
  if (signal?.aborted) {
    duplex.destroy();
    return Promise.reject(signal.reason);
  }
  const name = o.servername ?? host;
  // SNI carries host names only (RFC 6066 §3); Node warns when given an IP.
  const sni = name !== undefined && isIP(name) === 0 ? name : undefined;
  const sock = tls.connect({
    socket: duplex,
    secureContext: o.secureContext,
    rejectUnauthorized: o.rejectUnauthorized,
    servername: sni,
    // Node's checkServerIdentity uses `servername || host` (lib/_tls_wrap.js onConnectSecure).
    host: name,
  });
  const what = `TLS handshake with ${name ?? endpointsOf(duplex).remote}`;
  return new Promise<tls.TLSSocket>((resolve, reject) => {
    const settle = (err: unknown): void => {
      clearTimeout(timer);
      late.cancel();
      sock.off("secureConnect", onSecure);
      sock.off("error", onError);
      sock.off("close", onClose);
      signal?.removeEventListener("abort", onAbort);
      if (err === undefined) {
        tagEndpoints(sock, endpointsOf(duplex));
        resolve(sock);
        return;
      }
      sock.on("error", noop); // a late error from the destroyed socket must not crash the process
      sock.destroy();
      duplex.destroy();
      reject(err);
    };
    const onSecure = (): void => settle(undefined);
    const onError = (err: Error): void => settle(new ConnectError(`${what} failed`, { cause: err }));
    const onClose = (): void => settle(new ConnectError(`${what} failed: connection closed`));
    const onAbort = (): void => settle(signal?.reason);
    // After one more poll: a handshake done during a stall of the loop is not failed (after-next-poll.ts).
    const late = new AfterNextPoll(() => {
      const cause = new TimeoutError(`${what} timed out after ${o.connectTimeoutMs} ms`);
      settle(new ConnectError(`${what} failed`, { cause }));
    });
    const timer = setTimeout(late.fire, o.connectTimeoutMs);
    sock.once("secureConnect", onSecure);
    sock.once("error", onError);
    sock.once("close", onClose);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

function noop(): void {}

/**
 * Opens TLS connections: a plain stream from `inner` (default a TcpConnector with default TCP
 * options), then {@link wrapClientTls}; `connectTimeoutMs` bounds both steps. RocketMQ's client has
 * no negotiation: it speaks TLS from the first byte when `tls.enable` is set.
 */
export class TlsConnector implements Connector {
  /** The validated, frozen options. */
  readonly options: ResolvedTlsClientOptions;
  readonly #inner: Connector;

  constructor(options: TlsClientOptions = {}, inner: Connector = new TcpConnector()) {
    this.options = resolveTlsClientOptions(options);
    this.#inner = inner;
  }

  async open(target: Address, signal?: AbortSignal): Promise<Duplex> {
    if (signal?.aborted) throw signal.reason;
    const parsed = parseAddress(target);
    const what = `TLS connect to ${target}`;
    const deadline = openDeadline(this.options.connectTimeoutMs, signal, what);
    try {
      const raw = await this.#inner.open(target, deadline.signal);
      const host = parsed.kind === "tcp" ? parsed.host : undefined;
      return await wrapClientTls(raw, this.options, { host, signal: deadline.signal });
    } catch (err) {
      throw failOpen(err, deadline.signal, signal, what);
    } finally {
      deadline.clear();
    }
  }
}
