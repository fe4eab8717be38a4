import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { ErrorCodes } from "../../../src/errors.js";
import {
  DEFAULT_MAX_BODY_BYTES,
  decodeProperties,
  encodeProperties,
  javaHashMapOrder,
  type Message,
  MessageProperty,
  messageToWireProperties,
  RESERVED_PROPERTY_NAMES,
  validateMessage,
  validateTopic,
} from "../../../src/rocketmq/message.js";
import { decodeMessages } from "../../../src/rocketmq/message-decoder.js";
import { readMessageFixture } from "../../helpers/stored-message.js";

const INVALID = ErrorCodes.INVALID_ARGUMENT;
const body = new TextEncoder().encode("hello");

function invalid(fn: () => unknown): void {
  assert.throws(fn, (err: { code?: string }) => err.code === INVALID);
}

describe("MessageProperty", () => {
  test("has every MessageConst.PROPERTY_* of 4.9.8 with its wire string", () => {
    // grep -o 'PROPERTY_[A-Z0-9_]* = "[^"]*"' MessageConst.java (35 constants)
    const java: Record<string, string> = {
      KEYS: "KEYS",
      TAGS: "TAGS",
      WAIT_STORE_MSG_OK: "WAIT",
      DELAY_TIME_LEVEL: "DELAY",
      RETRY_TOPIC: "RETRY_TOPIC",
      REAL_TOPIC: "REAL_TOPIC",
      REAL_QUEUE_ID: "REAL_QID",
      TRANSACTION_PREPARED: "TRAN_MSG",
      PRODUCER_GROUP: "PGROUP",
      MIN_OFFSET: "MIN_OFFSET",
      MAX_OFFSET: "MAX_OFFSET",
      BUYER_ID: "BUYER_ID",
      ORIGIN_MESSAGE_ID: "ORIGIN_MESSAGE_ID",
      TRANSFER_FLAG: "TRANSFER_FLAG",
      CORRECTION_FLAG: "CORRECTION_FLAG",
      MQ2_FLAG: "MQ2_FLAG",
      RECONSUME_TIME: "RECONSUME_TIME",
      MSG_REGION: "MSG_REGION",
      TRACE_SWITCH: "TRACE_ON",
      UNIQ_CLIENT_MESSAGE_ID_KEYIDX: "UNIQ_KEY",
      MAX_RECONSUME_TIMES: "MAX_RECONSUME_TIMES",
      CONSUME_START_TIMESTAMP: "CONSUME_START_TIME",
      TRANSACTION_PREPARED_QUEUE_OFFSET: "TRAN_PREPARED_QUEUE_OFFSET",
      TRANSACTION_CHECK_TIMES: "TRANSACTION_CHECK_TIMES",
      CHECK_IMMUNITY_TIME_IN_SECONDS: "CHECK_IMMUNITY_TIME_IN_SECONDS",
      INSTANCE_ID: "INSTANCE_ID",
      CORRELATION_ID: "CORRELATION_ID",
      MESSAGE_REPLY_TO_CLIENT: "REPLY_TO_CLIENT",
      MESSAGE_TTL: "TTL",
      REPLY_MESSAGE_ARRIVE_TIME: "ARRIVE_TIME",
      PUSH_REPLY_TIME: "PUSH_REPLY_TIME",
      CLUSTER: "CLUSTER",
      MESSAGE_TYPE: "MSG_TYPE",
      INNER_MULTI_DISPATCH: "INNER_MULTI_DISPATCH",
      INNER_MULTI_QUEUE_OFFSET: "INNER_MULTI_QUEUE_OFFSET",
    };
    assert.equal(Object.keys(java).length, 35);
    for (const [name, wire] of Object.entries(java)) {
      assert.equal((MessageProperty as Record<string, string>)[name], wire, name);
    }
    assert.equal(MessageProperty.WAIT, "WAIT");
    assert.equal(MessageProperty.DELAY, "DELAY");
    assert.equal(MessageProperty.UNIQ_KEY, "UNIQ_KEY");
  });

  test("RESERVED_PROPERTY_NAMES is STRING_HASH_SET: 31 names, 4 system names left out as in 4.9.8", () => {
    assert.equal(RESERVED_PROPERTY_NAMES.size, 31);
    for (const name of [
      "KEYS",
      "TAGS",
      "WAIT",
      "DELAY",
      "UNIQ_KEY",
      "CLUSTER",
      "MIN_OFFSET",
      "MAX_OFFSET",
      "TRACE_ON",
    ]) {
      assert.ok(RESERVED_PROPERTY_NAMES.has(name), name);
    }
    for (const name of [
      "TRAN_PREPARED_QUEUE_OFFSET",
      "TRANSACTION_CHECK_TIMES",
      "CHECK_IMMUNITY_TIME_IN_SECONDS",
      "INNER_MULTI_DISPATCH",
    ]) {
      assert.ok(!RESERVED_PROPERTY_NAMES.has(name), name);
    }
  });
});

describe("encodeProperties", () => {
  test("name \\u0001 value pairs joined by \\u0002, no trailing separator", () => {
    assert.equal(encodeProperties({ a: "1", b: "2" }), "a\u00011\u0002b\u00012");
    assert.equal(encodeProperties({ only: "x" }), "only\u0001x");
    assert.equal(encodeProperties({}), "");
    assert.equal(encodeProperties(new Map()), "");
  });

  test("a Map is written in its order; null and undefined values are skipped as Java skips null", () => {
    assert.equal(
      encodeProperties(
        new Map([
          ["z", "1"],
          ["a", "2"],
        ]),
      ),
      "z\u00011\u0002a\u00012",
    );
    const withHoles = { a: "1", b: undefined, c: null, d: "4" } as unknown as Record<string, string>;
    assert.equal(encodeProperties(withHoles), "a\u00011\u0002d\u00014");
  });

  test("empty values are written (Java writes them; the reader then drops them)", () => {
    assert.equal(encodeProperties({ a: "" }), "a\u0001");
    assert.deepEqual(decodeProperties("a\u0001"), {});
  });
});

describe("decodeProperties (string2messageProperties)", () => {
  test("pairs, trailing and doubled separators", () => {
    assert.deepEqual(decodeProperties("a\u00011\u0002b\u00012"), { a: "1", b: "2" });
    assert.deepEqual(decodeProperties("a\u00011\u0002"), { a: "1" });
    assert.deepEqual(decodeProperties("\u0002\u0002a\u00011\u0002\u0002"), { a: "1" });
    assert.deepEqual(decodeProperties(""), {});
  });

  test("segments Java skips: under 3 chars, empty name, empty value, no separator", () => {
    assert.deepEqual(decodeProperties("ab"), {});
    assert.deepEqual(decodeProperties("a\u0001"), {});
    assert.deepEqual(decodeProperties("\u0001bc"), {});
    assert.deepEqual(decodeProperties("abc\u0002d\u0001e"), { d: "e" });
    assert.deepEqual(decodeProperties("a\u0001b"), { a: "b" });
  });

  test("the value keeps further \\u0001s; a later duplicate wins", () => {
    assert.deepEqual(decodeProperties("a\u0001b\u0001c"), { a: "b\u0001c" });
    assert.deepEqual(decodeProperties("a\u00011\u0002a\u00012"), { a: "2" });
  });

  test("__proto__ is an own property, the prototype untouched", () => {
    const map = decodeProperties("__proto__\u0001x\u0002k\u0001v");
    assert.equal(Object.getPrototypeOf(map), Object.prototype);
    assert.ok(Object.hasOwn(map, "__proto__"));
    assert.equal(Object.getOwnPropertyDescriptor(map, "__proto__")?.value, "x");
    assert.equal(map.k, "v");
  });

  test("round trip for names without separators and non-empty values without \\u0002", () => {
    const name = fc.string({ minLength: 1, maxLength: 8 }).filter((s) => !/[\u0001\u0002]/.test(s));
    const value = fc.string({ minLength: 1, maxLength: 8 }).filter((s) => !s.includes("\u0002"));
    fc.assert(
      fc.property(fc.dictionary(name, value), (props) => {
        const clean = Object.fromEntries(Object.entries(props));
        assert.deepEqual(decodeProperties(encodeProperties(clean)), clean);
      }),
      { seed: 1951, numRuns: 300 },
    );
  });
});

describe("validateTopic / validateMessage (Validators.checkMessage)", () => {
  const ok: Message = { topic: "T", body };

  test("accepts what Java accepts", () => {
    validateMessage(ok);
    validateTopic("a".repeat(127));
    validateTopic("%RETRY%group|x_-9");
    validateTopic("TBW102"); // a system topic, but checkMessage only refuses NOT_ALLOWED_SEND_TOPIC_SET
    validateMessage({ ...ok, body: new Uint8Array(DEFAULT_MAX_BODY_BYTES) });
    validateMessage({
      ...ok,
      properties: { TRAN_PREPARED_QUEUE_OFFSET: "1", "x y": "z" },
      flag: -1,
      delayLevel: 3,
    });
  });

  test("topic: blank, over 127, illegal characters, not allowed for sending", () => {
    for (const topic of ["", "   ", "a".repeat(128), "a b", "topic.x", "主题", "t\u0001"]) {
      invalid(() => validateTopic(topic));
    }
    for (const topic of [
      "SCHEDULE_TOPIC_XXXX",
      "RMQ_SYS_TRANS_HALF_TOPIC",
      "OFFSET_MOVED_EVENT",
      "SELF_TEST_TOPIC",
    ]) {
      invalid(() => validateMessage({ ...ok, topic }));
    }
  });

  test("body: missing, empty, over the maximum", () => {
    invalid(() => validateMessage({ topic: "T" } as Message));
    invalid(() => validateMessage({ ...ok, body: new Uint8Array(0) }));
    // The broker stores empty bodies; mqwire's Producer sends them unless told not to.
    validateMessage({ ...ok, body: new Uint8Array(0) }, undefined, { allowEmptyBody: true });
    invalid(() => validateMessage({ ...ok, body: new Uint8Array(DEFAULT_MAX_BODY_BYTES + 1) }));
    invalid(() => validateMessage({ ...ok, body: new Uint8Array(11) }, 10));
    validateMessage({ ...ok, body: new Uint8Array(10) }, 10);
  });

  test("user properties: every reserved name, blank names or values, separators", () => {
    for (const name of RESERVED_PROPERTY_NAMES)
      invalid(() => validateMessage({ ...ok, properties: { [name]: "v" } }));
    invalid(() => validateMessage({ ...ok, properties: { " ": "v" } }));
    invalid(() => validateMessage({ ...ok, properties: { k: " \t" } }));
    invalid(() => validateMessage({ ...ok, properties: { k: "a\u0002b" } }));
    invalid(() => validateMessage({ ...ok, properties: { "k\u0001": "v" } }));
    invalid(() => validateMessage({ ...ok, tags: "a\u0001b" }));
    invalid(() => validateMessage({ ...ok, keys: ["a", "b\u0002"] }));
  });

  test("flag must be an int32, delayLevel a non-negative integer", () => {
    invalid(() => validateMessage({ ...ok, flag: 2 ** 31 }));
    invalid(() => validateMessage({ ...ok, flag: 1.5 }));
    invalid(() => validateMessage({ ...ok, delayLevel: -1 }));
    invalid(() => validateMessage({ ...ok, delayLevel: 2.5 }));
  });
});

describe("messageToWireProperties: the Java producer's properties in its HashMap order", () => {
  test("equals the property string the Java 4.9.8 client sent (reference/java-client-wire.sample.jsonl)", () => {
    // SEND_MESSAGE_V2 extField "i" of the kit's capture: new Message(topic, "TagA", "key-0", body)
    // + putUserProperty("fixtureIndex", "0"), sent by DefaultMQProducer.
    const sent =
      "KEYS\u0001key-0\u0002UNIQ_KEY\u0001C00002023C1B4E0E2F2A1ABD08930000\u0002WAIT\u0001true\u0002TAGS\u0001TagA" +
      "\u0002fixtureIndex\u00010";
    const msg: Message = {
      topic: "MqwireFixture_mxbcn982",
      body,
      tags: "TagA",
      keys: "key-0",
      properties: { fixtureIndex: "0" },
    };
    assert.equal(encodeProperties(messageToWireProperties(msg, "C00002023C1B4E0E2F2A1ABD08930000")), sent);
  });

  test("the broker's stored property strings are in the same HashMap order (capacity 16 and 32)", () => {
    const { pull } = readMessageFixture("mixed");
    const messages = decodeMessages(pull);
    assert.ok(
      messages.some((m) => Object.keys(m.properties).length > 12),
      "a message with a resized map",
    );
    for (const m of messages) {
      // decodeProperties keeps the stored order (no property name here is an integer).
      const stored = Object.keys(m.properties);
      assert.deepEqual(javaHashMapOrder(stored), stored);
    }
  });

  test("TAGS, KEYS (array joined by a space), WAIT=true, DELAY, user properties, UNIQ_KEY", () => {
    const props = messageToWireProperties(
      { topic: "T", body, tags: "t", keys: ["k1", "k2"], delayLevel: 3, properties: { p: "v" } },
      "ID",
    );
    assert.deepEqual(Object.fromEntries(props), {
      TAGS: "t",
      KEYS: "k1 k2",
      WAIT: "true",
      DELAY: "3",
      p: "v",
      UNIQ_KEY: "ID",
    });
    assert.deepEqual(
      Object.fromEntries(
        messageToWireProperties({ topic: "T", body, tags: "", keys: [], delayLevel: 0 }, "ID"),
      ),
      {
        WAIT: "true",
        UNIQ_KEY: "ID",
      },
    );
  });

  test("javaHashMapOrder: ties keep insertion order; 13 keys double the table", () => {
    // "Aa" and "BB" have the same String.hashCode (2112).
    assert.deepEqual(javaHashMapOrder(["Aa", "BB"]), ["Aa", "BB"]);
    assert.deepEqual(javaHashMapOrder(["BB", "Aa"]), ["BB", "Aa"]);
    const keys = Array.from({ length: 13 }, (_, i) => `k${i}`);
    assert.deepEqual(new Set(javaHashMapOrder(keys)), new Set(keys));
  });
});
