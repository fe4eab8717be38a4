/**
 * The in-memory transport: a Duplex pair that behaves like a loopback socket, and "memory://name"
 * listeners on a {@link MemoryNetwork}. A real transport, not a mock (ws and rhea run their tests
 * over in-process pairs the same way):
 * - data is delivered asynchronously (in the check phase, like socket I/O), never inside write();
 * - back-pressure is real: a write's callback waits until the peer's readable side has room
 *   (its highWaterMark), so a peer that stops reading fills the writer's buffer;
 * - end() reaches the peer as end-of-stream; destroy() too, and later writes from the peer fail
 *   with ECONNRESET, as a TCP peer's would after a reset.
 */
import { Duplex } from "node:stream";
import { ConnectError, InvalidArgumentError } from "../errors.js";
import { parseAddress, tagEndpoints } from "./address.js";
import type { Acceptor, Address, Connector, Listener } from "./transport.js";

/** Default buffer of each direction's readable and writable sides, in bytes (net.Socket's 16 KiB). */
export const DEFAULT_MEMORY_HIGH_WATER_MARK_BYTES = 16 * 1024;

/** Options of {@link createMemoryPair}. */
export interface MemoryPairOptions {
  /** Readable and writable highWaterMark of each end, in bytes. Default 16384. */
  highWaterMarkBytes?: number;
  /** Address names of the two ends, [first, second]. Default ["memory://a", "memory://b"]. */
  names?: readonly [string, string];
  /** Keep a side writable after the peer ended (Duplex allowHalfOpen). Default false, like net. */
  allowHalfOpen?: boolean;
}

function connReset(): Error {
  return Object.assign(new Error("memory peer closed the connection"), { code: "ECONNRESET" });
}

function deliverTick(end: MemoryDuplex): void {
  end.deliver();
}

/** One end of a memory pair. */
export class MemoryDuplex extends Duplex {
  #peer: MemoryDuplex | undefined;
  // The one write in flight (Writable calls _write/_writev one at a time) and its callback.
  #outgoing: Buffer[] | undefined;
  #outgoingCb: ((error?: Error | null) => void) | undefined;
  // The peer's write callback held until our readable side asks for more (_read).
  #blockedCb: ((error?: Error | null) => void) | undefined;

  /** @internal Use {@link createMemoryPair}. */
  constructor(highWaterMarkBytes: number, allowHalfOpen: boolean) {
    super({ highWaterMark: highWaterMarkBytes, allowHalfOpen });
  }

  /** @internal */
  link(peer: MemoryDuplex): void {
    this.#peer = peer;
  }

  /** @internal Duplex: one write, handed to the peer on the next turn. */
  override _write(chunk: Buffer, _encoding: BufferEncoding, cb: (error?: Error | null) => void): void {
    this.#send([chunk], cb);
  }

  /** @internal Duplex: several writes at once. */
  override _writev(chunks: Array<{ chunk: Buffer }>, cb: (error?: Error | null) => void): void {
    this.#send(
      chunks.map((c) => c.chunk),
      cb,
    );
  }

  #send(bufs: Buffer[], cb: (error?: Error | null) => void): void {
    const peer = this.#peer;
    if (peer === undefined || peer.destroyed || peer.readableEnded) {
      cb(connReset());
      return;
    }
    this.#outgoing = bufs;
    this.#outgoingCb = cb;
    setImmediate(deliverTick, this);
  }

  /** @internal Moves the write in flight into the peer's readable side. */
  deliver(): void {
    const bufs = this.#outgoing;
    const cb = this.#outgoingCb;
    this.#outgoing = undefined;
    this.#outgoingCb = undefined;
    if (bufs === undefined || cb === undefined) return;
    const peer = this.#peer;
    if (peer === undefined || peer.destroyed) {
      cb(connReset());
      return;
    }
    let room = true;
    for (const b of bufs) room = peer.push(b);
    // The peer's buffer is full: hold the callback, so this side's writableLength stays up and
    // its writer sees back-pressure, until the peer reads (its _read releases it).
    if (room) cb();
    else peer.#blockedCb = cb;
  }

  /** @internal Duplex: the reader wants more; releases the peer's held write. */
  override _read(): void {
    const cb = this.#blockedCb;
    if (cb !== undefined) {
      this.#blockedCb = undefined;
      cb();
    }
  }

  /** @internal Duplex: this side ended; the peer reads the end after what was written. */
  override _final(cb: (error?: Error | null) => void): void {
    const peer = this.#peer;
    // Every earlier write has been delivered (Writable calls _final after the last callback).
    if (peer !== undefined && !peer.destroyed) setImmediate(() => peer.push(null));
    cb();
  }

  /** @internal Duplex: destroyed; a write in flight fails, the peer ends or resets. */
  override _destroy(error: Error | null, cb: (error?: Error | null) => void): void {
    const peer = this.#peer;
    const pendingCb = this.#outgoingCb;
    this.#outgoing = undefined;
    this.#outgoingCb = undefined;
    pendingCb?.(error ?? connReset());
    // A write of the peer's waiting on our reads will never be read: reset it.
    const blocked = this.#blockedCb;
    this.#blockedCb = undefined;
    if (peer !== undefined && !peer.destroyed) {
      if (blocked !== undefined) peer.destroy(connReset());
      else if (!peer.readableEnded) setImmediate(() => peer.push(null));
    }
    cb(error);
  }
}

/** Creates two connected ends; what one writes, the other reads. */
export function createMemoryPair(options: MemoryPairOptions = {}): [MemoryDuplex, MemoryDuplex] {
  const hwm = options.highWaterMarkBytes ?? DEFAULT_MEMORY_HIGH_WATER_MARK_BYTES;
  if (!Number.isSafeInteger(hwm) || hwm < 1) {
    throw new InvalidArgumentError(`highWaterMarkBytes must be an integer >= 1, got ${String(hwm)}`);
  }
  const [nameA, nameB] = options.names ?? ["memory://a", "memory://b"];
  const a = new MemoryDuplex(hwm, options.allowHalfOpen ?? false);
  const b = new MemoryDuplex(hwm, options.allowHalfOpen ?? false);
  a.link(b);
  b.link(a);
  tagEndpoints(a, { local: nameA, remote: nameB });
  tagEndpoints(b, { local: nameB, remote: nameA });
  return [a, b];
}

/** Named in-memory listeners. Inject one per test or per process; no hidden global registry. */
export class MemoryNetwork {
  readonly #listeners = new Map<string, (duplex: Duplex) => void>();
  readonly #highWaterMarkBytes: number;
  #nextClientId = 1;

  /** @param highWaterMarkBytes buffer of each end of each connection, in bytes. Default 16384. */
  constructor(highWaterMarkBytes = DEFAULT_MEMORY_HIGH_WATER_MARK_BYTES) {
    this.#highWaterMarkBytes = highWaterMarkBytes;
  }

  /**
   * Registers `name`; each connect hands the listener one end of a new pair.
   * @throws InvalidArgumentError when `name` is already listening.
   */
  listen(name: string, onConnection: (duplex: Duplex) => void): Listener {
    if (this.#listeners.has(name)) {
      throw new InvalidArgumentError(`memory://${name} is already listening`);
    }
    this.#listeners.set(name, onConnection);
    const listeners = this.#listeners;
    return {
      address: `memory://${name}`,
      port: 0,
      async close() {
        if (listeners.get(name) === onConnection) listeners.delete(name);
      },
    };
  }

  /**
   * Connects to `name`; resolves with the client end, after the listener got the server end.
   * @throws ConnectError (rejects) when nothing listens on `name`; the signal's reason on abort.
   */
  async connect(name: string, signal?: AbortSignal): Promise<Duplex> {
    signal?.throwIfAborted();
    // Asynchronous, like a real connect: the caller never sees a connection inside its own call.
    await new Promise<void>((resolve) => setImmediate(resolve));
    signal?.throwIfAborted();
    const onConnection = this.#listeners.get(name);
    if (onConnection === undefined) {
      throw new ConnectError(`nothing listens on memory://${name}`);
    }
    const server = `memory://${name}`;
    const client = `memory://${name}#${this.#nextClientId++}`;
    const [clientEnd, serverEnd] = createMemoryPair({
      highWaterMarkBytes: this.#highWaterMarkBytes,
      names: [client, server],
    });
    onConnection(serverEnd);
    return clientEnd;
  }
}

/** The convenience network behind the default connector and acceptor (inject your own in tests). */
export const defaultMemoryNetwork = new MemoryNetwork();

function memoryName(address: Address): string {
  const parsed = parseAddress(address);
  if (parsed.kind !== "memory") {
    throw new InvalidArgumentError(`address "${address}" is not a memory:// address`);
  }
  return parsed.name;
}

/** Connector for "memory://name" addresses. */
export class MemoryConnector implements Connector {
  readonly #network: MemoryNetwork;
  constructor(network: MemoryNetwork = defaultMemoryNetwork) {
    this.#network = network;
  }
  async open(target: Address, signal?: AbortSignal): Promise<Duplex> {
    return this.#network.connect(memoryName(target), signal);
  }
}

/** Acceptor for "memory://name" addresses. */
export class MemoryAcceptor implements Acceptor {
  readonly #network: MemoryNetwork;
  constructor(network: MemoryNetwork = defaultMemoryNetwork) {
    this.#network = network;
  }
  async listen(address: Address, onConnection: (duplex: Duplex) => void): Promise<Listener> {
    return this.#network.listen(memoryName(address), onConnection);
  }
}
