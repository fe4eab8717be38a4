import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { deflateSync, inflateSync } from "node:zlib";
import fc from "fast-check";
import { ErrorCodes } from "../../../src/errors.js";
import {
  compressBody,
  compressionOf,
  shouldCompress,
  ZLIB_COMPRESSED_SYS_FLAG,
} from "../../../src/rocketmq/compression.js";
import {
  decodeMessages,
  MESSAGE_MAGIC_CODE,
  MESSAGE_MAGIC_CODE_V2,
  type MessageExt,
} from "../../../src/rocketmq/message-decoder.js";
import { createOffsetMsgId } from "../../../src/rocketmq/message-id.js";
import {
  encodeStoredMessage,
  type JavaConsumed,
  messageFixtureDir,
  readMessageFixture,
} from "../../helpers/stored-message.js";

const PROTOCOL = ErrorCodes.PROTOCOL;

function protocolError(fn: () => unknown): void {
  assert.throws(fn, (err: { code?: string }) => err.code === PROTOCOL);
}

/** What the Java consumer printed, in MessageExt's terms (MIN/MAX_OFFSET are added after a pull, not stored). */
function expectedFromJava(j: JavaConsumed): Partial<MessageExt> & { body: Buffer } {
  const { MIN_OFFSET: _min, MAX_OFFSET: _max, ...stored } = j.properties;
  return {
    topic: j.topic,
    body: Buffer.from(j.bodyBase64, "base64"),
    keys: j.keys === null ? [] : j.keys.split(" "),
    properties: stored,
    queueId: j.queueId,
    queueOffset: j.queueOffset,
    commitLogOffset: j.commitLogOffset,
    storeSize: j.storeSize,
    bodyCRC: j.bodyCRC,
    sysFlag: j.sysFlag,
    bornTimestamp: j.bornTimestamp,
    bornHost: j.bornHost,
    storeTimestamp: j.storeTimestamp,
    storeHost: j.storeHost,
    reconsumeTimes: j.reconsumeTimes,
    msgId: j.msgId,
    offsetMsgId: j.offsetMsgId,
  };
}

function assertLikeJava(actual: MessageExt, j: JavaConsumed): void {
  const expected = expectedFromJava(j);
  for (const [field, value] of Object.entries(expected)) {
    assert.deepEqual(actual[field as keyof MessageExt], value, `${j.msgId} ${field}`);
  }
  assert.equal(actual.tags, j.tags ?? undefined, `${j.msgId} tags`);
  assert.equal(actual.body.length, j.bodyLength);
}

describe("decodeMessages: real pull bodies from a RocketMQ 4.9.8 broker", () => {
  test("mixed: empty body, plain, unicode, properties, a 10 KiB zlib body, 18 properties: as the Java consumer", () => {
    const { pull, consumed } = readMessageFixture("mixed");
    const messages = decodeMessages(pull);
    assert.equal(messages.length, 6);
    assert.equal(consumed.length, 6);
    for (const [i, m] of messages.entries()) assertLikeJava(m, consumed[i]!);
    const [empty, plain, unicode, zlibbed, many] = [
      messages[0]!,
      messages[1]!,
      messages[3]!,
      messages[4]!,
      messages[5]!,
    ];
    assert.equal(empty.body.length, 0);
    assert.equal(empty.msgId, empty.offsetMsgId, "no UNIQ_KEY: msgId is the offset id");
    assert.equal(plain.body.toString(), "plain #0");
    assert.deepEqual(plain.keys, ["k1", "k2"]);
    assert.equal(unicode.body.toString(), "unicode 你好 ✓ 🚀 é 0");
    assert.equal(unicode.tags, "Tag✓");
    assert.equal(unicode.properties.city, "Zürich");
    assert.equal(zlibbed.sysFlag, 769);
    assert.equal(zlibbed.body.length, 10240);
    assert.equal(zlibbed.bodyCompression, undefined);
    assert.deepEqual(many.keys, ["order-1", "order-2", "order-3"]);
    assert.equal(Object.keys(many.properties).length, 18);
    for (const m of messages) {
      assert.equal(m.flag, 0);
      assert.equal(m.preparedTransactionOffset, 0);
      assert.equal(
        m.offsetMsgId,
        createOffsetMsgId({ address: "127.0.0.1", port: 25289 }, m.commitLogOffset),
      );
    }
  });

  test("bodies are views of the input, no copy, unless inflated; a Uint8Array input works the same", () => {
    const { pull } = readMessageFixture("mixed");
    const input = new Uint8Array(pull.buffer, pull.byteOffset, pull.byteLength);
    for (const m of decodeMessages(input)) {
      if (m.body.length === 0) continue;
      assert.equal(m.body.buffer === pull.buffer, m.sysFlag === 0, m.msgId);
    }
  });

  test("decompress: false keeps the stored zlib bytes and says so; readBody: false returns empty bodies", () => {
    const { pull, consumed } = readMessageFixture("mixed");
    const raw = decodeMessages(pull, { decompress: false })[4]!;
    assert.equal(raw.bodyCompression, "ZLIB");
    assert.equal(raw.body.buffer, pull.buffer);
    assert.deepEqual(inflateSync(raw.body), Buffer.from(consumed[4]!.bodyBase64, "base64"));
    const heads = decodeMessages(pull, { readBody: false });
    assert.ok(heads.every((m) => m.body.length === 0 && m.bodyCompression === undefined));
    assert.deepEqual(
      heads.map((m) => m.msgId),
      consumed.map((j) => j.msgId),
    );
  });

  test("LZ4 and ZSTD bodies (no codec in Node 20): kept compressed, flagged, the rest as Java", () => {
    const { pull, consumed } = readMessageFixture("lz4-zstd");
    const [lz4, zstd] = decodeMessages(pull) as [MessageExt, MessageExt];
    assert.equal(lz4.sysFlag, 257);
    assert.equal(lz4.bodyCompression, "LZ4");
    assert.equal(lz4.body.readUInt32LE(0), 0x184d2204, "LZ4 frame magic");
    assert.equal(zstd.sysFlag, 513);
    if (zstd.bodyCompression === undefined) {
      assert.deepEqual(zstd.body, Buffer.from(consumed[1]!.bodyBase64, "base64")); // a runtime with zstd
    } else {
      assert.equal(zstd.bodyCompression, "ZSTD");
      assert.equal(zstd.body.readUInt32LE(0), 0xfd2fb528, "zstd frame magic");
    }
    for (const [i, m] of [lz4, zstd].entries()) {
      const { body: _b, ...rest } = expectedFromJava(consumed[i]!);
      for (const [field, value] of Object.entries(rest))
        assert.deepEqual(m[field as keyof MessageExt], value, field);
    }
  });

  test("batch: what the broker stored from encodeBatch's request, as the Java consumer read it", () => {
    const { pull, consumed } = readMessageFixture("batch");
    const request = JSON.parse(readFileSync(join(messageFixtureDir(), "batch.request.json"), "utf8")) as {
      msgIds: string[];
    };
    const messages = decodeMessages(pull);
    for (const [i, m] of messages.entries()) assertLikeJava(m, consumed[i]!);
    assert.deepEqual(
      messages.map((m) => m.msgId),
      request.msgIds,
    );
    assert.deepEqual(
      messages.map((m) => m.flag),
      [0, 7, 0],
    );
    assert.ok(
      messages.every((m) => m.properties.WAIT === "true" && m.properties.CLUSTER === "DefaultCluster"),
    );
  });
});

describe("decodeMessages: layouts a 4.9.8 broker does not write", () => {
  test("IPv6 born and store hosts (16-byte addresses, sysFlag bits 4 and 5)", () => {
    const buf = encodeStoredMessage({
      topic: "T6",
      body: Buffer.from("six"),
      properties: { UNIQ_KEY: "ABC", TAGS: "t" },
      bornHost: { ip: "2001:db8::1", port: 40000 },
      storeHost: { ip: "::1", port: 10911 },
      commitLogOffset: 4096,
      queueOffset: 9,
    });
    const [m] = decodeMessages(buf) as [MessageExt];
    assert.equal(m.sysFlag, 0x30);
    assert.equal(m.bornHost, "[2001:db8:0:0:0:0:0:1]:40000");
    assert.equal(m.storeHost, "[0:0:0:0:0:0:0:1]:10911");
    assert.equal(m.offsetMsgId, createOffsetMsgId({ address: "::1", port: 10911 }, 4096));
    assert.equal(m.offsetMsgId.length, 56);
    assert.equal(m.msgId, "ABC");
    assert.equal(m.body.toString(), "six");
    assert.equal(m.queueOffset, 9);
    assert.equal(m.storeSize, buf.length);
  });

  test("only the born host IPv6, then only the store host", () => {
    const a = decodeMessages(encodeStoredMessage({ topic: "T", bornHost: { ip: "::2", port: 1 } }))[0]!;
    assert.equal(a.bornHost, "[0:0:0:0:0:0:0:2]:1");
    assert.equal(a.storeHost, "127.0.0.1:10911");
    const b = decodeMessages(
      encodeStoredMessage({ topic: "T", storeHost: { ip: "::ffff:10.0.0.9", port: 2 } }),
    )[0]!;
    assert.equal(b.storeHost, "10.0.0.9:2");
    assert.equal(
      b.offsetMsgId.slice(0, 8),
      "0A000009",
      "Java's getStoreHostBytes gives 4 bytes for a mapped address",
    );
  });

  test("V2 magic: 2-byte topic length, topics over 127 bytes", () => {
    const topic = "t".repeat(300);
    const v2 = encodeStoredMessage({ topic, magic: "V2", body: Buffer.from("x") });
    assert.equal(v2.readInt32BE(4), MESSAGE_MAGIC_CODE_V2);
    const both = Buffer.concat([v2, encodeStoredMessage({ topic: "short", body: Buffer.from("y") })]);
    const [a, b] = decodeMessages(both) as [MessageExt, MessageExt];
    assert.equal(a.topic, topic);
    assert.equal(b.topic, "short");
    assert.equal(b.body.toString(), "y");
  });

  test("longs beyond 2^53 are refused, not rounded; 2^53 - 1 and negatives in range are kept", () => {
    const max = decodeMessages(
      encodeStoredMessage({ topic: "T", queueOffset: 2 ** 53 - 1, preparedTransactionOffset: -5 }),
    )[0]!;
    assert.equal(max.queueOffset, 2 ** 53 - 1);
    assert.equal(max.preparedTransactionOffset, -5);
    for (const field of [
      "queueOffset",
      "commitLogOffset",
      "bornTimestamp",
      "storeTimestamp",
      "preparedTransactionOffset",
    ]) {
      protocolError(() => decodeMessages(encodeStoredMessage({ topic: "T", [field]: 2n ** 53n })));
    }
  });

  test("ZSTD type 2 / LZ4 type 1 / zlib type 0 (older producers) / types 4-7", () => {
    const body = deflateSync(Buffer.from("old producer"));
    const old = decodeMessages(encodeStoredMessage({ topic: "T", body, sysFlag: 1 }))[0]!;
    assert.equal(old.body.toString(), "old producer");
    for (const type of [4, 5, 6, 7]) {
      protocolError(() =>
        decodeMessages(encodeStoredMessage({ topic: "T", body, sysFlag: 1 | (type << 8) })),
      );
    }
    // An unknown type with an empty body: Java never looks at it (bodyLen > 0 test).
    assert.equal(
      decodeMessages(encodeStoredMessage({ topic: "T", sysFlag: 1 | (7 << 8) }))[0]!.body.length,
      0,
    );
  });

  test("a corrupt zlib body and a body inflating past maxDecompressedBytes throw ProtocolError", () => {
    protocolError(() =>
      decodeMessages(encodeStoredMessage({ topic: "T", body: Buffer.from("not zlib"), sysFlag: 769 })),
    );
    const bomb = deflateSync(Buffer.alloc(1 << 20));
    const buf = encodeStoredMessage({ topic: "T", body: bomb, sysFlag: 769 });
    assert.equal(decodeMessages(buf)[0]!.body.length, 1 << 20);
    protocolError(() => decodeMessages(buf, { maxDecompressedBytes: 1000 }));
  });
});

describe("decodeMessages: truncated and lying buffers", () => {
  const { pull } = readMessageFixture("mixed");
  const boundaries = new Set<number>([0]);
  for (let p = 0; p < pull.length; p += pull.readInt32BE(p)) boundaries.add(p + pull.readInt32BE(p));

  test("every prefix: whole messages at boundaries, ProtocolError elsewhere", () => {
    for (let n = 0; n <= pull.length; n++) {
      const prefix = pull.subarray(0, n);
      if (boundaries.has(n)) {
        assert.ok(Array.isArray(decodeMessages(prefix)), `prefix ${n}`);
      } else {
        protocolError(() => decodeMessages(prefix));
      }
    }
  });

  test("each length field lying", () => {
    const one = encodeStoredMessage({ topic: "Topic", body: Buffer.from("body"), properties: { a: "b" } });
    const patched = (at: number, write: (b: Buffer) => void): Buffer => {
      const b = Buffer.from(one);
      write(b.subarray(at));
      return b;
    };
    const bodyLenAt = 84;
    const topicLenAt = bodyLenAt + 4 + 4;
    const propsLenAt = topicLenAt + 1 + 5;
    protocolError(() => decodeMessages(patched(0, (b) => b.writeInt32BE(one.length + 1))));
    protocolError(() => decodeMessages(patched(0, (b) => b.writeInt32BE(one.length - 1))));
    protocolError(() => decodeMessages(patched(0, (b) => b.writeInt32BE(-1))));
    protocolError(() => decodeMessages(patched(4, (b) => b.writeInt32BE(MESSAGE_MAGIC_CODE + 1))));
    protocolError(() => decodeMessages(patched(4, (b) => b.writeInt32BE(-875286124)))); // BLANK_MAGIC_CODE
    protocolError(() => decodeMessages(patched(36, (b) => b.writeInt32BE(0x10)))); // claims an IPv6 born host
    protocolError(() => decodeMessages(patched(bodyLenAt, (b) => b.writeInt32BE(5))));
    protocolError(() => decodeMessages(patched(bodyLenAt, (b) => b.writeInt32BE(-1))));
    protocolError(() => decodeMessages(patched(bodyLenAt, (b) => b.writeInt32BE(0x7fffffff))));
    protocolError(() => decodeMessages(patched(topicLenAt, (b) => b.writeUInt8(0x80)))); // negative byte, as Java reads it
    protocolError(() => decodeMessages(patched(topicLenAt, (b) => b.writeUInt8(6))));
    protocolError(() => decodeMessages(patched(propsLenAt, (b) => b.writeInt16BE(4))));
    protocolError(() => decodeMessages(patched(propsLenAt, (b) => b.writeInt16BE(-1))));
    protocolError(() => decodeMessages(patched(52, (b) => b.writeInt32BE(70000)))); // born port
    assert.equal(decodeMessages(one)[0]!.topic, "Topic");
  });

  test("fast-check: truncations and bit flips of a real batch give a ProtocolError or messages, never another error", () => {
    const check = (buf: Uint8Array): void => {
      try {
        const messages = decodeMessages(buf);
        let total = 0;
        for (const m of messages) {
          total += m.storeSize;
          assert.ok(m.body.length <= buf.length || m.sysFlag & 1);
        }
        assert.equal(total, buf.length);
      } catch (err) {
        if ((err as { code?: string }).code !== PROTOCOL) throw err;
      }
    };
    fc.assert(
      fc.property(
        fc.array(fc.nat({ max: pull.length * 8 - 1 }), { minLength: 1, maxLength: 4 }),
        fc.nat({ max: pull.length }),
        (flips, cut) => {
          const copy = Buffer.from(pull.subarray(0, Math.max(cut, 1)));
          for (const bit of flips) {
            const at = bit >> 3;
            if (at < copy.length) copy[at]! ^= 1 << (bit & 7);
          }
          check(copy);
        },
      ),
      { seed: 20261206, numRuns: 2000 },
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => check(bytes)),
      { seed: 7, numRuns: 500 },
    );
  });
});

describe("compression.ts against the Java producer's zlib body", () => {
  const { pull, consumed } = readMessageFixture("mixed");
  const stored = decodeMessages(pull, { decompress: false })[4]!;
  const original = Buffer.from(consumed[4]!.bodyBase64, "base64");

  test("shouldCompress: body.length >= threshold (4096 by default)", () => {
    assert.equal(shouldCompress(new Uint8Array(4095)), false);
    assert.equal(shouldCompress(new Uint8Array(4096)), true);
    assert.equal(shouldCompress(new Uint8Array(10), 10), true);
    assert.equal(shouldCompress(new Uint8Array(9), 10), false);
  });

  test("the sysFlag Java 4.9.8 sends: COMPRESSED | ZLIB << 8 = 769; compressionOf reads all three types", () => {
    assert.equal(ZLIB_COMPRESSED_SYS_FLAG, 769);
    assert.equal(stored.sysFlag, ZLIB_COMPRESSED_SYS_FLAG);
    assert.deepEqual(
      [0, 1, 2, 3, 4].map((t) => compressionOf(1 | (t << 8))),
      ["ZLIB", "LZ4", "ZSTD", "ZLIB", undefined],
    );
  });

  test("compressBody: an RFC 1950 stream with Java's header and Adler-32 that inflates to the body", () => {
    const ours = compressBody(original);
    assert.deepEqual(inflateSync(ours), original);
    assert.deepEqual(ours.subarray(0, 2), stored.body.subarray(0, 2), "zlib header 78 5E (level 5)");
    assert.deepEqual(ours.subarray(-4), stored.body.subarray(-4), "Adler-32 of the body");
    assert.ok(ours.length < original.length);
    // Byte equality with Java's deflate stream holds only with a stock zlib (Python's
    // zlib.compress(body, 5) matches); Node 20's bundled Chromium zlib chooses other matches.
    const javaInflated = inflateSync(stored.body);
    assert.deepEqual(javaInflated, original);
  });
});
