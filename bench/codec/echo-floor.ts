/**
 * The codec's share of one benchmark call: `encodeInto` + decode of the echo benchmark's request
 * (code 100, no extFields, 128 B body) and response (remark "ok", same body), one core, both
 * serializations. It bounds what any scenario can reach: every call encodes and decodes both
 * frames, every oneway frame one of them.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/codec/echo-floor.js
 */
import { RemotingCommand, SerializeType } from "../../src/codec/remoting-command.js";
import { rocketmqCodec } from "../../src/codec/rocketmq-codec.js";
import { WireSink } from "../lib/wire-sink.js";

const FRAMES = 2_000_000;
const WARMUP_FRAMES = 600_000;

const body = Buffer.alloc(128, 0x5a);
const wire = new WireSink();
const decoder = rocketmqCodec.createDecoder();

function roundTrip(cmd: RemotingCommand): void {
  cmd.opaque = (cmd.opaque + 1) | 0;
  wire.used = 0;
  rocketmqCodec.encodeInto(cmd, wire);
  const frames = decoder.push(wire.claimBuffer.subarray(0, wire.used));
  if (frames.length !== 1 || frames[0]!.opaque !== cmd.opaque) throw new Error("decode mismatch");
}

for (const type of [SerializeType.ROCKETMQ, SerializeType.JSON]) {
  const request = RemotingCommand.createRequest(100, { body, serializeType: type });
  const response = RemotingCommand.createResponse(0, "ok", { body, serializeType: type });
  for (let i = 0; i < WARMUP_FRAMES / 2; i++) {
    roundTrip(request);
    roundTrip(response);
  }
  const start = process.hrtime.bigint();
  for (let i = 0; i < FRAMES / 2; i++) {
    roundTrip(request);
    roundTrip(response);
  }
  const nsPerFrame = Number(process.hrtime.bigint() - start) / FRAMES;
  const name = type === SerializeType.ROCKETMQ ? "ROCKETMQ" : "JSON";
  console.log(
    `${name}: encode+decode ${nsPerFrame.toFixed(0)} ns per frame, ${((2 * nsPerFrame) / 1000).toFixed(3)} µs per call (request + response)`,
  );
}
