/**
 * Mutations of a learned JSON header shape (issue 10). Once a codec has decoded a JSON header,
 * its decoders compare the next header of that code with the shape's bytes
 * (src/codec/json-header-shape-matcher.ts) instead of scanning it key by key: the path a live
 * connection takes for nearly every frame, and one the inputs of ./hostile-input.ts barely reach
 * (their codes and flags are random, so a shape seldom repeats). Here a fresh codec learns a
 * valid frame's shape first; then decoders of that same codec get copies of the frame with bits
 * flipped, or bytes cut, inserted or replaced in the header with the lengths rewritten (so the
 * header still reaches the matcher), or the frame itself cut or its length changed, and frames of
 * the same shape with other values. The first copy goes to the very decoder that learned.
 *
 * One input in five carries a body past 64 KiB and is read as a socket with `onread` reads
 * (src/transport/read-buffers.ts): once the decoder's `readBuffer()` hands out the frame's tail,
 * the next bytes are written into that Buffer and pushed as a view of it.
 *
 * The contract is ./hostile-input.ts's (a typed error or frames, no allocation over
 * maxFrameBytes, dead or usable afterwards), plus one: each copy decodes on the learned codec to
 * what a codec that never saw the shape decodes, or both refuse it for the same reason. The
 * matcher must agree with the scan on every input, not only on the frames it was built from.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import type { DecoderLimits, FrameDecoder } from "../../src/codec/codec.js";
import { nextOpaque, RemotingCommand, SerializeType } from "../../src/codec/remoting-command.js";
import { encodeFrame, RocketmqCodec } from "../../src/codec/rocketmq-codec.js";
import type { FrameErrorReason } from "../../src/errors.js";
import { MAX_READ_BYTES } from "../../src/transport/read-buffers.js";
import { startAllocationTracking, stopAllocationTracking } from "./allocation-tracker.js";
import { checkDeadOrUsable, checkError, commandArb, type Outcome } from "./hostile-input.js";

// ------------------------------------------------------------------------------ inputs

/** How one copy of the learned frame is changed. */
export type Mutation =
  | { kind: "flip-header"; flips: number[] }
  | { kind: "flip-frame"; flips: number[] }
  | { kind: "cut-header"; keep: number }
  | { kind: "splice-header"; at: number; remove: number; insert: number[] }
  | { kind: "number"; which: number; text: string }
  | { kind: "more-ext"; count: number }
  | { kind: "cut-frame"; keep: number }
  | { kind: "length"; length: number };

/** Bytes that matter to a JSON scanner, and a few that must never pass for text. */
const HEADER_BYTES = [...'"\\,:{}[]-+.0123456789eEnul \t'].map((c) => c.charCodeAt(0));
const SPLICE_BYTE = fc.oneof(fc.constantFrom(...HEADER_BYTES, 0x00, 0x7f, 0x80, 0xc3, 0xff), fc.nat(255));

/** Integers written where the header has digits: out of int32, signs, leading zeros, floats. */
const NUMBER_TEXT = fc.oneof(
  fc.constantFrom("", "-", "-0", "00", "01", "2147483647", "2147483648", "-2147483649", "1e3", "1.5"),
  fc.constantFrom("99999999999999999999", "9007199254740993", "0x10", "+1", " 1"),
  fc.integer().map(String),
);

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc
    .array(fc.nat(), { minLength: 1, maxLength: 4 })
    .map((flips) => ({ kind: "flip-header" as const, flips })),
  fc.array(fc.nat(), { minLength: 1, maxLength: 4 }).map((flips) => ({ kind: "flip-frame" as const, flips })),
  fc.nat().map((keep) => ({ kind: "cut-header" as const, keep })),
  fc
    .record({ at: fc.nat(), remove: fc.nat(4), insert: fc.array(SPLICE_BYTE, { maxLength: 4 }) })
    .map((r) => ({ kind: "splice-header" as const, ...r })),
  fc.record({ which: fc.nat(), text: NUMBER_TEXT }).map((r) => ({ kind: "number" as const, ...r })),
  fc.integer({ min: 1, max: 4 }).map((count) => ({ kind: "more-ext" as const, count })),
  fc.nat().map((keep) => ({ kind: "cut-frame" as const, keep })),
  fc
    .oneof(fc.constantFrom(0, 3, 4, 8, 2 ** 31, 2 ** 32 - 1), fc.integer({ min: 0, max: 300_000 }))
    .map((length) => ({ kind: "length" as const, length })),
);

/** Values another frame of the learned shape carries (code, flag, language, version kept). */
export interface Sibling {
  opaque: number;
  remark: string | null;
  ext: [string, string][];
}

const sibling: fc.Arbitrary<Sibling> = fc.record({
  opaque: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
  remark: fc.option(fc.string({ unit: "binary", maxLength: 12 }), { nil: null }),
  ext: fc.uniqueArray(fc.tuple(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 })), {
    selector: ([k]) => k,
    maxLength: 4,
  }),
});

/** One input: a shape to learn, frames of it, and mutated copies in random chunks. */
export interface ShapeMutationInput {
  command: RemotingCommand;
  siblings: Sibling[];
  copies: { mutation: Mutation; before: number; after: number; cuts: number[] }[];
  /** Read large frames into `readBuffer()` (only large inputs; small frames never get one). */
  inPlace: boolean;
  /** Room above the learned frames' sizes: 0 makes a longer copy hit the limit. */
  slack: { frame: number; header: number; extFields: number };
}

export const shapeMutationInput: fc.Arbitrary<ShapeMutationInput> = fc
  .record({
    command: commandArb,
    largeBody: fc.oneof(
      { weight: 4, arbitrary: fc.constant(null) },
      { weight: 1, arbitrary: fc.integer({ min: 64 * 1024, max: 160 * 1024 }) },
    ),
    siblings: fc.array(sibling, { maxLength: 3 }),
    copies: fc.array(
      fc.record({
        mutation,
        before: fc.nat(2),
        after: fc.nat(1),
        cuts: fc.array(fc.nat(), { maxLength: 6 }),
      }),
      { minLength: 1, maxLength: 6 },
    ),
    slack: fc.record({
      frame: fc.constantFrom(0, 16, 4096),
      header: fc.constantFrom(0, 8, 2048),
      extFields: fc.constantFrom(0, 1, 1024),
    }),
  })
  .map(({ command, largeBody, siblings, copies, slack }) => {
    command.serializeType = SerializeType.JSON;
    if (largeBody !== null) command.body = Buffer.alloc(largeBody, 0x5a);
    return { command, siblings, copies, inPlace: largeBody !== null, slack };
  });

/**
 * The reasons a run of these inputs must reach: a JSON header's own, the limits (the matcher
 * refuses extFields past the limit itself) and the framing that mutated lengths break.
 */
export const SHAPE_REASONS: readonly FrameErrorReason[] = [
  "json",
  "json-type",
  "utf8",
  "field-range",
  "header-too-large",
  "ext-fields-count",
  "header-length",
  "length-too-small",
  "length-too-large",
];

// ------------------------------------------------------------------------------ mutations

/** A JSON-header frame of `header` and `body`, both lengths true. */
function jsonFrame(header: Buffer, body: Buffer): Buffer {
  const frame = Buffer.alloc(8 + header.length + body.length);
  frame.writeUInt32BE(4 + header.length + body.length, 0);
  frame.writeUInt32BE(header.length, 4); // serialize type 0 (JSON) in the top byte
  header.copy(frame, 8);
  body.copy(frame, 8 + header.length);
  return frame;
}

/** `frame` (a valid JSON-header frame) changed by `m`. */
export function mutate(frame: Buffer, m: Mutation): Buffer {
  const headerEnd = 8 + (frame.readUInt32BE(4) & 0xff_ffff);
  const header = frame.subarray(8, headerEnd);
  const body = frame.subarray(headerEnd);
  switch (m.kind) {
    case "flip-header":
    case "flip-frame": {
      const copy = Buffer.from(frame);
      const [from, size] = m.kind === "flip-header" ? [8, header.length] : [0, frame.length];
      for (const f of m.flips) copy[from + ((f >>> 3) % size)]! ^= 1 << (f & 7);
      return copy;
    }
    case "cut-header":
      return jsonFrame(header.subarray(0, m.keep % (header.length + 1)), body);
    case "splice-header": {
      const at = m.at % (header.length + 1);
      return jsonFrame(
        Buffer.concat([header.subarray(0, at), Buffer.from(m.insert), header.subarray(at + m.remove)]),
        body,
      );
    }
    case "number": {
      const runs = [...header.toString("latin1").matchAll(/-?[0-9]+/g)];
      if (runs.length === 0) return frame;
      const run = runs[m.which % runs.length]!;
      const at = run.index;
      const replaced = Buffer.concat([
        header.subarray(0, at),
        Buffer.from(m.text, "latin1"),
        header.subarray(at + run[0].length),
      ]);
      return jsonFrame(replaced, body);
    }
    case "more-ext": {
      // Entries added to the extFields object, the shape kept: past a limit of 0 slack, the
      // matcher itself must refuse them.
      const text = header.toString("latin1");
      const open = text.indexOf('"extFields":{');
      if (open < 0) return frame;
      const at = open + '"extFields":{'.length;
      const entries = Array.from({ length: m.count }, (_, k) => `"more${k}":"v"`).join(",");
      const added = text[at] === "}" ? entries : `${entries},`;
      return jsonFrame(Buffer.from(text.slice(0, at) + added + text.slice(at), "latin1"), body);
    }
    case "cut-frame":
      return frame.subarray(0, m.keep % frame.length);
    case "length": {
      const copy = Buffer.from(frame);
      copy.writeUInt32BE(m.length >>> 0, 0);
      return copy;
    }
  }
}

// ------------------------------------------------------------------------------ reading

/**
 * Pushes `bytes` to `decoder` as reads ending at `cuts`. With `inPlace`, as a socket reading
 * with `onread` (src/transport/read-buffers.ts): no read is larger than MAX_READ_BYTES, and while
 * `readBuffer()` hands out a frame's tail the next bytes are written into it and pushed as a view
 * of it, which the decoder then takes without a copy.
 */
export function feed(
  decoder: FrameDecoder<RemotingCommand>,
  bytes: Buffer,
  cuts: readonly number[],
  inPlace: boolean,
): RemotingCommand[] {
  const frames: RemotingCommand[] = [];
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    while (from < cut) {
      const target = inPlace ? decoder.readBuffer?.() : undefined;
      if (target !== undefined && target.length > 0) {
        const n = Math.min(target.length, cut - from, MAX_READ_BYTES);
        bytes.copy(target, 0, from, from + n);
        for (const f of decoder.push(target.subarray(0, n))) frames.push(f);
        from += n;
      } else {
        const to = inPlace ? Math.min(cut, from + MAX_READ_BYTES) : cut;
        for (const f of decoder.push(bytes.subarray(from, to))) frames.push(f);
        from = to;
      }
    }
  }
  return frames;
}

/** What one decoder made of a copy: frames or the error, and the opaques it may have drawn. */
interface Decoded {
  frames: RemotingCommand[];
  error: unknown;
  largestAllocation: number;
  /** Opaques strictly between these were drawn by the decoder, for headers without one. */
  drawn: [number, number];
}

function decode(
  decoder: FrameDecoder<RemotingCommand>,
  bytes: Buffer,
  cuts: readonly number[],
  inPlace: boolean,
): Decoded {
  let frames: RemotingCommand[] = [];
  let error: unknown;
  const low = nextOpaque();
  startAllocationTracking();
  try {
    frames = feed(decoder, bytes, cuts, inPlace);
  } catch (err) {
    error = err;
  }
  const largestAllocation = stopAllocationTracking();
  return { frames, error, largestAllocation, drawn: [low, nextOpaque()] };
}

/**
 * Fails unless `a` (from the learned codec) and `b` (from a fresh one) are the same command. When
 * `decoded` gives the decodes they came from, opaques both decoders drew are taken as equal.
 */
function assertSameCommand(a: RemotingCommand, b: RemotingCommand, decoded?: [Decoded, Decoded]): void {
  const drawn = (op: number, d: Decoded | undefined): boolean =>
    d !== undefined && op > d.drawn[0] && op < d.drawn[1];
  const fields = (c: RemotingCommand) => ({
    code: c.code,
    language: c.language,
    version: c.version,
    flag: c.flag,
    remark: c.remark,
    extFields: c.extFields === null ? null : [...c.extFields],
    serializeType: c.serializeType,
  });
  assert.deepEqual(fields(a), fields(b), "the learned shape and the scan decoded different commands");
  assert.ok(a.body === null ? b.body === null : b.body !== null && a.body.equals(b.body), "bodies differ");
  if (a.opaque !== b.opaque) {
    // A header without an opaque takes the next of the process's sequence: one per decoder.
    assert.ok(
      drawn(a.opaque, decoded?.[0]) && drawn(b.opaque, decoded?.[1]),
      `opaque ${a.opaque} vs ${b.opaque}`,
    );
  }
}

// ------------------------------------------------------------------------------ the check

/**
 * Runs one input (see the file comment) and returns an outcome per mutated copy. Throws an
 * AssertionError on a breach of the contract.
 */
export function checkShapeMutation(input: ShapeMutationInput): Outcome[] {
  const { command, inPlace, slack } = input;
  const valid = encodeFrame(command);
  const learned = [valid, valid];
  for (const s of input.siblings) {
    const other = new RemotingCommand({
      code: command.code,
      flag: command.flag,
      language: command.language,
      version: command.version,
      opaque: s.opaque,
      remark: s.remark,
      // The shape says whether there are extFields, not which.
      extFields: command.extFields === null ? null : new Map(s.ext),
      body: command.body,
      serializeType: SerializeType.JSON,
    });
    learned.push(encodeFrame(other));
  }
  const headerBytes = (f: Buffer): number => f.readUInt32BE(4) & 0xff_ffff;
  const limits: Required<DecoderLimits> = {
    maxFrameBytes: Math.max(...learned.map((f) => f.length)) + slack.frame,
    maxHeaderBytes: Math.max(21, ...learned.map(headerBytes)) + slack.header,
    maxExtFields:
      Math.max(command.extFields?.size ?? 0, ...input.siblings.map((s) => s.ext.length)) + slack.extFields,
  };
  const codec = new RocketmqCodec();
  const learner = codec.createDecoder(limits);
  // Learn the shape: the first frame is scanned, the second and the siblings compared with it;
  // each decodes as on a codec that never saw the shape.
  for (const frame of learned) {
    const warm = decode(learner, frame, [], inPlace);
    const cold = decode(new RocketmqCodec().createDecoder(limits), frame, [], false);
    if (warm.error !== undefined) throw warm.error;
    assert.equal(warm.frames.length, 1);
    assert.equal(cold.frames.length, 1);
    assertSameCommand(warm.frames[0]!, cold.frames[0]!);
  }
  const [expected] = new RocketmqCodec().createDecoder(limits).push(valid);
  const outcomes: Outcome[] = [];
  input.copies.forEach((copy, i) => {
    const bad = mutate(valid, copy.mutation);
    const bytes = Buffer.concat([...learned.slice(0, copy.before), bad, ...learned.slice(0, copy.after)]);
    const cuts = copy.cuts.map((c) => c % (bytes.length + 1)).sort((a, b) => a - b);
    const decoder = i === 0 ? learner : codec.createDecoder(limits);
    const cpu = process.cpuUsage();
    const started = performance.now();
    const warm = decode(decoder, bytes, cuts, inPlace);
    const ms = performance.now() - started;
    const used = process.cpuUsage(cpu);
    const cold = decode(new RocketmqCodec().createDecoder(limits), bytes, cuts, false);
    for (const d of [warm, cold]) {
      assert.ok(
        d.largestAllocation <= limits.maxFrameBytes,
        `allocated ${d.largestAllocation} bytes, limit ${limits.maxFrameBytes}`,
      );
    }
    const reason = warm.error === undefined ? undefined : checkError(warm.error);
    assert.equal(
      reason,
      cold.error === undefined ? undefined : checkError(cold.error),
      "refused differently",
    );
    // Frames before a refusal depend on how the reads fell; without one, all must agree.
    if (reason === undefined) {
      assert.equal(warm.frames.length, cold.frames.length);
      for (let k = 0; k < warm.frames.length; k++) {
        assertSameCommand(warm.frames[k]!, cold.frames[k]!, [warm, cold]);
      }
    }
    checkDeadOrUsable(decoder, bytes, limits, warm.error, valid, (probe) =>
      assertSameCommand(probe, expected!),
    );
    outcomes.push({
      frames: warm.frames.length,
      reason,
      ms,
      cpuMs: (used.user + used.system) / 1000,
      largestAllocation: warm.largestAllocation,
    });
  });
  return outcomes;
}
