/**
 * The measuring hooks of the scenarios that need mqwire's API rather than a load client. They
 * are the lead's to fill in once RemotingServer / RemotingClient and the codecs exist: each
 * returns undefined until then, and the orchestrator skips the scenario with its `todo` note.
 * A filled hook returns the scenario's metric ids (scenarios.ts) mapped to one run's values, and
 * checks its own prerequisites (e.g. `ctx.impl.unavailable(ctx.root)` when it starts the server):
 * the orchestrator runs hooks without checking for `mqwire bench`.
 */
import type { HookContext } from "./scenarios.js";

/**
 * TODO(mqwire): 10,000 idle connections on one server, `serverBytesPerConnection`.
 * Recipe: `const server = await ctx.startServer()`; read its RSS with readRssBytes(server
 * process pid) (proc-stat.ts) after a settle; open 10,000 TCP connections from a child process
 * (this process's file-descriptor limit is shared with everything else; the server needs
 * `ulimit -n` above 10,000, which is 20,000 on the CI machines), each completing one call so the
 * connection is negotiated; wait ~1 s; read RSS again; value = (after - before) / 10,000. In
 * ctx.smoke use 500 connections.
 */
export async function measureIdleConnections(_ctx: HookContext): Promise<Record<string, number> | undefined> {
  return undefined;
}

/**
 * TODO(mqwire): 100,000 pending calls on one client: `heapBytesPerPendingCall`,
 * `settledFraction`, `heapResidualBytesPerCall`.
 * Recipe: a child process run with --expose-gc: start a server that accepts and never answers
 * (a bare node:net listener), gc(), heap0 = process.memoryUsage().heapUsed; issue 100,000
 * invokeAsync calls with timeoutMs ~2,000; gc(), heap1; per call = (heap1 - heap0) / 100,000;
 * await all (count rejections with code MQW_ERR_TIMEOUT / 100,000 = settledFraction); gc()
 * twice, heap2; residual = max(0, heap2 - heap0) / 100,000. Print the three as one JSON line.
 * In ctx.smoke use 5,000 calls.
 */
export async function measurePendingCalls(_ctx: HookContext): Promise<Record<string, number> | undefined> {
  return undefined;
}

/**
 * TODO(mqwire): `encodeDecodePerSec` of the codec alone, one core, per ctx.impl's serialization
 * (mqwire-rocketmq: ROCKETMQ headers; mqwire-json: JSON).
 * Recipe: bench/codec/codec-bench.ts already measures it: run
 * `new NodeProcess(["dist/bench/codec/codec-bench.js", "--seconds", ctx.smoke ? "0.5" : "2",
 * "--json"], ctx.root, "0")` (spawn.ts; "0" pins it with taskset), await waitForExit, take
 * lastJsonLine(stdout) (protocol.ts) and return its `rocketmqOpsPerSec` or `jsonOpsPerSec`.
 */
export async function measureCodec(_ctx: HookContext): Promise<Record<string, number> | undefined> {
  return undefined;
}
