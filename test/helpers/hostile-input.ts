/**
 * Hostile input for the RocketMQ frame decoder (issue 10): fast-check arbitraries for what a
 * broken or malicious peer sends, and `checkDecoder`, which feeds one input and holds the
 * decoder to its contract. Used by the seeded fuzz in `npm test` (test/unit/decoder-fuzz.test.ts),
 * the million-input run in `npm run test:reliability` and the live hostile-peer tests.
 *
 * The contract, per input: no crash (every throw is an MqwireError with a FrameErrorReason), no
 * hang (the input's time is measured), no allocation above maxFrameBytes (Buffer's allocators
 * are wrapped while the decoder runs: ./allocation-tracker.ts), and afterwards the decoder is
 * either dead (it throws the same error again and holds nothing) or usable (the pending frame,
 * completed, decodes or fails typed; a valid frame then decodes to itself).
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import type { DecoderLimits, FrameDecoder } from "../../src/codec/codec.js";
import { RemotingCommand, SerializeType } from "../../src/codec/remoting-command.js";
import { encodeFrame, rocketmqCodec } from "../../src/codec/rocketmq-codec.js";
import { ErrorCodes, type FrameErrorReason, MqwireError } from "../../src/errors.js";
import { startAllocationTracking, stopAllocationTracking } from "./allocation-tracker.js";

export { trackAllocations } from "./allocation-tracker.js";

/** Every FrameErrorReason: a Record, so a reason added to the type must be added here. */
const REASONS: Record<FrameErrorReason, true> = {
  "length-too-small": true,
  "length-too-large": true,
  "header-length": true,
  "serialize-type": true,
  utf8: true,
  json: true,
  "json-type": true,
  truncated: true,
  "ext-length": true,
  "string-length": true,
  "field-range": true,
  "header-too-large": true,
  "ext-fields-count": true,
  // The engine's deadline, not a decoder's: listed so the Record stays complete.
  "frame-deadline": true,
};

/** The reasons a decoder gives (all but the engine's "frame-deadline"): a fuzz run must reach each. */
export const DECODER_REASONS = (Object.keys(REASONS) as FrameErrorReason[]).filter(
  (r) => r !== "frame-deadline",
);

// ------------------------------------------------------------------------------ inputs

const INT16 = { min: -32768, max: 32767 };
const INT32 = { min: -(2 ** 31), max: 2 ** 31 - 1 };

const smallString = fc.string({ unit: "binary", maxLength: 12 });

/** A valid command of either serialization, small. */
export const commandArb: fc.Arbitrary<RemotingCommand> = fc
  .record({
    type: fc.constantFrom(SerializeType.JSON, SerializeType.ROCKETMQ),
    code: fc.integer(INT16),
    version: fc.integer(INT16),
    opaque: fc.integer(INT32),
    flag: fc.integer(INT32),
    remark: fc.option(smallString, { nil: null }),
    ext: fc.option(
      fc.uniqueArray(fc.tuple(smallString, smallString), { selector: ([k]) => k, maxLength: 6 }),
      {
        nil: null,
      },
    ),
    body: fc.option(fc.uint8Array({ maxLength: 64 }), { nil: null }),
  })
  .map(
    (r) =>
      new RemotingCommand({
        code: r.code,
        version: r.version,
        opaque: r.opaque,
        flag: r.flag,
        remark: r.remark,
        extFields: r.ext === null ? null : new Map(r.ext),
        body: r.body === null ? null : Buffer.from(r.body),
        serializeType: r.type,
      }),
  );

const validFrame = commandArb.map(encodeFrame);

/** Length-field values that break framing: 0, 3, 4, 2^31-1, negative, around the limit. */
const lyingLength = fc.oneof(
  fc.constantFrom(0, 1, 3, 4, 5, 8, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32 - 5, 0x50524920),
  fc.integer({ min: 0, max: 2 ** 32 - 1 }),
  fc.integer({ min: 0, max: 5000 }),
);

function withUint32(frame: Buffer, at: number, value: number): Buffer {
  const copy = Buffer.from(frame);
  if (copy.length >= at + 4) copy.writeUInt32BE(value >>> 0, at);
  return copy;
}

/** The offsets of a ROCKETMQ header's length fields in `frame` (header at 8), or [] for JSON. */
function rocketmqLengthFields(frame: Buffer): { at: number; bytes: 2 | 4 }[] {
  if (frame.length < 8 + 21 || frame[4] !== SerializeType.ROCKETMQ) return [];
  const fields: { at: number; bytes: 2 | 4 }[] = [{ at: 8 + 13, bytes: 4 }];
  const remarkLen = frame.readInt32BE(8 + 13);
  const extAt = 8 + 17 + remarkLen;
  if (remarkLen < 0 || extAt + 4 > frame.length) return fields;
  fields.push({ at: extAt, bytes: 4 });
  let o = extAt + 4;
  const end = o + frame.readInt32BE(extAt);
  while (o + 2 <= end && o + 2 <= frame.length) {
    fields.push({ at: o, bytes: 2 });
    const valueAt = o + 2 + frame.readInt16BE(o);
    if (valueAt + 4 > frame.length) break;
    fields.push({ at: valueAt, bytes: 4 });
    o = valueAt + 4 + frame.readInt32BE(valueAt);
  }
  return fields;
}

/** Values a ROCKETMQ string or map length may lie with. */
const lyingShortOrInt = fc.oneof(
  fc.constantFrom(-1, -(2 ** 31), 2 ** 31 - 1, 0x7fff, 0x8000, 0xffff, 0, 1),
  fc.integer({ min: -64, max: 4096 }),
);

/** A ROCKETMQ frame with one of its remark, extFields, key or value lengths changed. */
const rocketmqLie = fc
  .tuple(
    commandArb.map((c) => {
      c.serializeType = SerializeType.ROCKETMQ;
      return encodeFrame(c);
    }),
    fc.nat(),
    lyingShortOrInt,
  )
  .map(([frame, pick, value]) => {
    const fields = rocketmqLengthFields(frame);
    if (fields.length === 0) return frame;
    const { at, bytes } = fields[pick % fields.length]!;
    const copy = Buffer.from(frame);
    if (bytes === 2) copy.writeUInt16BE(value & 0xffff, at);
    else copy.writeUInt32BE(value >>> 0, at);
    return copy;
  });

/** A JSON value of a type a field does not want (strings for ints, floats, arrays, objects...). */
const wrongValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.constantFrom(1.5, -0, 2 ** 31, -(2 ** 31) - 1, 1e300, "105", "", true, null, [], {}, [1], { a: 1 }),
  fc.integer(),
);

const JSON_KEYS = [
  "code",
  "extFields",
  "flag",
  "language",
  "opaque",
  "remark",
  "serializeTypeCurrentRPC",
  "version",
];

/** A JSON header of the wrong types: known keys with wrong values, unknown keys, non-objects. */
const jsonWrongTypes = fc
  .oneof(
    fc.dictionary(fc.oneof(fc.constantFrom(...JSON_KEYS), fc.string({ maxLength: 6 })), wrongValue, {
      maxKeys: 6,
    }),
    fc.record({
      opaque: fc.integer(),
      extFields: fc.dictionary(fc.string({ maxLength: 6 }), wrongValue, { maxKeys: 6 }),
    }),
    wrongValue,
  )
  .map((value) => {
    const header = Buffer.from(JSON.stringify(value) ?? "");
    const frame = Buffer.alloc(8 + header.length);
    frame.writeUInt32BE(4 + header.length, 0);
    frame.writeUInt32BE(header.length, 4);
    header.copy(frame, 8);
    return frame;
  });

/** A header with `count` extFields of one serialization (near a small maxExtFields). */
const manyExtFields = fc
  .tuple(
    fc.constantFrom(SerializeType.JSON, SerializeType.ROCKETMQ),
    fc.integer({ min: 0, max: 40 }),
    fc.boolean(),
  )
  .map(([type, count, integerKeys]) => {
    const ext = new Map<string, string>();
    for (let i = 0; i < count; i++) ext.set(integerKeys ? `${i}` : `k${i}`, "v");
    return encodeFrame(new RemotingCommand({ opaque: 1, serializeType: type, extFields: ext }));
  });

/** One mutation of a valid frame. */
const mutatedFrame = fc.oneof(
  // bit flips
  fc.tuple(validFrame, fc.array(fc.nat(), { minLength: 1, maxLength: 8 })).map(([frame, flips]) => {
    const copy = Buffer.from(frame);
    for (const f of flips) copy[(f >>> 3) % copy.length]! ^= 1 << (f & 7);
    return copy;
  }),
  // truncation
  fc.tuple(validFrame, fc.nat()).map(([frame, n]) => frame.subarray(0, n % frame.length)),
  // the length field lies
  fc.tuple(validFrame, lyingLength).map(([frame, length]) => withUint32(frame, 0, length)),
  // the header length runs past the frame
  fc
    .tuple(validFrame, fc.integer({ min: 1, max: 0xff_ffff }))
    .map(([frame, extra]) =>
      withUint32(frame, 4, (frame[4]! << 24) | Math.min(0xff_ffff, frame.length - 8 + extra)),
    ),
  // unknown serialize type
  fc
    .tuple(validFrame, fc.integer({ min: 2, max: 255 }))
    .map(([frame, type]) => withUint32(frame, 4, ((type << 24) | (frame.readUInt32BE(4) & 0xff_ffff)) >>> 0)),
  rocketmqLie,
  jsonWrongTypes,
  manyExtFields,
);

/** One hostile input: bytes, and where to cut them into chunks. */
export interface HostileInput {
  bytes: Buffer;
  cuts: number[];
}

/** Hostile inputs: random bytes, mutated frames, alone or between valid frames, in random chunks. */
export const hostileInput: fc.Arbitrary<HostileInput> = fc
  .tuple(
    fc.oneof(
      { weight: 1, arbitrary: fc.uint8Array({ maxLength: 256 }).map((a) => Buffer.from(a)) },
      { weight: 6, arbitrary: mutatedFrame },
    ),
    fc.array(validFrame, { maxLength: 2 }),
    fc.array(validFrame, { maxLength: 1 }),
    fc.array(fc.nat(), { maxLength: 6 }),
  )
  .map(([bad, before, after, cuts]) => {
    const bytes = Buffer.concat([...before, bad, ...after]);
    return { bytes, cuts: cuts.map((c) => c % (bytes.length + 1)).sort((a, b) => a - b) };
  });

/** Limit sets the fuzz runs under: small ones, so that lying lengths often fall within them. */
export const limitsArb: fc.Arbitrary<Required<DecoderLimits>> = fc.constantFrom(
  { maxFrameBytes: 4096, maxHeaderBytes: 2048, maxExtFields: 16 },
  { maxFrameBytes: 512, maxHeaderBytes: 160, maxExtFields: 0 },
  { maxFrameBytes: 65_536, maxHeaderBytes: 0xff_ffff, maxExtFields: 1024 },
);

// ------------------------------------------------------------------------------ the check

/** What one input did, for the run's figures. */
export interface Outcome {
  frames: number;
  reason: FrameErrorReason | undefined;
  /** Wall time of the pushes, in ms (a loaded machine's scheduling shows here). */
  ms: number;
  /** CPU time (user + system) of the pushes, in ms: the bound a hang or a quadratic path breaks. */
  cpuMs: number;
  largestAllocation: number;
}

/** A valid frame decoded after each input that leaves the decoder alive. */
const PROBE = new RemotingCommand({ code: 7, opaque: 77, remark: "probe", extFields: { k: "v" } });
const PROBE_FRAME = encodeFrame(PROBE);

/** The reason of a decoder's throw; fails on anything but a typed frame error. */
export function checkError(err: unknown): FrameErrorReason {
  if (!(err instanceof MqwireError))
    throw new assert.AssertionError({ message: `untyped throw: ${String(err)}` });
  assert.ok(err.code === ErrorCodes.MALFORMED_FRAME || err.code === ErrorCodes.FRAME_TOO_LARGE, err.code);
  const reason = (err as { reason?: FrameErrorReason }).reason;
  assert.ok(reason !== undefined && REASONS[reason], `reason ${reason}`);
  return reason;
}

function pushAll(decoder: FrameDecoder<RemotingCommand>, bytes: Buffer, cuts: readonly number[]): number {
  let frames = 0;
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    if (cut < from) continue;
    frames += decoder.push(bytes.subarray(from, cut)).length;
    from = cut;
  }
  return frames;
}

/**
 * Feeds `input` to a fresh decoder with `limits` and checks the contract (see the file comment).
 * Throws an AssertionError on a breach; returns the outcome otherwise.
 */
export function checkDecoder(input: HostileInput, limits: Required<DecoderLimits>): Outcome {
  const decoder = rocketmqCodec.createDecoder(limits);
  let frames = 0;
  let error: unknown;
  let reason: FrameErrorReason | undefined;
  startAllocationTracking();
  const cpu = process.cpuUsage();
  const started = performance.now();
  try {
    frames = pushAll(decoder, input.bytes, input.cuts);
  } catch (err) {
    error = err;
  }
  const largest = stopAllocationTracking();
  const ms = performance.now() - started;
  const used = process.cpuUsage(cpu);
  const cpuMs = (used.user + used.system) / 1000;
  assert.ok(largest <= limits.maxFrameBytes, `allocated ${largest} bytes, limit ${limits.maxFrameBytes}`);
  if (error !== undefined) reason = checkError(error);
  checkDeadOrUsable(decoder, input.bytes, limits, error, PROBE_FRAME, (probe) => {
    assert.equal(probe.opaque, PROBE.opaque);
    assert.equal(probe.remark, PROBE.remark);
    assert.deepEqual([...probe.extFields!], [["k", "v"]]);
  });
  return { frames, reason, ms, cpuMs, largestAllocation: largest };
}

/**
 * The decoder after `bytes`, which threw `error` (or undefined): dead (the same error again,
 * nothing held, nothing to read into), or usable: the pending frame, completed with zeros (its
 * length is in the input's tail), decodes or fails typed, and then `probeFrame` decodes to one
 * command that `checkProbe` accepts.
 */
export function checkDeadOrUsable(
  decoder: FrameDecoder<RemotingCommand>,
  bytes: Buffer,
  limits: Required<DecoderLimits>,
  error: unknown,
  probeFrame: Buffer,
  checkProbe: (probe: RemotingCommand) => void,
): void {
  if (error !== undefined) {
    assert.equal(decoder.bufferedBytes, 0);
    assert.equal(decoder.readBuffer?.(), undefined);
    assert.throws(
      () => decoder.push(probeFrame),
      (again: unknown) => again === error,
    );
    return;
  }
  let buffered = decoder.bufferedBytes;
  try {
    let held = bytes.subarray(bytes.length - buffered);
    if (buffered > 0 && buffered < 4) {
      const pad = Buffer.alloc(4 - buffered);
      decoder.push(pad);
      held = Buffer.concat([held, pad]);
      buffered = 4;
    }
    if (buffered >= 4) {
      const frameBytes = held.readUInt32BE(0) + 4;
      assert.ok(frameBytes <= limits.maxFrameBytes && frameBytes > buffered, `pending ${frameBytes}`);
      decoder.push(Buffer.alloc(frameBytes - buffered));
    }
    assert.equal(decoder.bufferedBytes, 0);
    const [probe, ...rest] = decoder.push(probeFrame);
    assert.equal(rest.length, 0);
    checkProbe(probe!);
  } catch (err) {
    if (err instanceof assert.AssertionError) throw err;
    checkError(err); // the completed frame was bad: typed, and the decoder is dead
    assert.equal(decoder.bufferedBytes, 0);
  }
}

/** Figures of a fuzz run: inputs, outcomes by reason, the slowest input, the largest allocation. */
export class FuzzTally {
  inputs = 0;
  accepted = 0;
  readonly reasons = new Map<string, number>();
  maxMs = 0;
  maxCpuMs = 0;
  largestAllocation = 0;
  /** `unit`: what one outcome is, for the figures (an input, or a mutated copy of a learned shape). */
  constructor(readonly unit = "inputs") {}
  add(outcome: Outcome): void {
    this.inputs++;
    if (outcome.reason === undefined) this.accepted++;
    else this.reasons.set(outcome.reason, (this.reasons.get(outcome.reason) ?? 0) + 1);
    if (outcome.ms > this.maxMs) this.maxMs = outcome.ms;
    if (outcome.cpuMs > this.maxCpuMs) this.maxCpuMs = outcome.cpuMs;
    if (outcome.largestAllocation > this.largestAllocation)
      this.largestAllocation = outcome.largestAllocation;
  }
  toString(): string {
    const reasons = [...this.reasons].sort((a, b) => b[1] - a[1]).map(([r, n]) => `${r} ${n}`);
    return (
      `${this.inputs} ${this.unit}: ${this.accepted} without error; ${reasons.join(", ")}; ` +
      `slowest ${this.maxMs.toFixed(2)} ms wall, ${this.maxCpuMs.toFixed(2)} ms CPU; ` +
      `largest allocation ${this.largestAllocation} B`
    );
  }
}
