/**
 * The line protocol between the orchestrator (bench/run.ts) and the processes it starts. Every
 * implementation (raw, grpc, mqwire) speaks it, so the orchestrator never knows how a load client
 * or a server works inside:
 *
 * - A server prints, as its first stdout line, a line containing `listening on HOST:PORT`. On
 *   SIGTERM (or a `stop` line on stdin) it may print one {@link ServerReport} JSON line, then exits.
 * - A load client prints, as its last stdout line, one {@link ClientResult} JSON object.
 *
 * The measured window of a client starts after its warm-up (so JIT tiering and connection setup
 * stay out of the figures) and ends when its duration has passed. Every figure in the result
 * (requests, bytes, latency, CPU) covers that same window.
 */

/** What a load client measured: the last stdout line of every client process, as JSON. */
export interface ClientResult {
  /** Completed calls per second over the measured window (oneway: frames delivered per second). */
  rps: number;
  /** Latency percentiles and maximum of completed calls, microseconds (0 in oneway mode). */
  p50Us: number;
  p90Us: number;
  p99Us: number;
  p999Us: number;
  maxUs: number;
  /** Calls completed in the window (oneway: frames sent in the window, delivery confirmed). */
  requests: number;
  /** Calls that failed in the window. */
  errors: number;
  /** Body bytes of the completed calls, both directions (request body + response body). */
  bytes: number;
  /** The client's own CPU time in the window, microseconds (process.cpuUsage). */
  cpuUserUs: number;
  cpuSystemUs: number;
  /** Length of the measured window, seconds; when absent the orchestrator uses `--seconds`. */
  seconds?: number;
  /** Warm-up before the window, seconds (0 or absent: no warm-up). */
  warmupSeconds?: number;
}

/** What a server reports when asked to stop (optional: CPU is also sampled from /proc). */
export interface ServerReport {
  /** The server's CPU time since it started, microseconds. */
  cpuUserUs: number;
  cpuSystemUs: number;
  /** Resident set size at stop, bytes. */
  rssBytes?: number;
  /** Requests answered since start. */
  requests?: number;
  /** Oneway frames received since start (the server-side count of the oneway scenario). */
  onewayFrames?: number;
}

/** The numeric fields a client result must carry; checked by {@link parseClientResult}. */
export const CLIENT_RESULT_FIELDS = [
  "rps",
  "p50Us",
  "p90Us",
  "p99Us",
  "p999Us",
  "maxUs",
  "requests",
  "errors",
  "bytes",
  "cpuUserUs",
  "cpuSystemUs",
] as const;

/** The regular expression every server's first line must match; groups: host, port. */
export const LISTENING_LINE = /listening on (\S+):(\d+)/;

/** The last line of `text` that parses as a JSON object, or undefined. */
export function lastJsonLine(text: string): Record<string, unknown> | undefined {
  const lines = text.split("\n");
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i]!.trim();
    if (!line.startsWith("{")) continue;
    try {
      const value: unknown = JSON.parse(line);
      if (value !== null && typeof value === "object") return value as Record<string, unknown>;
    } catch {
      // A line that merely starts with "{" (a log line, say): keep looking upwards.
    }
  }
  return undefined;
}

/** Parses a client's stdout into a {@link ClientResult}; throws naming the first missing field. */
export function parseClientResult(stdout: string): ClientResult {
  const obj = lastJsonLine(stdout);
  if (obj === undefined) throw new Error("client printed no JSON result line");
  for (const field of CLIENT_RESULT_FIELDS) {
    if (typeof obj[field] !== "number" || !Number.isFinite(obj[field])) {
      throw new Error(`client result lacks a finite number "${field}"`);
    }
  }
  return obj as unknown as ClientResult;
}

/** Parses a server's stop report from its stdout, or undefined when it printed none. */
export function parseServerReport(stdout: string): ServerReport | undefined {
  const obj = lastJsonLine(stdout);
  if (obj === undefined || typeof obj.cpuUserUs !== "number") return undefined;
  return obj as unknown as ServerReport;
}
