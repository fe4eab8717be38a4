/**
 * Byte-exact interop with Apache RocketMQ 4.9.8 (fastjson 1.2.69): every frame in
 * test/fixtures/vectors/rocketmq and rocketmq-random is decoded to exactly what Java's
 * `RemotingCommand.decode` returned, and every input command encodes to exactly the Java bytes.
 * One test per vector; missing vectors fail the file, they are never skipped.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { languageName, type RemotingCommand, serializeTypeName } from "../../src/codec/remoting-command.js";
import { decodeFrame, encodeFrame, rocketmqCodec } from "../../src/codec/rocketmq-codec.js";
import { loadRandomVectors, loadRocketmqVectors, type Vector, vectorCommand } from "../helpers/vectors.js";

/**
 * What we expect from decoding: Java's decoded fields, extFields as ordered entries in wire order.
 * Java keeps an empty ROCKETMQ value as a null entry; mqwire drops it (Map<string, string>), which
 * every Java reader treats the same (get() is null, both Java encoders skip it).
 */
function expected(v: Vector): unknown {
  const d = v.decoded;
  let ext: [string, string][] | null = null;
  if (d.extFields !== null) {
    const order = v.extFieldsOrder ?? [];
    assert.deepEqual(
      new Set(Object.keys(d.extFields)),
      new Set(order),
      "Java's decoded keys are the wire keys",
    );
    ext = order.filter((k) => d.extFields![k] !== null).map((k) => [k, d.extFields![k] as string]);
  }
  return {
    serializeType: d.serializeType,
    code: d.code,
    language: d.language,
    version: d.version,
    opaque: d.opaque,
    flag: d.flag,
    remark: d.remark,
    extFields: ext,
    body: d.body,
  };
}

function actual(cmd: RemotingCommand): unknown {
  return {
    serializeType: serializeTypeName(cmd.serializeType),
    code: cmd.code,
    language: languageName(cmd.language),
    version: cmd.version,
    opaque: cmd.opaque,
    flag: cmd.flag,
    remark: cmd.remark,
    extFields: cmd.extFields === null ? null : [...cmd.extFields],
    body: cmd.body === null ? null : cmd.body.toString("base64"),
  };
}

function checkVector(v: Vector): void {
  const frame = Buffer.from(v.hex, "hex");

  // (a) decode, both through decodeFrame and an incremental decoder given the frame in one chunk.
  assert.deepEqual(actual(decodeFrame(frame)), expected(v), "decodeFrame");
  const decoder = rocketmqCodec.createDecoder();
  const frames = decoder.push(frame);
  assert.equal(frames.length, 1);
  assert.deepEqual(actual(frames[0]!), expected(v), "decoder.push");
  assert.equal(decoder.bufferedBytes, 0);

  // (b) encode the input command, keys in the wire order, to exactly Java's bytes.
  const cmd = vectorCommand(v);
  assert.equal(encodeFrame(cmd).toString("hex"), v.hex, "encodeFrame bytes");
  const chunks = rocketmqCodec.encode(cmd);
  if (cmd.body !== null && cmd.body.length > 0) {
    assert.equal(chunks.length, 2, "body is its own chunk");
    assert.equal(chunks[1], cmd.body, "body chunk is the command's buffer, not a copy");
  } else {
    assert.equal(chunks.length, 1, "no body chunk when the body is empty");
  }

  // (c) the header bytes and text on their own.
  const headerLen = frame.readUInt32BE(4) & 0xffffff;
  if (v.headerHex !== undefined)
    assert.equal(chunks[0]!.subarray(8).toString("hex"), v.headerHex, "headerHex");
  if (v.headerText !== undefined) {
    assert.equal(frame.subarray(8, 8 + headerLen).toString("utf8"), v.headerText, "headerText (vector)");
    assert.equal(chunks[0]!.subarray(8).toString("utf8"), v.headerText, "headerText (encoded)");
  }
}

function defineAll(title: string, load: () => Vector[], count: number): void {
  let vectors: Vector[];
  try {
    vectors = load();
  } catch (err) {
    test(`${title}: vectors present`, () => {
      throw err;
    });
    return;
  }
  describe(title, () => {
    test("vector count", () => assert.equal(vectors.length, count));
    for (const v of vectors) test(v.name, () => checkVector(v));
  });
}

defineAll("rocketmq vectors", loadRocketmqVectors, 20);
defineAll("rocketmq-random vectors", loadRandomVectors, 40);
