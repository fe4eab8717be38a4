/**
 * `mqwire decode`, `mqwire encode` and `mqwire demo` as a user runs them:
 * `node packages/cli/bin/mqwire.js` in a child process, input on stdin or with --file.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { RemotingCommand, SerializeType } from "../../src/codec/remoting-command.js";
import { decodeFrame, encodeFrame } from "../../src/codec/rocketmq-codec.js";
import { mqwire as run } from "../helpers/cli.js";
import { vectorsDir } from "../helpers/vectors.js";

const TIMEOUT_MS = 8000;
const mqwire = (args: string[], stdin = "", timeoutMs = TIMEOUT_MS) => run(args, stdin, timeoutMs);

const lines = (s: string): string[] => s.split("\n").filter((l) => l.length > 0);

const request = new RemotingCommand({
  code: 105,
  opaque: 1,
  version: 479,
  extFields: new Map([
    ["topic", "TopicTest"],
    ["7", "int-like"],
  ]),
  body: Buffer.from("hello"),
});
const response = new RemotingCommand({
  code: 0,
  opaque: 1,
  flag: 1,
  remark: "ok 😀",
  serializeType: SerializeType.ROCKETMQ,
});

const tmp = mkdtempSync(join(tmpdir(), "mqwire-cli-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

describe("mqwire decode", () => {
  test("hex frames on stdin, blank lines and whitespace ignored, one JSON line each", async () => {
    const input = `  ${encodeFrame(request).toString("hex")}  \n\n${encodeFrame(response).toString("hex").toUpperCase()}\r\n`;
    const r = await mqwire(["decode"], input);
    assert.equal(r.code, 0, r.stderr);
    const out = lines(r.stdout);
    assert.equal(out.length, 2);
    assert.equal(
      out[0],
      '{"serializeType":"JSON","code":105,"language":"JAVA","version":479,"opaque":1,"flag":0,"remark":null,' +
        '"extFields":{"topic":"TopicTest","7":"int-like"},"body":"aGVsbG8="}',
    );
    assert.deepEqual(JSON.parse(out[1]!), {
      serializeType: "ROCKETMQ",
      code: 0,
      language: "JAVA",
      version: 0,
      opaque: 1,
      flag: 1,
      remark: "ok 😀",
      extFields: null,
      body: null,
    });
  });
  test("a bad line is reported with its number and code; the others still decode; exit 1", async () => {
    const bad = encodeFrame(request);
    bad[4] = 9;
    const input = [
      encodeFrame(response).toString("hex"),
      "zz",
      bad.toString("hex"),
      encodeFrame(request).toString("hex"),
    ];
    const r = await mqwire(["decode"], `${input.join("\n")}\n`);
    assert.equal(r.code, 1);
    assert.equal(lines(r.stdout).length, 2);
    const errors = lines(r.stderr);
    assert.equal(errors.length, 2);
    assert.match(errors[0]!, /^line 2: MQW_ERR_INVALID_ARGUMENT: /);
    assert.match(errors[1]!, /^line 3: MQW_ERR_MALFORMED_FRAME: serialize-type: /);
  });
  test("--file reads the frames from a file", async () => {
    const file = join(tmp, "frames.hex");
    writeFileSync(file, `${encodeFrame(response).toString("hex")}\n`);
    const r = await mqwire(["decode", "--file", file]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(lines(r.stdout)[0]!).remark, "ok 😀");
  });
  test("a missing --file fails with exit 1", async () => {
    const r = await mqwire(["decode", "--file", join(tmp, "nope.hex")]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /ENOENT/);
  });
});

describe("mqwire encode", () => {
  test("JSON lines to lowercase hex frames; extFieldsOrder and language numbers honoured", async () => {
    const input = [
      '{"serializeType":"JSON","code":105,"language":"JAVA","version":479,"opaque":1,"flag":0,"remark":null,' +
        '"extFields":{"topic":"TopicTest","7":"int-like"},"extFieldsOrder":["topic","7"],"body":"aGVsbG8="}',
      '{"serializeType":"ROCKETMQ","code":0,"language":0,"opaque":1,"flag":1,"remark":"ok 😀","body":""}',
    ];
    const r = await mqwire(["encode"], `${input.join("\n")}\n`);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(lines(r.stdout), [
      encodeFrame(request).toString("hex"),
      encodeFrame(response).toString("hex"),
    ]);
  });
  test("without extFieldsOrder the key order of the text is kept", async () => {
    const r = await mqwire(
      ["encode"],
      '{"opaque":1,"code":105,"version":479,"extFields":{"topic":"TopicTest","7":"int-like"},"body":"aGVsbG8="}',
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(lines(r.stdout)[0], encodeFrame(request).toString("hex"));
  });
  test("bad lines are reported and skipped; exit 1", async () => {
    const input = [
      "{nope",
      '{"code":1,"opaque":1}',
      '{"code":70000,"opaque":1,"serializeType":"ROCKETMQ"}',
      '{"cod":1}',
    ];
    const r = await mqwire(["encode"], input.join("\n"));
    assert.equal(r.code, 1);
    assert.equal(lines(r.stdout).length, 1);
    const errors = lines(r.stderr);
    assert.equal(errors.length, 3);
    assert.match(errors[0]!, /^line 1: MQW_ERR_INVALID_ARGUMENT: /);
    assert.match(errors[1]!, /^line 3: MQW_ERR_INVALID_ARGUMENT: /);
    assert.match(errors[2]!, /^line 4: MQW_ERR_INVALID_ARGUMENT: /);
  });
  test("decode | encode reproduces every Java frame of the random vectors", async () => {
    const frames = readFileSync(join(vectorsDir(), "rocketmq-random", "frames.hex"), "utf8");
    const file = join(tmp, "random.hex");
    writeFileSync(file, frames);
    const decoded = await mqwire(["decode", "--file", file]);
    assert.equal(decoded.code, 0, decoded.stderr);
    const encoded = await mqwire(["encode"], decoded.stdout);
    assert.equal(encoded.code, 0, encoded.stderr);
    // Java decodes an empty ROCKETMQ extFields value to null, which mqwire drops, so exactly those
    // frames re-encode without the entry; every other frame comes back byte for byte.
    const javaFrames = lines(frames);
    const javaDecoded = lines(readFileSync(join(vectorsDir(), "rocketmq-random", "decoded.jsonl"), "utf8"));
    const ours = lines(encoded.stdout);
    assert.equal(ours.length, javaFrames.length);
    for (let i = 0; i < ours.length; i++) {
      const d = JSON.parse(javaDecoded[i]!) as { extFields: Record<string, string | null> | null };
      const hasNull = d.extFields !== null && Object.values(d.extFields).some((v) => v === null);
      if (hasNull) {
        assert.notEqual(ours[i], javaFrames[i], `frame ${i}`);
        assert.deepEqual(
          decodeFrame(Buffer.from(ours[i]!, "hex")),
          decodeFrame(Buffer.from(javaFrames[i]!, "hex")),
        );
      } else {
        assert.equal(ours[i], javaFrames[i], `frame ${i}`);
      }
    }
  });
});

describe("mqwire demo", () => {
  test("runs the codec self-test and the interop cases in all four serialize-type combinations", async () => {
    const r = await mqwire(["demo"], "", 30_000);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const out = lines(r.stdout);
    assert.match(out.at(-1)!, /^demo: [1-9]\d* passed, 0 failed$/);
    assert.equal(out.filter((l) => l.startsWith("FAIL")).length, 0);
    assert.equal(out.filter((l) => l.startsWith("PASS server_push")).length, 4);
    assert.equal(out.filter((l) => l.startsWith("== interop:")).length, 4);
  });
});
