/**
 * Server TLS by sniffing: RocketMQ's `TlsModeHandler` (NettyRemotingServer, reference §10.4).
 * The first byte of each accepted connection decides: 0x16 (a TLS handshake record, RFC 8446 §5.1)
 * goes through a server TLSSocket when the mode allows TLS; any other byte stays plaintext unless
 * the mode is enforcing. TLS and plaintext share one port (Qpid's lesson: sniff, do not split ports).
 * A plaintext RocketMQ frame cannot start with 0x16: its length field would declare at least
 * 0x16000000 bytes, far above the 16 MiB frame limit.
 *
 * Not offered: RocketMQ's `tls.test.mode.enable` (a self-signed certificate generated at start):
 * permissive and enforcing need a key and certificate.
 */
import { X509Certificate } from "node:crypto";
import type { Duplex } from "node:stream";
import * as tls from "node:tls";
import { NegotiationError, TimeoutError } from "../errors.js";
import { defaultLogger, type Logger } from "../logger.js";
import { endpointsOf, tagEndpoints } from "./address.js";
import { buildSecureContext, resolvedOptions } from "./tls.js";
import { TlsFileWatcher } from "./tls-files.js";
import {
  type ResolvedTlsServerOptions,
  resolveTlsServerOptions,
  type TlsServerOptions,
} from "./tls-server-options.js";
import type { Acceptor, Address, Listener } from "./transport.js";

/** The TLS record type of a handshake, the first byte every TLS client sends. */
export const TLS_HANDSHAKE_RECORD_TYPE = 0x16;
export {
  DEFAULT_TLS_HANDSHAKE_TIMEOUT_MS,
  DEFAULT_TLS_SERVER_MODE,
  type ResolvedTlsServerOptions,
  resolveTlsServerOptions,
  type TlsReloadPlan,
  type TlsServerMode,
  type TlsServerOptions,
} from "./tls-server-options.js";

/**
 * Decides one accepted connection by its first byte (see the file TSDoc) and resolves the Duplex
 * the server should speak on: a server TLSSocket after its handshake (`getPeerCertificate()`,
 * `authorized` and `authorizationError` as on tls.Server's sockets), or `duplex` itself with the
 * peeked bytes put back. Rejects with NegotiationError (TLS in disabled mode, plaintext in
 * enforcing mode, a failed handshake, a peer silent past `handshakeTimeoutMs` with a TimeoutError
 * as cause, a peer gone) after destroying the connection; with InvalidArgumentError for bad
 * options (resolve them once with `resolveTlsServerOptions`: raw options are validated, and
 * a secure context built, on every call).
 */
export async function acceptWithTlsMode(
  duplex: Duplex,
  options: TlsServerOptions | ResolvedTlsServerOptions,
): Promise<Duplex> {
  let o: ResolvedTlsServerOptions;
  try {
    o = resolveTlsServerOptions(options);
  } catch (err) {
    duplex.destroy();
    throw err;
  }
  const ctl = new AbortController();
  const timer = setTimeout(
    () => ctl.abort(new TimeoutError(`no TLS decision within ${o.handshakeTimeoutMs} ms`)),
    o.handshakeTimeoutMs,
  );
  try {
    const first = await peekFirstByte(duplex, ctl.signal);
    if (first !== TLS_HANDSHAKE_RECORD_TYPE) {
      if (o.mode === "enforcing")
        throw new NegotiationError("plaintext connection refused: TLS mode is enforcing");
      return duplex;
    }
    if (o.mode === "disabled" || o.secureContext === undefined) {
      throw new NegotiationError("TLS connection refused: TLS mode is disabled");
    }
    return await serverHandshake(duplex, o, ctl.signal);
  } catch (err) {
    duplex.destroy();
    throw err instanceof NegotiationError
      ? err
      : new NegotiationError("TLS mode negotiation failed", { cause: err });
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Reads the first chunk and puts it back (`unshift`), through 'readable' rather than 'data': once
 * the 'readable' listener is gone and no 'data' listener exists, Node resets the stream's flowing
 * state to null (lib/internal/streams/readable.js updateReadableListening), so the next owner sees
 * a fresh stream whose first 'data' listener starts the flow, bytes intact.
 */
function peekFirstByte(duplex: Duplex, signal: AbortSignal): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const settle = (err: unknown, first = 0): void => {
      duplex.off("readable", onReadable);
      duplex.off("end", onEnd);
      duplex.off("close", onEnd);
      duplex.off("error", onError);
      signal.removeEventListener("abort", onAbort);
      if (err === undefined) resolve(first);
      else reject(err);
    };
    const onReadable = (): void => {
      const chunk = duplex.read() as Buffer | null;
      if (chunk === null || chunk.length === 0) return; // 'end' follows when the stream ended
      duplex.unshift(chunk);
      settle(undefined, chunk.readUInt8(0));
    };
    const onEnd = (): void => settle(new NegotiationError("connection closed before its first byte"));
    const onError = (err: Error): void => settle(err);
    const onAbort = (): void => settle(signal.reason);
    if (signal.aborted) return onAbort();
    duplex.on("readable", onReadable);
    duplex.once("end", onEnd);
    duplex.once("close", onEnd);
    duplex.once("error", onError);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

interface TlsHandle {
  verifyError?(): (Error & { code?: string }) | null;
}

/**
 * Server handshake on a standalone TLSSocket. The buffered first chunk is fed to TLS by the
 * TLSSocket itself (lib/_tls_wrap.js _init: "Socket already has some buffered data").
 */
function serverHandshake(
  raw: Duplex,
  o: ResolvedTlsServerOptions,
  signal: AbortSignal,
): Promise<tls.TLSSocket> {
  const sock = new tls.TLSSocket(raw, {
    isServer: true,
    secureContext: o.secureContext,
    requestCert: o.requestCert,
    rejectUnauthorized: o.rejectUnauthorized,
  });
  return new Promise<tls.TLSSocket>((resolve, reject) => {
    const settle = (err: unknown): void => {
      sock.off("secure", onSecure);
      sock.off("error", onError);
      sock.off("close", onClose);
      signal.removeEventListener("abort", onAbort);
      if (err === undefined) {
        tagEndpoints(sock, endpointsOf(raw));
        resolve(sock);
        return;
      }
      sock.on("error", noop); // a late error from the destroyed socket must not crash the process
      sock.destroy();
      reject(err);
    };
    // 'secure' is the server side's handshake-done event (lib/_tls_wrap.js _finishInit).
    const onSecure = (): void => {
      if (o.requestCert) checkClientCertificate();
      else settle(undefined);
    };
    const checkClientCertificate = (): void => {
      // OpenSSL accepts any client certificate and Node checks it afterwards, but only for sockets
      // made by tls.Server (lib/_tls_wrap.js onServerSocketSecure); do the same check here.
      const handle = (sock as unknown as { _handle?: TlsHandle })._handle;
      const verifyError: (Error & { code?: string }) | null =
        typeof handle?.verifyError === "function"
          ? handle.verifyError()
          : new Error("cannot verify the client certificate on this Node version");
      const s = sock as { authorized: boolean; authorizationError: unknown };
      s.authorized = verifyError === null;
      if (verifyError !== null) {
        s.authorizationError = verifyError.code ?? verifyError.message;
        // Optional client auth lets a client without a certificate in, never one whose
        // certificate fails the check: JSSE's want-client-auth (Netty's ClientAuth.OPTIONAL,
        // RocketMQ's "optional") fails that handshake, and the subject of a certificate no
        // trusted CA signed must not reach processors and hooks as the caller's identity.
        if (o.rejectUnauthorized || sock.getPeerX509Certificate() !== undefined) {
          settle(new NegotiationError("client certificate refused", { cause: verifyError }));
          return;
        }
      }
      settle(undefined);
    };
    const onError = (err: Error): void =>
      settle(new NegotiationError("TLS handshake failed", { cause: err }));
    const onClose = (): void => settle(new NegotiationError(closedDuringHandshake(raw)));
    const onAbort = (): void => settle(signal.reason);
    if (signal.aborted) return onAbort();
    sock.once("secure", onSecure);
    sock.once("error", onError);
    sock.once("close", onClose);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

function noop(): void {}

/**
 * Why a handshake ended with a plain close: Node's TLS client refuses a server certificate by
 * closing without an alert, after the server's answer (its hello and certificate) went out. The
 * bytes the server wrote tell that case from a client that left before any answer; a Duplex
 * without a byte count (a memory pair) gets the bare fact.
 */
function closedDuringHandshake(raw: Duplex): string {
  const written = (raw as { bytesWritten?: unknown }).bytesWritten;
  if (typeof written !== "number") return "connection closed during the TLS handshake";
  if (written === 0)
    return "client closed the connection during the TLS handshake, before the server answered";
  return (
    "client closed the connection during the TLS handshake once the server had answered, without an " +
    "alert: it may not accept the server's certificate"
  );
}

/**
 * The cause of a refusal for a log line: an OpenSSL error by its reason and code
 * ("sslv3 alert certificate expired (ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED)", the alert a
 * client sent), a certificate check by its message and code ("certificate has expired
 * (CERT_HAS_EXPIRED)"), anything else by its message.
 */
function describeRefusalCause(cause: unknown): string {
  if (!(cause instanceof Error)) return "";
  const { code, reason } = cause as { code?: unknown; reason?: unknown };
  const text = typeof reason === "string" ? reason : cause.message.trim();
  return typeof code === "string" && !text.includes(code) ? `: ${text} (${code})` : `: ${text}`;
}

/**
 * An Acceptor decorator: every connection `inner` accepts goes through {@link acceptWithTlsMode}
 * before `onConnection`. A refused or failed connection is destroyed and logged, never thrown.
 * Connections still deciding when the listener closes are destroyed with it (they have no owner yet).
 *
 * With `keyFile`/`certFile`/`caFile`, each listener polls the files (see tls-files.ts) and swaps in
 * a new context when they change, as tls.Server#setSecureContext does: new connections get the new
 * certificate, open ones keep theirs. A set that does not load (a key that does not match its
 * certificate, half written) is logged and the old context stays. Closing the listener stops it.
 */
export class TlsAcceptor implements Acceptor {
  #options: ResolvedTlsServerOptions;
  readonly #inner: Acceptor;
  readonly #logger: Logger;

  constructor(inner: Acceptor, options: TlsServerOptions, logger: Logger = defaultLogger) {
    this.#options = resolveTlsServerOptions(options);
    this.#inner = inner;
    this.#logger = logger;
  }

  /** The validated, frozen options; a new object after each {@link setSecureContext}. */
  get options(): ResolvedTlsServerOptions {
    return this.#options;
  }

  /**
   * Replaces the key and certificate (and CAs) for connections accepted from now on; open ones
   * keep theirs (tls.Server#setSecureContext). Throws InvalidArgumentError for unusable material,
   * and the old context stays.
   */
  setSecureContext(context: tls.SecureContext | tls.SecureContextOptions): void {
    // A SecureContext carries its native `context`; options never have that key.
    const secureContext =
      "context" in context
        ? (context as tls.SecureContext)
        : buildSecureContext("TLS server", context as tls.SecureContextOptions);
    const next: ResolvedTlsServerOptions = Object.freeze({ ...this.#options, secureContext });
    resolvedOptions.add(next);
    this.#options = next;
  }

  async listen(address: Address, onConnection: (duplex: Duplex) => void): Promise<Listener> {
    const pending = new Set<Duplex>();
    const logger = this.#logger;
    // Logs name the bound address (the real port when 0 was asked), known once listening.
    let name = String(address);
    const inner = await this.#inner.listen(address, (duplex) => {
      pending.add(duplex);
      // Named now: a destroyed net.Socket no longer knows its peer.
      const remote = endpointsOf(duplex).remote;
      acceptWithTlsMode(duplex, this.#options).then(
        (ready) => {
          pending.delete(duplex);
          try {
            onConnection(ready);
          } catch (err) {
            logger.error(`${name}: onConnection threw for ${remote}`, err);
            ready.destroy();
          }
        },
        (err: Error) => {
          pending.delete(duplex);
          logger.warn(
            `${name}: refused ${remote}: ${err.message}${describeRefusalCause(err.cause)}`,
            err.cause,
          );
        },
      );
    });
    name = inner.address;
    const watcher = this.#watch(name);
    return {
      address: inner.address,
      port: inner.port,
      async close(): Promise<void> {
        watcher?.stop();
        await inner.close();
        for (const d of pending) d.destroy();
        pending.clear();
      },
    };
  }

  #watch(address: string): TlsFileWatcher | undefined {
    const plan = this.#options.reload;
    if (plan === undefined) return undefined;
    const logger = this.#logger;
    const watcher = new TlsFileWatcher(
      plan.files,
      plan.intervalMs,
      (contents) => {
        try {
          this.setSecureContext({ ...plan.base, ...contents });
          const cert = contents.cert ?? plan.base.cert;
          const x509 = cert === undefined ? undefined : new X509Certificate(cert as Buffer);
          logger.info(
            `${address}: TLS files reloaded: ${x509?.subject.replaceAll("\n", ", ") ?? "?"} ${x509?.fingerprint256 ?? ""}`,
          );
        } catch (err) {
          logger.warn(`${address}: TLS files changed but do not load; the old certificate stays`, err);
        }
      },
      (err) => logger.warn(`${address}: cannot read the TLS files`, err),
    );
    watcher.start();
    return watcher;
  }
}
