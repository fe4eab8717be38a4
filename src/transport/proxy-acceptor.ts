/**
 * Server side of HAProxy's PROXY protocol: an Acceptor decorator that reads the header (parsed by
 * ./proxy-protocol.ts) off every accepted connection before anything else reads it, TLS sniffing
 * included, as RocketMQ's NettyRemotingServer.HandshakeHandler puts its HAProxy decoder ahead of
 * its TlsModeHandler (reference §10.2–10.3). A proxied connection is re-tagged (address.ts
 * `tagEndpoints`): its remote address becomes the real client's, and `proxy` names the proxy and
 * carries the v2 TLVs, so channels, hooks, events and logs all see the client.
 *
 * Only in use when a server's `proxyProtocol` is not "off": then nothing here runs, and a header
 * is just bytes the frame decoder refuses.
 */
import type { Duplex } from "node:stream";
import { ProxyProtocolError, TimeoutError } from "../errors.js";
import { defaultLogger, type Logger } from "../logger.js";
import { endpointsOf, tagEndpoints } from "./address.js";
import { type ProxyHeader, ProxyHeaderParser, type ProxyParseResult } from "./proxy-protocol.js";
import type { Acceptor, Address, Listener } from "./transport.js";

/**
 * Whether a server reads a PROXY protocol header. "off": never (a header is garbage). "optional":
 * when the first bytes are one, as RocketMQ 5.1.4+ does on every port; any client can then claim
 * any address. "required": every connection must start with one, as the PROXY spec asks of a
 * receiver (doc/proxy-protocol.txt §5: only trusted proxies should reach such a port).
 */
export type ProxyProtocolMode = "off" | "optional" | "required";

/** Options of {@link ProxyProtocolAcceptor} (validated by the server's options.ts). */
export interface ProxyAcceptOptions {
  /** "required": a connection without a header is refused; "optional": one is read if present. */
  readonly mode: "optional" | "required";
  /** Time for the whole header from accept, in ms; 0 waits for ever. */
  readonly timeoutMs: number;
}

/**
 * Reads the PROXY header, if any, at the start of `duplex` and puts the bytes after it back
 * (`unshift`), so the next reader (TLS sniffing, the engine) sees the connection as if the
 * header were not there. A proxied connection is re-tagged with the client's address. Resolves
 * with the header, or undefined when there was none ("optional" mode). Rejects with
 * ProxyProtocolError (`MQW_ERR_NEGOTIATION`, `reason`) after destroying the connection: a missing
 * header in "required" mode, a malformed one, a connection closed mid-header ("truncated"), a
 * header incomplete after `timeoutMs` ("timeout", cause a TimeoutError).
 */
export async function readProxyHeader(
  duplex: Duplex,
  options: ProxyAcceptOptions,
): Promise<ProxyHeader | undefined> {
  // Named now: a socket that closes (a health check hangs up at once) no longer knows its peer.
  const own = endpointsOf(duplex);
  const ctl = new AbortController();
  const timer =
    options.timeoutMs > 0
      ? setTimeout(() => {
          const cause = new TimeoutError(`no complete PROXY header within ${options.timeoutMs} ms`);
          ctl.abort(new ProxyProtocolError("timeout", cause.message, { cause }));
        }, options.timeoutMs)
      : undefined;
  try {
    const result = await readUntilDecided(duplex, new ProxyHeaderParser(), ctl.signal);
    if (result.kind === "absent") {
      if (options.mode === "required") {
        throw new ProxyProtocolError(
          "missing",
          "connection without a PROXY header refused: proxyProtocol is required",
        );
      }
      tagEndpoints(duplex, own);
      return undefined;
    }
    const { header } = result;
    tagEndpoints(
      duplex,
      header.source === undefined
        ? own
        : {
            local: own.local,
            remote: header.source.address,
            proxy: {
              proxiedBy: own.remote,
              destination: header.destination?.address ?? "",
              tlvs: header.tlvs,
            },
          },
    );
    return header;
  } catch (err) {
    duplex.destroy();
    throw err;
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}

/**
 * Feeds every readable chunk to the parser until it decides, then puts the bytes after the
 * header back. Through 'readable', not 'data', for the reason tls-server.ts peekFirstByte gives:
 * the next owner then finds a fresh stream with its bytes intact.
 */
function readUntilDecided(
  duplex: Duplex,
  parser: ProxyHeaderParser,
  signal: AbortSignal,
): Promise<Exclude<ProxyParseResult, { kind: "need-more" }>> {
  return new Promise((resolve, reject) => {
    const settle = (err: unknown, result?: Exclude<ProxyParseResult, { kind: "need-more" }>): void => {
      duplex.off("readable", onReadable);
      duplex.off("end", onEnd);
      duplex.off("close", onEnd);
      duplex.off("error", onError);
      signal.removeEventListener("abort", onAbort);
      if (result !== undefined) resolve(result);
      else reject(err);
    };
    const onReadable = (): void => {
      for (;;) {
        const chunk = duplex.read() as Buffer | null;
        if (chunk === null) return; // 'end' follows when the stream ended
        let result: ProxyParseResult;
        try {
          result = parser.push(chunk);
        } catch (err) {
          settle(err);
          return;
        }
        if (result.kind === "need-more") continue;
        if (result.rest.length > 0) duplex.unshift(result.rest);
        settle(undefined, result);
        return;
      }
    };
    const onEnd = (): void => {
      const held = parser.bufferedBytes;
      settle(
        new ProxyProtocolError(
          "truncated",
          held === 0
            ? "connection closed before its first byte"
            : `connection closed after ${held} bytes of a PROXY header`,
        ),
      );
    };
    const onError = (err: Error): void =>
      settle(
        new ProxyProtocolError("truncated", "connection failed during the PROXY header", { cause: err }),
      );
    const onAbort = (): void => settle(signal.reason);
    if (signal.aborted) return onAbort();
    duplex.on("readable", onReadable);
    duplex.once("end", onEnd);
    duplex.once("close", onEnd);
    duplex.once("error", onError);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * An Acceptor decorator: every connection `inner` accepts goes through {@link readProxyHeader}
 * before `onConnection`. A refused connection is destroyed and its reason logged (a warning
 * naming the listener, the socket's peer, the error code and reason), never thrown. Connections
 * still reading their header when the listener closes are destroyed with it.
 */
export class ProxyProtocolAcceptor implements Acceptor {
  /** The options this acceptor reads headers with. */
  readonly options: ProxyAcceptOptions;
  readonly #inner: Acceptor;
  readonly #logger: Logger;

  constructor(inner: Acceptor, options: ProxyAcceptOptions, logger: Logger = defaultLogger) {
    this.options = Object.freeze({ ...options });
    this.#inner = inner;
    this.#logger = logger;
  }

  async listen(address: Address, onConnection: (duplex: Duplex) => void): Promise<Listener> {
    const pending = new Set<Duplex>();
    const options = this.options;
    const logger = this.#logger;
    // Logs name the bound address (the real port when 0 was asked), known once listening.
    let name = String(address);
    const inner = await this.#inner.listen(address, (duplex) => {
      pending.add(duplex);
      // Named now: a destroyed net.Socket no longer knows its peer.
      const peer = endpointsOf(duplex).remote;
      readProxyHeader(duplex, options).then(
        (header) => {
          pending.delete(duplex);
          if (header !== undefined) {
            const from = header.source === undefined ? "its own address" : header.source.address;
            logger.debug(
              `${name}: ${peer} sent a PROXY v${header.version} ${header.command} header: ${from}`,
            );
          }
          try {
            onConnection(duplex);
          } catch (err) {
            logger.error(`${name}: onConnection threw for ${peer}`, err);
            duplex.destroy();
          }
        },
        (err: ProxyProtocolError) => {
          pending.delete(duplex);
          logger.warn(`${name}: refused ${peer}: ${err.code} (${err.reason}): ${err.message}`);
        },
      );
    });
    name = inner.address;
    return {
      address: inner.address,
      port: inner.port,
      async close(): Promise<void> {
        await inner.close();
        for (const d of pending) d.destroy();
        pending.clear();
      },
    };
  }
}
