/**
 * The two scenarios of RELIABILITY.md's "Load and shutdown", shared by the short variant in
 * `npm test` and the long one in test/reliability/. Each asserts its invariants and reports its
 * figures through `t.diagnostic` (one JSON line, plus the RSS table of the steady run).
 */
import assert from "node:assert/strict";
import { AsyncResource } from "node:async_hooks";
import type { TestContext } from "node:test";
import { memoryAfterGc } from "./collect-garbage.js";
import {
  ensureOpenFiles,
  LoadClients,
  LoadServer,
  median,
  mib,
  NEW_VERSION,
  OLD_VERSION,
  type ServerSample,
  type Tally,
} from "./load.js";

/** How late a timer may fire in a process this busy, in ms. */
const TIMER_SLACK_MS = 100;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Every call ended once: as many endings as calls, none still in flight. */
function assertEachEndedOnce(tally: Tally, lateResponses: number, what: string): void {
  const ended =
    tally.ok +
    tally.mismatched +
    Object.values(tally.responses).reduce((a, b) => a + b, 0) +
    Object.values(tally.errors).reduce((a, b) => a + b, 0);
  assert.equal(tally.inFlight, 0, `${what}: calls still in flight`);
  assert.equal(ended, tally.sent, `${what}: ${tally.sent} calls sent, ${ended} ended`);
  assert.equal(tally.mismatched, 0, `${what}: responses with another call's body`);
  assert.equal(lateResponses, 0, `${what}: responses that matched no call (answered twice?)`);
  const untyped = Object.keys(tally.errors).filter((code) => !code.startsWith("MQW_ERR_"));
  assert.deepEqual(untyped, [], `${what}: errors without an MQW_ERR_ code`);
}

/** Options of {@link runSteadyLoad}. */
export interface SteadyLoadOptions {
  connections: number;
  inFlight: number;
  seconds: number;
  warmupSeconds: number;
  /**
   * Most the server's RSS may grow from the end of the warm-up to the end, in bytes. Default 24
   * MiB: V8's old generation grows in steps of a few MiB before a major GC brings it back (the
   * short runs saw up to ~10 MiB of such noise), while a leak of one PendingCall (127 B) per call
   * is 127 B × ~50,000 calls/s, 6 MiB a second.
   */
  maxRssGrowthBytes?: number;
}

/**
 * Most the memory left after a full GC (JS heap plus Buffers) may grow on each side between the
 * end of the warm-up and the end of the load: a fixed part for what settles late (compiled code,
 * caches, the slabs in use at that moment) plus a part per call answered in between, so that the
 * bound tightens with the length of the run. A leak of 100 B a call outgrows it once the window
 * holds more than FIXED / (100 - PER_CALL) calls, about 62,000.
 */
const GC_GROWTH_FIXED_BYTES = 4 * 1024 * 1024;
const GC_GROWTH_PER_CALL_BYTES = 32;

/** Memory after a full GC in both processes, and the calls answered so far. */
interface GcPoint {
  client: number;
  server: number;
  calls: number;
}

/**
 * Runs `fn` in an async scope outside the test's. node:test keeps every async resource a test
 * creates in a Map (to blame an uncaught error on its test) until the resource is destroyed,
 * which for a promise comes only after a GC: under this load that Map holds hundreds of thousands
 * of entries, and its table doubles or halves between two measurements, which the bound on
 * memory after GC would read as growth or would hide a leak behind. The clients' sockets and
 * calls are made in this scope, so the runner tracks none of them.
 */
function outsideTestScope<T>(fn: () => T): T {
  // Async id 1 is the process's top level, which no test owns.
  return new AsyncResource("mqwire-load", { triggerAsyncId: 1 }).runInAsyncScope(fn);
}

async function gcPoint(server: LoadServer, tally: Tally): Promise<GcPoint> {
  const c = memoryAfterGc();
  const s = await server.heapAfterGc();
  return { client: c.heapUsed + c.external, server: s.heapUsed + s.external, calls: tally.ok };
}

/** One row of the RSS table: seconds since the load started, server RSS, client heap. */
export interface MemoryRow {
  s: number;
  serverRss: number;
  serverHeap: number;
  clientHeap: number;
}

/**
 * `connections` clients with `inFlight` calls each for `seconds`: every call answered once with
 * its own body, the server's RSS flat after `warmupSeconds`, and the memory left after a full GC
 * on each side grown by no more than the bound above over the calls after the warm-up.
 */
export async function runSteadyLoad(t: TestContext, o: SteadyLoadOptions): Promise<MemoryRow[]> {
  ensureOpenFiles(o.connections);
  const server = await LoadServer.start(t);
  const clients = new LoadClients(server.addr, {
    connections: o.connections,
    inFlight: o.inFlight,
    version: OLD_VERSION,
  });
  t.after(() => clients.stop());
  await outsideTestScope(() => clients.connect());

  // Samples from the first server sample after the load started, one a second on both sides.
  const firstSample = server.samples.length;
  // This process's heap when each server sample arrives: a timer of its own would fall behind
  // the server's under 16,000 calls in flight.
  const clientHeap: number[] = [];
  server.onSample = () => clientHeap.push(process.memoryUsage().heapUsed);
  const startedAt = performance.now();
  outsideTestScope(() => clients.start());
  // Memory after a full GC at the end of the warm-up and just before the load stops, with every
  // lane's call in flight both times: the same live set, so what grew in between is kept.
  await sleep(o.warmupSeconds * 1000);
  const gcWarm = await gcPoint(server, clients.tally);
  await sleep(Math.max(0, startedAt + o.seconds * 1000 - performance.now()));
  const gcEnd = await gcPoint(server, clients.tally);
  server.onSample = undefined;
  const tally = await clients.stop();
  const elapsedS = (performance.now() - startedAt) / 1000;
  const stopped = await server.shutdown(1000, false);

  assertEachEndedOnce(tally, clients.lateResponses, "steady load");
  assert.equal(tally.ok, tally.sent, `failed calls: ${JSON.stringify(tally)}`);
  assert.equal(stopped.accepted, tally.ok, "calls the server took vs calls answered");

  const samples: ServerSample[] = server.samples.slice(firstSample);
  const rows: MemoryRow[] = samples.map((sample, i) => ({
    s: i + 1,
    serverRss: sample.rss,
    serverHeap: sample.heapUsed,
    clientHeap: clientHeap[i] ?? Number.NaN,
  }));
  assert.ok(rows.length >= o.seconds - 1, `${rows.length} server samples in ${o.seconds} s`);
  // Medians of three samples on each side, so one GC's timing does not decide.
  const around = (i: number, column: (r: MemoryRow) => number): number =>
    median(rows.slice(Math.max(0, i - 1), i + 2).map(column));
  const warm = around(o.warmupSeconds - 1, (r) => r.serverRss);
  const end = around(rows.length - 2, (r) => r.serverRss);
  const growth = end - warm;
  const bound = o.maxRssGrowthBytes ?? 24 * 1024 * 1024;
  const clientWarm = around(o.warmupSeconds - 1, (r) => r.clientHeap);
  const clientEnd = around(rows.length - 2, (r) => r.clientHeap);
  const windowCalls = gcEnd.calls - gcWarm.calls;
  const gcBound = GC_GROWTH_FIXED_BYTES + GC_GROWTH_PER_CALL_BYTES * windowCalls;
  t.diagnostic(
    JSON.stringify({
      connections: o.connections,
      inFlight: o.inFlight,
      seconds: Number(elapsedS.toFixed(1)),
      calls: tally.ok,
      callsPerSecond: Math.round(tally.ok / elapsedS),
      serverRssWarmMiB: mib(warm),
      serverRssEndMiB: mib(end),
      serverRssGrowthMiB: mib(growth),
      clientHeapWarmMiB: mib(clientWarm),
      clientHeapEndMiB: mib(clientEnd),
      windowCalls,
      clientAfterGcWarmMiB: mib(gcWarm.client),
      clientAfterGcGrowthMiB: mib(gcEnd.client - gcWarm.client),
      serverAfterGcWarmMiB: mib(gcWarm.server),
      serverAfterGcGrowthMiB: mib(gcEnd.server - gcWarm.server),
      afterGcBoundMiB: mib(gcBound),
      // The smallest leak a call the bound catches over this window.
      leakCaughtFromBytesPerCall: Math.ceil(GC_GROWTH_PER_CALL_BYTES + GC_GROWTH_FIXED_BYTES / windowCalls),
    }),
  );
  t.diagnostic(
    rows
      .map((r) => `${r.s}s rss=${mib(r.serverRss)} heap=${mib(r.serverHeap)} client=${mib(r.clientHeap)}`)
      .join(" | "),
  );
  assert.ok(
    growth < bound,
    `server RSS grew ${mib(growth)} MiB after the warm-up (${mib(warm)} → ${mib(end)} MiB), bound ${mib(bound)} MiB`,
  );
  for (const side of ["client", "server"] as const) {
    const grown = gcEnd[side] - gcWarm[side];
    assert.ok(
      grown <= gcBound,
      `${side} heap + Buffers after GC grew ${mib(grown)} MiB over ${windowCalls} calls ` +
        `(${(grown / windowCalls).toFixed(1)} B a call; ${mib(gcWarm[side])} → ${mib(gcEnd[side])} MiB), ` +
        `bound ${mib(gcBound)} MiB`,
    );
  }
  return rows;
}

/** Options of {@link runShutdownUnderLoad}. */
export interface ShutdownLoadOptions {
  /** Connections in all, half from clients older than 5.3.1 and half newer. */
  connections: number;
  inFlight: number;
  graceMs: number;
  /** Processing time of each call, so that calls are in process when the shutdown starts. */
  delayMs: number;
  /** Load before the shutdown, in ms. Default 1500. */
  loadMs?: number;
}

/** Figures of a shutdown under load. */
export interface ShutdownFigures {
  shutdownMs: number;
  accepted: number;
  successorAccepted: number;
  old: Tally;
  new: Tally;
}

/**
 * Half old and half new clients load a server whose processor takes `delayMs`; the server shuts
 * down with `graceMs` and a successor takes its address. Every call the first server took is
 * answered; the others are refused with a typed error, the new clients' ones by GO_AWAY and
 * answered by the successor; the shutdown ends within the grace.
 */
export async function runShutdownUnderLoad(t: TestContext, o: ShutdownLoadOptions): Promise<ShutdownFigures> {
  ensureOpenFiles(o.connections * 2); // a successor connection per client on the server side too
  const server = await LoadServer.start(t, { delayMs: o.delayMs });
  const half = o.connections / 2;
  const old = new LoadClients(server.addr, {
    connections: half,
    inFlight: o.inFlight,
    version: OLD_VERSION,
    tag: "old",
  });
  const fresh = new LoadClients(server.addr, {
    connections: o.connections - half,
    inFlight: o.inFlight,
    version: NEW_VERSION,
    tag: "new",
  });
  t.after(() => Promise.all([old.stop(), fresh.stop()]));
  await old.connect();
  await fresh.connect();
  old.start();
  fresh.start();
  await sleep(o.loadMs ?? 1500);

  const inFlightAtShutdown = old.tally.inFlight + fresh.tally.inFlight;
  const stopped = await server.shutdown(o.graceMs, true);
  // The clients go on with the successor for a while, then stop.
  await sleep(500);
  const [oldTally, newTally] = await Promise.all([old.stop(), fresh.stop()]);
  const successorAccepted = await server.stopSuccessor();
  const figures: ShutdownFigures = {
    shutdownMs: Math.round(stopped.shutdownMs),
    accepted: stopped.accepted,
    successorAccepted,
    old: oldTally,
    new: newTally,
  };
  t.diagnostic(JSON.stringify({ ...figures, inFlightAtShutdown, channelsLeft: stopped.channelsLeft }));

  assertEachEndedOnce(oldTally, old.lateResponses, "old clients");
  assertEachEndedOnce(newTally, fresh.lateResponses, "new clients");
  // Every call either server took was answered, and every answer came from a call one took.
  assert.equal(
    stopped.accepted + successorAccepted,
    oldTally.ok + newTally.ok,
    "calls taken by the two servers vs calls answered",
  );
  // Within the grace; the slack is how late a timer may fire in a busy process.
  assert.ok(
    stopped.shutdownMs <= o.graceMs + TIMER_SLACK_MS,
    `shutdown took ${Math.round(stopped.shutdownMs)} ms, grace ${o.graceMs} ms`,
  );
  assert.equal(stopped.channelsLeft, 0, "channels left open after shutdown()");
  // Old clients: refused calls fail with a typed error, and are never answered with a GO_AWAY.
  assert.deepEqual(oldTally.responses, {}, "old clients got response codes other than SUCCESS");
  for (const code of Object.keys(oldTally.errors)) {
    assert.ok(
      code === "MQW_ERR_CHANNEL_CLOSED",
      `old client error ${code}: ${JSON.stringify(oldTally.errors)}`,
    );
  }
  // New clients: GO_AWAY, then the same call again on a new connection, answered by the successor.
  assert.ok(newTally.retried > 0, "no new client call was retried after GO_AWAY");
  assert.deepEqual(newTally.responses, {}, "GO_AWAY (or another code) reached a new client's caller");
  assert.deepEqual(newTally.errors, {}, "new clients' calls failed");
  assert.ok(successorAccepted > 0, "the successor answered nothing");
  return figures;
}
