/**
 * The fault scenarios of issue 10 where the server process dies, pauses or restarts, each an
 * end-to-end run over real sockets against a server in a child process (./fault-process.ts),
 * parameterized so that npm test runs a short variant (test/integration/faults.test.ts) and
 * `npm run test:reliability` a long one (test/reliability/faults.test.ts). Each asserts what must
 * hold and returns its figures, which the tests report with `t.diagnostic` (RELIABILITY.md,
 * "Faults", quotes them). Name servers: ./fault-name-servers.ts; server push: ./fault-push.ts.
 */
import assert from "node:assert/strict";
import type { TestContext } from "node:test";
import {
  ErrorCodes,
  InteropCode,
  type InvokeCallback,
  type RemotingClient,
  type RemotingCommand,
  type SocketTransport,
} from "../../src/index.js";
import { request, sleep, startClient, waitFor } from "./client-fixtures.js";
import { roundMs as round, startFaultServer } from "./fault-process.js";

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
  /**
   * Asserts each of the first `count` calls ended exactly once, after `graceMs` more in which a
   * second end would show.
   */
  async assertOnce(graceMs: number, count = this.size): Promise<void> {
    await sleep(graceMs);
    const settles = this.settles.subarray(0, count);
    const twice = settles.findIndex((n) => n > 1);
    const never = settles.indexOf(0);
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

/** Figures of {@link stoppedWhileCalling}. */
export interface StopWhileCallingFigures {
  idleMs: number;
  everyMs: number;
  /** Calls made to the stopped server until its channel was closed. */
  calls: number;
  /** Last read on the channel → the client closed it as dead. */
  detectedAfterMs: number;
  /** Last write on the channel → that close: under idleMs, so all-idle was never due. */
  lastWriteBeforeMs: number;
  /** SIGCONT → the next call answered over a new channel. */
  reopenedAfterMs: number;
}

/**
 * The server is SIGSTOPped while the client goes on calling it every `everyMs`, so its channel
 * is never all-idle: the client closes the channel as dead (idle event of kind "reader") within
 * idle time + 1 s of its last read, every call made on it fails once with
 * MQW_ERR_CHANNEL_CLOSED, and after SIGCONT the next call opens a new channel and is answered.
 */
export async function stoppedWhileCalling(
  t: TestContext,
  idleMs: number,
  everyMs: number,
): Promise<StopWhileCallingFigures> {
  const server = await startFaultServer(t);
  const client = startClient(t, { channelMaxIdleMs: idleMs });
  await client.invoke(server.addr, request(client, InteropCode.ECHO, "warm-up"));
  const first = client.channelOf(server.addr)!;
  const transport = transportOf(client, server.addr);
  let closedAt = 0;
  let kind = "";
  client.on("idle", (_addr, channel, idleKind) => {
    if (channel !== first || closedAt > 0) return;
    closedAt = Date.now();
    kind = idleKind;
  });
  server.stop();
  // Room for every call until the wait below gives up.
  const ledger = new Ledger(Math.ceil((idleMs + 3000) / everyMs) + 10);
  let calls = 0;
  const caller = setInterval(() => {
    if (closedAt > 0 || calls >= ledger.size) return;
    const i = calls++;
    client.invokeAsync(server.addr, request(client, InteropCode.ECHO, `w${i}`), 60_000, ledger.callback(i));
  }, everyMs);
  try {
    await waitFor(() => closedAt > 0, "the client to close the channel of the stopped server", idleMs + 3000);
  } finally {
    clearInterval(caller);
  }
  await waitFor(() => ledger.settled >= calls, "the calls on the closed channel to fail");
  await ledger.assertOnce(50, calls);
  assert.equal(kind, "reader", "closed by the dead-peer rule");
  assert.deepEqual([...ledger.codes], [[ErrorCodes.CHANNEL_CLOSED, calls]]);
  const detectedAfterMs = closedAt - transport.lastReadAt;
  const lastWriteBeforeMs = closedAt - transport.lastWriteAt;
  assert.ok(lastWriteBeforeMs < idleMs, `the last write came ${lastWriteBeforeMs} ms before the close`);
  assert.ok(detectedAfterMs <= idleMs + 1000, `found ${detectedAfterMs} ms after the last read`);
  const resumedAt = Date.now();
  server.resume();
  const response = await client.invoke(server.addr, request(client, InteropCode.ECHO, "again"), {
    timeoutMs: 5000,
  });
  assert.equal(response.body?.toString(), "again");
  assert.notEqual(client.channelOf(server.addr), first, "a new channel");
  return {
    idleMs,
    everyMs,
    calls,
    detectedAfterMs,
    lastWriteBeforeMs,
    reopenedAfterMs: Date.now() - resumedAt,
  };
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
