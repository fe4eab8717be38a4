/**
 * The JSON header scanner (src/codec/json-header-parser.ts) against the `JSON.parse` path it
 * short-cuts (`decodeJsonHeaderSlow`): for every header the scanner accepts it must give the same
 * command, and `decodeJsonHeader` must give what the slow path gives, value or error code and
 * reason, on anything: encoder output for random commands, mutated headers (bytes changed,
 * deleted, truncated, whitespace or tokens inserted), hand-built headers in any key order, and
 * headers inside a larger buffer whose neighbouring bytes try to extend them.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { DEFAULT_MAX_EXT_FIELDS } from "../../src/codec/codec.js";
import { javaWellFormed } from "../../src/codec/fastjson.js";
import { encodeJsonHeader } from "../../src/codec/json-header.js";
import { decodeJsonHeader, decodeJsonHeaderSlow } from "../../src/codec/json-header-decode.js";
import { JsonHeaderScanner, scanJsonHeader } from "../../src/codec/json-header-parser.js";
import { JsonHeaderTemplates } from "../../src/codec/json-header-template.js";
import { RemotingCommand, SerializeType } from "../../src/codec/remoting-command.js";

const INT32 = { min: -(2 ** 31), max: 2 ** 31 - 1 };

type Outcome = { value: unknown } | { error: { code: unknown; reason: unknown } };

/** A command as plain data; `opaque` left out when the header has none (the constructor draws one). */
function plain(cmd: RemotingCommand, withOpaque: boolean): unknown {
  return {
    code: cmd.code,
    language: cmd.language,
    version: cmd.version,
    opaque: withOpaque ? cmd.opaque : "drawn",
    flag: cmd.flag,
    remark: cmd.remark,
    extFields: cmd.extFields === null ? null : [...cmd.extFields],
    body: cmd.body,
    serializeType: cmd.serializeType,
  };
}

/** True when the header, parsed, has a non-null opaque (else both paths draw from the sequence). */
function hasOpaque(buf: Buffer, start: number, end: number): boolean {
  try {
    return (JSON.parse(buf.toString("utf8", start, end)) as { opaque?: unknown }).opaque != null;
  } catch {
    return true;
  }
}

function outcome(decode: () => RemotingCommand, withOpaque: boolean): Outcome {
  try {
    return { value: plain(decode(), withOpaque) };
  } catch (err) {
    const e = err as { code?: unknown; reason?: unknown };
    return { error: { code: e.code, reason: e.reason } };
  }
}

/**
 * Holds the scanner and `decodeJsonHeader` to the slow path on `buf[start, end)`; returns whether
 * the scanner took the header.
 */
function agree(buf: Buffer, start = 0, end = buf.length, learned: Buffer | null = null): boolean {
  const withOpaque = hasOpaque(buf, start, end);
  const slow = outcome(() => decodeJsonHeaderSlow(buf, start, end), withOpaque);
  const fast = scanJsonHeader(buf, start, end); // must never throw
  if (fast !== null) assert.deepEqual({ value: plain(fast, withOpaque) }, slow);
  assert.deepEqual(
    outcome(() => decodeJsonHeader(buf, start, end), withOpaque),
    slow,
  );
  if (learned !== null) {
    // A scanner that has seen `learned` compares headers of its shape with that shape's bytes.
    const scanner = new JsonHeaderScanner(new JsonHeaderTemplates());
    scanner.scan(learned, 0, learned.length, DEFAULT_MAX_EXT_FIELDS);
    const known = scanner.scan(buf, start, end, DEFAULT_MAX_EXT_FIELDS);
    assert.equal(known !== null, fast !== null);
    if (known !== null) assert.deepEqual({ value: plain(known, withOpaque) }, slow);
    assert.deepEqual(
      outcome(() => decodeJsonHeader(buf, start, end, DEFAULT_MAX_EXT_FIELDS, scanner), withOpaque),
      slow,
    );
  }
  return fast !== null;
}

/** Characters that each exercise one case of escaping or UTF-8 ("|" keeps lone surrogates apart). */
const SPECIAL =
  '"|\\|/|\u0000|\b|\t|\n|\u000b|\f|\r|\u001f|\u007f|\u0085|\u009f|\u00a0|é|' +
  "\u2028|\u2029|世|😀|\ud800|\udfff|\ufeff|\ufffd";
const special = fc.constantFrom(...SPECIAL.split("|"));
const printable = fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c));
const text = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: printable, maxLength: 20 }) },
  { weight: 2, arbitrary: fc.string({ unit: fc.oneof(printable, special), maxLength: 12 }) },
  { weight: 1, arbitrary: fc.string({ unit: "grapheme", maxLength: 6 }) },
);
/** Keys JavaScript orders first in an object, and near misses. */
const key = fc.oneof(
  { weight: 4, arbitrary: text },
  {
    weight: 1,
    arbitrary: fc.constantFrom("0", "1", "12", "01", "-1", "4294967294", "4294967295", "1.5", ""),
  },
);

const command = fc
  .record({
    code: fc.integer(INT32),
    language: fc.oneof(fc.integer({ min: 0, max: 13 }), fc.integer({ min: 0, max: 255 })),
    version: fc.integer(INT32),
    opaque: fc.integer(INT32),
    flag: fc.integer(INT32),
    remark: fc.option(text, { nil: null }),
    ext: fc.option(fc.uniqueArray(fc.tuple(key, text), { selector: ([k]) => k, maxLength: 8 }), {
      nil: null,
    }),
  })
  .map(
    (r) =>
      new RemotingCommand({
        ...r,
        extFields: r.ext === null ? null : new Map(r.ext),
        serializeType: SerializeType.JSON,
      }),
  );

const WHITESPACE = [" ", "\t", "\n", "\r", "  \n\t"];
/** Whitespace to JavaScript but not to JSON (RFC 8259 §2). */
const NOT_WHITESPACE = ["\f", "\v", "\u00a0", "\u2028", "\ufeff"];
const TOKENS = '" \\ { } [ ] {} [] , : null true 1.5 1e2 -0 - 0 \\u0041 "x"'.split(" ");
/** One edit of a header's bytes. */
const mutation = fc.oneof(
  fc.record({ op: fc.constant("set" as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({
    op: fc.constant("set" as const),
    at: fc.nat(),
    byte: fc.constantFrom(...Buffer.from('"\\{}[],: \t\n\f0-.e\u0000'), 0x80, 0xff),
  }),
  fc.record({ op: fc.constant("delete" as const), at: fc.nat() }),
  fc.record({ op: fc.constant("truncate" as const), at: fc.nat() }),
  fc.record({
    op: fc.constant("insert" as const),
    at: fc.nat(),
    what: fc.constantFrom(...WHITESPACE, ...NOT_WHITESPACE, ...TOKENS),
  }),
);
type Mutation = typeof mutation extends fc.Arbitrary<infer M> ? M : never;

function mutate(header: Buffer, edits: Mutation[]): Buffer {
  let buf = Buffer.from(header);
  for (const edit of edits) {
    const at = buf.length === 0 ? 0 : edit.at % (buf.length + 1);
    if (edit.op === "set" && at < buf.length) buf[at] = edit.byte;
    else if (edit.op === "delete") buf = Buffer.concat([buf.subarray(0, at), buf.subarray(at + 1)]);
    else if (edit.op === "truncate") buf = buf.subarray(0, at);
    else if (edit.op === "insert")
      buf = Buffer.concat([buf.subarray(0, at), Buffer.from(edit.what), buf.subarray(at)]);
  }
  return buf;
}

/** Bytes around a header in the same buffer (a frame's length words before, its body after). */
const surroundings = fc.tuple(
  fc.uint8Array({ maxLength: 6 }),
  fc.oneof(
    fc.uint8Array({ maxLength: 6 }),
    fc.constantFrom(',"code":1}', "}", "0}", '"}', " ", '{"opaque":1}'),
  ),
);

describe("JSON header scanner", () => {
  test("encoder output: taken by the scanner (unless it holds U+FFFD or a repeated key) and decoded as the slow path does", () => {
    fc.assert(
      fc.property(command, (cmd) => {
        const header = encodeJsonHeader(cmd);
        const taken = agree(header);
        // Java writes a lone surrogate as '?', so keys "?" and "\ud800" both go out as "?": a
        // repeated key, which the scanner leaves to JSON.parse (found by this property).
        const keys = [...(cmd.extFields?.keys() ?? [])].map(javaWellFormed);
        const repeated = new Set(keys).size !== keys.length;
        assert.equal(taken, !header.toString("utf8").includes("\ufffd") && !repeated);
        if (taken) {
          const back = scanJsonHeader(header, 0, header.length)!;
          assert.equal(back.opaque, cmd.opaque);
          assert.equal(back.code, cmd.code);
        }
      }),
      { numRuns: 1500 },
    );
  });

  test("mutated headers: the scanner, when it takes one, and decodeJsonHeader agree with the slow path", () => {
    let taken = 0;
    fc.assert(
      fc.property(command, fc.array(mutation, { minLength: 1, maxLength: 3 }), (cmd, edits) => {
        const header = encodeJsonHeader(cmd);
        if (agree(mutate(header, edits), 0, undefined, header)) taken++;
      }),
      { numRuns: 3000 },
    );
    assert.ok(taken > 60, `the scanner took only ${taken} mutated headers`); // whitespace, string edits
  });

  test("a header inside a larger buffer is read within its bounds only", () => {
    fc.assert(
      fc.property(
        command,
        surroundings,
        fc.array(mutation, { maxLength: 1 }),
        (cmd, [before, after], edits) => {
          const original = encodeJsonHeader(cmd);
          const header = mutate(original, edits);
          const buf = Buffer.concat([before, header, Buffer.from(after)]);
          agree(buf, before.length, before.length + header.length, original);
        },
      ),
      { numRuns: 1000 },
    );
  });

  test("every truncation of a header, followed in the buffer by bytes that would complete it", () => {
    const header = encodeJsonHeader(
      new RemotingCommand({ code: 310, opaque: 12, remark: 'r"\u00e9', extFields: { a: "x", b: "12" } }),
    );
    const completions = ["}", "}}", '"}', '"}}', "0}", "2}", '":"v"}}', ',"flag":1}', " }", '\\n"}'];
    let cases = 0;
    for (let cut = 0; cut < header.length; cut++) {
      for (const completion of completions) {
        const buf = Buffer.concat([header.subarray(0, cut), Buffer.from(completion)]);
        assert.equal(agree(buf, 0, cut, header), false);
        cases++;
      }
    }
    assert.equal(cases, header.length * completions.length);
  });

  test("hand-built headers: any key order, whitespace, value kinds, unknown and repeated keys", () => {
    const quoted = text.map((s) => JSON.stringify(s));
    /** A known key with a value of its type: mostly what the scanner takes. */
    const typed = fc.oneof(
      fc.tuple(fc.constantFrom("code", "flag", "opaque", "version"), fc.integer(INT32).map(String)),
      fc.tuple(
        fc.constant("language"),
        fc.constantFrom('"JAVA"', '"GO"', '"NODE_JS"', '"KOTLIN"', '""', '"J\\u0041VA"', '"é"'),
      ),
      fc.tuple(fc.constantFrom("remark", "serializeTypeCurrentRPC"), quoted),
      fc.tuple(
        fc.constant("extFields"),
        fc.uniqueArray(
          fc.tuple(
            key.map((k) => JSON.stringify(k)),
            quoted,
          ),
          { selector: ([k]) => k, maxLength: 5 },
        ),
      ),
    );
    /** Anything under any name: mostly what the scanner leaves to JSON.parse. */
    const names =
      "code extFields flag language opaque remark serializeTypeCurrentRPC version unknown Code cod codes";
    const odd =
      '0|-0|2147483648|-2147483649|1.0|1e2|01|256|-1|12345678901|"JAVA"|9|null|true|false|{}|{]|[]|' +
      '{"a":"b"}|{"a":1,"b":true,"c":null}|{"a":"b","a":"c"}|{"0":"x","b":"y","1":"z"}|{"a":{"b":"c"}}|{"a":"\\u00e9"}';
    const untyped = fc.tuple(
      fc.constantFrom(...names.split(" "), "c\\u006fde"),
      fc.oneof(fc.constantFrom(...odd.split("|")), quoted),
    );
    /** Each known key once, in any order, sometimes with one entry of anything anywhere. */
    const entries = fc
      .tuple(
        fc.uniqueArray(typed, { selector: ([k]) => k, maxLength: 8 }),
        fc.option(fc.tuple(untyped, fc.nat()), { nil: null, freq: 3 }),
      )
      .map(([list, extra]) => {
        const all: [string, string | [string, string][]][] = [...list];
        if (extra !== null) all.splice(extra[1] % (all.length + 1), 0, extra[0]);
        return all;
      });
    const json = fc.constantFrom("", "", "", "", " ", "\n", "\t ", "\r\n");
    const spacing = fc.oneof(
      { weight: 4, arbitrary: fc.array(json, { minLength: 1, maxLength: 40 }) },
      {
        weight: 1,
        arbitrary: fc.array(fc.oneof(json, fc.constantFrom("\f", "\u00a0")), { minLength: 1, maxLength: 40 }),
      },
    );
    /** The object's text, with whitespace from `spaces` (cyclically) around every token. */
    function render(list: [string, string | [string, string][]][], spaces: string[]): string {
      let n = 0;
      const sp = (): string => spaces[n++ % spaces.length]!;
      const members = (pairs: [string, string][]): string =>
        `{${sp()}${pairs.map(([k, v]) => `${k}${sp()}:${sp()}${v}`).join(`${sp()},${sp()}`)}${sp()}}`;
      const pairs = list.map(([k, v]): [string, string] => [
        `"${k}"`,
        typeof v === "string" ? v : members(v),
      ]);
      return `${sp()}${members(pairs)}${sp()}`;
    }
    let taken = 0;
    fc.assert(
      fc.property(entries, spacing, (list, spaces) => {
        if (agree(Buffer.from(render(list, spaces)))) taken++;
      }),
      { numRuns: 3000 },
    );
    assert.ok(taken > 400, `the scanner took only ${taken} hand-built headers`);
  });

  test("targeted headers take the path they should and decode as the slow path does", () => {
    const fastCases = [
      '{"code":310,"extFields":{"a":"producerGroup","b":"TopicTest"},"flag":0,"language":"JAVA","opaque":7,"serializeTypeCurrentRPC":"JSON","version":399}',
      ' {\n "version" : 1 ,\t"opaque":2,"code":3 , "extFields" : { "k" : "v" } }\r\n',
      '{"opaque":1,"remark":"a\\nb\\"c\\\\d\\u2028e\\/"}',
      '{"opaque":1,"remark":"é世😀","extFields":{"é":"世"}}',
      '{"opaque":1,"extFields":{"b":"1","0":"2","a":"3","12":"4"}}', // integer-like keys keep frame order
      '{"opaque":1,"language":"KOTLIN"}', // an unknown name reads as OTHER
      '{"opaque":1,"language":"GO","serializeTypeCurrentRPC":"ROCKETMQ"}',
      '{"opaque":-0,"code":-2147483648,"flag":2147483647}',
      '{"opaque":1,"extFields":{},"remark":""}',
      "{}",
    ];
    const slowCases = [
      '{"opaque":1,"remark":null}',
      '{"opaque":1,"language":9}',
      '{"opaque":1,"extFields":{"a":1,"b":true,"c":null,"d":-2.5}}',
      '{"opaque":1,"unknown":{"x":[1,2]}}',
      '{"opaque":1,"code":1.0}',
      '{"opaque":1,"code":1e2}',
      '{"opaque":1,"opaque":2}',
      '{"opaque":1,"extFields":{"a":"x","a":"y"}}',
      '{"opaque":1,"extFields":null}',
      '{"opaque":1,"remark":"a\ufffdb"}',
      '\ufeff{"opaque":1}',
      '{"code":2147483648}',
      '{"language":256}',
      '{"code":"105"}',
      '{"code":01}',
      '{"code":1,}',
      '{"code":1',
      '{"remark":"\\x"}',
      '{"remark":"a\tb"}', // a raw control character is not JSON
      "[1,2]",
      "{]",
      '{"opaque":1,"extFields":{]}',
      '{"opaque":1,"extFields":{"a":"b";"c":"d"}}',
      '{"opaque":1;"code":2}',
      "{'opaque':1}",
      "{\"opaque\":1,'code':2}",
      '{"opaque":1]',
      '["opaque":1}',
      '{"opaque":1,"extFields":["a":"b"}}',
      '{"opaque":1,"extFields":{"a":"b"]}',
      '{"opaque":1}}',
      '{"opaque":1} x',
      "null",
      "",
    ];
    for (const header of fastCases) assert.equal(agree(Buffer.from(header)), true, header);
    for (const header of slowCases) assert.equal(agree(Buffer.from(header)), false, header);
    assert.equal(agree(Buffer.from([0x7b, 0x22, 0xc3, 0x28, 0x22, 0x7d])), false); // invalid UTF-8
    assert.equal(agree(Buffer.from('{"remark":"\xed\xa0\x80"}', "latin1")), false); // an encoded surrogate
  });

  test("headers of a shape the scanner has seen: compared with its bytes, decoded as the slow path does", () => {
    const response = Buffer.from(
      '{"code":0,"flag":1,"language":"JAVA","opaque":7,"remark":"ok","serializeTypeCurrentRPC":"JSON","version":0}',
    );
    const request = Buffer.from(
      '{"code":310,"extFields":{"a":"g","b":"T"},"flag":0,"language":"GO","opaque":7,"serializeTypeCurrentRPC":"JSON","version":399}',
    );
    const responses = [
      '{"code":0,"flag":1,"language":"JAVA","opaque":-2147483648,"remark":"ok","serializeTypeCurrentRPC":"JSON","version":0}',
      '{"code":0,"flag":1,"language":"JAVA","opaque":-0,"serializeTypeCurrentRPC":"JSON","version":0}',
      '{"code":0,"flag":1,"language":"JAVA","opaque":1,"remark":"a\\"b\u00e9","serializeTypeCurrentRPC":"JSON","version":0}',
      '{"code":0,"flag":1,"language":"JAVA","opaque":1,"remark":"","serializeTypeCurrentRPC":"JSON","version":0}',
    ];
    const misses = [
      '{"code":0,"flag":1,"language":"JAVA","opaque":1,"remark":null,"serializeTypeCurrentRPC":"JSON","version":0}',
      '{"code":0,"flag":1,"language":"JAVA","opaque":01,"serializeTypeCurrentRPC":"JSON","version":0}',
      '{"code":0,"flag":1,"language":"JAVA","opaque":2147483648,"serializeTypeCurrentRPC":"JSON","version":0}',
      '{"code":0,"flag":1,"language":"JAVA","opaque":1,"serializeTypeCurrentRPC":"JSON","version":0} ',
      '{"code":0,"flag":1,"language":"JAVA","opaque":1,"serializeTypeCurrentRPC":"JSON","version":0}}',
      '{"code":0,"flag":1,"language":"JAVA","opaque":1,"serializeTypeCurrentRPC":"JSON","version":01}',
      '{"code":0,"flag":1,"language":"JAVA","opaque":1,"serializeTypeCurrentRPC":"ROCKETMQ","version":0}',
      '{"code":0,"flag":1,"language":"JAVA","opaque":1,"serializeTypeCurrentRPC":"JSON","version":0,"opaque":2}',
      '{"code":0,"flag":1,"language":"JAVA","opaque":1,"remark":"ok","remark":"ok","serializeTypeCurrentRPC":"JSON","version":0}',
      '{"code":0,"flag":1,"language":"JAVA","opaque":1,"remark":"ok","serializeTypeCurrentRPC":"JSON","version":0',
      '{"code":0,"flag":1,"language":"JAVA","opaque":',
      '{"code":0,"flag":1,"language":"JAVA"}',
      '{"code":00,"flag":1,"language":"JAVA","opaque":1,"serializeTypeCurrentRPC":"JSON","version":0}',
    ];
    const requests = [
      '{"code":310,"extFields":{},"flag":0,"language":"GO","opaque":1,"serializeTypeCurrentRPC":"JSON","version":399}',
      '{"code":310,"extFields":{"0":"x","b":"\\n","a":"\u4e16"},"flag":0,"language":"GO","opaque":1,"remark":"r","serializeTypeCurrentRPC":"JSON","version":399}',
      '{"code":310,"extFields":{"a":"x","a":"y"},"flag":0,"language":"GO","opaque":1,"serializeTypeCurrentRPC":"JSON","version":399}',
      '{"code":310,"extFields":{"a":1},"flag":0,"language":"GO","opaque":1,"serializeTypeCurrentRPC":"JSON","version":399}',
      '{"code":310,"extFields":null,"flag":0,"language":"GO","opaque":1,"serializeTypeCurrentRPC":"JSON","version":399}',
      '{"code":310,"extFields":{"a":"x"},"flag":0,"language":"GO","opaque":1,"serializeTypeCurrentRPC":"JSON","version":400}',
    ];
    for (const header of responses)
      assert.equal(agree(Buffer.from(header), 0, undefined, response), true, header);
    for (const header of misses) agree(Buffer.from(header), 0, undefined, response);
    for (const header of requests) agree(Buffer.from(header), 0, undefined, request);
    // More than maxExtFields keys: the same error from a scanner that knows the shape.
    const scanner = new JsonHeaderScanner(new JsonHeaderTemplates());
    scanner.scan(request, 0, request.length, 2);
    const many = Buffer.from(
      '{"code":310,"extFields":{"a":"1","b":"2","c":"3"},"flag":0,"language":"GO","opaque":1,"serializeTypeCurrentRPC":"JSON","version":399}',
    );
    assert.throws(() => scanner.scan(many, 0, many.length, 2), {
      code: "MQW_ERR_MALFORMED_FRAME",
      reason: "ext-fields-count",
    });
  });

  test("decoded fields of a scanned header", () => {
    const header = Buffer.from(
      '{"opaque":5,"extFields":{"b":"1","0":"2"},"language":"RUST","remark":"a\\tb"}',
    );
    const cmd = scanJsonHeader(header, 0, header.length);
    assert.notEqual(cmd, null);
    assert.equal(cmd!.opaque, 5);
    assert.equal(cmd!.language, 12);
    assert.equal(cmd!.remark, "a\tb");
    assert.deepEqual(
      [...cmd!.extFields!],
      [
        ["b", "1"],
        ["0", "2"],
      ],
    );
  });
});
