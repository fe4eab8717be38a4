/**
 * A FrameSink over one buffer, reused for every frame: the connection's outgoing batch and the
 * kernel's copy in one, for the codec benchmarks (codec-bench.ts, echo-floor.ts).
 */
import type { FrameSink } from "../../src/codec/codec.js";

export class WireSink implements FrameSink {
  /** Bytes written since the last reset (`used = 0`). */
  used = 0;
  constructor(readonly claimBuffer: Buffer = Buffer.allocUnsafe(64 * 1024)) {}
  claim(bytes: number): number {
    const at = this.used;
    this.used += bytes;
    return at;
  }
  append(chunk: Buffer): void {
    this.claimBuffer.set(chunk, this.used);
    this.used += chunk.length;
  }
}
