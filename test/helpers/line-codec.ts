/**
 * A tiny text codec for engine tests: each frame is "L:<text>\n". Its magic prefix "L:" lets tests
 * negotiate between it and RocketMQ's codec, which has no magic bytes.
 */
import type { Codec, DecoderLimits, FrameDecoder, SniffResult } from "../../src/codec/codec.js";
import { FrameTooLargeError, MalformedFrameError } from "../../src/errors.js";

const PREFIX = Buffer.from("L:");
const NEWLINE = 0x0a;

class LineDecoder implements FrameDecoder<string> {
  readonly #maxFrameBytes: number;
  #pending: Buffer = Buffer.alloc(0);

  constructor(maxFrameBytes: number) {
    this.#maxFrameBytes = maxFrameBytes;
  }

  get bufferedBytes(): number {
    return this.#pending.length;
  }

  push(chunk: Buffer): string[] {
    // Test helper: a copy per chunk is fine here.
    let buf = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
    const frames: string[] = [];
    for (;;) {
      const end = buf.indexOf(NEWLINE);
      if (end < 0) break;
      if (end + 1 > this.#maxFrameBytes) throw new FrameTooLargeError(end + 1, this.#maxFrameBytes);
      if (end < PREFIX.length || buf[0] !== PREFIX[0] || buf[1] !== PREFIX[1]) {
        throw new MalformedFrameError("field-range", "line frame without the L: prefix");
      }
      frames.push(buf.toString("utf8", PREFIX.length, end));
      buf = buf.subarray(end + 1);
    }
    if (buf.length >= this.#maxFrameBytes) throw new FrameTooLargeError(buf.length + 1, this.#maxFrameBytes);
    this.#pending = buf;
    return frames;
  }
}

/** Codec<string> framing "L:<text>\n"; sniff says "yes" for a head starting with "L:". */
export const lineCodec: Codec<string> = {
  name: "line",
  sniff(head: Buffer): SniffResult {
    const n = Math.min(head.length, PREFIX.length);
    for (let i = 0; i < n; i++) if (head[i] !== PREFIX[i]) return "no";
    return head.length >= PREFIX.length ? "yes" : "need-more";
  },
  createDecoder(limits?: DecoderLimits): FrameDecoder<string> {
    return new LineDecoder(limits?.maxFrameBytes ?? 16 * 1024 * 1024);
  },
  encode(frame: string): Buffer[] {
    return [PREFIX, Buffer.from(`${frame}\n`, "utf8")];
  },
};

/** Encodes frames as one buffer, for feeding an engine. */
export function lineBytes(...frames: string[]): Buffer {
  return Buffer.from(frames.map((f) => `L:${f}\n`).join(""), "utf8");
}
