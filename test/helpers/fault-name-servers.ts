/**
 * The name-server fault scenarios of issue 10 (see ./fault-scenarios.ts): a list whose first
 * choice is a closed port, a full accept queue or a server that never answers, and the back-off
 * of the reachability scan.
 */
import assert from "node:assert/strict";
import type { TestContext } from "node:test";
import {
  ErrorCodes,
  InteropCode,
  RemotingClient,
  type RemotingClientOptions,
  type RemotingCommand,
  silentLogger,
} from "../../src/index.js";
import { closedPort, rawServer, request, sleep, startClient } from "./client-fixtures.js";
import { fillBacklog, roundMs as round, startFaultServer } from "./fault-process.js";

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
  /** For a server that never answers: the call after the first one's time-out (0 for the others). */
  nextCallMs: number;
  /** Connect attempts to the dead one during the `calls` calls that followed. */
  attemptsDuringCalls: number;
  /** Time from the first attempt to the second (made by a reachability scan after the back-off). */
  secondAttemptAfterMs: number;
}

/**
 * A name-server list whose first choice is dead: calls with addr null (made in `style`) succeed
 * through the other within the connect time-out (for a server that accepts and never answers:
 * the first call times out and closes the channel, RocketMQ's invokeSync rule, and the next goes
 * to the other at once); the dead one leaves the available list and backs off as a refused
 * connect does, so neither the calls that follow nor a scan within the back-off try it again, and
 * a scan tries it again only after its back-off.
 */
export async function nameServerFailover(
  t: TestContext,
  kind: DeadNameServer,
  calls: number,
  live: string,
  style: CallStyle = "invokeSync",
): Promise<FailoverFigures> {
  const connectTimeoutMs = 400;
  const callTimeoutMs = 1000;
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
    /** When the dead one failed for the client: its refused or timed-out connect, or the time-out of a call. */
    let failedAt = 0;
    let nextCallMs = 0;
    try {
      assert.equal(await callNameServer(client, style, "first", callTimeoutMs), "first");
    } catch (err) {
      // The live one chosen first and slow to answer: a loaded machine, not this scenario.
      if (attempts.length === 0 && (err as { code?: string }).code === ErrorCodes.TIMEOUT) {
        await client.shutdown();
        continue;
      }
      // Only a mute server that accepted the connection may fail the first call, at its time-out.
      assert.equal(kind, "never-answers", `first call failed: ${String(err)}`);
      assert.equal((err as { code?: string }).code, ErrorCodes.TIMEOUT);
      assert.equal(client.chosenNameServer, dead);
      failedAt = performance.now();
      // The next call goes to the other name server without waiting for the mute one.
      assert.equal(await callNameServer(client, style, "second", callTimeoutMs), "second");
      nextCallMs = performance.now() - failedAt;
      assert.ok(nextCallMs <= connectTimeoutMs, `the call after the time-out took ${round(nextCallMs)} ms`);
    }
    const firstCallMs = performance.now() - startedAt;
    if (attempts.length === 0) {
      await client.shutdown();
      continue;
    }
    assert.equal(client.chosenNameServer, live);
    const budget = kind === "never-answers" ? callTimeoutMs + connectTimeoutMs : connectTimeoutMs;
    assert.ok(firstCallMs <= budget + 500, `first call took ${round(firstCallMs)} ms`);
    // A refused or hanging connect has failed by the connect time-out after it began.
    failedAt ||= attempts[0]! + connectTimeoutMs;
    // A scan right after the failure finds the dead one backing off: no new attempt.
    await client.scanNameServers();
    assert.equal(attempts.length, 1, "a scan within the back-off must not connect");
    assert.deepEqual(client.getAvailableNameServerList(), [live]);
    for (let i = 0; i < calls; i++) {
      assert.equal(await callNameServer(client, style, `n${i}`, callTimeoutMs), `n${i}`);
    }
    const attemptsDuringCalls = attempts.length - 1;
    assert.equal(attemptsDuringCalls, 0, "calls must not try the dead name server again");
    // A scan after the back-off (base ± 20%, from the failure) tries it again.
    await sleep(Math.max(0, failedAt + reconnectBaseMs * 1.2 + 50 - performance.now()));
    await client.scanNameServers();
    assert.equal(attempts.length, 2, "a scan after the back-off tries the dead name server again");
    // RocketMQ's scan only connects: a mute server that accepts is reachable again.
    const reachable = kind === "never-answers" ? [dead, live].sort() : [live];
    assert.deepEqual(client.getAvailableNameServerList().sort(), reachable);
    return {
      kind,
      style,
      clients,
      firstCallMs: round(firstCallMs),
      nextCallMs: round(nextCallMs),
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
