/**
 * Command-line options of the baseline load clients. The flags are the ones `mqwire bench` takes
 * (`HOST:PORT --mode --concurrency --connections --seconds --size --json`, plus `--warmup`), so
 * the orchestrator builds every implementation's command line the same way.
 */
import { parseArgs } from "node:util";

/** How a client drives the server. */
export type LoadMode = "sync" | "async" | "oneway";

/** Validated load-client options. */
export interface LoadOptions {
  readonly host: string;
  readonly port: number;
  /** sync: one call in flight; async: `concurrency` in flight per connection; oneway: no replies. */
  readonly mode: LoadMode;
  /** Calls in flight on each connection (async); frames per write (oneway). Forced to 1 in sync. */
  readonly concurrency: number;
  /** Connections opened by this client, each with its own `concurrency` calls in flight. */
  readonly connections: number;
  /** Length of the measured window, seconds. */
  readonly seconds: number;
  /** Load applied before the window opens, seconds (JIT warm-up; not measured). */
  readonly warmupSeconds: number;
  /** Body size of each request (and each echoed response), bytes. */
  readonly sizeBytes: number;
}

/** Default calls in flight per connection. */
export const DEFAULT_CONCURRENCY = 64;
/** Default measured window, seconds. */
export const DEFAULT_SECONDS = 5;
/** Default body size: the 128-byte payload of the scenarios. */
export const DEFAULT_SIZE_BYTES = 128;

function positiveInt(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got ${text}`);
  return n;
}

function nonNegative(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a number >= 0, got ${text}`);
  return n;
}

/** Parses and validates `argv` (without node and the script); throws a message naming the flag. */
export function parseLoadOptions(argv: readonly string[]): LoadOptions {
  const { values, positionals } = parseArgs({
    args: argv as string[],
    allowPositionals: true,
    options: {
      mode: { type: "string", default: "async" },
      concurrency: { type: "string" },
      connections: { type: "string" },
      seconds: { type: "string" },
      warmup: { type: "string" },
      size: { type: "string" },
      // Accepted for command-line parity with `mqwire bench`: the result is always JSON.
      json: { type: "boolean" },
    },
  });
  const target = positionals[0];
  const match = target === undefined ? null : /^(.+):(\d+)$/.exec(target);
  if (match === null) throw new Error(`expected HOST:PORT as the first argument, got ${target ?? "nothing"}`);
  const mode = values.mode as LoadMode;
  if (mode !== "sync" && mode !== "async" && mode !== "oneway") {
    throw new Error(`--mode must be sync, async or oneway, got ${values.mode}`);
  }
  const concurrency = positiveInt("concurrency", values.concurrency, DEFAULT_CONCURRENCY);
  return Object.freeze({
    host: match[1]!,
    port: Number(match[2]),
    mode,
    // RocketMQ's invokeSync blocks the caller: one call in flight, whatever --concurrency says.
    concurrency: mode === "sync" ? 1 : concurrency,
    connections: positiveInt("connections", values.connections, 1),
    seconds: nonNegative("seconds", values.seconds, DEFAULT_SECONDS),
    warmupSeconds: nonNegative("warmup", values.warmup, 0),
    sizeBytes: positiveInt("size", values.size, DEFAULT_SIZE_BYTES),
  });
}
