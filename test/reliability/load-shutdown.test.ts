/**
 * Load and shutdown, the long variant (`npm run test:reliability`; RELIABILITY.md, "Load and
 * shutdown"): 1,000 connections with 16 calls in flight each for 60 s against a server in its
 * own process, its RSS sampled every second and both processes' memory after a full GC compared
 * between the end of the warm-up and the end; then a graceful shutdown under that load, half the
 * clients older than RocketMQ 5.3.1 and half newer. MQWIRE_LOAD_CONNECTIONS and
 * MQWIRE_LOAD_SECONDS change the size and the length.
 */
import { test } from "node:test";
import { mib } from "../helpers/load.js";
import { runShutdownUnderLoad, runSteadyLoad } from "../helpers/load-scenarios.js";

const connections = Number(process.env.MQWIRE_LOAD_CONNECTIONS ?? 1000);
const seconds = Number(process.env.MQWIRE_LOAD_SECONDS ?? 60);

test(`${connections} connections, 16 calls in flight each for ${seconds} s: every call answered once, memory flat`, {
  timeout: (seconds + 120) * 1000,
}, async (t) => {
  const rows = await runSteadyLoad(t, { connections, inFlight: 16, seconds, warmupSeconds: 10 });
  // The table of RELIABILITY.md, every 5 s.
  const table = rows
    .filter((r) => r.s % 5 === 0 || r.s === 1)
    .map((r) => `| ${r.s} | ${mib(r.serverRss)} | ${mib(r.serverHeap)} | ${mib(r.clientHeap)} |`);
  t.diagnostic(
    ["| s | server RSS MiB | server heap MiB | client heap MiB |", "|---|---|---|---|", ...table].join("\n"),
  );
});

test(`graceful shutdown under ${connections} connections of load`, { timeout: 120_000 }, async (t) => {
  await runShutdownUnderLoad(t, { connections, inFlight: 16, graceMs: 10_000, delayMs: 20, loadMs: 5000 });
});
