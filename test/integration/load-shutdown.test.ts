/**
 * Load and shutdown, the short variant run by `npm test` (RELIABILITY.md, "Load and shutdown";
 * the 60 s variant with 1,000 connections is test/reliability/load-shutdown.test.ts): 100
 * connections with 16 calls in flight each against a server in its own process. Every call ends
 * exactly once with its own body echoed back; the server's RSS stays flat, and the memory left
 * after a full GC on either side grows by at most 4 MiB + 32 B a call; a graceful shutdown
 * under that load answers every call it accepted, refuses the rest with a typed error (GO_AWAY,
 * then a retry on a new connection, for clients newer than 5.3.1) and ends within its grace.
 */
import { test } from "node:test";
import { runShutdownUnderLoad, runSteadyLoad } from "../helpers/load-scenarios.js";

test("100 connections, 16 calls in flight each: every call answered once, memory flat", async (t) => {
  // 4 s after the warm-up: at a loaded machine's rate still enough calls for a leak of about 100 B
  // a call to outgrow the bound on memory after GC, which shrinks per call as the window grows.
  await runSteadyLoad(t, { connections: 100, inFlight: 16, seconds: 6, warmupSeconds: 2 });
});

test("graceful shutdown under load: accepted calls answered, the rest refused, within the grace", async (t) => {
  await runShutdownUnderLoad(t, { connections: 100, inFlight: 16, graceMs: 10_000, delayMs: 20 });
});
