/**
 * The connector a RemotingClient opens its connections with when none is given: TCP, Unix or
 * in-memory by the address, wrapped in TLS and routed through SOCKS proxies as the options ask.
 */
import type { RemotingClientOptions, ResolvedClientOptions } from "../options.js";
import { defaultConnector } from "../transport/routing.js";
import { SocksConnector } from "../transport/socks.js";
import { TlsConnector } from "../transport/tls.js";
import type { Connector } from "../transport/transport.js";

/** TCP/Unix/memory, wrapped in TLS and routed through SOCKS proxies as the options ask. */
export function clientConnector(resolved: ResolvedClientOptions, options: RemotingClientOptions): Connector {
  // Reads into buffers the decoder picks only for connections nothing wraps (see read-buffers.ts).
  const direct = options.socksProxy === undefined && !options.tls;
  const plain = defaultConnector(resolved.tcp, undefined, direct);
  if (options.socksProxy !== undefined) {
    return new SocksConnector({
      proxies: options.socksProxy,
      fallback: plain,
      connectTimeoutMs: resolved.connectTimeoutMs,
      ...(options.tls ? { tls: options.tls } : {}),
    });
  }
  return options.tls
    ? new TlsConnector({ connectTimeoutMs: resolved.connectTimeoutMs, ...options.tls }, plain)
    : plain;
}
