/**
 * Shared helpers of the remoting integration tests: a server on 127.0.0.1:0, clients, a raw
 * node:net peer that sees the exact frames on the wire, waits with time-outs, counted callbacks
 * and deferred promises. Everything a test starts is closed by the test's own `t.after`, so a
 * failing test cannot leave a socket that keeps the runner alive.
 */
import assert from "node:assert/strict";
import { EventEmitter, once } from "node:events";
import net from "node:net";
import type { TestContext } from "node:test";
import {
  decodeFrame,
  encodeFrame,
  type RemotingChannel,
  RemotingClient,
  type RemotingClientOptions,
  type RemotingCommand,
  RemotingServer,
  type ServerOptions,
  silentLogger,
} from "../../src/index.js";

/** Default wait of every helper, in ms: long enough for a loaded CI machine, short for a hang. */
export const WAIT_MS = 3000;

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Rejects with an Error naming `what` when `promise` does not settle within `ms`. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** The next `event` of `emitter`, with its arguments; rejects after `ms`. */
export function nextEvent<A extends unknown[] = unknown[]>(
  emitter: NodeJS.EventEmitter,
  event: string,
  ms = WAIT_MS,
): Promise<A> {
  return once(emitter, event, { signal: AbortSignal.timeout(ms) }) as Promise<A>;
}

/** Polls `predicate` every 5 ms until it holds; rejects after `ms` naming `what`. */
export async function waitFor(predicate: () => boolean, what: string, ms = WAIT_MS): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(5);
  }
}

/** A promise with its settle functions outside (a gate a test opens). */
export interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}
export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** A function that records its calls (undici's planned assertions, by hand). */
export interface Counted<A extends unknown[], R> {
  (...args: A): R;
  readonly calls: A[];
  readonly count: number;
  /** Resolves when the function has been called `n` times; rejects after `ms`. */
  called(n?: number, ms?: number): Promise<void>;
}
export function counted<A extends unknown[] = unknown[], R = void>(fn?: (...args: A) => R): Counted<A, R> {
  const calls: A[] = [];
  const f = ((...args: A): R => {
    calls.push(args);
    return fn?.(...args) as R;
  }) as Counted<A, R>;
  Object.defineProperty(f, "calls", { value: calls });
  Object.defineProperty(f, "count", { get: () => calls.length });
  f.called = (n = 1, ms = WAIT_MS) => waitFor(() => calls.length >= n, `${n} call(s)`, ms);
  return f;
}

/** A server started for one test and shut down (grace 0) after it. */
export async function startServer(
  t: TestContext,
  options: ServerOptions = {},
  setup?: (server: RemotingServer) => void,
): Promise<{ server: RemotingServer; addr: string }> {
  const server = new RemotingServer({ listen: ["127.0.0.1:0"], logger: silentLogger, ...options });
  setup?.(server);
  await server.start();
  t.after(() => server.shutdown({ graceMs: 0 }));
  return { server, addr: server.addresses[0]! };
}

/** A client (no name-server scan) shut down after the test. */
export function makeClient(t: TestContext, options: RemotingClientOptions = {}): RemotingClient {
  const client = new RemotingClient({ scanNameServers: false, logger: silentLogger, ...options });
  t.after(() => client.shutdown());
  return client;
}

/**
 * The server-side channel of the newest connection, once there are `count` channels (the
 * `connect` event may have fired before the caller could subscribe).
 */
export async function acceptedChannel(
  server: RemotingServer,
  count = 1,
  ms = WAIT_MS,
): Promise<RemotingChannel> {
  await waitFor(() => server.channels.size >= count, `${count} server channel(s)`, ms);
  return [...server.channels].at(-1)!;
}

/** The only live channel of `server` (fails when there is not exactly one). */
export function onlyChannel(server: RemotingServer): RemotingChannel {
  assert.equal(server.channels.size, 1, "server should have exactly one channel");
  return [...server.channels][0]!;
}

/** One frame as read off the wire. */
export interface WireFrame {
  /** The whole frame, length field included. */
  readonly bytes: Buffer;
  /** The top byte of the header-length word: 0 JSON, 1 ROCKETMQ. */
  readonly serializeType: number;
  readonly command: RemotingCommand;
}

/**
 * A raw node:net peer: writes frames or arbitrary bytes, splits what arrives into whole frames
 * with the length field (no library decoder on the receive path, so the test sees exact bytes).
 * Emits "frame" per frame and "close" once.
 */
export class RawPeer extends EventEmitter {
  readonly socket: net.Socket;
  readonly frames: WireFrame[] = [];
  closed = false;
  #chunks: Buffer[] = [];
  #bytes = 0;

  private constructor(socket: net.Socket) {
    super();
    this.socket = socket;
    socket.on("data", (chunk: Buffer) => this.#onData(chunk));
    socket.on("error", () => {});
    socket.on("close", () => {
      this.closed = true;
      this.emit("close");
    });
  }

  /** Connects to "host:port" and closes the socket after the test. */
  static async connect(t: TestContext, addr: string): Promise<RawPeer> {
    const i = addr.lastIndexOf(":");
    const socket = net.connect({ host: addr.slice(0, i), port: Number(addr.slice(i + 1)) });
    socket.setNoDelay(true);
    await withTimeout(once(socket, "connect"), WAIT_MS, `connect to ${addr}`);
    const peer = new RawPeer(socket);
    t.after(() => {
      socket.destroy();
    });
    return peer;
  }

  /** Writes one command as a frame (in the command's own serialize type). */
  send(command: RemotingCommand): void {
    this.socket.write(encodeFrame(command));
  }
  write(bytes: Buffer): boolean {
    return this.socket.write(bytes);
  }

  /** Resolves with the `index`-th frame received (0-based), waiting up to `ms`. */
  async frame(index: number, ms = WAIT_MS): Promise<WireFrame> {
    await waitFor(() => this.frames.length > index, `frame #${index}`, ms);
    return this.frames[index]!;
  }

  /** Resolves when the server closed the connection. */
  async whenClosed(ms = WAIT_MS): Promise<void> {
    await waitFor(() => this.closed, "the connection to close", ms);
  }

  #onData(chunk: Buffer): void {
    // Chunks are joined only once a whole frame is there (1 MiB frames arrive in 64 KiB reads).
    this.#chunks.push(chunk);
    this.#bytes += chunk.length;
    while (this.#bytes >= 4) {
      if (this.#chunks[0]!.length < 4) this.#chunks = [Buffer.concat(this.#chunks)];
      const size = 4 + this.#chunks[0]!.readUInt32BE(0);
      if (this.#bytes < size) break;
      const all = this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks);
      const bytes = Buffer.from(all.subarray(0, size));
      const rest = all.subarray(size);
      this.#chunks = rest.length > 0 ? [rest] : [];
      this.#bytes = rest.length;
      const frame: WireFrame = { bytes, serializeType: bytes[4]!, command: decodeFrame(bytes) };
      this.frames.push(frame);
      this.emit("frame", frame);
    }
  }
}
