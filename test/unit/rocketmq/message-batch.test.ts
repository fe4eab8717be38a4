import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { ErrorCodes } from "../../../src/errors.js";
import { decodeProperties, type Message } from "../../../src/rocketmq/message.js";
import { encodeBatch, SEND_BATCH_MESSAGE } from "../../../src/rocketmq/message-batch.js";
import { decodeMessages } from "../../../src/rocketmq/message-decoder.js";
import { createUniqIdGenerator, type UniqIdGenerator } from "../../../src/rocketmq/message-id.js";
import { messageFixtureDir, readMessageFixture } from "../../helpers/stored-message.js";

const INVALID = ErrorCodes.INVALID_ARGUMENT;
const enc = new TextEncoder();

function invalid(fn: () => unknown): void {
  assert.throws(fn, (err: { code?: string }) => err.code === INVALID);
}

function idsFrom(list: readonly string[]): UniqIdGenerator {
  let i = 0;
  return { next: () => list[i++]! };
}

/** The messages of the `batch` fixture (see its README): sent to the real broker with rawcall 320. */
const fixtureMessages: Message[] = [
  { topic: "MqwBatch", body: enc.encode("batch #0"), tags: "TagA", keys: ["bk0", "bk0b"] },
  {
    topic: "MqwBatch",
    body: enc.encode("batch #1 ünïcødé 🚀"),
    tags: "TagB",
    properties: { color: "blue", n: "1" },
    flag: 7,
  },
  { topic: "MqwBatch", body: new Uint8Array(5000).fill(65) },
];

/** `MessageDecoder.decodeMessage`, the broker's reading of one entry, written out for the test. */
function javaDecodeEntries(
  body: Buffer,
): { flag: number; body: Buffer; properties: Record<string, string> }[] {
  const out = [];
  let p = 0;
  while (p < body.length) {
    const size = body.readInt32BE(p);
    assert.equal(body.readInt32BE(p + 4), 0, "MAGICCODE 0");
    assert.equal(body.readInt32BE(p + 8), 0, "BODYCRC 0");
    const flag = body.readInt32BE(p + 12);
    const bodyLength = body.readInt32BE(p + 16);
    const entryBody = body.subarray(p + 20, p + 20 + bodyLength);
    const propsLength = body.readInt16BE(p + 20 + bodyLength);
    const propsStart = p + 22 + bodyLength;
    assert.equal(propsStart + propsLength - p, size, "TOTALSIZE covers the entry");
    out.push({
      flag,
      body: entryBody,
      properties: decodeProperties(body.toString("utf8", propsStart, propsStart + propsLength)),
    });
    p += size;
  }
  return out;
}

describe("encodeBatch (MessageDecoder.encodeMessages, SEND_BATCH_MESSAGE 320)", () => {
  test("byte for byte the request the real broker accepted (fixture batch.request.bin)", () => {
    const dir = messageFixtureDir();
    const request = JSON.parse(readFileSync(join(dir, "batch.request.json"), "utf8")) as {
      msgIds: string[];
      properties: string;
      topic: string;
    };
    const batch = encodeBatch(fixtureMessages, idsFrom(request.msgIds));
    assert.deepEqual(batch.body, readFileSync(join(dir, "batch.request.bin")));
    assert.deepEqual(batch.msgIds, request.msgIds);
    assert.equal(batch.properties, "WAIT\u0001true");
    assert.equal(batch.properties, request.properties);
    assert.equal(batch.topic, "MqwBatch");
    assert.equal(batch.sysFlag, 0);
    assert.equal(batch.flag, 0);
    assert.equal(SEND_BATCH_MESSAGE, 320);
  });

  test("each entry: TOTALSIZE, magic 0, CRC 0, flag, body, the producer's properties with its UNIQ_KEY", () => {
    const batch = encodeBatch(
      fixtureMessages,
      createUniqIdGenerator({ ip: "10.0.0.1", pid: 1, instanceTag: 2 }),
    );
    const entries = javaDecodeEntries(batch.body);
    assert.equal(entries.length, 3);
    assert.deepEqual(
      entries.map((e) => e.flag),
      [0, 7, 0],
    );
    entries.forEach((e, i) => {
      assert.deepEqual(new Uint8Array(e.body), fixtureMessages[i]!.body);
      assert.equal(e.properties.UNIQ_KEY, batch.msgIds[i]);
      assert.equal(e.properties.WAIT, "true");
    });
    assert.deepEqual(entries[0]!.properties, {
      KEYS: "bk0 bk0b",
      UNIQ_KEY: batch.msgIds[0],
      WAIT: "true",
      TAGS: "TagA",
    });
    assert.equal(entries[1]!.properties.color, "blue");
    assert.equal(new Set(batch.msgIds).size, 3);
  });

  test("what the broker stored: each message with its body, tags, keys, user properties and id", () => {
    const { pull } = readMessageFixture("batch");
    const request = JSON.parse(readFileSync(join(messageFixtureDir(), "batch.request.json"), "utf8")) as {
      msgIds: string[];
    };
    const stored = decodeMessages(pull);
    assert.equal(stored.length, fixtureMessages.length);
    stored.forEach((m, i) => {
      const sent = fixtureMessages[i]!;
      assert.deepEqual(new Uint8Array(m.body), sent.body);
      assert.equal(m.topic, sent.topic);
      assert.equal(m.tags, sent.tags);
      assert.deepEqual(m.keys, sent.keys === undefined ? [] : [...sent.keys]);
      assert.equal(m.flag, sent.flag ?? 0);
      assert.equal(m.msgId, request.msgIds[i]);
      assert.equal(m.queueOffset, i);
      for (const [k, v] of Object.entries(sent.properties ?? {})) assert.equal(m.properties[k], v);
    });
  });

  test("refuses what MessageBatch.generateFromList and Validators.checkMessage refuse", () => {
    const ids = createUniqIdGenerator();
    const ok: Message = { topic: "T", body: enc.encode("x") };
    invalid(() => encodeBatch([], ids));
    invalid(() => encodeBatch([ok, { ...ok, topic: "U" }], ids));
    invalid(() => encodeBatch([ok, { ...ok, delayLevel: 2 }], ids));
    invalid(() => encodeBatch([{ ...ok, topic: "%RETRY%g" }], ids));
    invalid(() => encodeBatch([ok, { ...ok, body: new Uint8Array(0) }], ids));
    invalid(() => encodeBatch([ok, { ...ok, properties: { KEYS: "k" } }], ids));
    invalid(() => encodeBatch([{ ...ok, properties: { big: "v".repeat(0x8000) } }], ids));
    encodeBatch([ok, { ...ok, delayLevel: 0 }], ids);
  });

  test("the whole encoded batch must fit maxBodyBytes, as checkMessage on the MessageBatch", () => {
    const ids = createUniqIdGenerator();
    const msg: Message = { topic: "T", body: new Uint8Array(600) };
    const size = encodeBatch([msg, msg], ids).body.length;
    assert.equal(encodeBatch([msg, msg], ids, { maxBodyBytes: size }).body.length, size);
    invalid(() => encodeBatch([msg, msg], ids, { maxBodyBytes: size - 1 }));
    invalid(() => encodeBatch([msg], ids, { maxBodyBytes: 599 }));
  });
});
