/**
 * Server TLS options (RocketMQ's `tls.server.*`): named defaults, and their validation into a
 * frozen value with the secure context built once (STYLE.md rule 2). The acceptor that uses them
 * is ./tls-server.ts.
 */
import type * as tls from "node:tls";
import { InvalidArgumentError } from "../errors.js";
import { buildSecureContext, checkBoolean, checkPositiveMs, resolvedOptions } from "./tls.js";
import { DEFAULT_TLS_RELOAD_INTERVAL_MS, hasTlsFiles, readTlsFiles, type TlsFilePaths } from "./tls-files.js";

/** Time for the first byte plus the TLS handshake: Netty SslHandler's default, 10 s. */
export const DEFAULT_TLS_HANDSHAKE_TIMEOUT_MS = 10_000;

/** RocketMQ's `tls.server.mode`. */
export type TlsServerMode = "disabled" | "permissive" | "enforcing";
/** RocketMQ's default mode: TLS and plaintext on one port. */
export const DEFAULT_TLS_SERVER_MODE: TlsServerMode = "permissive";
const SERVER_MODES: readonly string[] = ["disabled", "permissive", "enforcing"];

/** Server TLS options (RocketMQ's `tls.server.*`). */
export interface TlsServerOptions {
  /** Which first bytes are accepted (`tls.server.mode`). Default "permissive". */
  mode?: TlsServerMode;
  /** A ready context; otherwise one is built once from `key`, `cert`, `ca`. */
  secureContext?: tls.SecureContext;
  /** Server private key, PEM (`tls.server.keyPath`). Required unless mode is disabled. */
  key?: tls.SecureContextOptions["key"];
  /** Server certificate chain, PEM (`tls.server.certPath`). Required unless mode is disabled. */
  cert?: tls.SecureContextOptions["cert"];
  /** CAs trusted for client certificates, PEM (`tls.server.trustCertPath`). Default Node's roots. */
  ca?: tls.SecureContextOptions["ca"];
  /** Passphrase of `key` (`tls.server.keyPassword`). Default none. */
  passphrase?: string;
  /**
   * Ask clients for a certificate. Default false. RocketMQ's `tls.server.need.client.auth`:
   * none = false; optional = true with `rejectUnauthorized: false`; require = true with true.
   */
  requestCert?: boolean;
  /**
   * With `requestCert`: refuse a client without a certificate. Default true. False is optional
   * client auth: a client that sends no certificate is let in (`authorized` false), but one that
   * sends a certificate the CAs do not verify is still refused, as Netty's ClientAuth.OPTIONAL.
   */
  rejectUnauthorized?: boolean;
  /** Time for the first byte plus the TLS handshake, in ms. Default 10000. */
  handshakeTimeoutMs?: number;
  /** Path of the private key, PEM (`tls.server.keyPath`): read at construction, then watched. Instead of `key`. */
  keyFile?: string;
  /** Path of the certificate chain, PEM (`tls.server.certPath`): read, then watched. Instead of `cert`. */
  certFile?: string;
  /** Path of the CAs for client certificates, PEM (`tls.server.trustCertPath`): read, then watched. Instead of `ca`. */
  caFile?: string;
  /**
   * How often a TlsAcceptor checks `keyFile`, `certFile` and `caFile` for changes while listening,
   * in ms; a change rebuilds the context for new connections, open ones keep theirs (RocketMQ's
   * FileWatchService). 0 turns reloading off. Default 500.
   */
  reloadIntervalMs?: number;
}

/** @internal What a file reload needs: the paths and the options that were not files. */
export interface TlsReloadPlan {
  readonly files: TlsFilePaths;
  readonly intervalMs: number;
  readonly base: Readonly<tls.SecureContextOptions>;
}

/** Server options after validation, frozen; the secure context is built once. */
export interface ResolvedTlsServerOptions {
  /**
   * `disabled` (plaintext only), `permissive` (TLS or plaintext, told apart per connection) or
   * `enforcing` (TLS only).
   */
  readonly mode: TlsServerMode;
  /** Undefined only in disabled mode without a context. */
  readonly secureContext: tls.SecureContext | undefined;
  /** Whether clients are asked for a certificate. */
  readonly requestCert: boolean;
  /** Whether a client without a certificate fails the handshake (with `requestCert`); one whose certificate the CAs do not verify always does. */
  readonly rejectUnauthorized: boolean;
  /** Time for the first byte plus the TLS handshake, in ms. */
  readonly handshakeTimeoutMs: number;
  /** @internal Set when the key, certificate or CAs came from files and reloading is on. */
  readonly reload?: TlsReloadPlan | undefined;
}

/** Validates server options once; throws InvalidArgumentError naming the option. */
export function resolveTlsServerOptions(
  options: TlsServerOptions | ResolvedTlsServerOptions = {},
): ResolvedTlsServerOptions {
  if (resolvedOptions.has(options)) return options as ResolvedTlsServerOptions;
  const o = options as TlsServerOptions;
  const mode = o.mode ?? DEFAULT_TLS_SERVER_MODE;
  // RocketMQ maps unknown values to permissive; a typo that silently changes security is worse.
  if (!SERVER_MODES.includes(mode)) {
    throw new InvalidArgumentError(`mode must be one of ${SERVER_MODES.join(", ")}, got ${String(mode)}`);
  }
  const files: TlsFilePaths = { keyFile: o.keyFile, certFile: o.certFile, caFile: o.caFile };
  const fromFiles = hasTlsFiles(files) ? readTlsFiles(files) : {};
  const base = { key: o.key, cert: o.cert, ca: o.ca, passphrase: o.passphrase };
  const material = {
    key: fromFiles.key ?? o.key,
    cert: fromFiles.cert ?? o.cert,
    ca: fromFiles.ca ?? o.ca,
    passphrase: o.passphrase,
  };
  const intervalMs = o.reloadIntervalMs ?? DEFAULT_TLS_RELOAD_INTERVAL_MS;
  if (typeof intervalMs !== "number" || !Number.isSafeInteger(intervalMs) || intervalMs < 0) {
    throw new InvalidArgumentError(
      `reloadIntervalMs must be an integer >= 0 (ms), got ${String(intervalMs)}`,
    );
  }
  let secureContext = o.secureContext;
  if (secureContext === undefined && mode !== "disabled") {
    if (material.key === undefined || material.cert === undefined) {
      throw new InvalidArgumentError(
        `key and cert (keyFile and certFile, or secureContext) are required in TLS mode "${mode}"`,
      );
    }
    secureContext = buildSecureContext("TLS server", material);
  }
  const reload =
    hasTlsFiles(files) && intervalMs > 0 && o.secureContext === undefined && mode !== "disabled"
      ? Object.freeze({ files: Object.freeze(files), intervalMs, base: Object.freeze(base) })
      : undefined;
  const result: ResolvedTlsServerOptions = Object.freeze({
    mode,
    secureContext,
    requestCert: checkBoolean("requestCert", o.requestCert, false),
    rejectUnauthorized: checkBoolean("rejectUnauthorized", o.rejectUnauthorized, true),
    handshakeTimeoutMs: checkPositiveMs(
      "handshakeTimeoutMs",
      o.handshakeTimeoutMs,
      DEFAULT_TLS_HANDSHAKE_TIMEOUT_MS,
    ),
    reload,
  });
  resolvedOptions.add(result);
  return result;
}
