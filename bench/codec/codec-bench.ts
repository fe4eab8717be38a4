/**
 * Codec micro-benchmark: encode + decode of one request (5 extFields, 128 B body), per header
 * serialization, single-threaded, on one core. Two chunkings, because they take different decoder
 * paths:
 * - "whole": the production path: `encodeInto` writes the frame into one reusable buffer (the
 *   connection's outgoing batch, header encoded in place, body copied after it) which is then
 *   pushed as a single chunk, as a socket delivers a coalesced frame (the decoder parses it in
 *   place, zero-copy);
 * - "split": the header chunk and the body chunk are pushed separately (the decoder buffers the
 *   first and copies the frame once when it completes); encoded with `encode` (header and body
 *   as separate chunks).
 *
 *   npx tsc -p tsconfig.json && node dist/bench/codec/codec-bench.js [--seconds S] [--rounds N] [--json]
 *
 * Each case warms up, then runs `--seconds` (default 2) per round; with `--rounds` > 1 the median
 * round is reported. The last line is always JSON:
 * {"rocketmqOpsPerSec", "jsonOpsPerSec" (whole frame), "rocketmqSplitOpsPerSec", "jsonSplitOpsPerSec"}
 * per wall-clock second, and the same four per CPU second ("...CpuOpsPerSec": operations divided
 * by the process's user + system time, which on a shared, loaded machine is the fairer "per core"
 * figure; it also counts V8's GC helper threads, so it errs low). `--json` prints that line only.
 */
import { parseArgs } from "node:util";
import { RemotingCommand, SerializeType } from "../../src/codec/remoting-command.js";
import { rocketmqCodec } from "../../src/codec/rocketmq-codec.js";
import { WireSink } from "../lib/wire-sink.js";

const DEFAULT_SECONDS = 2;
const DEFAULT_ROUNDS = 1;
const WARMUP_SECONDS = 0.5;
const BODY_BYTES = 128;
/** Operations between two clock reads: long enough that reading the clock costs nothing. */
const BATCH_OPS = 5_000;

type Chunking = "whole" | "split";

/** A SendMessage-like request: RocketMQ's SendMessageRequestHeaderV2 uses one-letter keys. */
function sampleRequest(serializeType: SerializeType): RemotingCommand {
  return RemotingCommand.createRequest(310, {
    serializeType,
    body: Buffer.alloc(BODY_BYTES, 7),
    extFields: { a: "producerGroup", b: "TopicTest", c: "TBW102", d: "4", e: "0" },
  });
}

/** Operations per second of wall-clock time and per second of this process's CPU time. */
interface Rate {
  wall: number;
  cpu: number;
}

/**
 * Runs encode + decode for `seconds` and returns its rates. Every decoded frame is checked cheaply
 * (count, opaque, body length), so the work cannot be optimised away.
 */
function measure(serializeType: SerializeType, chunking: Chunking, seconds: number): Rate {
  const cmd = sampleRequest(serializeType);
  const decoder = rocketmqCodec.createDecoder();
  // The "socket": one buffer the frame is encoded into, as the driver's batch and the kernel.
  const wire = new WireSink(Buffer.allocUnsafe(64 * 1024));
  const one = (): void => {
    cmd.opaque = (cmd.opaque + 1) | 0; // a new request each time, as on a real connection
    let frames: RemotingCommand[];
    if (chunking === "whole") {
      wire.used = 0;
      rocketmqCodec.encodeInto(cmd, wire);
      frames = decoder.push(wire.claimBuffer.subarray(0, wire.used));
    } else {
      const chunks = rocketmqCodec.encode(cmd);
      frames = decoder.push(chunks[0]!);
      for (let i = 1; i < chunks.length; i++) frames = decoder.push(chunks[i]!);
    }
    const frame = frames[0];
    if (frames.length !== 1 || frame!.opaque !== cmd.opaque || frame!.body?.length !== BODY_BYTES) {
      throw new Error("decoded frame differs from the encoded one");
    }
  };
  const deadline = (s: number): bigint => process.hrtime.bigint() + BigInt(Math.round(s * 1e9));
  const warmEnd = deadline(WARMUP_SECONDS);
  while (process.hrtime.bigint() < warmEnd) for (let i = 0; i < BATCH_OPS; i++) one();
  let ops = 0;
  const cpuStart = process.cpuUsage();
  const start = process.hrtime.bigint();
  const end = start + BigInt(Math.round(seconds * 1e9));
  let now = start;
  while (now < end) {
    for (let i = 0; i < BATCH_OPS; i++) one();
    ops += BATCH_OPS;
    now = process.hrtime.bigint();
  }
  const cpu = process.cpuUsage(cpuStart);
  return { wall: ops / (Number(now - start) / 1e9), cpu: ops / ((cpu.user + cpu.system) / 1e6) };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function main(): void {
  const { values } = parseArgs({
    options: {
      seconds: { type: "string", default: String(DEFAULT_SECONDS) },
      rounds: { type: "string", default: String(DEFAULT_ROUNDS) },
      json: { type: "boolean", default: false },
    },
  });
  const seconds = Number(values.seconds);
  const rounds = Number(values.rounds);
  if (!(seconds > 0) || !Number.isInteger(rounds) || rounds < 1) {
    throw new Error("--seconds must be > 0 and --rounds a positive integer");
  }
  const cases = [
    { key: "rocketmqOpsPerSec", type: SerializeType.ROCKETMQ, chunking: "whole" },
    { key: "jsonOpsPerSec", type: SerializeType.JSON, chunking: "whole" },
    { key: "rocketmqSplitOpsPerSec", type: SerializeType.ROCKETMQ, chunking: "split" },
    { key: "jsonSplitOpsPerSec", type: SerializeType.JSON, chunking: "split" },
  ] as const;
  const samples = new Map<string, Rate[]>(cases.map((c) => [c.key, []]));
  // Rounds alternate between cases so that drift on a shared machine reaches all of them alike.
  for (let r = 0; r < rounds; r++) {
    for (const c of cases) samples.get(c.key)!.push(measure(c.type, c.chunking, seconds));
  }
  const wall: Record<string, number> = {};
  const cpu: Record<string, number> = {};
  for (const c of cases) {
    const rates = samples.get(c.key)!;
    wall[c.key] = Math.round(median(rates.map((x) => x.wall)));
    cpu[c.key.replace("OpsPerSec", "CpuOpsPerSec")] = Math.round(median(rates.map((x) => x.cpu)));
  }
  if (!values.json) {
    const fmt = (n: number): string => n.toLocaleString("en-US").padStart(11);
    console.log("header   chunks       wall/s   per CPU-s   (encode + decode operations)");
    for (const c of cases) {
      const name = c.type === SerializeType.ROCKETMQ ? "ROCKETMQ" : "JSON";
      const perCpu = cpu[c.key.replace("OpsPerSec", "CpuOpsPerSec")]!;
      console.log(`${name.padEnd(8)} ${c.chunking.padEnd(6)} ${fmt(wall[c.key]!)} ${fmt(perCpu)}`);
    }
  }
  console.log(JSON.stringify({ ...wall, ...cpu, seconds, rounds, bodyBytes: BODY_BYTES, extFields: 5 }));
}

main();
