/**
 * Property tests of the header codecs' fast paths (src/codec/byte-strings.ts and the direct JSON
 * writer) against plain reference implementations: ASCII and non-ASCII strings at the lengths
 * where the code switches method (1 byte, the 16-character write loop, the 32-character scans),
 * a single odd character (escape, non-ASCII, lone surrogate) anywhere in an otherwise ASCII
 * string, ext regions on both sides of the shared-text limit, and invalid UTF-8 on decode.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { javaWellFormed } from "../../src/codec/fastjson.js";
import { RemotingCommand, SerializeType } from "../../src/codec/remoting-command.js";
import {
  decodeJsonHeader,
  decodeRocketmqHeader,
  encodeJsonHeader,
  encodeRocketmqHeader,
  jsonHeaderText,
} from "../../src/codec/rocketmq-header.js";

const INT16 = { min: -32768, max: 32767 };
const INT32 = { min: -(2 ** 31), max: 2 ** 31 - 1 };

/** Lengths at and around every switch of method, plus a few long ones. */
const length = fc.constantFrom(0, 1, 2, 12, 13, 15, 16, 17, 24, 31, 32, 33, 64, 300);
const printable = fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c));
/** Characters that take a string off the fast paths: escapes, non-ASCII, lone surrogates. */
const odd = fc.constantFrom(
  '"',
  "\\",
  "\u0000",
  "\u001f",
  "\u007f",
  "\u0080",
  "é",
  "\u2028",
  "世",
  "😀",
  "\ud800",
  "\udfff",
);

/** An ASCII string of a boundary length, sometimes with one odd character at any position. */
const boundaryString = length
  .chain((n) =>
    fc.tuple(
      fc.string({ unit: printable, minLength: n, maxLength: n }),
      fc.option(fc.tuple(odd, fc.nat()), { nil: null }),
    ),
  )
  .map(([s, twist]) => {
    if (twist === null) return s;
    const [c, p] = twist;
    const i = s.length === 0 ? 0 : p % s.length;
    return s.slice(0, i) + c + s.slice(i + 1);
  });

function commandArb(type: SerializeType): fc.Arbitrary<RemotingCommand> {
  const small = type === SerializeType.ROCKETMQ ? INT16 : INT32;
  return fc
    .record({
      code: fc.integer(small),
      language: fc.integer({ min: 0, max: 255 }),
      version: fc.integer(small),
      opaque: fc.integer(INT32),
      flag: fc.integer(INT32),
      remark: fc.option(boundaryString, { nil: null }),
      ext: fc.option(fc.array(fc.tuple(boundaryString, boundaryString), { maxLength: 6 }), { nil: null }),
    })
    .map(
      (r) =>
        new RemotingCommand({
          ...r,
          extFields: r.ext === null ? null : new Map(r.ext),
          serializeType: type,
        }),
    );
}

/** Java's `getBytes(UTF_8)`: lone surrogates as '?'. */
function javaBytes(s: string): Buffer {
  return Buffer.from(javaWellFormed(s), "utf8");
}

/** RocketMQSerializable.rocketMQProtocolEncode, written the obvious way. */
function referenceRocketmq(cmd: RemotingCommand): Buffer {
  const fixed = Buffer.alloc(17);
  fixed.writeInt16BE(cmd.code, 0);
  fixed.writeUInt8(cmd.language, 2);
  fixed.writeInt16BE(cmd.version, 3);
  fixed.writeInt32BE(cmd.opaque, 5);
  fixed.writeInt32BE(cmd.flag, 9);
  const remark = cmd.remark ? javaBytes(cmd.remark) : Buffer.alloc(0);
  fixed.writeInt32BE(remark.length, 13);
  const ext: Buffer[] = [];
  for (const [k, v] of cmd.extFields ?? []) {
    const key = javaBytes(k);
    const value = javaBytes(v);
    const lens = Buffer.alloc(6);
    lens.writeInt16BE(key.length, 0);
    ext.push(lens.subarray(0, 2), key);
    lens.writeInt32BE(value.length, 2);
    ext.push(lens.subarray(2), value);
  }
  const extBytes = Buffer.concat(ext);
  const extLen = Buffer.alloc(4);
  extLen.writeInt32BE(extBytes.length);
  return Buffer.concat([fixed, remark, extLen, extBytes]);
}

/** An encoded ROCKETMQ header whose strings are the given raw bytes. */
function rocketmqWithRawStrings(remark: Uint8Array, ext: [Uint8Array, Uint8Array][]): Buffer {
  const parts: Buffer[] = [];
  for (const [k, v] of ext) {
    const lens = Buffer.alloc(6);
    lens.writeInt16BE(k.length, 0);
    lens.writeInt32BE(v.length, 2);
    parts.push(lens.subarray(0, 2), Buffer.from(k), lens.subarray(2), Buffer.from(v));
  }
  const extBytes = Buffer.concat(parts);
  const head = Buffer.alloc(17);
  head.writeInt32BE(remark.length, 13);
  const extLen = Buffer.alloc(4);
  extLen.writeInt32BE(extBytes.length);
  return Buffer.concat([head, Buffer.from(remark), extLen, extBytes]);
}

/** Mostly ASCII bytes of a boundary length, sometimes with bytes that are not (valid) UTF-8 alone. */
const rawString = length.chain((n) =>
  fc.array(
    fc.oneof(
      { weight: 6, arbitrary: fc.integer({ min: 0, max: 0x7f }) },
      { weight: 1, arbitrary: fc.integer({ min: 0x80, max: 0xff }) },
    ),
    { minLength: n, maxLength: n },
  ),
);

describe("ROCKETMQ header fast paths", () => {
  test("encode equals the reference encoder byte for byte", () => {
    fc.assert(
      fc.property(commandArb(SerializeType.ROCKETMQ), (cmd) => {
        assert.deepEqual(encodeRocketmqHeader(cmd, 3).subarray(3), referenceRocketmq(cmd));
      }),
      { numRuns: 400 },
    );
  });

  test("keys that differ only by a lone surrogate stay two entries, both written as '?' (Java's HashMap)", () => {
    const cmd = new RemotingCommand({
      opaque: 1,
      extFields: new Map([
        ["?", "a"],
        ["\ud800", "b\udc00"],
      ]),
    });
    const header = encodeRocketmqHeader(cmd);
    assert.deepEqual(header, referenceRocketmq(cmd));
    // extLen = 8 + 9: keys "?" and "?" (1 byte each, not U+FFFD's 3), values "a" and "b?".
    assert.equal(header.readInt32BE(17), 17);
    assert.equal(
      header.subarray(21).toString("latin1"),
      "\u0000\u0001?\u0000\u0000\u0000\u0001a\u0000\u0001?\u0000\u0000\u0000\u0002b?",
    );
  });

  test("decode gives each string as Buffer#toString('utf8') does, either side of the shared-text limit", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 40 }),
        fc.array(fc.tuple(rawString, rawString), { minLength: 1, maxLength: 6 }),
        fc.boolean(),
        (remark, ext, huge) => {
          // A value past 4096 bytes makes the region too large for one shared latin1 string.
          if (huge) ext.push([[0x61], Array.from({ length: 4100 }, (_, i) => 0x41 + (i % 26))]);
          const raw = ext.map(
            ([k, v]) => [Uint8Array.from(k), Uint8Array.from(v)] as [Uint8Array, Uint8Array],
          );
          const cmd = decodeRocketmqHeader(rocketmqWithRawStrings(remark, raw));
          const text = (bytes: Uint8Array): string => Buffer.from(bytes).toString("utf8");
          assert.equal(cmd.remark, remark.length === 0 ? null : text(remark));
          const want = new Map<string, string>();
          for (const [k, v] of raw) if (k.length > 0 && v.length > 0) want.set(text(k), text(v));
          assert.deepEqual([...cmd.extFields!], [...want]);
        },
      ),
      { numRuns: 300 },
    );
  });

  test("a 1-byte non-ASCII string decodes to U+FFFD, a 1-byte ASCII one to its character", () => {
    const cmd = decodeRocketmqHeader(
      rocketmqWithRawStrings(Uint8Array.of(0xc3), [
        [Uint8Array.of(0x61), Uint8Array.of(0xff)],
        [Uint8Array.of(0x00), Uint8Array.of(0x7f)],
      ]),
    );
    assert.equal(cmd.remark, "\ufffd");
    assert.deepEqual(
      [...cmd.extFields!],
      [
        ["a", "\ufffd"],
        ["\u0000", "\u007f"],
      ],
    );
  });
});

describe("JSON header fast paths", () => {
  test("encode equals fastjson's text (jsonHeaderText, Java's UTF-8) byte for byte", () => {
    fc.assert(
      fc.property(commandArb(SerializeType.JSON), (cmd) => {
        assert.deepEqual(encodeJsonHeader(cmd, 5).subarray(5), javaBytes(jsonHeaderText(cmd)));
      }),
      { numRuns: 400 },
    );
  });

  test("decode of a string holding any bytes: as the strict UTF-8 decoder and JSON.parse would", () => {
    const strict = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
    fc.assert(
      fc.property(rawString, (bytes) => {
        // Bytes below 0x20 and '"' or '\' make invalid or different JSON; keep them out of the string.
        const safe = bytes.map((b) => (b < 0x20 || b === 0x22 || b === 0x5c ? 0x41 : b));
        const frame = Buffer.concat([
          Buffer.from('{"opaque":1,"remark":"'),
          Buffer.from(safe),
          Buffer.from('"}'),
        ]);
        let want: string | null = null;
        try {
          want = (JSON.parse(strict.decode(frame)) as { remark: string }).remark;
        } catch {
          want = null;
        }
        if (want === null) {
          assert.throws(
            () => decodeJsonHeader(frame),
            (err: { code?: string; reason?: string }) => err.reason === "utf8",
          );
        } else {
          assert.equal(decodeJsonHeader(frame).remark, want);
        }
      }),
      { numRuns: 300 },
    );
  });

  test("a real U+FFFD is accepted, a BOM is refused as json, bad UTF-8 as utf8", () => {
    assert.equal(decodeJsonHeader(Buffer.from('{"opaque":1,"remark":"a\ufffdb"}')).remark, "a\ufffdb");
    assert.throws(
      () => decodeJsonHeader(Buffer.from('\ufeff{"opaque":1}')),
      (err: { code?: string; reason?: string }) =>
        err.code === "MQW_ERR_MALFORMED_FRAME" && err.reason === "json",
    );
    assert.throws(
      () => decodeJsonHeader(Buffer.from([0x7b, 0xed, 0xa0, 0x80, 0x7d])), // a UTF-8-encoded surrogate
      (err: { code?: string; reason?: string }) =>
        err.code === "MQW_ERR_MALFORMED_FRAME" && err.reason === "utf8",
    );
  });
});

describe("short-string cache of readUtf8 (remarks)", () => {
  test("property: remarks of up to 17 ASCII bytes decode exactly, repeated and interleaved", () => {
    // Many distinct short strings through 512 slots: collisions and same-length misses happen.
    const shortAscii = fc.array(printable, { minLength: 2, maxLength: 17 }).map((chars) => chars.join(""));
    fc.assert(
      fc.property(fc.array(shortAscii, { minLength: 1, maxLength: 2000 }), fc.nat(), (remarks, seed) => {
        const frames = remarks.map((remark) =>
          encodeRocketmqHeader(new RemotingCommand({ code: 1, opaque: 1, remark, serializeType: 1 })),
        );
        // Decode every header twice, the second pass in a shuffled order.
        const order = remarks.map((_, i) => (i * 7919 + seed) % remarks.length);
        for (const i of [...remarks.keys(), ...order]) {
          assert.equal(decodeRocketmqHeader(frames[i]!).remark, remarks[i]);
        }
      }),
      { numRuns: 30, endOnFailure: true },
    );
  });
});

describe("JSON numbers written as digits", () => {
  test("int32 edges and digit-count boundaries match the reference text", () => {
    const values = [0, -0, 1, -1, 9, 10, 99, 100, -10, 12345, 999_999_999, 1_000_000_000];
    values.push(2 ** 31 - 1, -(2 ** 31), -(2 ** 31) + 1, 2_147_483_640);
    for (const v of values) {
      const cmd = new RemotingCommand({ code: v, flag: v, opaque: v, version: v });
      assert.equal(encodeJsonHeader(cmd).toString("latin1"), jsonHeaderText(cmd), `value ${v}`);
    }
  });
});
