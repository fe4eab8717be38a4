/**
 * The codec self-test run first by `mqwire demo`. It builds a few commands, encodes them
 * with both header serializations, decodes them back through an incremental decoder fed in small
 * pieces, and checks two known answers from the protocol reference (§1.2). Needs no files.
 */
import {
  decodeFrame,
  encodeFrame,
  jsonHeaderText,
  LanguageCode,
  RemotingCommand,
  rocketmqCodec,
  SerializeType,
  serializeTypeName,
} from "mqwire";

interface Check {
  name: string;
  run(): void;
}

function assertEqual(actual: unknown, expected: unknown, what: string): void {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) throw new Error(`${what}: got ${a}, expected ${e}`);
}

/** A command's decoded view, with RocketMQ's empty -> null rules applied to the expectation. */
function view(cmd: RemotingCommand, expectAfter?: SerializeType): unknown {
  const binary = expectAfter === SerializeType.ROCKETMQ;
  const ext =
    cmd.extFields === null ? null : [...cmd.extFields].filter(([k, v]) => !binary || (k !== "" && v !== ""));
  return {
    code: cmd.code,
    language: cmd.language,
    version: cmd.version,
    opaque: cmd.opaque,
    flag: cmd.flag,
    remark: binary && cmd.remark === "" ? null : cmd.remark,
    extFields: binary && ext !== null && ext.length === 0 ? null : ext,
    body: cmd.body === null || cmd.body.length === 0 ? null : cmd.body.toString("hex"),
  };
}

function samples(): RemotingCommand[] {
  const big = Buffer.alloc(70_000);
  for (let i = 0; i < big.length; i++) big[i] = (i * 31 + 7) & 0xff;
  return [
    RemotingCommand.createRequest(105, {
      opaque: 1,
      extFields: { topic: "TopicTest" },
      body: Buffer.from("hi"),
    }),
    RemotingCommand.createResponse(0, "ok", { opaque: 2, body: Buffer.from("world") }),
    new RemotingCommand({ code: 104, opaque: 3, flag: 2 }),
    new RemotingCommand({
      code: 7,
      opaque: -2,
      language: LanguageCode.GO,
      version: 479,
      remark: 'héllo "q" \\ \u0001 \u007f \u2028 😀 /',
      extFields: new Map([
        ["2", "int-like key"],
        ["名字", "值\n\t"],
        ["emoji", "🚀"],
      ]),
    }),
    new RemotingCommand({ code: 32767, version: -32768, opaque: 2147483647, flag: 3, body: big }),
    new RemotingCommand({ code: 1, opaque: 13, remark: "", extFields: {}, body: Buffer.alloc(0) }),
  ];
}

function roundTrip(cmd: RemotingCommand, type: SerializeType): void {
  cmd.serializeType = type;
  const wire = Buffer.concat(rocketmqCodec.encode(cmd));
  const decoder = rocketmqCodec.createDecoder();
  const out: RemotingCommand[] = [];
  // Feed in uneven small pieces so frames span chunks.
  for (let i = 0, step = 1; i < wire.length; i += step, step = (step % 7) + 1) {
    out.push(...decoder.push(wire.subarray(i, i + step)));
  }
  const [decoded] = out;
  assertEqual(out.length, 1, "frames decoded");
  if (decoded === undefined) return;
  assertEqual(decoded.serializeType, type, "serializeType");
  assertEqual(view(decoded), view(cmd, type), "fields");
  assertEqual(decoder.bufferedBytes, 0, "bytes left buffered");
}

function checks(): Check[] {
  const list: Check[] = [];
  samples().forEach((cmd, i) => {
    for (const type of [SerializeType.JSON, SerializeType.ROCKETMQ]) {
      list.push({
        name: `round trip #${i + 1} code ${cmd.code} ${serializeTypeName(type)}`,
        run: () => roundTrip(cmd, type),
      });
    }
  });
  const example = (opaque: number, serializeType: SerializeType): RemotingCommand =>
    RemotingCommand.createRequest(105, {
      opaque,
      version: 479,
      serializeType,
      extFields: { topic: "TopicTest" },
    });
  list.push({
    name: "reference §1.2 JSON header text",
    run: () =>
      assertEqual(
        jsonHeaderText(example(0, SerializeType.JSON)),
        '{"code":105,"extFields":{"topic":"TopicTest"},"flag":0,"language":"JAVA","opaque":0,"serializeTypeCurrentRPC":"JSON","version":479}',
        "header",
      ),
  });
  list.push({
    name: "reference §1.2 ROCKETMQ frame bytes",
    run: () =>
      assertEqual(
        encodeFrame(example(1, SerializeType.ROCKETMQ)).toString("hex"),
        "0000002d0100002900690001df00000001000000000000000000000014000574" +
          "6f70696300000009546f70696354657374",
        "frame",
      ),
  });
  list.push({
    name: "decodeFrame refuses a bad serialize type",
    run: () => {
      const frame = encodeFrame(example(1, SerializeType.JSON));
      frame[4] = 7;
      let code: unknown;
      try {
        decodeFrame(frame);
      } catch (err) {
        code = (err as { code?: unknown }).code;
      }
      assertEqual(code, "MQW_ERR_MALFORMED_FRAME", "error code");
    },
  });
  return list;
}

/** Runs the self-test, printing PASS/FAIL lines and a summary; returns the number of failures. */
export function runCodecSelfTest(write: (line: string) => void): number {
  let passed = 0;
  let failed = 0;
  for (const check of checks()) {
    try {
      check.run();
      passed++;
      write(`PASS ${check.name}`);
    } catch (err) {
      failed++;
      write(`FAIL ${check.name}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  write(`${passed} passed, ${failed} failed`);
  return failed;
}

/** Registers `mqwire demo`. */
