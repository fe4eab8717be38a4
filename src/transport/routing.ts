/**
 * Picks the transport by the address: "memory://name" goes to the in-memory network, everything
 * else ("host:port", "[v6]:port", Unix paths) to TCP. Servers and clients take these by default;
 * a user who needs TLS, SOCKS or a transport of their own passes a Connector / Acceptor instead
 * (undici's replaceable connector).
 */
import type { Duplex } from "node:stream";
import type { Logger } from "../logger.js";
import { parseAddress } from "./address.js";
import { defaultMemoryNetwork, MemoryAcceptor, MemoryConnector, type MemoryNetwork } from "./memory.js";
import { TcpAcceptor, TcpConnector } from "./tcp.js";
import type { Acceptor, Address, Connector, Listener, TcpOptions } from "./transport.js";

/** A Connector that routes by address kind. */
export class RoutingConnector implements Connector {
  readonly #tcp: Connector;
  readonly #memory: Connector;
  constructor(tcp: Connector, memory: Connector) {
    this.#tcp = tcp;
    this.#memory = memory;
  }
  open(target: Address, signal?: AbortSignal): Promise<Duplex> {
    return parseAddress(target).kind === "memory"
      ? this.#memory.open(target, signal)
      : this.#tcp.open(target, signal);
  }
}

/** An Acceptor that routes by address kind. */
export class RoutingAcceptor implements Acceptor {
  readonly #tcp: Acceptor;
  readonly #memory: Acceptor;
  constructor(tcp: Acceptor, memory: Acceptor) {
    this.#tcp = tcp;
    this.#memory = memory;
  }
  listen(address: Address, onConnection: (duplex: Duplex) => void): Promise<Listener> {
    const acceptor = parseAddress(address).kind === "memory" ? this.#memory : this.#tcp;
    return acceptor.listen(address, onConnection);
  }
}

/**
 * TCP/Unix plus memory, with the given TCP options. `zeroCopyReads` (TcpDeps) only when nothing
 * wraps the result (no TLS, no SOCKS).
 */
export function defaultConnector(
  tcp: TcpOptions,
  memory: MemoryNetwork = defaultMemoryNetwork,
  zeroCopyReads = false,
): Connector {
  return new RoutingConnector(new TcpConnector(tcp, { zeroCopyReads }), new MemoryConnector(memory));
}

/** TCP/Unix plus memory, with the given TCP options. */
export function defaultAcceptor(
  tcp: TcpOptions,
  logger: Logger,
  memory: MemoryNetwork = defaultMemoryNetwork,
): Acceptor {
  return new RoutingAcceptor(new TcpAcceptor(tcp, { logger }), new MemoryAcceptor(memory));
}
