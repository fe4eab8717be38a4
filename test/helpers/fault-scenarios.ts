/**
 * The fault scenarios of issue 10, each an end-to-end run over real sockets against a server in
 * a child process (./fault-process.ts) or a raw peer, parameterized so that npm test runs a short
 * variant (test/integration/faults.test.ts) and `npm run test:reliability` a long one
 * (test/reliability/faults.test.ts). Each asserts what must hold and returns its figures, which
 * the tests report with `t.diagnostic` (RELIABILITY.md, "Faults", quotes them).
 */
import assert from "node:assert/strict";
import { type EventEmitter, once } from "node:events";
import net from "node:net";
import type { TestContext } from "node:test";
import { setImmediate as yieldToLoop } from "node:timers/promises";
import {
  ErrorCodes,
  encodeFrame,
  InteropCode,
  type InvokeCallback,
  RemotingClient,
  type RemotingClientOptions,
  type RemotingCommand,
  type RemotingServer,
  type SocketTransport,
  silentLogger,
} from "../../src/index.js";
import { closedPort, rawServer, request, sleep, startClient, waitFor } from "./client-fixtures.js";
import { fillBacklog, startFaultServer } from "./fault-process.js";

/** Settles of each call by index: a call must end exactly once. */
class Ledger {
  readonly settles: Uint8Array;
  readonly codes = new Map<string, number>();
  settled = 0;
  lastAt = 0;
  constructor(readonly size: number) {
    this.settles = new Uint8Array(size);
  }
  settle(i: number, code: string): void {
    this.settles[i]!++;
    this.settled++;
    this.codes.set(code, (this.codes.get(code) ?? 0) + 1);
    this.lastAt = performance.now();
  }
  callback(i: number): InvokeCallback {
    return {
      operationSucceed: () => this.settle(i, "ok"),
      operationFail: (e: Error & { code?: string }) => this.settle(i, e.code ?? e.name),
    };
  }
  /** Asserts every call ended exactly once, after `graceMs` more in which a second end would show. */
  async assertOnce(graceMs: number): Promise<void> {
    await sleep(graceMs);
    const twice = this.settles.findIndex((n) => n > 1);
    const never = this.settles.indexOf(0);
    assert.equal(twice, -1, `call #${twice} ended ${this.settles[twice]} times`);
    assert.equal(never, -1, `call #${never} never ended`);
  }
}

const transportOf = (client: RemotingClient, addr: string): SocketTransport =>
  client.channelOf(addr)!.engine.transport as SocketTransport;

/** Figures of {@link killWithPendingCalls}. */
export interface KillFigures {
  calls: number;
  /** SIGKILL sent → the client's socket reported end, error or close. */
  killToSocketGoneMs: number;
  /** The socket reported end, error or close → the last call failed. */
  socketGoneToLastFailMs: number;
}

/**
 * The server is SIGKILLed with `calls` calls pending on a client (code 102, never answered):
 * every call fails exactly once with MQW_ERR_CHANNEL_CLOSED within `budgetMs` of the socket
 * closing (the first of its end, error or close events).
 */
export async function killWithPendingCalls(
  t: TestContext,
  calls: number,
  budgetMs: number,
): Promise<KillFigures> {
  const server = await startFaultServer(t);
  const client = startClient(t, { asyncPermits: Math.max(calls, 1) });
  await client.invoke(server.addr, request(client, InteropCode.ECHO, "warm-up"));
  const transport = transportOf(client, server.addr);
  let socketGoneAt = 0;
  const gone = (): void => {
    socketGoneAt ||= performance.now();
  };
  // Listeners on the stream itself: the first of these runs before the transport closes the
  // channel (and fails its calls), so the time measured includes all of that.
  transport.stream.once("end", gone).once("error", gone).once("close", gone);
  const ledger = new Ledger(calls);
  for (let i = 0; i < calls; i++) {
    client.invokeAsync(
      server.addr,
      request(client, InteropCode.NEVER_REPLIES, `k${i}`),
      120_000,
      ledger.callback(i),
    );
  }
  assert.equal(client.pendingCalls, calls);
  await waitFor(() => transport.queuedBytes === 0, "the requests to be written");
  const killedAt = performance.now();
  await server.kill();
  await waitFor(() => ledger.settled >= calls, `${calls} calls to fail`, 10_000);
  await ledger.assertOnce(100);
  assert.deepEqual([...ledger.codes], [[ErrorCodes.CHANNEL_CLOSED, calls]]);
  assert.equal(client.pendingCalls, 0);
  const figures = {
    calls,
    killToSocketGoneMs: round(socketGoneAt - killedAt),
    socketGoneToLastFailMs: round(ledger.lastAt - socketGoneAt),
  };
  assert.ok(
    figures.socketGoneToLastFailMs <= budgetMs,
    `calls failed ${figures.socketGoneToLastFailMs} ms after the socket closed (budget ${budgetMs} ms)`,
  );
  return figures;
}

/** Figures of {@link stoppedServer}. */
export interface StopFigures {
  idleMs: number;
  /** Last read or write on the channel → the idle close failed the last pending call. */
  detectedAfterMs: number;
  /** SIGCONT → the next call answered over a new channel. */
  reopenedAfterMs: number;
}

/**
 * The server is SIGSTOPped (it neither reads, writes nor closes) with `calls` calls pending on
 * a client whose channelMaxIdleMs is `idleMs`: the idle rule closes the channel within idle
 * time + 1 s of its last activity, the calls fail with MQW_ERR_CHANNEL_CLOSED, and after
 * SIGCONT the next call opens a new channel and is answered.
 */
export async function stoppedServer(t: TestContext, calls: number, idleMs: number): Promise<StopFigures> {
  const server = await startFaultServer(t);
  const client = startClient(t, { channelMaxIdleMs: idleMs });
  await client.invoke(server.addr, request(client, InteropCode.ECHO, "warm-up"));
  const first = client.channelOf(server.addr)!;
  const transport = transportOf(client, server.addr);
  let idleAt = 0;
  client.on("idle", () => {
    idleAt ||= Date.now();
  });
  server.stop();
  const ledger = new Ledger(calls);
  for (let i = 0; i < calls; i++) {
    client.invokeAsync(server.addr, request(client, InteropCode.ECHO, `s${i}`), 60_000, ledger.callback(i));
  }
  await waitFor(() => ledger.settled >= calls, "the idle close to fail the calls", idleMs + 3000);
  await ledger.assertOnce(50);
  assert.deepEqual([...ledger.codes], [[ErrorCodes.CHANNEL_CLOSED, calls]]);
  assert.ok(idleAt > 0, "the client should emit idle");
  const lastActivity = Math.max(transport.lastReadAt, transport.lastWriteAt);
  const detectedAfterMs = Date.now() - lastActivity;
  assert.ok(detectedAfterMs <= idleMs + 1000, `found ${detectedAfterMs} ms after the last activity`);
  const resumedAt = Date.now();
  server.resume();
  const response = await client.invoke(server.addr, request(client, InteropCode.ECHO, "again"), {
    timeoutMs: 5000,
  });
  assert.equal(response.body?.toString(), "again");
  assert.notEqual(client.channelOf(server.addr), first, "a new channel");
  return { idleMs, detectedAfterMs, reopenedAfterMs: Date.now() - resumedAt };
}

/** How the first name server of the list fails. */
export type DeadNameServer = "closed-port" | "backlog-full" | "never-answers";
/** How the scenario calls: RocketMQ calls name servers with invokeSync; mqwire's protocol clients with invoke. */
export type CallStyle = "invokeSync" | "invoke" | "invokeAsync";

/** One echo call to a name server (addr null) in `style`; resolves with the body answered. */
function callNameServer(
  client: RemotingClient,
  style: CallStyle,
  body: string,
  timeoutMs: number,
): Promise<string> {
  const req = request(client, InteropCode.ECHO, body);
  const text = (r: RemotingCommand): string => r.body?.toString() ?? "";
  switch (style) {
    case "invokeSync":
      return client.invokeSync(null, req, timeoutMs).then(text);
    case "invoke":
      return client.invoke(null, req, { timeoutMs }).then(text);
    case "invokeAsync":
      return new Promise((resolve, reject) =>
        client.invokeAsync(null, req, timeoutMs, {
          operationSucceed: (r) => resolve(text(r)),
          operationFail: reject,
        }),
      );
  }
}

/** Figures of {@link nameServerFailover}. */
export interface FailoverFigures {
  kind: DeadNameServer;
  style: CallStyle;
  /** Fresh clients tried until one chose the dead name server first (the list is shuffled). */
  clients: number;
  /** The first null-address call of that client, through the dead one to the live one. */
  firstCallMs: number;
  /** Connect attempts to the dead one during the `calls` calls that followed. */
  attemptsDuringCalls: number;
  /** Time from the first attempt to the second (made by a reachability scan after the back-off). */
  secondAttemptAfterMs: number;
}

/**
 * A name-server list whose first choice is dead: calls with addr null (made in `style`) succeed
 * through the other within the connect time-out (for a server that accepts and never answers:
 * the first call times out and closes the channel, RocketMQ's invokeSync rule, and the next goes
 * to the other); the dead one is not tried again by the calls that follow, and a scan tries it
 * again only after its back-off.
 */
export async function nameServerFailover(
  t: TestContext,
  kind: DeadNameServer,
  calls: number,
  live: string,
  style: CallStyle = "invokeSync",
): Promise<FailoverFigures> {
  const connectTimeoutMs = 400;
  const callTimeoutMs = 600;
  const reconnectBaseMs = 300;
  const dead = await deadAddress(t, kind);
  const options: RemotingClientOptions = {
    connectTimeoutMs,
    reconnectBaseMs,
    reconnectMaxMs: 5000,
    logger: silentLogger,
    scanNameServers: false,
  };
  // The list is shuffled and the start index random: fresh clients until one tries `dead` first.
  for (let clients = 1; clients <= 64; clients++) {
    const client = new RemotingClient(options);
    t.after(() => client.shutdown());
    const attempts: number[] = [];
    client.on("connect", (addr) => {
      if (addr === dead) attempts.push(performance.now());
    });
    client.updateNameServerAddressList([dead, live]);
    const startedAt = performance.now();
    try {
      assert.equal(await callNameServer(client, style, "first", callTimeoutMs), "first");
    } catch (err) {
      // Only a mute server that accepted the connection may fail the first call, at its time-out.
      assert.equal(kind, "never-answers", `first call failed: ${String(err)}`);
      assert.equal((err as { code?: string }).code, ErrorCodes.TIMEOUT);
      assert.equal(client.chosenNameServer, dead);
      assert.equal(await callNameServer(client, style, "second", callTimeoutMs), "second");
    }
    const firstCallMs = performance.now() - startedAt;
    if (attempts.length === 0) {
      await client.shutdown();
      continue;
    }
    assert.equal(client.chosenNameServer, live);
    const budget = kind === "never-answers" ? callTimeoutMs + connectTimeoutMs : connectTimeoutMs;
    assert.ok(firstCallMs <= budget + 500, `first call took ${round(firstCallMs)} ms`);
    if (kind !== "never-answers") {
      // A scan right after the failure finds the dead one backing off: no new attempt.
      await client.scanNameServers();
      assert.equal(attempts.length, 1, "a scan within the back-off must not connect");
    }
    for (let i = 0; i < calls; i++) {
      assert.equal(await callNameServer(client, style, `n${i}`, callTimeoutMs), `n${i}`);
    }
    const attemptsDuringCalls = attempts.length - 1;
    assert.equal(attemptsDuringCalls, 0, "calls must not try the dead name server again");
    if (kind === "never-answers") {
      // It connected: no back-off. A scan finds it reachable (RocketMQ's scan only connects).
      const figures = { kind, style, clients, firstCallMs: round(firstCallMs), attemptsDuringCalls };
      return { ...figures, secondAttemptAfterMs: 0 };
    }
    // A scan after the back-off (base ± 20%, from the failure) tries it again.
    await sleep(Math.max(0, attempts[0]! + reconnectBaseMs * 1.2 + connectTimeoutMs - performance.now()));
    await client.scanNameServers();
    assert.equal(attempts.length, 2, "a scan after the back-off tries the dead name server again");
    assert.deepEqual(client.getAvailableNameServerList(), [live]);
    return {
      kind,
      style,
      clients,
      firstCallMs: round(firstCallMs),
      attemptsDuringCalls,
      secondAttemptAfterMs: round(attempts[1]! - attempts[0]!),
    };
  }
  throw new Error("64 clients never chose the dead name server first");
}

/** Figures of {@link nameServerBackoff}. */
export interface BackoffFigures {
  scans: number;
  /** Connect attempts to the dead name server, and the gaps between them, in ms. */
  attempts: number;
  gapsMs: number[];
}

/**
 * The periodic reachability scan (`start()`, every `scanMs`) over a list with a closed port:
 * calls keep going to the live one, and the dead one is tried again only as its back-off
 * (reconnectBaseMs doubling, ±20% jitter) allows: gaps that grow, far fewer attempts than scans.
 */
export async function nameServerBackoff(
  t: TestContext,
  live: string,
  runMs: number,
  scanMs: number,
): Promise<BackoffFigures> {
  const dead = `127.0.0.1:${await closedPort()}`;
  const reconnectBaseMs = 100;
  const client = startClient(t, {
    scanNameServers: true,
    nameServerScanMs: scanMs,
    reconnectBaseMs,
    reconnectMaxMs: 60_000,
  });
  const attempts: number[] = [];
  client.on("connect", (addr) => {
    if (addr === dead) attempts.push(performance.now());
  });
  client.updateNameServerAddressList([dead, live]);
  await client.start();
  const until = performance.now() + runMs;
  let calls = 0;
  while (performance.now() < until) {
    const r = await client.invokeSync(null, request(client, InteropCode.ECHO, `b${calls}`), 2000);
    assert.equal(r.body?.toString(), `b${calls}`);
    calls++;
    await sleep(scanMs / 2);
  }
  await client.shutdown();
  const gapsMs = attempts.slice(1).map((at, i) => round(at - attempts[i]!));
  // The n-th gap is at least the n-th back-off's lower bound (base·2^(n-1)·0.8).
  for (const [i, gap] of gapsMs.entries()) {
    assert.ok(
      gap >= reconnectBaseMs * 2 ** i * 0.8 - 5,
      `gap #${i} of ${gap} ms is shorter than its back-off`,
    );
  }
  const scans = Math.floor(runMs / scanMs);
  assert.ok(attempts.length >= 2, "the dead name server is retried");
  assert.ok(
    attempts.length <= Math.ceil(Math.log2(runMs / reconnectBaseMs)) + 2,
    `${attempts.length} attempts`,
  );
  return { scans, attempts: attempts.length, gapsMs };
}

async function deadAddress(t: TestContext, kind: DeadNameServer): Promise<string> {
  switch (kind) {
    case "closed-port":
      return `127.0.0.1:${await closedPort()}`;
    case "backlog-full": {
      // A stopped process whose accept queue is full: the kernel drops the SYN, the connect hangs.
      const server = await startFaultServer(t, 0, 1);
      server.stop();
      await fillBacklog(t, server.port);
      return server.addr;
    }
    case "never-answers":
      return (await rawServer(t, () => undefined)).addr;
  }
}

/** Figures of {@link restartServer}. */
export interface RestartFigures {
  calls: number;
  succeeded: number;
  failed: Record<string, number>;
  /** The new process listening → the first call it answered. */
  reconnectAfterMs: number;
}

/** Codes a call may fail with while its server is killed and restarted. */
const RESTART_CODES: readonly string[] = [ErrorCodes.CHANNEL_CLOSED, ErrorCodes.CONNECT, ErrorCodes.TIMEOUT];

/**
 * The server is killed and started again on the same port while `workers` loops call it (echo,
 * a unique body each): the client reconnects by itself; every call ends exactly once; every
 * answer carries its own call's body; failures have a typed code. `restarts` kill/start rounds,
 * each down for `downMs`, with `callsAfter` answered calls after each start.
 */
export async function restartServer(
  t: TestContext,
  options: { workers: number; restarts: number; downMs: number; callsAfter: number },
): Promise<RestartFigures> {
  let server = await startFaultServer(t);
  const port = server.port;
  const client = startClient(t, { reconnectBaseMs: 20, reconnectMaxMs: 200, connectTimeoutMs: 1000 });
  const max = 1_000_000;
  const ledger = new Ledger(max);
  let next = 0;
  let succeeded = 0;
  let lastOkAt = 0;
  let running = true;
  const worker = async (): Promise<void> => {
    while (running && next < max) {
      const i = next++;
      const body = `r${i}`;
      const outcome = await new Promise<RemotingCommand | Error>((resolve) => {
        client.invokeAsync(server.addr, request(client, InteropCode.ECHO, body), 2000, {
          operationSucceed: (r) => {
            ledger.settle(i, "ok");
            resolve(r);
          },
          operationFail: (e: Error & { code?: string }) => {
            ledger.settle(i, e.code ?? e.name);
            resolve(e);
          },
        });
      });
      if (outcome instanceof Error) {
        const code = (outcome as { code?: string }).code ?? outcome.name;
        assert.ok(RESTART_CODES.includes(code), `unexpected failure ${code}: ${outcome.message}`);
        await sleep(5);
      } else {
        assert.equal(outcome.body?.toString(), body, "an answer went to the wrong call");
        succeeded++;
        lastOkAt = performance.now();
      }
    }
  };
  const loops = Array.from({ length: options.workers }, worker);
  let reconnectAfterMs = 0;
  try {
    await waitFor(() => succeeded >= options.callsAfter, "calls before the first kill", 10_000);
    for (let round = 0; round < options.restarts; round++) {
      await server.kill();
      await sleep(options.downMs);
      server = await startFaultServer(t, port);
      const upAt = performance.now();
      const before = succeeded;
      await waitFor(
        () => succeeded > before && lastOkAt > upAt,
        "the first answer after the restart",
        10_000,
      );
      reconnectAfterMs = Math.max(reconnectAfterMs, lastOkAt - upAt);
      await waitFor(() => succeeded >= before + options.callsAfter, "calls after the restart", 10_000);
    }
  } finally {
    running = false;
    await Promise.all(loops);
  }
  const calls = next;
  const settles = ledger.settles.subarray(0, calls);
  assert.equal(
    settles.findIndex((n) => n !== 1),
    -1,
    "every call ends exactly once",
  );
  await sleep(100);
  assert.equal(
    settles.findIndex((n) => n !== 1),
    -1,
    "no call ends twice",
  );
  const failed = Object.fromEntries([...ledger.codes].filter(([code]) => code !== "ok"));
  return { calls, succeeded, failed, reconnectAfterMs: round(reconnectAfterMs) };
}

/** Figures of {@link pushToNonReader}. */
export interface PushFigures {
  bodyBytes: number;
  /** Pushes written before the channel turned unwritable (the kernel's buffers took the rest). */
  acceptedPushes: number;
  /** Most bytes queued in the process for the channel after it turned unwritable. */
  maxQueuedBytes: number;
  /** Pushes refused while unwritable; the median and slowest refusal, in ms. */
  refused: number;
  medianRefusalMs: number;
  slowestRefusalMs: number;
}

/** The server's high-water mark (SocketTransport's default, Netty's 64 KiB). */
const HIGH_WATER_MARK_BYTES = 64 * 1024;

/**
 * A raw client sends one request, then never reads while the server pushes `bodyBytes` bodies:
 * once the kernel's buffers are full the channel turns unwritable, further pushes (oneway,
 * invoke, invokeAsync) fail at once with MQW_ERR_TOO_MANY_REQUESTS, and the bytes queued in
 * the process stay under the high-water mark plus one frame.
 */
export async function pushToNonReader(
  t: TestContext,
  server: RemotingServer,
  addr: string,
  bodyBytes: number,
  refusals: number,
): Promise<PushFigures> {
  const i = addr.lastIndexOf(":");
  const socket = net.connect({ host: addr.slice(0, i), port: Number(addr.slice(i + 1)) });
  socket.on("error", () => undefined);
  t.after(() => socket.destroy());
  await new Promise((resolve) => socket.once("connect", resolve));
  socket.pause(); // never reads again
  const hello = server.createRequest(InteropCode.ECHO, { body: Buffer.from("hello") });
  socket.write(encodeFrame(hello));
  await waitFor(() => server.channels.size === 1 && server.requestsReceived >= 1, "the raw client's channel");
  const channel = [...server.channels][0]!;
  const transport = channel.engine.transport as SocketTransport;
  const body = Buffer.alloc(bodyBytes, 0x61);
  const push = (): RemotingCommand => server.createRequest(InteropCode.CLIENT_PUSH, { body });
  // Oneways, waiting for each drain, until the kernel's buffers are full: then no drain comes.
  let acceptedPushes = 0;
  const limit = Math.ceil((256 * 1024 * 1024) / bodyBytes);
  while (acceptedPushes < limit) {
    if (!channel.isWritable && !(await drained(channel.engine, 300))) break;
    await server.invokeOneway(channel, push(), 1000);
    acceptedPushes++;
  }
  assert.equal(channel.isWritable, false, `still writable after ${acceptedPushes} pushes`);
  const frameBytes = encodeFrame(push()).length;
  let maxQueuedBytes = transport.queuedBytes;
  const refusalMs: number[] = [];
  const refusedWith = async (kind: string, call: () => Promise<unknown>): Promise<void> => {
    const startedAt = performance.now();
    let code: string | undefined;
    try {
      await call();
    } catch (err) {
      code = (err as { code?: string }).code;
    }
    refusalMs.push(performance.now() - startedAt);
    assert.equal(code, ErrorCodes.TOO_MANY_REQUESTS, `${kind} to an unwritable channel`);
    maxQueuedBytes = Math.max(maxQueuedBytes, transport.queuedBytes);
  };
  const kinds: [string, () => Promise<unknown>][] = [
    ["invokeOneway", () => server.invokeOneway(channel, push(), 1000)],
    ["invoke", () => server.invoke(channel, push(), { timeoutMs: 1000 })],
    [
      "invokeAsync",
      () =>
        new Promise((resolve, reject) =>
          server.invokeAsync(channel, push(), 1000, { operationSucceed: resolve, operationFail: reject }),
        ),
    ],
  ];
  for (let n = 0; n < refusals; n++) {
    const [kind, call] = kinds[n % kinds.length]!;
    await refusedWith(kind, call);
    if (n % 16 === 0) await yieldToLoop();
  }
  assert.ok(
    maxQueuedBytes <= HIGH_WATER_MARK_BYTES + frameBytes,
    `${maxQueuedBytes} bytes queued (high-water mark ${HIGH_WATER_MARK_BYTES} + a frame of ${frameBytes})`,
  );
  refusalMs.sort((a, b) => a - b);
  const medianRefusalMs = refusalMs[refusalMs.length >> 1]!;
  const slowestRefusalMs = refusalMs.at(-1)!;
  // At once: never the push's 1000 ms time-out nor a permit wait (a loaded machine may stall
  // one refusal for a scheduling quantum or a GC, hence the median).
  assert.ok(medianRefusalMs < 5, `refusals took ${medianRefusalMs} ms (median)`);
  assert.ok(slowestRefusalMs < 500, `a refusal took ${slowestRefusalMs} ms`);
  assert.ok(channel.isActive, "the channel stays open: only the pushes are refused");
  return {
    bodyBytes,
    acceptedPushes,
    maxQueuedBytes,
    refused: refusals,
    medianRefusalMs: round(medianRefusalMs),
    slowestRefusalMs: round(slowestRefusalMs),
  };
}

/** True when `emitter` emits drain within `ms`. */
async function drained(emitter: EventEmitter, ms: number): Promise<boolean> {
  try {
    await once(emitter, "drain", { signal: AbortSignal.timeout(ms) });
    return true;
  } catch {
    return false;
  }
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
