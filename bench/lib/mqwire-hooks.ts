/**
 * The measuring hooks of the scenarios that need mqwire's API rather than a load client. Each
 * returns the scenario's metric ids (scenarios.ts) mapped to one run's values, or undefined (the
 * orchestrator then skips the scenario with its `todo` note) when a prerequisite is missing. They
 * check their own prerequisites: the orchestrator runs hooks without checking for `mqwire bench`.
 */
import { existsSync } from "node:fs";
import * as path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { readRssBytes } from "./proc-stat.js";
import { lastJsonLine } from "./protocol.js";
import type { HookContext } from "./scenarios.js";
import { NodeProcess } from "./spawn.js";

/** Connections held open on the server (full run and smoke run). */
export const IDLE_CONNECTIONS = 10_000;
export const SMOKE_IDLE_CONNECTIONS = 500;
/** Connections of the warm-up round before the baseline RSS, so code compiled on the first
 * connection and call is not charged to the measured ones. */
const WARMUP_CONNECTIONS = 64;
/** Settling time before each RSS reading, ms (the recipe's "~1 s"). */
const RSS_SETTLE_MS = 1_000;
const SMOKE_RSS_SETTLE_MS = 200;
/** Longest the connection client may take to establish every connection, ms. */
const ESTABLISH_TIMEOUT_MS = 120_000;

/** Calls left pending on one client (full run and smoke run), and their time-out. */
export const PENDING_CALLS = 100_000;
export const SMOKE_PENDING_CALLS = 5_000;
const PENDING_TIMEOUT_MS = 2_000;
/** Longest the pending-calls script may run, ms (issue, 2 s of time-out, several full GCs). */
const PENDING_RUN_TIMEOUT_MS = 120_000;

/** Longest the codec benchmark may run beyond its measuring time, ms (warm-up, four cases). */
const CODEC_RUN_TIMEOUT_MS = 120_000;

const IDLE_CLIENT_SCRIPT = "dist/bench/mqwire/idle-connections-client.js";
const PENDING_CALLS_SCRIPT = "dist/bench/mqwire/pending-calls.js";
const CODEC_SCRIPT = "dist/bench/codec/codec-bench.js";

/** The header serialization an mqwire implementation id names ("mqwire-json" → "json"). */
function serializationOf(ctx: HookContext): "json" | "rocketmq" {
  return ctx.impl.id.endsWith("-json") ? "json" : "rocketmq";
}

/** Why `scripts` cannot run in ctx.root (not compiled), or undefined. */
function missingScript(ctx: HookContext, ...scripts: string[]): string | undefined {
  const missing = scripts.find((s) => !existsSync(path.join(ctx.root, s)));
  return missing === undefined ? undefined : `${missing} not built (run tsc first)`;
}

/** A finite number field of a result line, or an error naming the field and the script. */
function numberField(obj: Record<string, unknown> | undefined, field: string, script: string): number {
  const value = obj?.[field];
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new Error(`${script} printed no finite "${field}"`);
  }
  return value;
}

/** Runs a node script to its exit and returns its last JSON line; throws on failure. */
async function runToResult(args: string[], ctx: HookContext, timeoutMs: number, cpus?: string) {
  const child = new NodeProcess(args, ctx.root, cpus);
  const code = await child.waitForExit(timeoutMs);
  if (code !== 0) throw new Error(`${args.join(" ")} exited with ${code}: ${child.stderr}`);
  return lastJsonLine(child.stdout);
}

/**
 * 10,000 idle connections on one server: `serverBytesPerConnection`, the growth of the server's
 * RSS (/proc/<pid>/status) from before to after the connections were opened, per connection.
 * The connections come from a child process (its file descriptors count against its own
 * `ulimit -n`, not the server's), each completing one ECHO call so the server has negotiated the
 * protocol and holds a full channel. A warm-up round of a few connections runs and closes first,
 * so the code compiled on the first connection is in the baseline. The RSS delta includes the
 * garbage of the 10,000 calls not yet collected (the server cannot be made to collect): it errs
 * high, never low.
 */
export async function measureIdleConnections(ctx: HookContext): Promise<Record<string, number> | undefined> {
  const unavailable = ctx.impl.unavailable(ctx.root) ?? missingScript(ctx, IDLE_CLIENT_SCRIPT);
  if (unavailable !== undefined) {
    ctx.log(`cannot run: ${unavailable}`);
    return undefined;
  }
  const connections = ctx.smoke ? SMOKE_IDLE_CONNECTIONS : IDLE_CONNECTIONS;
  const settleMs = ctx.smoke ? SMOKE_RSS_SETTLE_MS : RSS_SETTLE_MS;
  const server = await ctx.startServer();
  const clientArgs = (n: number, ...extra: string[]): string[] => [
    IDLE_CLIENT_SCRIPT,
    server.target,
    "--connections",
    String(n),
    "--serialize",
    serializationOf(ctx),
    ...extra,
  ];
  let client: NodeProcess | undefined;
  try {
    await runToResult(clientArgs(WARMUP_CONNECTIONS, "--exit"), ctx, ESTABLISH_TIMEOUT_MS);
    await sleep(settleMs);
    const before = readRssBytes(server.process.pid);
    client = new NodeProcess(clientArgs(connections), ctx.root);
    await client.waitFor(/"established"/, ESTABLISH_TIMEOUT_MS);
    const established = numberField(lastJsonLine(client.stdout), "established", IDLE_CLIENT_SCRIPT);
    await sleep(settleMs);
    const after = readRssBytes(server.process.pid);
    if (before === undefined || after === undefined) {
      throw new Error("cannot read the server's RSS (/proc/<pid>/status is Linux only)");
    }
    if (client.child.exitCode !== null) throw new Error(`the connection client died: ${client.stderr}`);
    const perConnection = (after - before) / established;
    ctx.log(
      `${established} connections: server RSS ${(before / 2 ** 20).toFixed(1)} → ` +
        `${(after / 2 ** 20).toFixed(1)} MiB, ${Math.round(perConnection)} B/connection`,
    );
    return { serverBytesPerConnection: perConnection };
  } finally {
    await client?.stop();
    await server.stop();
  }
}

/**
 * 100,000 pending calls on one client: `heapBytesPerPendingCall`, `settledFraction` (calls ended
 * by MQW_ERR_TIMEOUT / calls) and `heapResidualBytesPerCall`, measured by
 * bench/mqwire/pending-calls.ts in a child process run with --expose-gc (see that file for the
 * steps). It needs no `mqwire serve`: its server is a listener that never answers.
 */
export async function measurePendingCalls(ctx: HookContext): Promise<Record<string, number> | undefined> {
  const unavailable = missingScript(ctx, PENDING_CALLS_SCRIPT);
  if (unavailable !== undefined) {
    ctx.log(`cannot run: ${unavailable}`);
    return undefined;
  }
  const calls = ctx.smoke ? SMOKE_PENDING_CALLS : PENDING_CALLS;
  const args = [
    "--expose-gc",
    PENDING_CALLS_SCRIPT,
    "--calls",
    String(calls),
    "--timeout-ms",
    String(PENDING_TIMEOUT_MS),
    "--serialize",
    serializationOf(ctx),
  ];
  const result = await runToResult(args, ctx, PENDING_RUN_TIMEOUT_MS);
  const figures = {
    heapBytesPerPendingCall: numberField(result, "heapBytesPerPendingCall", PENDING_CALLS_SCRIPT),
    settledFraction: numberField(result, "settledFraction", PENDING_CALLS_SCRIPT),
    heapResidualBytesPerCall: numberField(result, "heapResidualBytesPerCall", PENDING_CALLS_SCRIPT),
  };
  ctx.log(
    `${calls} calls: ${Math.round(figures.heapBytesPerPendingCall)} B/pending call, ` +
      `${result!.pendingAtMeasure} pending when measured, settled by time-out ${figures.settledFraction}, ` +
      `residual ${figures.heapResidualBytesPerCall.toFixed(1)} B/call` +
      (result!.otherErrors ? `, ${result!.otherErrors} other errors (${result!.firstOtherError})` : ""),
  );
  return figures;
}

/**
 * `encodeDecodePerSec` of the codec alone, one core (pinned to CPU 0), for ctx.impl's header
 * serialization: bench/codec/codec-bench.ts's whole-frame figure (`rocketmqOpsPerSec` or
 * `jsonOpsPerSec`).
 */
export async function measureCodec(ctx: HookContext): Promise<Record<string, number> | undefined> {
  const unavailable = missingScript(ctx, CODEC_SCRIPT);
  if (unavailable !== undefined) {
    ctx.log(`cannot run: ${unavailable}`);
    return undefined;
  }
  const seconds = ctx.smoke ? "0.5" : "2";
  const result = await runToResult(
    [CODEC_SCRIPT, "--seconds", seconds, "--json"],
    ctx,
    CODEC_RUN_TIMEOUT_MS,
    "0",
  );
  const field = serializationOf(ctx) === "json" ? "jsonOpsPerSec" : "rocketmqOpsPerSec";
  return { encodeDecodePerSec: numberField(result, field, CODEC_SCRIPT) };
}
