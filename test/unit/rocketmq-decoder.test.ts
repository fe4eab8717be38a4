import assert from "node:assert/strict";
import { describe, test } from "node:test";
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
