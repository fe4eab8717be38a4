import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import fc from "fast-check";
import {
  JsonDialectError,
  MAX_JSON_DEPTH,
  parseRocketmqJson,
  toStandardJson,
} from "../../../src/rocketmq/dialect.js";
import { repoRoot } from "../../helpers/vectors.js";

const SEED = 0x5eed_d1a1;
const BODIES = join(repoRoot(), "test/fixtures/rocketmq/bodies");

interface Capture {
  request: { code: number; version: number; extFields: Record<string, string> };
  response: { code: number };
  bodyLength: number;
  body: string;
}

function capture(name: string): Capture {
  return JSON.parse(readFileSync(join(BODIES, `${name}.json`), "utf8")) as Capture;
}

/** Every captured body that is JSON (code 0, not empty). */
const captured = readdirSync(BODIES)
  .filter((f) => f.endsWith(".json") && !f.startsWith("heartbeat"))
  .map((f) => ({ name: f.slice(0, -5), ...capture(f.slice(0, -5)) }))
  .filter((c) => c.body.length > 0);

function throwsDialect(input: string | Uint8Array): JsonDialectError {
  let caught: unknown;
  assert.throws(
    () => parseRocketmqJson(input),
    (err: unknown) => {
      caught = err;
      return true;
    },
  );
  assert.ok(caught instanceof JsonDialectError, `${String(caught)} for ${JSON.stringify(String(input))}`);
  assert.equal(caught.code, "MQW_ERR_PROTOCOL");
  return caught;
}

/** Keys that fastjson would have written unquoted: `{0:…}`, `{-3:…}`, `{123456789012345678901:…}`. */
const UNQUOTED_INT_KEY = /[{,]\s*-?\d+\s*:/;

describe("captured RocketMQ 4.9.8 bodies", () => {
  test("there are dialect and standard captures", () => {
    assert.ok(captured.length >= 12);
    assert.ok(captured.some((c) => UNQUOTED_INT_KEY.test(c.body)));
    assert.ok(captured.some((c) => c.body.includes("{{")));
  });

  for (const c of captured) {
    test(`${c.name}: parses from bytes and text, and its standard form is plain JSON`, () => {
      const bytes = Buffer.from(c.body, "utf8");
      assert.equal(bytes.length, c.bodyLength);
      const value = parseRocketmqJson(bytes);
      assert.deepEqual(parseRocketmqJson(c.body), value);
      const standard = toStandardJson(bytes);
      assert.ok(!UNQUOTED_INT_KEY.test(standard), standard);
      assert.deepEqual(JSON.parse(standard), value);
      if (!UNQUOTED_INT_KEY.test(c.body) && !c.body.includes("{{"))
        assert.deepEqual(value, JSON.parse(c.body));
    });
  }

  test("route: version 400 (dialect) equals 400 and 409 with standard JSON", () => {
    const dialect = capture("route-v400");
    assert.match(dialect.body, /"brokerAddrs":\{0:"127\.0\.0\.1:\d+"\}/);
    for (const other of ["route-v400-standard", "route-v409", "route-v409-standard"]) {
      const std = capture(other);
      assert.match(std.body, /"brokerAddrs":\{"0":"/);
      assert.deepEqual(parseRocketmqJson(dialect.body), JSON.parse(std.body));
    }
  });

  test("cluster info is in the dialect at version 400 and 409", () => {
    for (const name of ["cluster-info", "cluster-info-v400"]) {
      const c = capture(name);
      assert.match(c.body, /\{0:"/);
      const value = parseRocketmqJson(c.body) as { brokerAddrTable: Record<string, { brokerAddrs: object }> };
      assert.deepEqual(Object.keys(value.brokerAddrTable["broker-a"]?.brokerAddrs ?? {}), ["0"]);
    }
  });

  test("topic stats: a MessageQueue key becomes its standard JSON text", () => {
    const value = parseRocketmqJson(capture("topic-stats").body) as { offsetTable: Record<string, unknown> };
    const keys = Object.keys(value.offsetTable);
    assert.equal(keys.length, 4);
    for (const key of keys) {
      const mq = JSON.parse(key) as Record<string, unknown>;
      assert.deepEqual(Object.keys(mq), ["brokerName", "queueId", "topic"]);
      assert.equal(key, JSON.stringify(mq));
    }
  });

  test("every strict prefix of every capture is refused", () => {
    for (const c of captured) {
      for (let cut = 0; cut < c.body.length; cut++) throwsDialect(c.body.slice(0, cut));
    }
  });
});

describe("the dialect", () => {
  test("unquoted integer keys, negative and beyond 2^53, keep their digits", () => {
    assert.deepEqual(parseRocketmqJson('{0:"a",-1:"b",12345678901234567890:"c"}'), {
      0: "a",
      "-1": "b",
      "12345678901234567890": "c",
    });
  });

  test("true, false, null and double keys become their literal text", () => {
    assert.deepEqual(parseRocketmqJson("{true:1,false:2,null:3,1.5:4,1.0E10:5}"), {
      true: 1,
      false: 2,
      null: 3,
      "1.5": 4,
      "1.0E10": 5,
    });
  });

  test("object and array keys become JSON.stringify text, nested dialect included", () => {
    const value = parseRocketmqJson('{{"b":"x","q":0}:{"v":1},[1,{2:"y"}]:2}') as Record<string, unknown>;
    assert.deepEqual(value, { '{"b":"x","q":0}': { v: 1 }, '[1,{"2":"y"}]': 2 });
  });

  test("integers beyond ±(2^53 − 1) stay exact as strings; doubles and safe integers are numbers", () => {
    assert.deepEqual(
      parseRocketmqJson(
        "[9007199254740991,-9007199254740991,9007199254740992,-9007199254740993,1e300,0.5,-0]",
      ),
      [9007199254740991, -9007199254740991, "9007199254740992", "-9007199254740993", 1e300, 0.5, -0],
    );
    assert.equal(parseRocketmqJson("123456789012345678901234567890"), "123456789012345678901234567890");
    assert.equal(parseRocketmqJson("1234567890123456789.0"), Number("1234567890123456789"));
  });

  test("escapes, surrogates and raw UTF-8", () => {
    const text = '"\\"\\\\\\/\\b\\f\\n\\r\\t\\u0041\\u00e9\\uD83D\\uDE00\\ud800x世😀"';
    assert.equal(parseRocketmqJson(text), JSON.parse(text));
    assert.equal(parseRocketmqJson(Buffer.from(text, "utf8")), JSON.parse(text));
  });

  test("fastjson's PrettyFormat whitespace (tabs, newlines) is accepted", () => {
    assert.deepEqual(parseRocketmqJson('{\n\t"a":{\n\t\t0:"x"\n\t},\r\n\t"b":[ 1 , 2 ]\n}\n'), {
      a: { 0: "x" },
      b: [1, 2],
    });
  });

  test('"__proto__" is an own property, as JSON.parse makes it, never the prototype', () => {
    const value = parseRocketmqJson('{"__proto__":{"polluted":true},{"a":1}:0}') as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(value), Object.prototype);
    assert.deepEqual(Object.keys(value), ["__proto__", '{"a":1}']);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  test("a repeated key keeps the last value, as JSON.parse does", () => {
    assert.deepEqual(parseRocketmqJson('{0:"a","0":"b"}'), { 0: "b" });
  });

  test("toStandardJson pretty-prints", () => {
    assert.equal(toStandardJson('{0:"a"}', 2), '{\n  "0": "a"\n}');
    assert.equal(toStandardJson("[18446744073709551615]"), '["18446744073709551615"]');
  });
});

describe("malformed input throws JsonDialectError (MQW_ERR_PROTOCOL) with the offset", () => {
  const cases: [string, number][] = [
    ["", 0],
    ["   ", 3],
    ["{", 1],
    ["[1,", 3],
    ["[1,]", 3],
    ["[1 2]", 3],
    ['{"a"}', 4],
    ['{"a":}', 5],
    ['{"a":1,}', 7],
    ['{"a":1 "b":2}', 7],
    ["{,}", 1],
    ["{a:1}", 1],
    ["{0 1}", 3],
    ['{{"a":1}}', 8],
    ["tru", 0],
    ["nul", 0],
    ["NaN", 0],
    ["Infinity", 0],
    ["'a'", 0],
    ["01", 1],
    ["-", 1],
    ["1.", 2],
    [".5", 0],
    ["1e", 2],
    ["1e+", 3],
    ['"abc', 4],
    ['"\\x"', 1],
    ['"\\', 1],
    ['"\\u12"', 1],
    ['"\\u12G4"', 1],
    ['"a\nb"', 2],
    ['"a\u0000"', 2],
    ["[1] x", 4],
    ["{} {}", 3],
  ];
  for (const [input, offset] of cases) {
    test(JSON.stringify(input), () => {
      assert.equal(throwsDialect(input).offset, offset);
    });
  }

  test("invalid UTF-8 bytes", () => {
    throwsDialect(Uint8Array.of(0x22, 0xc3, 0x28, 0x22));
    throwsDialect(Uint8Array.of(0x22, 0xed, 0xa0, 0x80, 0x22));
  });

  test(`nesting: ${MAX_JSON_DEPTH} levels parse, one more throws, 100k never overflow the stack`, () => {
    const deep = (n: number) => `${"[".repeat(n)}${"]".repeat(n)}`;
    assert.ok(Array.isArray(parseRocketmqJson(deep(MAX_JSON_DEPTH))));
    throwsDialect(deep(MAX_JSON_DEPTH + 1));
    throwsDialect("[".repeat(100_000));
    throwsDialect('{"a":'.repeat(100_000));
    throwsDialect("{".repeat(100_000));
    throwsDialect(`${"{[".repeat(50_000)}`);
  });
});

/** JSON.parse's value, with the integers beyond 2^53 that JSON.stringify wrote as digits as strings. */
function expected(value: unknown): unknown {
  if (typeof value === "number") {
    const text = JSON.stringify(value);
    return Number.isInteger(value) && !Number.isSafeInteger(value) && !/e/i.test(text) ? text : value;
  }
  if (Array.isArray(value)) return value.map(expected);
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      Object.defineProperty(out, k, {
        value: expected(v),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  }
  return value;
}

/** fastjson's rendering of a Map whose keys are integers: the integer-like keys unquoted. */
function fastjsonStyle(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(fastjsonStyle).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value).map(
      ([k, v]) => `${/^-?(?:0|[1-9]\d*)$/.test(k) ? k : JSON.stringify(k)}:${fastjsonStyle(v)}`,
    );
    return `{${entries.join(",")}}`;
  }
  return JSON.stringify(value);
}

const intKeyed: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.jsonValue({ maxDepth: 1 }),
    fc.array(tie("value"), { maxLength: 4 }),
    fc
      .array(
        fc.tuple(fc.oneof(fc.bigInt().map(String), fc.integer().map(String), fc.string()), tie("value")),
        {
          maxLength: 5,
        },
      )
      .map((entries) => JSON.parse(JSON.stringify(Object.fromEntries(entries))) as unknown),
  ),
})).value;

describe("properties (fast-check, seeded)", () => {
  test("JSON.stringify's text and the fastjson rendering parse to the same value", () => {
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), intKeyed), (value) => {
        const want = expected(JSON.parse(JSON.stringify(value)));
        const text = JSON.stringify(value);
        assert.deepEqual(parseRocketmqJson(text), want);
        assert.deepEqual(parseRocketmqJson(Buffer.from(text, "utf8")), want);
        assert.deepEqual(parseRocketmqJson(fastjsonStyle(value)), want);
      }),
      { seed: SEED, numRuns: 500 },
    );
  });

  test("object keys (Map<MessageQueue, V>) read back with JSON.parse", () => {
    const mq = fc.record({ brokerName: fc.string(), queueId: fc.integer(), topic: fc.string() });
    fc.assert(
      fc.property(fc.array(fc.tuple(mq, fc.jsonValue()), { maxLength: 6 }), (entries) => {
        const text = `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(",")}}`;
        const parsed = parseRocketmqJson(text) as Record<string, unknown>;
        const byKey = new Map(entries.map(([k, v]) => [JSON.stringify(k), v]));
        assert.deepEqual(Object.keys(parsed).sort(), [...byKey.keys()].sort());
        for (const [k, v] of byKey) assert.deepEqual(parsed[k], expected(JSON.parse(JSON.stringify(v))));
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  test("arbitrary text and bytes either parse or throw JsonDialectError", () => {
    const alphabet = fc.constantFrom(...'{}[]:,"\\0123456789-+.eE tfnrulsaxu\n\u00e9');
    const input = fc.oneof(
      fc.string({ unit: alphabet, maxLength: 40 }),
      fc.string({ maxLength: 40 }),
      fc.uint8Array({ maxLength: 40 }),
      fc.jsonValue().chain((v) => {
        const text = fastjsonStyle(v);
        return fc
          .tuple(fc.nat(text.length), fc.string({ maxLength: 3 }))
          .map(([at, junk]) => text.slice(0, at) + junk);
      }),
    );
    fc.assert(
      fc.property(input, (text) => {
        try {
          parseRocketmqJson(text);
        } catch (err) {
          assert.ok(err instanceof JsonDialectError, String(err));
          assert.equal(err.code, "MQW_ERR_PROTOCOL");
        }
      }),
      { seed: SEED, numRuns: 2000 },
    );
  });
});
