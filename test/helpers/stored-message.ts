/**
 * Tests only: encodes one stored message the way the broker writes it into the commit log and
 * returns it in a pull body (RocketMQ 4.9.8 store/.../CommitLog.java `calMsgLength` and
 * `MessageExtEncoder.encode`), so tests can make IPv6 hosts, V2 magic and corrupt inputs that a
 * 4.9.8 broker never produces; and reads the captured fixtures of test/fixtures/rocketmq/messages.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { crc32 } from "node:zlib";
import { encodeProperties } from "../../src/rocketmq/message.js";
import { MESSAGE_MAGIC_CODE, MESSAGE_MAGIC_CODE_V2 } from "../../src/rocketmq/message-decoder.js";
import { addressToBytes } from "../../src/rocketmq/message-id.js";
import { repoRoot } from "./vectors.js";

/** A host: IPv4 or IPv6 text (or 4/16 bytes) and a port. */
export interface StoredHost {
  ip: string | Uint8Array;
  port: number;
}

/** Fields of a stored message; all but `topic` have defaults. */
export interface StoredMessageInit {
  topic: string;
  body?: Uint8Array;
  /** A property map (encoded in its order) or the raw property string. */
  properties?: Record<string, string> | string;
  queueId?: number;
  flag?: number;
  queueOffset?: number | bigint;
  commitLogOffset?: number | bigint;
  /** The V6 host bits are added from the hosts' lengths. */
  sysFlag?: number;
  bornTimestamp?: number | bigint;
  bornHost?: StoredHost;
  storeTimestamp?: number | bigint;
  storeHost?: StoredHost;
  reconsumeTimes?: number;
  preparedTransactionOffset?: number | bigint;
  /** Default: CRC32 of the body & 0x7FFFFFFF, as `UtilAll.crc32`. */
  bodyCRC?: number;
  /** V1 (1-byte topic length, 4.9.8) or V2 (2-byte, RocketMQ 5). */
  magic?: "V1" | "V2";
}

function ipBytes(ip: string | Uint8Array): Uint8Array {
  return typeof ip === "string" ? addressToBytes(ip) : ip;
}

/** One message in the stored layout. */
export function encodeStoredMessage(init: StoredMessageInit): Buffer {
  const body = init.body ?? new Uint8Array(0);
  const topic = Buffer.from(init.topic, "utf8");
  const props = Buffer.from(
    typeof init.properties === "string" ? init.properties : encodeProperties(init.properties ?? {}),
    "utf8",
  );
  const born = init.bornHost ?? { ip: "127.0.0.1", port: 50000 };
  const store = init.storeHost ?? { ip: "127.0.0.1", port: 10911 };
  const bornIp = ipBytes(born.ip);
  const storeIp = ipBytes(store.ip);
  let sysFlag = init.sysFlag ?? 0;
  if (bornIp.length === 16) sysFlag |= 0x10;
  if (storeIp.length === 16) sysFlag |= 0x20;
  const v2 = init.magic === "V2";
  const size =
    4 +
    4 +
    4 +
    4 +
    4 +
    8 +
    8 +
    4 +
    8 +
    (bornIp.length + 4) +
    8 +
    (storeIp.length + 4) +
    4 +
    8 +
    (4 + body.length) +
    ((v2 ? 2 : 1) + topic.length) +
    (2 + props.length);
  const buf = Buffer.alloc(size);
  let p = 0;
  p = buf.writeInt32BE(size, p);
  p = buf.writeInt32BE(v2 ? MESSAGE_MAGIC_CODE_V2 : MESSAGE_MAGIC_CODE, p);
  p = buf.writeInt32BE(init.bodyCRC ?? crc32(body) & 0x7fffffff, p);
  p = buf.writeInt32BE(init.queueId ?? 0, p);
  p = buf.writeInt32BE(init.flag ?? 0, p);
  p = buf.writeBigInt64BE(BigInt(init.queueOffset ?? 0), p);
  p = buf.writeBigInt64BE(BigInt(init.commitLogOffset ?? 0), p);
  p = buf.writeInt32BE(sysFlag, p);
  p = buf.writeBigInt64BE(BigInt(init.bornTimestamp ?? 1_700_000_000_000), p);
  buf.set(bornIp, p);
  p = buf.writeInt32BE(born.port, p + bornIp.length);
  p = buf.writeBigInt64BE(BigInt(init.storeTimestamp ?? 1_700_000_000_001), p);
  buf.set(storeIp, p);
  p = buf.writeInt32BE(store.port, p + storeIp.length);
  p = buf.writeInt32BE(init.reconsumeTimes ?? 0, p);
  p = buf.writeBigInt64BE(BigInt(init.preparedTransactionOffset ?? 0), p);
  p = buf.writeInt32BE(body.length, p);
  buf.set(body, p);
  p += body.length;
  p = v2 ? buf.writeInt16BE(topic.length, p) : buf.writeInt8(topic.length, p);
  topic.copy(buf, p);
  p += topic.length;
  p = buf.writeInt16BE(props.length, p);
  props.copy(buf, p);
  return buf;
}

/** A line of `java-client.sh consume` (RocketMQ's Java consumer) in the fixtures. */
export interface JavaConsumed {
  msgId: string;
  offsetMsgId: string;
  topic: string;
  tags: string | null;
  keys: string | null;
  bodyBase64: string;
  bodyLength: number;
  properties: Record<string, string>;
  queueId: number;
  queueOffset: number;
  commitLogOffset: number;
  storeSize: number;
  bornHost: string;
  bornTimestamp: number;
  storeHost: string;
  storeTimestamp: number;
  reconsumeTimes: number;
  sysFlag: number;
  bodyCRC: number;
}

/** A captured pull body and the Java consumer's view of it (test/fixtures/rocketmq/messages). */
export interface MessageFixture {
  pull: Buffer;
  consumed: JavaConsumed[];
}

/** The directory of the stored-message fixtures. */
export function messageFixtureDir(): string {
  return join(repoRoot(), "test", "fixtures", "rocketmq", "messages");
}

/** Reads `<name>.pull.bin` and `<name>.java-consume.jsonl`. */
export function readMessageFixture(name: string): MessageFixture {
  const dir = messageFixtureDir();
  const lines = readFileSync(join(dir, `${name}.java-consume.jsonl`), "utf8")
    .split("\n")
    .filter(Boolean);
  return {
    pull: readFileSync(join(dir, `${name}.pull.bin`)),
    consumed: lines.map((line) => JSON.parse(line) as JavaConsumed),
  };
}
