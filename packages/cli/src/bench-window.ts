/**
 * The measured window of `mqwire bench`'s interop modes: what the load loops record while it is
 * open (latencies in an HDR histogram, requests, bytes, errors by code) and the figures it gives
 * when it closes, in the JSON shape bench/lib/protocol.ts ClientResult reads.
 */
import { performance } from "node:perf_hooks";
import { build } from "hdr-histogram-js";
import { isMqwireError } from "mqwire";

/** One window's figures (the same shape as bench/lib/protocol.ts ClientResult). */
export class Window {
  recording = false;
  running = true;
  requests = 0;
  bytes = 0;
  readonly errors = new Map<string, number>();
  readonly histogram = build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 60_000_000,
    numberOfSignificantValueDigits: 3,
  });
  openedAt = 0;
  cpuAtOpen: NodeJS.CpuUsage = { user: 0, system: 0 };

  open(): void {
    this.recording = true;
    this.openedAt = performance.now();
    this.cpuAtOpen = process.cpuUsage();
  }
  record(startedAt: number, bytes: number, now = performance.now()): void {
    if (!this.recording) return;
    this.histogram.recordValue(Math.max(1, Math.round((now - startedAt) * 1000)));
    this.requests++;
    this.bytes += bytes;
  }
  fail(err: unknown): void {
    if (!this.recording) return;
    const code = isMqwireError(err) ? err.code : ((err as { code?: string }).code ?? "ERROR");
    this.errors.set(code, (this.errors.get(code) ?? 0) + 1);
  }
  result(closedAt: number, warmupSeconds: number): Record<string, unknown> {
    const cpu = process.cpuUsage(this.cpuAtOpen);
    const seconds = (closedAt - this.openedAt) / 1000;
    const h = this.histogram;
    let errors = 0;
    for (const n of this.errors.values()) errors += n;
    return {
      rps: seconds > 0 ? this.requests / seconds : 0,
      p50Us: h.getValueAtPercentile(50),
      p90Us: h.getValueAtPercentile(90),
      p99Us: h.getValueAtPercentile(99),
      p999Us: h.getValueAtPercentile(99.9),
      maxUs: h.maxValue,
      requests: this.requests,
      errors,
      errorsByCode: Object.fromEntries(this.errors),
      bytes: this.bytes,
      cpuUserUs: cpu.user,
      cpuSystemUs: cpu.system,
      seconds,
      warmupSeconds,
    };
  }
}
