import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Codec, SniffResult } from "../../src/codec/codec.js";
import { DEFAULT_MAX_SNIFF_BYTES, Negotiator } from "../../src/engine/negotiator.js";
import { ErrorCodes, isMqwireError } from "../../src/errors.js";
import { lineBytes, lineCodec } from "../helpers/line-codec.js";

/** A stand-in with RocketMQ's sniff shape: "need-more" below 8 bytes, "yes" when byte 4 is 0 or 1. */
function lengthPrefixedCodec(): Codec<string> & { sniffs: number } {
  const codec = {
    name: "framed",
    sniffs: 0,
    sniff(head: Buffer): SniffResult {
      codec.sniffs++;
      if (head.length < 8) return "need-more";
      return head[4] === 0 || head[4] === 1 ? "yes" : "no";
    },
    createDecoder: lineCodec.createDecoder,
    encode: lineCodec.encode,
  };
  return codec;
}

/** A codec that never decides. */
const undecided: Codec<string> = { ...lineCodec, name: "undecided", sniff: () => "need-more" };
const refuser: Codec<string> = { ...lineCodec, name: "refuser", sniff: () => "no" };

function expectNegotiationError(fn: () => unknown): void {
  assert.throws(fn, (err) => isMqwireError(err, ErrorCodes.NEGOTIATION));
}

describe("Negotiator", () => {
  test("first 'yes' wins and the head is replayed whole", () => {
    const n = new Negotiator<string>([lineCodec, lengthPrefixedCodec()]);
    const bytes = lineBytes("hello", "world");
    const result = n.push(bytes);
    assert.ok(result);
    assert.equal(result.codec, lineCodec);
    assert.deepEqual(result.head, bytes);
    assert.equal(n.isDone, true);
    assert.equal(n.bufferedBytes, 0);
  });

  test("a later codec's 'yes' wins over an earlier 'need-more'", () => {
    const framed = lengthPrefixedCodec();
    const n = new Negotiator<string>([framed, lineCodec]);
    const result = n.push(Buffer.from("L:x\n"));
    assert.equal(result?.codec, lineCodec);
    assert.ok(framed.sniffs >= 1);
  });

  test("waits on 'need-more' and picks the length-prefixed codec at 8 bytes, for every split", () => {
    const head = Buffer.from([0, 0, 0, 20, 0, 0, 0, 9, 1, 2, 3, 4]);
    for (let split = 0; split <= head.length; split++) {
      const framed = lengthPrefixedCodec();
      const n = new Negotiator<string>([lineCodec, framed]);
      const first = n.push(head.subarray(0, split));
      if (split >= 8) {
        assert.equal(first?.codec, framed, `split ${split}`);
        assert.deepEqual(first?.head, head.subarray(0, split));
        continue;
      }
      assert.equal(first, undefined, `split ${split}`);
      assert.equal(n.bufferedBytes, split);
      const second = n.push(head.subarray(split));
      assert.equal(second?.codec, framed, `split ${split}`);
      // Replayed bytes are exactly the stream so far: no loss, no duplication.
      assert.deepEqual(second?.head, head);
    }
  });

  test("every split of a line head resolves to the line codec with the exact bytes", () => {
    const head = lineBytes("abc", "defg");
    for (let split = 0; split <= head.length; split++) {
      const n = new Negotiator<string>([lineCodec, lengthPrefixedCodec()]);
      let result = n.push(head.subarray(0, split));
      let replayed = result?.head;
      if (result === undefined) {
        result = n.push(head.subarray(split));
        replayed = result?.head;
      } else {
        replayed = Buffer.concat([result.head, head.subarray(split)]);
      }
      assert.equal(result?.codec, lineCodec, `split ${split}`);
      assert.deepEqual(replayed, head);
    }
  });

  test("all 'no' throws MQW_ERR_NEGOTIATION", () => {
    const n = new Negotiator<string>([lineCodec, lengthPrefixedCodec()]);
    expectNegotiationError(() => n.push(Buffer.from("GET / HTTP/1.1\r\n")));
    assert.equal(n.isDone, true);
    // The negotiation is over: a second push is refused too.
    expectNegotiationError(() => n.push(Buffer.from("L:x\n")));
  });

  test("'no' before enough bytes is decided at once", () => {
    const n = new Negotiator<string>([lineCodec, refuser]);
    expectNegotiationError(() => n.push(Buffer.from("X")));
  });

  test("the buffer is capped: a codec stuck at 'need-more' is refused at maxSniffBytes", () => {
    const n = new Negotiator<string>([undecided], 16);
    for (let i = 0; i < 15; i++) assert.equal(n.push(Buffer.from([i])), undefined);
    assert.equal(n.bufferedBytes, 15);
    expectNegotiationError(() => n.push(Buffer.from([15])));
    assert.equal(n.bufferedBytes, 0);
  });

  test("sniff never sees more than maxSniffBytes, even from one large chunk", () => {
    let seen = 0;
    const spy: Codec<string> = {
      ...lineCodec,
      sniff: (head) => {
        seen = Math.max(seen, head.length);
        return "need-more";
      },
    };
    const n = new Negotiator<string>([spy]);
    expectNegotiationError(() => n.push(Buffer.alloc(10_000)));
    assert.equal(seen, DEFAULT_MAX_SNIFF_BYTES);
  });

  test("an empty chunk is not a decision", () => {
    const n = new Negotiator<string>([refuser]);
    assert.equal(n.push(Buffer.alloc(0)), undefined);
    assert.equal(n.isDone, false);
  });

  test("timeout() returns MQW_ERR_NEGOTIATION and ends the negotiation", () => {
    const n = new Negotiator<string>([lengthPrefixedCodec()]);
    assert.equal(n.push(Buffer.from([0, 0, 0])), undefined);
    const err = n.timeout(100);
    assert.equal(err.code, ErrorCodes.NEGOTIATION);
    assert.equal(n.isDone, true);
    assert.equal(n.bufferedBytes, 0);
  });

  test("invalid arguments are refused with MQW_ERR_INVALID_ARGUMENT", () => {
    const invalid = (err: unknown) => isMqwireError(err, ErrorCodes.INVALID_ARGUMENT);
    assert.throws(() => new Negotiator<string>([]), invalid);
    assert.throws(() => new Negotiator<string>([lineCodec], 0), invalid);
    assert.throws(() => new Negotiator<string>([lineCodec], 1.5), invalid);
  });
});
