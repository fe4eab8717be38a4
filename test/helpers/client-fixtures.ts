/**
 * Fixtures of the client-side remoting tests: interop servers on 127.0.0.1:0 that count
 * connections and requests, raw node:net peers that misbehave (junk bytes, never read), a port
 * nobody listens on, connectors that hang or delay, and waits that fail instead of hanging.
 * Everything a test starts is closed by that test's `t.after`, so a failing assertion cannot
 * leave a socket that keeps the runner alive.
 */
import assert from "node:assert/strict";
import net from "node:net";
import type { Duplex } from "node:stream";
import type { TestContext } from "node:test";
import {
  type Connector,
  type ErrorCode,
  InteropCode,
  RemotingClient,
  type RemotingClientOptions,
  type RemotingCommand,
  RemotingServer,
  registerInteropService,
  silentLogger,
  TcpConnector,
} from "../../src/index.js";

/** Longest wait of any helper, in ms: generous for a loaded machine, short for a hang. */
export const WAIT_MS = 3000;

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `predicate` every 5 ms until it holds; throws naming `what` after `ms`. */
export async function waitFor(predicate: () => boolean, what: string, ms = WAIT_MS): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(5);
  }
}

/** Resolves with what `promise` settles to, or throws naming `what` after `ms` (a missing callback fails). */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** How a call ended: its error and the ms from `startedAt` to settling. */
export interface Failure {
  error: Error & { code?: string };
  elapsedMs: number;
}

/** Awaits `promise`, asserts it rejects, and returns the error and the time it took. */
export async function failure(
  promise: Promise<unknown>,
  startedAt = Date.now(),
  ms = WAIT_MS * 4,
): Promise<Failure> {
  let error: unknown;
  let resolved = false;
  try {
    await within(promise, ms, "the call to end");
    resolved = true;
  } catch (err) {
    error = err;
  }
  assert.equal(resolved, false, "the call should have failed");
  return { error: error as Error & { code?: string }, elapsedMs: Date.now() - startedAt };
}

/** Asserts `promise` rejects with an error of `code`; returns the failure. */
export async function expectCode(
  promise: Promise<unknown>,
  code: ErrorCode,
  startedAt = Date.now(),
): Promise<Failure> {
  const f = await failure(promise, startedAt);
  assert.equal(f.error.code, code, `expected ${code}, got ${f.error.code ?? "no code"}: ${f.error.message}`);
  return f;
}

/** An interop server (codes 100–106) with per-server counts of accepted connections and requests. */
export interface TestServer {
  server: RemotingServer;
  addr: string;
  port: number;
  /** `connect` events seen: connections accepted. */
  readonly connections: number;
  /** Requests of any code received. */
  readonly requests: number;
  /** The interop oneway counter (code 104). */
  readonly onewayCount: number;
}

/** Starts an interop server on `listen` (default 127.0.0.1:0), shut down with grace 0 after the test. */
export async function startServer(t: TestContext, listen = "127.0.0.1:0"): Promise<TestServer> {
  const server = new RemotingServer({ listen: [listen], logger: silentLogger });
  const counter = registerInteropService(server);
  let connections = 0;
  let requests = 0;
  server.on("connect", () => connections++);
  server.registerRpcHook({
    doBeforeRequest: () => {
      requests++;
    },
    doAfterResponse: () => undefined,
  });
  await server.start();
  t.after(() => server.shutdown({ graceMs: 0 }));
  return {
    server,
    addr: server.addresses[0]!,
    port: server.port,
    get connections() {
      return connections;
    },
    get requests() {
      return requests;
    },
    get onewayCount() {
      return counter.count;
    },
  };
}

/** A client with quiet logs and no name-server scan unless asked, shut down after the test. */
export function startClient(t: TestContext, options: RemotingClientOptions = {}): RemotingClient {
  const client = new RemotingClient({ logger: silentLogger, scanNameServers: false, ...options });
  t.after(() => client.shutdown());
  return client;
}

/** An interop request: `code` with a body and optional extFields. */
export function request(
  client: RemotingClient,
  code: number,
  body?: string | Buffer,
  ext?: Record<string, string>,
): RemotingCommand {
  return client.createRequest(code, {
    body: body === undefined ? null : typeof body === "string" ? Buffer.from(body) : body,
    extFields: ext ?? null,
  });
}

/** A 101 request delayed by `delayMs` on the server. */
export function delayed(client: RemotingClient, delayMs: number, body = "d"): RemotingCommand {
  return request(client, InteropCode.DELAYED_ECHO, body, { delayMs: String(delayMs) });
}

/** A port nobody listens on: bound on 0, noted, closed. */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A raw TCP peer: accepted sockets are handed to `onSocket`; every socket is destroyed after the test. */
export async function rawServer(
  t: TestContext,
  onSocket: (socket: net.Socket) => void,
): Promise<{ addr: string; sockets: net.Socket[] }> {
  const sockets: net.Socket[] = [];
  const server = net.createServer((socket) => {
    sockets.push(socket);
    socket.on("error", () => undefined);
    onSocket(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.after(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { addr: `127.0.0.1:${(server.address() as net.AddressInfo).port}`, sockets };
}

/** A connector whose open() never settles (a SYN that is never answered); counts its calls. */
export class HangingConnector implements Connector {
  opens = 0;
  readonly signals: (AbortSignal | undefined)[] = [];
  open(_target: string, signal?: AbortSignal): Promise<Duplex> {
    this.opens++;
    this.signals.push(signal);
    return new Promise<Duplex>(() => undefined);
  }
}

/**
 * A TCP connector whose first `hangFirst` opens never settle and whose others are real, after
 * `delayMs`; counts its calls. Models a connect that takes long or is lost.
 */
export class ScriptedConnector implements Connector {
  opens = 0;
  readonly #tcp = new TcpConnector({ connectTimeoutMs: WAIT_MS });
  constructor(
    readonly hangFirst = 0,
    readonly delayMs = 0,
  ) {}
  async open(target: string, signal?: AbortSignal): Promise<Duplex> {
    this.opens++;
    if (this.opens <= this.hangFirst) return new Promise<Duplex>(() => undefined);
    if (this.delayMs > 0) await sleep(this.delayMs);
    return this.#tcp.open(target, signal);
  }
}

/** Counts calls to the callbacks of an InvokeCallback and resolves when one of them ran. */
export function countedCallback(): {
  callback: { operationSucceed(r: RemotingCommand): void; operationFail(e: Error): void };
  succeeded: RemotingCommand[];
  failed: Error[];
  settled: Promise<void>;
} {
  const succeeded: RemotingCommand[] = [];
  const failed: Error[] = [];
  let done!: () => void;
  const settled = new Promise<void>((resolve) => {
    done = resolve;
  });
  return {
    callback: {
      operationSucceed(r) {
        succeeded.push(r);
        done();
      },
      operationFail(e) {
        failed.push(e);
        done();
      },
    },
    succeeded,
    failed,
    settled,
  };
}
