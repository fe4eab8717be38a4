/**
 * Property tests (fast-check): random commands round-trip through both header serializations,
 * and random streams of frames decode to the same frames under any chunking.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import type { FrameSink } from "../../src/codec/codec.js";
import { RemotingCommand, SerializeType } from "../../src/codec/remoting-command.js";
import { decodeFrame, encodeFrame, rocketmqCodec } from "../../src/codec/rocketmq-codec.js";
import { ErrorCodes } from "../../src/errors.js";

const INT16 = { min: -32768, max: 32767 };
const INT32 = { min: -(2 ** 31), max: 2 ** 31 - 1 };

/** Strings rich in what escaping and UTF-8 get wrong: controls, C1, U+2028/9, quotes, emoji. */
const nasty = fc.string({
  unit: fc.oneof(
    fc.constantFrom('"', "\\", "/", "\u0000", "\b", "\t", "\n", "\u000b", "\f", "\r", "\u001f", "\u007f"),
    fc.constantFrom("\u0085", "\u009f", "\u00a0", "\u2028", "\u2029", "😀", "🚀", "世", "é", "𧚽"),
    fc.string({ unit: "binary", minLength: 1, maxLength: 1 }),
    fc.string({ unit: "grapheme-ascii", minLength: 1, maxLength: 1 }),
  ),
  maxLength: 24,
});

const extFields = fc.option(fc.uniqueArray(fc.tuple(nasty, nasty), { selector: ([k]) => k, maxLength: 8 }), {
  nil: null,
});

function commandArb(type: SerializeType): fc.Arbitrary<RemotingCommand> {
  const small = type === SerializeType.ROCKETMQ ? INT16 : INT32;
  return fc
    .record({
      code: fc.integer(small),
      language: fc.integer({ min: 0, max: 13 }),
      version: fc.integer(small),
      opaque: fc.integer(INT32),
      flag: fc.integer(INT32),
      remark: fc.option(nasty, { nil: null }),
      ext: extFields,
      body: fc.option(fc.uint8Array({ maxLength: 300 }), { nil: null }),
    })
    .map(
      (r) =>
        new RemotingCommand({
          ...r,
          extFields: r.ext === null ? null : new Map(r.ext),
          body: r.body === null ? null : Buffer.from(r.body),
          serializeType: type,
        }),
    );
}

/** What a decode must give back: RocketMQ's documented empty -> null rules. */
function expected(cmd: RemotingCommand): unknown {
  const binary = cmd.serializeType === SerializeType.ROCKETMQ;
  let ext = cmd.extFields === null ? null : [...cmd.extFields];
  if (binary && ext !== null) {
    ext = ext.filter(([k, v]) => k !== "" && v !== "");
    if (cmd.extFields!.size === 0) ext = null;
  }
  return {
    type: cmd.serializeType,
    code: cmd.code,
    language: cmd.language,
    version: cmd.version,
    opaque: cmd.opaque,
    flag: cmd.flag,
    remark: binary && cmd.remark === "" ? null : cmd.remark,
    ext,
    body: cmd.body === null || cmd.body.length === 0 ? null : cmd.body.toString("hex"),
  };
}

function actual(cmd: RemotingCommand): unknown {
  return {
    type: cmd.serializeType,
    code: cmd.code,
    language: cmd.language,
    version: cmd.version,
    opaque: cmd.opaque,
    flag: cmd.flag,
    remark: cmd.remark,
    ext: cmd.extFields === null ? null : [...cmd.extFields],
    body: cmd.body === null ? null : cmd.body.toString("hex"),
  };
}

const anyCommand = fc.oneof(commandArb(SerializeType.JSON), commandArb(SerializeType.ROCKETMQ));

test("JSON header: encode -> decode round trips", () => {
  fc.assert(
    fc.property(commandArb(SerializeType.JSON), (cmd) => {
      assert.deepEqual(actual(decodeFrame(encodeFrame(cmd))), expected(cmd));
    }),
    { numRuns: 300 },
  );
});

test("ROCKETMQ header: encode -> decode round trips", () => {
  fc.assert(
    fc.property(commandArb(SerializeType.ROCKETMQ), (cmd) => {
      assert.deepEqual(actual(decodeFrame(encodeFrame(cmd))), expected(cmd));
    }),
    { numRuns: 300 },
  );
});

test("a stream of frames decodes the same under random chunking", () => {
  fc.assert(
    fc.property(
      fc.array(anyCommand, { minLength: 1, maxLength: 6 }),
      fc.array(fc.integer({ min: 0, max: 1 << 16 }), { maxLength: 12 }),
      (cmds, cuts) => {
        const wire = Buffer.concat(cmds.map(encodeFrame));
        const points = [...new Set(cuts.map((c) => c % (wire.length + 1)))].sort((a, b) => a - b);
        const decoder = rocketmqCodec.createDecoder();
        const out: RemotingCommand[] = [];
        let from = 0;
        for (const p of [...points, wire.length]) {
          out.push(...decoder.push(wire.subarray(from, p)));
          from = p;
        }
        assert.deepEqual(out.map(actual), cmds.map(expected));
        assert.equal(decoder.bufferedBytes, 0);
      },
    ),
    { numRuns: 150 },
  );
});

test("a stream of frames decodes the same fed one byte at a time", () => {
  fc.assert(
    fc.property(fc.array(anyCommand, { minLength: 1, maxLength: 4 }), (cmds) => {
      const wire = Buffer.concat(cmds.map(encodeFrame));
      const decoder = rocketmqCodec.createDecoder();
      const out: RemotingCommand[] = [];
      for (let i = 0; i < wire.length; i++) out.push(...decoder.push(wire.subarray(i, i + 1)));
      assert.deepEqual(out.map(actual), cmds.map(expected));
    }),
    { numRuns: 40 },
  );
});

/**
 * A FrameSink that hands out a fresh buffer per claim, at an offset, and keeps every piece in
 * order: what a driver would put on the wire.
 */
class CollectingSink implements FrameSink {
  readonly parts: Buffer[] = [];
  claimBuffer: Buffer = Buffer.alloc(0);
  claim(bytes: number): number {
    const buf = Buffer.alloc(bytes + 3, 0xee);
    this.claimBuffer = buf;
    this.parts.push(buf.subarray(3));
    return 3;
  }
  append(chunk: Buffer): void {
    this.parts.push(chunk);
  }
  bytes(): Buffer {
    return Buffer.concat(this.parts);
  }
}

test("encodeInto writes exactly the bytes encode returns, in both serializations", () => {
  fc.assert(
    fc.property(fc.oneof(commandArb(SerializeType.JSON), commandArb(SerializeType.ROCKETMQ)), (cmd) => {
      const sink = new CollectingSink();
      rocketmqCodec.encodeInto(cmd, sink);
      assert.deepEqual(sink.bytes(), Buffer.concat(rocketmqCodec.encode(cmd)));
    }),
    { numRuns: 300 },
  );
});

test("encodeInto refuses a command its header cannot hold before claiming anything", () => {
  const sink = new CollectingSink();
  const bad = new RemotingCommand({
    code: 40_000,
    opaque: 1,
    extFields: { k: "v" },
    serializeType: SerializeType.ROCKETMQ,
  });
  assert.throws(() => rocketmqCodec.encodeInto(bad, sink), { code: ErrorCodes.INVALID_ARGUMENT });
  const hugeKey = new RemotingCommand({
    code: 1,
    opaque: 1,
    extFields: { ["k".repeat(40_000)]: "v" },
    serializeType: SerializeType.ROCKETMQ,
  });
  assert.throws(() => rocketmqCodec.encodeInto(hugeKey, sink), { code: ErrorCodes.INVALID_ARGUMENT });
  const notInt32 = new RemotingCommand({ code: 2 ** 31, opaque: 1, serializeType: SerializeType.JSON });
  assert.throws(() => rocketmqCodec.encodeInto(notInt32, sink), { code: ErrorCodes.INVALID_ARGUMENT });
  assert.equal(sink.parts.length, 0);
  // Nothing of the refused commands leaks into the next frame.
  const good = new RemotingCommand({
    code: 7,
    opaque: 9,
    remark: "r",
    serializeType: SerializeType.ROCKETMQ,
  });
  rocketmqCodec.encodeInto(good, sink);
  assert.deepEqual(sink.bytes(), encodeFrame(good));
});
