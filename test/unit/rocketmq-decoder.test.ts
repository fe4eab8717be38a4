import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import type { FrameDecoder } from "../../src/codec/codec.js";
import { RemotingCommand, SerializeType } from "../../src/codec/remoting-command.js";
import {
  createRocketmqCodec,
  DEFAULT_MAX_FRAME_BYTES,
  decodeFrame,
  encodeFrame,
  RocketmqCodec,
  rocketmqCodec,
} from "../../src/codec/rocketmq-codec.js";

/** A frame prefix: length field and header-length word. */
function prefix(length: number, word: number): Buffer {
  const buf = Buffer.alloc(8);
  buf.writeUInt32BE(length, 0);
  buf.writeUInt32BE(word >>> 0, 4);
  return buf;
}

function expectError(fn: () => unknown, code: string, reason: string): void {
  assert.throws(fn, (err: { code?: string; reason?: string }) => {
    assert.equal(err.code, code);
    assert.equal(err.reason, reason);
    return true;
  });
}

const MALFORMED = "MQW_ERR_MALFORMED_FRAME";

function sampleFrames(): { cmds: RemotingCommand[]; wire: Buffer } {
  const cmds = [
    RemotingCommand.createRequest(10, {
      opaque: 1,
      extFields: { topic: "T", "3": "x" },
      body: Buffer.from("abc"),
    }),
    RemotingCommand.createResponse(0, "ok", { opaque: 1, serializeType: SerializeType.ROCKETMQ }),
    new RemotingCommand({ code: 7, opaque: 2, remark: "😀\u2028", body: Buffer.alloc(300, 7) }),
    new RemotingCommand({
      code: -5,
      opaque: 3,
      serializeType: SerializeType.ROCKETMQ,
      body: Buffer.from([1]),
    }),
  ];
  return { cmds, wire: Buffer.concat(cmds.map(encodeFrame)) };
}

function fields(cmd: RemotingCommand): unknown {
  return {
    t: cmd.serializeType,
    code: cmd.code,
    opaque: cmd.opaque,
    flag: cmd.flag,
    remark: cmd.remark,
    ext: cmd.extFields && [...cmd.extFields],
    body: cmd.body?.toString("hex") ?? null,
  };
}

function feed(decoder: FrameDecoder<RemotingCommand>, pieces: Buffer[]): RemotingCommand[] {
  const out: RemotingCommand[] = [];
  for (const piece of pieces) out.push(...decoder.push(piece));
  return out;
}

describe("decoder errors", () => {
  test("length below 4 is length-too-small", () => {
    expectError(() => rocketmqCodec.createDecoder().push(prefix(3, 0)), MALFORMED, "length-too-small");
  });
  test("headerLen beyond length - 4 is header-length (checked once the frame is complete, as Java)", () => {
    const decoder = rocketmqCodec.createDecoder();
    assert.deepEqual(decoder.push(prefix(10, 7)), []);
    expectError(() => decoder.push(Buffer.alloc(6)), MALFORMED, "header-length");
  });
  test("a type byte other than 0 or 1 is serialize-type", () => {
    expectError(
      () => rocketmqCodec.createDecoder().push(prefix(4, 0x0200_0000)),
      MALFORMED,
      "serialize-type",
    );
  });
  test("an oversize frame is FrameTooLargeError, counted as length + 4 like Netty", () => {
    const decoder = rocketmqCodec.createDecoder();
    assert.doesNotThrow(() => decoder.push(prefix(DEFAULT_MAX_FRAME_BYTES - 4, 0)));
    assert.equal(decoder.bufferedBytes, 8);
    assert.throws(
      () => rocketmqCodec.createDecoder().push(prefix(DEFAULT_MAX_FRAME_BYTES - 3, 0)),
      (err: { code?: string; reason?: string; frameBytes?: number; maxFrameBytes?: number }) => {
        assert.equal(err.code, "MQW_ERR_FRAME_TOO_LARGE");
        assert.equal(err.reason, "length-too-large");
        assert.equal(err.frameBytes, DEFAULT_MAX_FRAME_BYTES + 1);
        assert.equal(err.maxFrameBytes, DEFAULT_MAX_FRAME_BYTES);
        return true;
      },
    );
  });
  test("a 2 GiB declared length throws from the prefix alone, before buffering anything", () => {
    const decoder = rocketmqCodec.createDecoder();
    decoder.push(Buffer.from([0x80, 0x00]));
    assert.equal(decoder.bufferedBytes, 2);
    expectError(
      () => decoder.push(Buffer.from([0x00, 0x00, 0x00])),
      "MQW_ERR_FRAME_TOO_LARGE",
      "length-too-large",
    );
    assert.equal(decoder.bufferedBytes, 0);
    expectError(
      () => rocketmqCodec.createDecoder().push(Buffer.from([0xff, 0xff, 0xff, 0xff])),
      "MQW_ERR_FRAME_TOO_LARGE",
      "length-too-large",
    );
  });
  test("after an error the decoder stays failed", () => {
    const decoder = rocketmqCodec.createDecoder();
    expectError(() => decoder.push(prefix(3, 0)), MALFORMED, "length-too-small");
    expectError(
      () => decoder.push(encodeFrame(new RemotingCommand({ opaque: 1 }))),
      MALFORMED,
      "length-too-small",
    );
  });
  test("header errors surface through push with their reason", () => {
    const frame = Buffer.concat([prefix(4 + 2, 2), Buffer.from("{x")]);
    expectError(() => rocketmqCodec.createDecoder().push(frame), MALFORMED, "json");
  });
  test("maxFrameBytes from the codec and from createDecoder; bad values refused", () => {
    const small = createRocketmqCodec({ maxFrameBytes: 64 });
    expectError(
      () => small.createDecoder().push(prefix(61, 0)),
      "MQW_ERR_FRAME_TOO_LARGE",
      "length-too-large",
    );
    assert.doesNotThrow(() => small.createDecoder().push(prefix(60, 0)));
    const decoder = rocketmqCodec.createDecoder({ maxFrameBytes: 100 });
    expectError(() => decoder.push(prefix(97, 0)), "MQW_ERR_FRAME_TOO_LARGE", "length-too-large");
    for (const bad of [0, 7, 1.5, Number.NaN, 2 ** 31]) {
      assert.throws(() => new RocketmqCodec({ maxFrameBytes: bad }), { code: "MQW_ERR_INVALID_ARGUMENT" });
      assert.throws(() => rocketmqCodec.createDecoder({ maxFrameBytes: bad }), {
        code: "MQW_ERR_INVALID_ARGUMENT",
      });
    }
  });
});

describe("decoder chunking", () => {
  test("whole frames in one chunk decode in place, bodies are views", () => {
    const { cmds, wire } = sampleFrames();
    const decoder = rocketmqCodec.createDecoder();
    const out = decoder.push(wire);
    assert.deepEqual(out.map(fields), cmds.map(fields));
    assert.equal(out[0]!.body!.buffer, wire.buffer, "body shares the received memory");
    assert.equal(out[1]!.body, null, "no body is null");
    assert.equal(decoder.bufferedBytes, 0);
  });
  test("every split into two chunks gives the same frames", () => {
    const { cmds, wire } = sampleFrames();
    const expected = cmds.map(fields);
    for (let i = 0; i <= wire.length; i++) {
      const decoder = rocketmqCodec.createDecoder();
      const out = feed(decoder, [wire.subarray(0, i), wire.subarray(i)]);
      assert.deepEqual(out.map(fields), expected, `split at ${i}`);
      assert.equal(decoder.bufferedBytes, 0);
    }
  });
  test("1-byte chunks give the same frames, bufferedBytes tracks the pending frame", () => {
    const { cmds, wire } = sampleFrames();
    const decoder = rocketmqCodec.createDecoder();
    const out: RemotingCommand[] = [];
    const first = encodeFrame(cmds[0]!).length;
    for (let i = 0; i < wire.length; i++) {
      out.push(...decoder.push(wire.subarray(i, i + 1)));
      if (i < first - 1) assert.equal(decoder.bufferedBytes, i + 1);
    }
    assert.deepEqual(out.map(fields), cmds.map(fields));
    assert.equal(decoder.bufferedBytes, 0);
  });
  test("empty chunks are harmless", () => {
    const { cmds, wire } = sampleFrames();
    const decoder = rocketmqCodec.createDecoder();
    const out = feed(decoder, [Buffer.alloc(0), wire.subarray(0, 2), Buffer.alloc(0), wire.subarray(2)]);
    assert.equal(out.length, cmds.length);
  });
  test("a spanning frame is copied out, so later changes to the chunks do not reach it", () => {
    const frame = encodeFrame(new RemotingCommand({ opaque: 1, body: Buffer.from("hello") }));
    const a = Buffer.from(frame.subarray(0, 10));
    const b = Buffer.from(frame.subarray(10));
    const decoder = rocketmqCodec.createDecoder();
    const [cmd] = feed(decoder, [a, b]);
    b.fill(0);
    assert.equal(cmd!.body!.toString(), "hello");
  });
});

/** A frame with a body of `bodyBytes` patterned bytes (so misplaced bytes show), then a small one. */
function largeStream(
  bodyBytes: number,
  type: SerializeType = SerializeType.ROCKETMQ,
): { cmds: RemotingCommand[]; wire: Buffer } {
  const body = Buffer.allocUnsafe(bodyBytes);
  for (let i = 0; i < bodyBytes; i++) body[i] = (i * 31 + (i >>> 8)) & 0xff;
  const cmds = [
    new RemotingCommand({
      code: 11,
      opaque: 5,
      extFields: { k: "v", topic: "T" },
      body,
      serializeType: type,
    }),
    new RemotingCommand({ code: 12, opaque: 6, body: Buffer.from("tail"), serializeType: type }),
  ];
  return { cmds, wire: Buffer.concat(cmds.map(encodeFrame)) };
}

/** `wire` cut at `cuts` (ascending, within bounds), then into `step`-byte reads. */
function cutInto(wire: Buffer, cuts: number[], step: number): Buffer[] {
  const pieces: Buffer[] = [];
  let from = 0;
  for (const c of [...cuts, wire.length]) {
    for (let p = from; p < c; p += step) pieces.push(wire.subarray(p, Math.min(c, p + step)));
    from = c;
  }
  return pieces;
}

describe("large frames spanning many chunks", () => {
  test("a large frame split at every byte of its prefix and header, then in 64 KiB reads", () => {
    const { cmds, wire } = largeStream(200_000);
    const expected = cmds.map(fields);
    const headerEnd = 8 + (wire.readUInt32BE(4) & 0xff_ffff);
    for (let i = 0; i <= headerEnd + 4; i++) {
      const decoder = rocketmqCodec.createDecoder();
      const out = feed(decoder, cutInto(wire, [i], 65_536));
      assert.deepEqual(out.map(fields), expected, `split at ${i}`);
      assert.equal(decoder.bufferedBytes, 0);
    }
  });
  test("the prefix in 1-byte reads, the body in one, the last 0-12 bytes in 1-byte reads", () => {
    const { cmds, wire } = largeStream(70_000, SerializeType.JSON);
    const expected = cmds.map(fields);
    const end = encodeFrame(cmds[0]!).length;
    for (let i = 0; i <= 12; i++) {
      const pieces = [...cutInto(wire.subarray(0, 12), [], 1), wire.subarray(12, end - i)];
      for (let p = end - i; p < wire.length; p++) pieces.push(wire.subarray(p, p + 1));
      const decoder = rocketmqCodec.createDecoder();
      assert.deepEqual(feed(decoder, pieces).map(fields), expected, `last ${i} bytes one by one`);
    }
  });
  test("random pieces of random large and small frames decode the same", () => {
    const frameArb = fc
      .record({
        code: fc.integer({ min: -100, max: 100 }),
        bodyBytes: fc.oneof(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 1_000, max: 150_000 })),
        seed: fc.integer({ min: 0, max: 255 }),
        type: fc.constantFrom(SerializeType.JSON, SerializeType.ROCKETMQ),
      })
      .map(({ code, bodyBytes, seed, type }) => {
        const body = Buffer.allocUnsafe(bodyBytes);
        for (let j = 0; j < bodyBytes; j++) body[j] = (j + seed) & 0xff;
        return new RemotingCommand({
          code,
          opaque: seed,
          remark: "r",
          body: bodyBytes === 0 ? null : body,
          serializeType: type,
        });
      });
    fc.assert(
      fc.property(
        fc.array(frameArb, { minLength: 1, maxLength: 4 }),
        fc.array(fc.nat(), { maxLength: 30 }),
        fc.integer({ min: 1, max: 70_000 }),
        (cmds, cutSeeds, step) => {
          const wire = Buffer.concat(cmds.map(encodeFrame));
          const cuts = [...new Set(cutSeeds.map((c) => c % (wire.length + 1)))].sort((a, b) => a - b);
          const decoder = rocketmqCodec.createDecoder();
          const out = feed(decoder, cutInto(wire, cuts, step));
          assert.deepEqual(out.map(fields), cmds.map(fields));
          assert.equal(decoder.bufferedBytes, 0);
        },
      ),
      { numRuns: 60 },
    );
  });
  test("bufferedBytes counts a spanning frame's bytes; the frame is a copy of its chunks", () => {
    const { cmds, wire } = largeStream(100_000);
    const pieces = cutInto(wire, [20_000, 50_000], wire.length).map((p) => Buffer.from(p));
    const decoder = rocketmqCodec.createDecoder();
    assert.deepEqual(decoder.push(pieces[0]!), []);
    assert.equal(decoder.bufferedBytes, 20_000);
    assert.deepEqual(decoder.push(pieces[1]!), []);
    assert.equal(decoder.bufferedBytes, 50_000);
    const out = decoder.push(pieces[2]!);
    assert.equal(decoder.bufferedBytes, 0);
    pieces[0]!.fill(0); // the last piece is not zeroed: the small frame whole in it is a view
    pieces[1]!.fill(0);
    assert.equal(out.length, 2);
    assert.equal(out[0]!.body!.length, 100_000);
    assert.deepEqual(out.map(fields), cmds.map(fields));
  });
  test("a 16 MiB frame allocates nothing before all of it has arrived", () => {
    const empty = encodeFrame(new RemotingCommand({ opaque: 1, serializeType: SerializeType.ROCKETMQ }));
    const bodyBytes = DEFAULT_MAX_FRAME_BYTES - empty.length;
    const wire = encodeFrame(
      new RemotingCommand({
        opaque: 1,
        serializeType: SerializeType.ROCKETMQ,
        body: Buffer.alloc(bodyBytes, 7),
      }),
    );
    assert.equal(wire.length, DEFAULT_MAX_FRAME_BYTES);
    const decoder = rocketmqCodec.createDecoder();
    const start = process.memoryUsage().arrayBuffers;
    assert.deepEqual(feed(decoder, cutInto(wire.subarray(0, wire.length - 1), [8], 1 << 20)), []);
    assert.equal(decoder.bufferedBytes, wire.length - 1);
    const held = process.memoryUsage().arrayBuffers - start;
    assert.ok(held < wire.length / 2, `allocated ${held} bytes for an incomplete frame`);
    const [cmd] = decoder.push(wire.subarray(wire.length - 1));
    assert.equal(cmd!.body!.length, bodyBytes);
    assert.equal(cmd!.body![bodyBytes - 1], 7);
  });
  test("a large frame's bad header is a typed error when it completes, and the decoder stays failed", () => {
    const frameBytes = 100_000;
    const bad = Buffer.alloc(frameBytes);
    bad.writeUInt32BE(frameBytes - 4, 0);
    bad.writeUInt32BE(frameBytes, 4); // header longer than the frame
    const decoder = rocketmqCodec.createDecoder();
    assert.deepEqual(feed(decoder, cutInto(bad.subarray(0, frameBytes - 1), [], 30_000)), []);
    expectError(() => decoder.push(bad.subarray(frameBytes - 1)), MALFORMED, "header-length");
    assert.equal(decoder.bufferedBytes, 0);
    expectError(() => decoder.push(Buffer.alloc(8)), MALFORMED, "header-length");
    const badType = Buffer.from(bad);
    badType.writeUInt32BE(0x0500_0000, 4);
    const other = rocketmqCodec.createDecoder();
    expectError(() => feed(other, cutInto(badType, [], 40_000)), MALFORMED, "serialize-type");
  });
});

describe("sniff", () => {
  const valid = encodeFrame(new RemotingCommand({ opaque: 1 }));
  test("need-more below 8 bytes", () => {
    for (let n = 0; n < 8; n++) assert.equal(rocketmqCodec.sniff(valid.subarray(0, n)), "need-more");
  });
  test("yes for a RocketMQ frame of either type", () => {
    assert.equal(rocketmqCodec.sniff(valid.subarray(0, 8)), "yes");
    const rmq = encodeFrame(new RemotingCommand({ opaque: 1, serializeType: SerializeType.ROCKETMQ }));
    assert.equal(rocketmqCodec.sniff(rmq), "yes");
  });
  test("no for the HTTP/2 preface, a TLS hello and bad words", () => {
    assert.equal(rocketmqCodec.sniff(Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")), "no");
    assert.equal(
      rocketmqCodec.sniff(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc])),
      "no",
    );
    assert.equal(rocketmqCodec.sniff(prefix(3, 0)), "no");
    assert.equal(rocketmqCodec.sniff(prefix(10, 0x0200_0000)), "no");
    assert.equal(rocketmqCodec.sniff(prefix(10, 7)), "no");
    assert.equal(rocketmqCodec.sniff(prefix(10, 6)), "yes");
  });
  test("applies the codec's maxFrameBytes", () => {
    const small = new RocketmqCodec({ maxFrameBytes: 64 });
    assert.equal(small.sniff(prefix(60, 0)), "yes");
    assert.equal(small.sniff(prefix(61, 0)), "no");
  });
});

describe("encode and decodeFrame", () => {
  test("encode returns [prefix+header, body] with the body not copied", () => {
    const body = Buffer.from("payload");
    const cmd = new RemotingCommand({ opaque: 1, body });
    const chunks = rocketmqCodec.encode(cmd);
    assert.equal(chunks.length, 2);
    assert.equal(chunks[1], body);
    assert.equal(chunks[0]!.readUInt32BE(0), 4 + (chunks[0]!.length - 8) + body.length);
    assert.equal(chunks[0]!.readUInt32BE(4), chunks[0]!.length - 8);
    assert.deepEqual(Buffer.concat(chunks), encodeFrame(cmd));
  });
  test("no body chunk for a null or empty body; ROCKETMQ type in the top byte", () => {
    const cmd = new RemotingCommand({
      opaque: 1,
      body: Buffer.alloc(0),
      serializeType: SerializeType.ROCKETMQ,
    });
    const chunks = rocketmqCodec.encode(cmd);
    assert.equal(chunks.length, 1);
    assert.equal(chunks[0]!.readUInt32BE(4), 0x0100_0000 | 21);
  });
  test("an unknown serialize type is refused", () => {
    const cmd = new RemotingCommand({ opaque: 1 });
    cmd.serializeType = 5 as SerializeType;
    assert.throws(() => rocketmqCodec.encode(cmd), { code: "MQW_ERR_INVALID_ARGUMENT" });
  });
  test("decodeFrame wants exactly one frame", () => {
    const frame = encodeFrame(new RemotingCommand({ code: 9, opaque: 1, body: Buffer.from("b") }));
    assert.equal(decodeFrame(frame).code, 9);
    expectError(() => decodeFrame(frame.subarray(0, frame.length - 1)), MALFORMED, "truncated");
    expectError(() => decodeFrame(frame.subarray(0, 3)), MALFORMED, "truncated");
    assert.throws(() => decodeFrame(Buffer.concat([frame, Buffer.from([0])])), {
      code: "MQW_ERR_INVALID_ARGUMENT",
    });
    expectError(
      () => decodeFrame(frame, { maxFrameBytes: 16 }),
      "MQW_ERR_FRAME_TOO_LARGE",
      "length-too-large",
    );
  });
});

describe("readBuffer: large frames read in place", () => {
  const big = new RemotingCommand({
    code: 9,
    opaque: 77,
    serializeType: SerializeType.ROCKETMQ,
    body: Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 7) & 0xff)),
  });
  const small = new RemotingCommand({ code: 1, opaque: 78, remark: "after", body: Buffer.from("x") });
  const wire = Buffer.concat([encodeFrame(big), encodeFrame(small)]);
  const bigLength = encodeFrame(big).length;

  test("no target before the length is known or for small frames", () => {
    const d = rocketmqCodec.createDecoder();
    assert.equal(d.readBuffer!(), undefined);
    d.push(wire.subarray(0, 3));
    assert.equal(d.readBuffer!(), undefined, "length field incomplete");
    const s = rocketmqCodec.createDecoder();
    s.push(encodeFrame(small).subarray(0, 10));
    assert.equal(s.readBuffer!(), undefined, "a frame under 64 KiB is not read in place");
  });

  test("bytes read into the target decode without a copy; the next frame follows", () => {
    const d = rocketmqCodec.createDecoder();
    assert.deepEqual(d.push(wire.subarray(0, 1000)), []);
    assert.equal(d.readBuffer!(), undefined, "nothing allocated before an eighth of the frame is here");
    let offset = 40_000;
    assert.deepEqual(d.push(wire.subarray(1000, offset)), []);
    let frames: RemotingCommand[] = [];
    const first = d.readBuffer!()!;
    // Read as a socket would: into what readBuffer hands out, at most 50,000 bytes at a time.
    for (let target = d.readBuffer!(); target !== undefined; target = d.readBuffer!()) {
      const n = Math.min(50_000, target.length);
      wire.copy(target, 0, offset, offset + n);
      offset += n;
      frames = d.push(target.subarray(0, n));
    }
    assert.equal(offset, bigLength, "reads stop at the frame's end");
    assert.equal(frames.length, 1);
    assert.equal(frames[0]!.opaque, 77);
    assert.ok(frames[0]!.body!.equals(big.body!));
    // The body views the buffer the bytes were read into: nothing was copied.
    assert.equal(frames[0]!.body!.buffer, first.buffer);
    const rest = d.push(wire.subarray(offset));
    assert.equal(rest.length, 1);
    assert.equal(rest[0]!.remark, "after");
    assert.equal(d.bufferedBytes, 0);
  });

  test("chunks that were not read into the target are copied into it", () => {
    const d = rocketmqCodec.createDecoder();
    d.push(wire.subarray(0, 20));
    d.push(wire.subarray(20, 40_020));
    const target = d.readBuffer!()!;
    assert.equal(target.length, bigLength - 40_020);
    // Ignore the target: feed other buffers, one running past the frame into the next one.
    d.push(Buffer.from(wire.subarray(40_020, 100_000)));
    const frames = d.push(Buffer.from(wire.subarray(100_000)));
    assert.deepEqual(
      frames.map((f) => f.opaque),
      [77, 78],
    );
    assert.ok(frames[0]!.body!.equals(big.body!));
    assert.equal(frames[0]!.body!.buffer, target.buffer, "the frame was assembled in the target");
  });
});
