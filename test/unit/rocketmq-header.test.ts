import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { fastjsonQuote, jsonObjectKeyOrder } from "../../src/codec/fastjson.js";
import { LanguageCode, RemotingCommand, SerializeType } from "../../src/codec/remoting-command.js";
import {
  decodeJsonHeader,
  decodeRocketmqHeader,
  encodeJsonHeader,
  encodeRocketmqHeader,
  jsonHeaderText,
} from "../../src/codec/rocketmq-header.js";

function json(text: string): Buffer {
  return Buffer.from(text, "utf8");
}

function throwsFrame(fn: () => unknown, reason: string): void {
  assert.throws(fn, (err: { code?: string; reason?: string }) => {
    assert.equal(err.code, "MQW_ERR_MALFORMED_FRAME");
    assert.equal(err.reason, reason);
    return true;
  });
}

function throwsInvalid(fn: () => unknown): void {
  assert.throws(fn, (err: { code?: string }) => err.code === "MQW_ERR_INVALID_ARGUMENT");
}

describe("fastjson escaping", () => {
  test("short forms, quotes and backslash", () => {
    assert.equal(fastjsonQuote('a"b\\c\b\t\n\f\r'), '"a\\"b\\\\c\\b\\t\\n\\f\\r"');
  });
  test("other control characters, DEL and C1 as upper-case \\uXXXX", () => {
    assert.equal(
      fastjsonQuote("\u0000\u000b\u001f\u007f\u0080\u009f"),
      '"\\u0000\\u000B\\u001F\\u007F\\u0080\\u009F"',
    );
  });
  test("U+2028 and U+2029 escaped; '/', U+00A0, BMP and emoji raw", () => {
    assert.equal(fastjsonQuote("\u2028x\u2029"), '"\\u2028x\\u2029"');
    assert.equal(fastjsonQuote("a/b\u00a0世界😀"), '"a/b\u00a0世界😀"');
  });
  test("a string needing nothing comes back quoted as is", () => {
    assert.equal(fastjsonQuote(""), '""');
    assert.equal(fastjsonQuote("TopicTest"), '"TopicTest"');
  });
});

describe("JSON header encode", () => {
  test("fixed key order and omissions (reference §1.2)", () => {
    const cmd = new RemotingCommand({
      code: 105,
      opaque: 0,
      version: 479,
      extFields: { topic: "TopicTest" },
    });
    assert.equal(
      jsonHeaderText(cmd),
      '{"code":105,"extFields":{"topic":"TopicTest"},"flag":0,"language":"JAVA","opaque":0,"serializeTypeCurrentRPC":"JSON","version":479}',
    );
  });
  test('"" remark and {} extFields are kept', () => {
    const cmd = new RemotingCommand({ code: 1, opaque: 2, flag: 1, remark: "", extFields: {} });
    assert.equal(
      jsonHeaderText(cmd),
      '{"code":1,"extFields":{},"flag":1,"language":"JAVA","opaque":2,"remark":"","serializeTypeCurrentRPC":"JSON","version":0}',
    );
  });
  test("a language code without a name is omitted, null ext values skipped", () => {
    const cmd = new RemotingCommand({ code: 1, opaque: 2, language: 200 });
    cmd.extFields = new Map([
      ["a", null as unknown as string],
      ["b", "x"],
    ]);
    assert.equal(
      jsonHeaderText(cmd),
      '{"code":1,"extFields":{"b":"x"},"flag":0,"opaque":2,"serializeTypeCurrentRPC":"JSON","version":0}',
    );
  });
  test("codes above int16 are fine in JSON; non-int32 fields are refused", () => {
    const cmd = new RemotingCommand({ code: 200050, opaque: 1 });
    assert.match(encodeJsonHeader(cmd).toString(), /^\{"code":200050,/);
    throwsInvalid(() => encodeJsonHeader(new RemotingCommand({ code: 2 ** 31, opaque: 1 })));
    throwsInvalid(() => encodeJsonHeader(new RemotingCommand({ code: 1, opaque: 1.5 })));
  });
  test("raw UTF-8, and lone surrogates written as '?' like Java's getBytes(UTF_8)", () => {
    const cmd = new RemotingCommand({ code: 0, opaque: 0, remark: "é\ud800x\udc00😀" });
    const text = encodeJsonHeader(cmd, 3).subarray(3).toString("utf8");
    assert.match(text, /"remark":"é\?x\?😀"/);
  });
  test("reserve leaves that many bytes in front of the header", () => {
    const cmd = new RemotingCommand({ code: 5, opaque: 6 });
    const buf = encodeJsonHeader(cmd, 8);
    assert.equal(buf.subarray(8).toString(), jsonHeaderText(cmd));
  });
});

describe("JSON header decode", () => {
  test("any key order, unknown keys, serializeTypeCurrentRPC ignored", () => {
    const cmd = decodeJsonHeader(
      json('{"version":9,"x":[1,{"y":2}],"opaque":7,"serializeTypeCurrentRPC":"ROCKETMQ","code":3,"flag":1}'),
    );
    assert.equal(cmd.serializeType, SerializeType.JSON);
    assert.deepEqual(
      [cmd.code, cmd.version, cmd.opaque, cmd.flag, cmd.remark, cmd.extFields],
      [3, 9, 7, 1, null, null],
    );
    assert.equal(cmd.language, LanguageCode.JAVA);
  });
  test("remark null, language as number or name, unknown name as OTHER", () => {
    assert.equal(decodeJsonHeader(json('{"remark":null,"opaque":1}')).remark, null);
    assert.equal(decodeJsonHeader(json('{"language":9,"opaque":1}')).language, LanguageCode.GO);
    assert.equal(decodeJsonHeader(json('{"language":"RUST","opaque":1}')).language, LanguageCode.RUST);
    assert.equal(decodeJsonHeader(json('{"language":"KOTLIN","opaque":1}')).language, LanguageCode.OTHER);
  });
  test("extFields: numbers and booleans become strings, nulls are skipped, {} kept", () => {
    const cmd = decodeJsonHeader(json('{"opaque":1,"extFields":{"a":1,"b":true,"c":null,"d":"x","e":-2.5}}'));
    assert.deepEqual(
      [...cmd.extFields!],
      [
        ["a", "1"],
        ["b", "true"],
        ["d", "x"],
        ["e", "-2.5"],
      ],
    );
    assert.deepEqual([...decodeJsonHeader(json('{"opaque":1,"extFields":{}}')).extFields!], []);
  });
  test("extFields keep the frame's order even for integer-like keys", () => {
    const cmd = decodeJsonHeader(
      json('{"opaque":1,"extFields":{"z":"1","10":"2","a\\"1":"3","2":"4"},"code":1}'),
    );
    assert.deepEqual([...cmd.extFields!.keys()], ["z", "10", 'a"1', "2"]);
  });
  test("missing fields take RemotingCommand's defaults", () => {
    const cmd = decodeJsonHeader(json('{"opaque":4}'));
    assert.deepEqual([cmd.code, cmd.language, cmd.version, cmd.flag, cmd.remark], [0, 0, 0, 0, null]);
  });
  test("wrong JSON types are json-type", () => {
    throwsFrame(() => decodeJsonHeader(json('{"code":"105"}')), "json-type");
    throwsFrame(() => decodeJsonHeader(json('{"code":1.5}')), "json-type");
    throwsFrame(() => decodeJsonHeader(json('{"extFields":["a"]}')), "json-type");
    throwsFrame(() => decodeJsonHeader(json('{"extFields":"a"}')), "json-type");
    throwsFrame(() => decodeJsonHeader(json('{"extFields":{"a":{"b":"c"}}}')), "json-type");
    throwsFrame(() => decodeJsonHeader(json('{"remark":{}}')), "json-type");
    throwsFrame(() => decodeJsonHeader(json('{"language":true}')), "json-type");
    throwsFrame(() => decodeJsonHeader(json("[1,2]")), "json-type");
    throwsFrame(() => decodeJsonHeader(json("42")), "json-type");
    throwsFrame(() => decodeJsonHeader(json("null")), "json-type");
  });
  test("integers outside int32 and languages outside a byte are field-range", () => {
    throwsFrame(() => decodeJsonHeader(json('{"code":2147483648}')), "field-range");
    throwsFrame(() => decodeJsonHeader(json('{"language":256}')), "field-range");
  });
  test("invalid JSON is json; invalid UTF-8 is utf8", () => {
    throwsFrame(() => decodeJsonHeader(json('{"code":1')), "json");
    throwsFrame(() => decodeJsonHeader(json("")), "json");
    throwsFrame(() => decodeJsonHeader(Buffer.from([0x7b, 0x22, 0xc3, 0x28, 0x22, 0x7d])), "utf8");
  });
  test("decodes a slice of a larger buffer", () => {
    const buf = Buffer.concat([Buffer.from("xx"), json('{"code":12,"opaque":1}'), Buffer.from("yy")]);
    assert.equal(decodeJsonHeader(buf, 2, buf.length - 2).code, 12);
  });
});

describe("jsonObjectKeyOrder", () => {
  test("finds the keys of one top-level object in text order", () => {
    const text = '{"a":{"9":1},"extFields" : {"5":"x","b":"{\\"3\\":1}","1":["q"]},"c":[{"extFields":{}}]}';
    assert.deepEqual(jsonObjectKeyOrder(text, "extFields"), ["5", "b", "1"]);
    assert.equal(jsonObjectKeyOrder('{"extFields":null}', "extFields"), null);
    assert.equal(jsonObjectKeyOrder('{"x":{"extFields":{"1":"a"}}}', "extFields"), null);
  });
});

describe("ROCKETMQ header encode", () => {
  test("layout of the upstream RemotingCommandTest samples", () => {
    const withRemark = new RemotingCommand({ code: 1, opaque: 1, remark: "Sample Remark" });
    assert.equal(encodeRocketmqHeader(withRemark).length, 34);
    const withExt = new RemotingCommand({ code: 1, opaque: 1, extFields: { key: "value" } });
    const buf = encodeRocketmqHeader(withExt);
    assert.equal(buf.length, 35);
    assert.equal(buf.readInt32BE(17), 14);
  });
  test("all fields big-endian, remark and entries length-prefixed", () => {
    const cmd = new RemotingCommand({
      code: -2,
      language: LanguageCode.GO,
      version: 479,
      opaque: -3,
      flag: 3,
      remark: "é",
      extFields: { k: "v" },
    });
    assert.equal(
      encodeRocketmqHeader(cmd).toString("hex"),
      "fffe0901dffffffffd0000000300000002c3a90000000800016b0000000176",
    );
  });
  test("empty remark and empty map are length 0; null values skipped", () => {
    const cmd = new RemotingCommand({ code: 1, opaque: 1, remark: "", extFields: {} });
    assert.equal(encodeRocketmqHeader(cmd).length, 21);
    cmd.extFields = new Map([["a", null as unknown as string]]);
    assert.equal(encodeRocketmqHeader(cmd).length, 21);
  });
  test("code and version outside int16, language outside a byte, long keys are refused", () => {
    throwsInvalid(() => encodeRocketmqHeader(new RemotingCommand({ code: 32768, opaque: 1 })));
    throwsInvalid(() => encodeRocketmqHeader(new RemotingCommand({ code: 200050, opaque: 1 })));
    throwsInvalid(() => encodeRocketmqHeader(new RemotingCommand({ code: -32769, opaque: 1 })));
    throwsInvalid(() => encodeRocketmqHeader(new RemotingCommand({ version: 40000, opaque: 1 })));
    throwsInvalid(() => encodeRocketmqHeader(new RemotingCommand({ language: 256, opaque: 1 })));
    throwsInvalid(() =>
      encodeRocketmqHeader(new RemotingCommand({ opaque: 1, extFields: { ["k".repeat(32768)]: "v" } })),
    );
  });
  test("lone surrogates are written as '?'", () => {
    const cmd = new RemotingCommand({ opaque: 1, remark: "a\ud800", extFields: { "\udc00": "\ud83d" } });
    const back = decodeRocketmqHeader(encodeRocketmqHeader(cmd));
    assert.equal(back.remark, "a?");
    assert.deepEqual([...back.extFields!], [["?", "?"]]);
  });
});

/** A ROCKETMQ header from parts: fixed fields then `tail` (remarkLen onward). */
function rmq(tail: number[]): Buffer {
  return Buffer.from([0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, ...tail]);
}
const int32 = (n: number): number[] => [...Buffer.from(new Int32Array([n]).buffer).reverse()];

describe("ROCKETMQ header decode", () => {
  test("empty remark is null, extLen 0 is null extFields", () => {
    const cmd = decodeRocketmqHeader(rmq([...int32(0), ...int32(0)]));
    assert.equal(cmd.remark, null);
    assert.equal(cmd.extFields, null);
    assert.equal(cmd.serializeType, SerializeType.ROCKETMQ);
    assert.equal(cmd.code, 1);
  });
  test("entries with an empty key or value are dropped (Java: null); the map stays", () => {
    const ext = [0, 1, 0x61, ...int32(0), 0, 0, ...int32(1), 0x62, 0, 1, 0x63, ...int32(1), 0x64];
    const cmd = decodeRocketmqHeader(rmq([...int32(0), ...int32(ext.length), ...ext]));
    assert.deepEqual([...cmd.extFields!], [["c", "d"]]);
    const onlyEmpty = [0, 1, 0x61, ...int32(0)];
    assert.deepEqual([...decodeRocketmqHeader(rmq([...int32(0), ...int32(7), ...onlyEmpty])).extFields!], []);
  });
  test("truncated fields", () => {
    throwsFrame(() => decodeRocketmqHeader(Buffer.alloc(20)), "truncated");
    throwsFrame(() => decodeRocketmqHeader(rmq([...int32(0), 0, 0])), "truncated");
    throwsFrame(() => decodeRocketmqHeader(rmq([...int32(0), ...int32(1), 0])), "truncated");
    throwsFrame(() => decodeRocketmqHeader(rmq([...int32(0), ...int32(4), 0, 1, 0x61, 0])), "truncated");
  });
  test("string lengths past the header or negative", () => {
    throwsFrame(() => decodeRocketmqHeader(rmq([...int32(6), 0x61, ...int32(0)])), "string-length");
    throwsFrame(() => decodeRocketmqHeader(rmq([...int32(-1), ...int32(0)])), "string-length");
    throwsFrame(() => decodeRocketmqHeader(rmq([...int32(0), ...int32(3), 0, 9, 0x61])), "string-length");
    throwsFrame(
      () => decodeRocketmqHeader(rmq([...int32(0), ...int32(3), 0xff, 0xff, 0x61])),
      "string-length",
    );
    const badValue = [0, 1, 0x61, ...int32(2), 0x62];
    throwsFrame(
      () => decodeRocketmqHeader(rmq([...int32(0), ...int32(badValue.length), ...badValue])),
      "string-length",
    );
    const negValue = [0, 1, 0x61, ...int32(-5)];
    throwsFrame(
      () => decodeRocketmqHeader(rmq([...int32(0), ...int32(negValue.length), ...negValue])),
      "string-length",
    );
  });
  test("extLen past the header or negative", () => {
    throwsFrame(() => decodeRocketmqHeader(rmq([...int32(0), ...int32(1)])), "ext-length");
    throwsFrame(() => decodeRocketmqHeader(rmq([...int32(0), ...int32(-1)])), "ext-length");
  });
  test("invalid UTF-8 is replaced like Java's new String", () => {
    const cmd = decodeRocketmqHeader(rmq([...int32(1), 0xff, ...int32(0)]));
    assert.equal(cmd.remark, "\ufffd");
  });
});

describe("RemotingCommand.decoded (the decoders' constructor)", () => {
  test("gives the fields it is handed; undefined ones take the constructor's defaults", () => {
    const ext = new Map([["k", "v"]]);
    const a = RemotingCommand.decoded(310, LanguageCode.GO, 7, 42, 1, "ok", ext, SerializeType.ROCKETMQ);
    assert.deepEqual(
      [a.code, a.language, a.version, a.opaque, a.flag, a.remark, a.serializeType, a.body],
      [310, LanguageCode.GO, 7, 42, 1, "ok", SerializeType.ROCKETMQ, null],
    );
    assert.equal(a.extFields, ext);
    const before = RemotingCommand.createRequest(1).opaque;
    const b = RemotingCommand.decoded(
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
      null,
      null,
      SerializeType.JSON,
    );
    assert.deepEqual(
      [b.code, b.language, b.version, b.flag, b.remark, b.extFields, b.serializeType],
      [0, LanguageCode.JAVA, 0, 0, null, null, SerializeType.JSON],
    );
    assert.equal(b.opaque, (before + 1) | 0, "an absent opaque draws the next one of the sequence");
  });
});
