/**
 * The measured window of a load client: warm-up, then a fixed duration during which completed
 * calls, body bytes and latencies (an HDR histogram, microseconds) are recorded, then the
 * {@link ClientResult} line. Shared by the raw and grpc clients so both measure the same way.
 */
import { performance } from "node:perf_hooks";
import { build } from "hdr-histogram-js";
import type { LoadOptions } from "./load-options.js";
import type { ClientResult } from "./protocol.js";

/** Highest latency the histogram is sized for, microseconds (it resizes beyond, at a cost). */
const HIGHEST_TRACKABLE_US = 60_000_000;

/** Collects one window's figures; the hot path checks {@link recording} and calls {@link record}. */
export class Measurement {
  /** True between the end of the warm-up and the end of the window. */
  recording = false;
  requests = 0;
  errors = 0;
  bytes = 0;
  // Three significant digits: 0.1 % precision, ample for p99.9. Plain JS histogram: the
  // WebAssembly one costs a boundary crossing per recordValue, which is the hot call here.
  private readonly histogram = build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: HIGHEST_TRACKABLE_US,
    numberOfSignificantValueDigits: 3,
  });
  private openedAt = 0;
  private cpuAtOpen: NodeJS.CpuUsage = { user: 0, system: 0 };

  constructor(private readonly options: Pick<LoadOptions, "seconds" | "warmupSeconds">) {}

  /** Starts the warm-up; `onWindowEnd` runs once when the measured window has passed. */
  start(onWindowEnd: () => void): void {
    setTimeout(() => {
      this.recording = true;
      this.openedAt = performance.now();
      this.cpuAtOpen = process.cpuUsage();
      setTimeout(onWindowEnd, this.options.seconds * 1000);
    }, this.options.warmupSeconds * 1000);
  }

  /** Records one completed call: its latency in microseconds and its body bytes (both ways). */
  record(latencyUs: number, bytes: number): void {
    this.histogram.recordValue(Math.round(latencyUs));
    this.requests++;
    this.bytes += bytes;
  }

  /**
   * The figures of the window closed at `closedAt` (a performance.now() time; the oneway client
   * passes the time its delivery barrier came back instead of the timer's).
   */
  result(closedAt: number = performance.now()): ClientResult {
    const cpu = process.cpuUsage(this.cpuAtOpen);
    const seconds = (closedAt - this.openedAt) / 1000;
    const h = this.histogram;
    return {
      rps: seconds > 0 ? this.requests / seconds : 0,
      p50Us: h.getValueAtPercentile(50),
      p90Us: h.getValueAtPercentile(90),
      p99Us: h.getValueAtPercentile(99),
      p999Us: h.getValueAtPercentile(99.9),
      maxUs: h.maxValue,
      requests: this.requests,
      errors: this.errors,
      bytes: this.bytes,
      cpuUserUs: cpu.user,
      cpuSystemUs: cpu.system,
      seconds,
      warmupSeconds: this.options.warmupSeconds,
    };
  }
}

/** Prints `result` as the last stdout line, then exits once stdout has taken it. */
export function printResultAndExit(result: ClientResult): void {
  process.stdout.write(`${JSON.stringify(result)}\n`, () => process.exit(0));
}

/** Reports a fatal client error on stderr and exits non-zero (the orchestrator marks the run failed). */
export function failAndExit(err: unknown): never {
  process.stderr.write(`bench client: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
