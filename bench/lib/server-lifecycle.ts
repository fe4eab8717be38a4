/**
 * The server half of the line protocol (see protocol.ts): announce the address, then on SIGTERM,
 * SIGINT, a `stop` line on stdin or the end of stdin, print one {@link ServerReport} line and exit.
 * Ending on stdin's end means a server never outlives an orchestrator that crashed.
 */
import { fstatSync } from "node:fs";
import { parseArgs } from "node:util";
import type { ServerReport } from "./protocol.js";

/** Prints the first stdout line the orchestrator waits for. */
export function announceListening(host: string, port: number): void {
  process.stdout.write(`listening on ${host}:${port}\n`);
}

/** Counters a server keeps for its stop report. */
export type ServerCounters = Omit<ServerReport, "cpuUserUs" | "cpuSystemUs" | "rssBytes">;

/** Installs the stop handlers; `counters` is read once, when the server stops. */
export function stopOnRequest(counters: () => ServerCounters): void {
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    const cpu = process.cpuUsage();
    const report: ServerReport = {
      cpuUserUs: cpu.user,
      cpuSystemUs: cpu.system,
      rssBytes: process.memoryUsage.rss(),
      ...counters(),
    };
    // Exit without closing sockets gracefully: the run is over and clients are gone or going.
    process.stdout.write(`${JSON.stringify(report)}\n`, () => process.exit(0));
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  // Only a pipe from the orchestrator: stdin from /dev/null (a shell's background job) ends at
  // once, and a terminal should not be read.
  if (!fstatSync(0).isFIFO()) return;
  process.stdin.setEncoding("utf8");
  process.stdin.on("data", (text: string) => {
    if (/^stop\s*$/m.test(text)) stop();
  });
  process.stdin.on("end", stop);
}

/** Parses `--host H --port P` (defaults 127.0.0.1 and 0: any free port). */
export function parseListenArgs(argv: readonly string[]): { host: string; port: number } {
  const { values } = parseArgs({
    args: argv as string[],
    options: { host: { type: "string", default: "127.0.0.1" }, port: { type: "string", default: "0" } },
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error("--port must be 0..65535");
  return { host: values.host!, port };
}
