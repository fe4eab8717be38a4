/**
 * The decoder's header limits (issue 10, "Hostile input"): maxHeaderBytes and maxExtFields. Without
 * them a 16 MiB frame within maxFrameBytes whose ROCKETMQ header held 1.68M three-byte keys took
 * 1.8 s to decode on this machine, blocking every connection of the process, and 100,000
 * extFields took 80 ms. RELIABILITY.md, "Hostile input and limits".
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { DEFAULT_MAX_EXT_FIELDS, DEFAULT_MAX_HEADER_BYTES } from "../../src/codec/codec.js";
import { RemotingCommand, SerializeType } from "../../src/codec/remoting-command.js";
import { decodeFrame, encodeFrame, rocketmqCodec } from "../../src/codec/rocketmq-codec.js";
import { ErrorCodes, type FrameErrorReason, MalformedFrameError } from "../../src/errors.js";

function withExtFields(type: SerializeType, count: number, key: (i: number) => string): Buffer {
  const ext = new Map<string, string>();
  for (let i = 0; i < count; i++) ext.set(key(i), "v");
  return encodeFrame(new RemotingCommand({ opaque: 1, serializeType: type, extFields: ext }));
}

function refused(fn: () => unknown, reason: FrameErrorReason): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof MalformedFrameError, String(err));
    assert.equal(err.code, ErrorCodes.MALFORMED_FRAME);
    assert.equal(err.reason, reason);
    return true;
  });
}

/** A JSON frame with `text` as its header. */
function jsonFrame(text: string): Buffer {
  const header = Buffer.from(text);
  const frame = Buffer.alloc(8 + header.length);
  frame.writeUInt32BE(4 + header.length, 0);
  frame.writeUInt32BE(header.length, 4);
  header.copy(frame, 8);
  return frame;
}

describe("maxExtFields", () => {
  const cases: [string, SerializeType, (i: number) => string][] = [
    ["JSON, scanner path", SerializeType.JSON, (i) => `k${i}`],
    // Integer-like keys: JSON.parse path plus the key-order scan (json-header.ts).
    ["JSON, JSON.parse path", SerializeType.JSON, (i) => `${i}`],
    ["ROCKETMQ", SerializeType.ROCKETMQ, (i) => `k${i}`],
  ];
  for (const [name, type, key] of cases) {
    test(`${name}: 100,000 extFields are refused by default, quickly`, () => {
      const frame = withExtFields(type, 100_000, key);
      const limits = { maxHeaderBytes: 0xff_ffff };
      const started = performance.now();
      refused(() => decodeFrame(frame, limits), "ext-fields-count");
      refused(() => rocketmqCodec.createDecoder(limits).push(frame), "ext-fields-count");
      const ms = performance.now() - started;
      // The JSON.parse path parses the whole header before counting (bounded by maxHeaderBytes).
      assert.ok(ms < 2_000, `took ${ms} ms`);
      // With the default header limit the frame is refused before any parse.
      refused(() => decodeFrame(frame), "header-too-large");
    });

    test(`${name}: the limit is inclusive and can be raised`, () => {
      const at = withExtFields(type, DEFAULT_MAX_EXT_FIELDS, key);
      assert.equal(decodeFrame(at).extFields!.size, DEFAULT_MAX_EXT_FIELDS);
      const over = withExtFields(type, DEFAULT_MAX_EXT_FIELDS + 1, key);
      refused(() => decodeFrame(over), "ext-fields-count");
      const raised = { maxExtFields: DEFAULT_MAX_EXT_FIELDS + 1 };
      assert.equal(decodeFrame(over, raised).extFields!.size, DEFAULT_MAX_EXT_FIELDS + 1);
      const decoder = rocketmqCodec.createDecoder(raised);
      assert.equal(decoder.push(over)[0]!.extFields!.size, DEFAULT_MAX_EXT_FIELDS + 1);
      refused(() => rocketmqCodec.createDecoder({ maxExtFields: 0 }).push(at), "ext-fields-count");
    });
  }

  test("JSON: null values and repeated keys count as keys", () => {
    const limits = { maxExtFields: 2 };
    refused(
      () => decodeFrame(jsonFrame('{"extFields":{"a":"1","b":null,"c":"3"}}'), limits),
      "ext-fields-count",
    );
    assert.equal(decodeFrame(jsonFrame('{"extFields":{"a":"1","b":null}}'), limits).extFields!.size, 1);
    refused(
      () => decodeFrame(jsonFrame('{"extFields":{"a":"1","b":"2","c":3}}'), limits),
      "ext-fields-count",
    );
  });

  test("ROCKETMQ: every entry on the wire counts, empty ones too", () => {
    const header = Buffer.alloc(21 + 3 * 6);
    header.writeInt32BE(18, 17); // extLen: three empty entries (key length 0, value length 0)
    const frame = Buffer.alloc(8 + header.length);
    frame.writeUInt32BE(4 + header.length, 0);
    frame.writeUInt32BE((1 << 24) | header.length, 4);
    header.copy(frame, 8);
    assert.equal(decodeFrame(frame, { maxExtFields: 3 }).extFields!.size, 0);
    refused(() => decodeFrame(frame, { maxExtFields: 2 }), "ext-fields-count");
  });
});

describe("maxHeaderBytes", () => {
  for (const type of [SerializeType.JSON, SerializeType.ROCKETMQ]) {
    test(`${type === SerializeType.JSON ? "JSON" : "ROCKETMQ"}: a header over the limit is refused before it is parsed`, () => {
      const cmd = new RemotingCommand({ opaque: 1, serializeType: type, remark: "r".repeat(1000) });
      const frame = encodeFrame(cmd);
      const headerLen = frame.readUInt32BE(4) & 0xff_ffff;
      assert.equal(decodeFrame(frame, { maxHeaderBytes: headerLen }).remark, cmd.remark);
      refused(() => decodeFrame(frame, { maxHeaderBytes: headerLen - 1 }), "header-too-large");
      refused(
        () => rocketmqCodec.createDecoder({ maxHeaderBytes: headerLen - 1 }).push(frame),
        "header-too-large",
      );
      // A body of any size is not the header's: a large body passes a small header limit.
      const big = encodeFrame(
        new RemotingCommand({ opaque: 1, serializeType: type, body: Buffer.alloc(1 << 20) }),
      );
      assert.equal(decodeFrame(big, { maxHeaderBytes: 128 }).body!.length, 1 << 20);
    });
  }

  test("the default is 256 KiB; a header of 1 MiB passes when raised", () => {
    assert.equal(DEFAULT_MAX_HEADER_BYTES, 256 * 1024);
    const frame = encodeFrame(new RemotingCommand({ opaque: 1, remark: "x".repeat(1 << 20) }));
    refused(() => decodeFrame(frame), "header-too-large");
    assert.equal(decodeFrame(frame, { maxHeaderBytes: 2 << 20 }).remark!.length, 1 << 20);
  });

  test("bad limits are refused with MQW_ERR_INVALID_ARGUMENT", () => {
    for (const limits of [
      { maxHeaderBytes: 20 },
      { maxHeaderBytes: 0x100_0000 },
      { maxHeaderBytes: 1.5 },
      { maxExtFields: -1 },
      { maxExtFields: Number.NaN },
    ]) {
      assert.throws(() => rocketmqCodec.createDecoder(limits), { code: ErrorCodes.INVALID_ARGUMENT });
      assert.throws(() => decodeFrame(Buffer.alloc(8), limits), { code: ErrorCodes.INVALID_ARGUMENT });
    }
  });
});
