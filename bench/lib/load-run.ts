/**
 * One run of a load scenario for one implementation: a fresh server, one load client, the
 * server's CPU sampled around the client, the figures derived. A fresh server per run keeps one
 * implementation's leftovers (heap, JIT state, sockets in TIME_WAIT) out of the next one's run.
 */
import type { Implementation, LoadSpec } from "./implementations.js";
import { readCpuUs } from "./proc-stat.js";
import { type ClientResult, parseClientResult } from "./protocol.js";
import { NodeProcess, startServer } from "./spawn.js";

/** Time a client may take beyond its warm-up and window (startup, connect, exit), ms. */
const CLIENT_GRACE_MS = 30_000;

/** The figures of one run: metric id → value (see LOAD_METRICS in scenarios.ts). */
export type RunFigures = Record<string, number>;

/**
 * Runs `impl` under `load` once; rejects with a message when no figures came out. `nodeFlags`
 * go to both processes, before the script.
 */
export async function runLoad(
  root: string,
  impl: Implementation,
  load: LoadSpec,
  pin: { readonly server: string; readonly client: string } | undefined,
  warn: (line: string) => void,
  nodeFlags: readonly string[] = [],
): Promise<RunFigures> {
  const server = await startServer([...nodeFlags, ...impl.serverArgs], root, pin?.server);
  try {
    const serverCpuBefore = readCpuUs(server.process.pid);
    const client = new NodeProcess(
      [...nodeFlags, ...impl.clientArgs(server.target, load)],
      root,
      pin?.client,
    );
    const code = await client.waitForExit((load.warmupSeconds + load.seconds) * 1000 + CLIENT_GRACE_MS);
    const serverCpuAfter = readCpuUs(server.process.pid);
    if (code !== 0) throw new Error(`client exited with ${code}: ${client.stderr || "(no stderr)"}`);
    const result = parseClientResult(client.stdout);
    const report = await server.stop();
    if (result.requests === 0) throw new Error("client completed no calls");
    if (
      load.mode === "oneway" &&
      report?.onewayFrames !== undefined &&
      report.onewayFrames < result.requests
    ) {
      warn(`${impl.id}: server counted ${report.onewayFrames} oneway frames, client ${result.requests}`);
    }
    // The server's CPU over the client's whole life (/proc), or failing that its own total.
    const serverCpuUs =
      serverCpuBefore !== undefined && serverCpuAfter !== undefined
        ? serverCpuAfter - serverCpuBefore
        : report === undefined
          ? Number.NaN
          : report.cpuUserUs + report.cpuSystemUs;
    return deriveFigures(result, serverCpuUs, load);
  } finally {
    await server.stop();
  }
}

/** The scenario figures from a client result and the server CPU measured around it. */
export function deriveFigures(result: ClientResult, serverCpuUs: number, load: LoadSpec): RunFigures {
  const seconds = result.seconds ?? load.seconds;
  const warmupSeconds = result.warmupSeconds ?? 0;
  // The client reports its CPU for the window only; the server's was sampled over warm-up and
  // window together, under the same load: keep the window's share of it.
  const serverWindowCpuUs = (serverCpuUs * seconds) / (seconds + warmupSeconds);
  const clientCpuUs = result.cpuUserUs + result.cpuSystemUs;
  return {
    rps: result.rps,
    p50Us: result.p50Us,
    p90Us: result.p90Us,
    p99Us: result.p99Us,
    p999Us: result.p999Us,
    maxUs: result.maxUs,
    // In oneway mode the client's rate is frames delivered (its window ends on a barrier call).
    framesPerSec: result.rps,
    bytesPerSec: seconds > 0 ? result.bytes / seconds : Number.NaN,
    cpuUsPerReq: (clientCpuUs + serverWindowCpuUs) / result.requests,
    errors: result.errors,
  };
}
