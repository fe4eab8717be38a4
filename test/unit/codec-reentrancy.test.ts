/**
 * The codec's encoders keep their state between measuring a header and writing it in a pass
 * object, not in module variables: a FrameSink whose `claim` runs arbitrary code (here: encodes
 * another command through the same codec, throws, or changes the command being encoded) cannot
 * break the encode it interrupts. Checked against the Java-encoded vectors, byte for byte.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { FrameSink } from "../../src/codec/codec.js";
import { RemotingCommand, SerializeType } from "../../src/codec/remoting-command.js";
import { encodeFrame, rocketmqCodec } from "../../src/codec/rocketmq-codec.js";
import { loadRandomVectors, loadRocketmqVectors, type Vector, vectorCommand } from "../helpers/vectors.js";

/**
 * A FrameSink over one growing list of pieces, a fresh buffer per claim (at an offset, as a
 * driver's batch would give), that runs `onClaim` before it reserves anything.
 */
class HookedSink implements FrameSink {
  readonly parts: Buffer[] = [];
  claimBuffer: Buffer = Buffer.alloc(0);
  claims = 0;
  onClaim: ((sink: HookedSink) => void) | null = null;

  claim(bytes: number): number {
    this.claims++;
    const hook = this.onClaim;
    if (hook !== null) {
      this.onClaim = null; // once: the nested encode claims through this sink too
      hook(this);
    }
    const buf = Buffer.alloc(bytes + 5, 0xee);
    this.claimBuffer = buf;
    this.parts.push(buf.subarray(5));
    return 5;
  }

  append(chunk: Buffer): void {
    this.parts.push(chunk);
  }

  hex(): string {
    return Buffer.concat(this.parts).toString("hex");
  }
}

const vectors: Vector[] = [...loadRocketmqVectors(), ...loadRandomVectors()];

describe("encodeInto with a sink whose claim runs code", () => {
  test("a claim that encodes another command: both frames byte-exact (every pair of Java vectors)", () => {
    let nested = 0;
    for (const outer of vectors) {
      for (const inner of vectors) {
        const sink = new HookedSink();
        sink.onClaim = (s) => rocketmqCodec.encodeInto(vectorCommand(inner), s);
        rocketmqCodec.encodeInto(vectorCommand(outer), sink);
        // The inner frame was queued inside the outer claim, so it comes first on the wire. An
        // outer frame the plain encoders leave (escapes, non-ASCII JSON) claims nothing; then the
        // hook never ran and only the outer frame is there.
        const ran = sink.onClaim === null;
        if (ran) nested++;
        assert.equal(sink.hex(), (ran ? inner.hex : "") + outer.hex, `${outer.name} around ${inner.name}`);
      }
    }
    assert.ok(nested > vectors.length, `the hook ran in ${nested} encodes`);
  });

  test("nested three deep through the same codec, both serializations", () => {
    const cmd = (type: SerializeType, n: number): RemotingCommand =>
      new RemotingCommand({
        code: 10 + n,
        opaque: 100 + n,
        remark: `r${n}`,
        extFields: { a: `value-${n}`, bb: "x".repeat(n * 7) },
        body: Buffer.alloc(n * 3, n),
        serializeType: type,
      });
    for (const types of [
      [SerializeType.JSON, SerializeType.JSON, SerializeType.JSON],
      [SerializeType.ROCKETMQ, SerializeType.ROCKETMQ, SerializeType.ROCKETMQ],
      [SerializeType.JSON, SerializeType.ROCKETMQ, SerializeType.JSON],
      [SerializeType.ROCKETMQ, SerializeType.JSON, SerializeType.ROCKETMQ],
    ]) {
      const [a, b, c] = types.map((t, n) => cmd(t, n + 1)) as [
        RemotingCommand,
        RemotingCommand,
        RemotingCommand,
      ];
      const sink = new HookedSink();
      sink.onClaim = (s) => {
        s.onClaim = (s2) => rocketmqCodec.encodeInto(c, s2);
        rocketmqCodec.encodeInto(b, s);
      };
      rocketmqCodec.encodeInto(a, sink);
      const expected = Buffer.concat([encodeFrame(c), encodeFrame(b), encodeFrame(a)]).toString("hex");
      assert.equal(sink.hex(), expected, `types ${types.join(",")}`);
      assert.equal(sink.claims, 3);
    }
  });

  test("a claim that calls encode (not encodeInto) mid-frame leaves both frames intact", () => {
    const named = loadRocketmqVectors(); // both serializations of every case
    let nested = 0;
    for (const outer of vectors) {
      for (const inner of named) {
        let innerHex: string | null = null;
        const sink = new HookedSink();
        sink.onClaim = () => {
          innerHex = Buffer.concat(rocketmqCodec.encode(vectorCommand(inner))).toString("hex");
        };
        rocketmqCodec.encodeInto(vectorCommand(outer), sink);
        assert.equal(sink.hex(), outer.hex, `${outer.name} around ${inner.name}`);
        if (innerHex !== null) {
          nested++;
          assert.equal(innerHex, inner.hex, `${inner.name} inside ${outer.name}`);
        }
      }
    }
    assert.ok(nested > vectors.length, `the hook ran in ${nested} encodes`);
  });

  test("a claim that changes the command: the frame is the command as it was measured", () => {
    for (const type of [SerializeType.JSON, SerializeType.ROCKETMQ]) {
      const cmd = new RemotingCommand({
        code: 12,
        opaque: 7,
        remark: "ok",
        extFields: { k: "v" },
        serializeType: type,
      });
      const before = encodeFrame(cmd).toString("hex");
      const sink = new HookedSink();
      sink.onClaim = () => {
        cmd.code = 1234;
        cmd.opaque = -2_000_000_000;
        cmd.flag = 3;
        cmd.remark = "a much longer remark";
        cmd.extFields = null;
      };
      rocketmqCodec.encodeInto(cmd, sink);
      assert.equal(sink.hex(), before, `type ${type}`);
    }
  });

  test("a claim that throws: nothing of that frame leaks into the next encodes", () => {
    for (const v of vectors) {
      const sink = new HookedSink();
      sink.onClaim = () => {
        throw new Error("claim refused");
      };
      try {
        rocketmqCodec.encodeInto(vectorCommand(v), sink);
      } catch (err) {
        assert.equal((err as Error).message, "claim refused");
      }
    }
    for (const v of vectors) {
      const sink = new HookedSink();
      rocketmqCodec.encodeInto(vectorCommand(v), sink);
      assert.equal(sink.hex(), v.hex, v.name);
      assert.equal(sink.claims <= 1, true);
    }
  });
});
