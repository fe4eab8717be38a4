/**
 * Decodes the body of a PULL_MESSAGE response: stored messages back to back, each in the commit
 * log layout of `CommitLog.MessageExtEncoder.encode` (RocketMQ 4.9.8, store/.../CommitLog.java),
 * read as `MessageDecoder.decodes` / `clientDecode` do (common/.../message/MessageDecoder.java).
 *
 * Error convention: a buffer that does not hold whole, self-consistent messages throws
 * `ProtocolError`; nothing reads out of bounds. Java's decoder instead swallows the exception
 * and returns the messages before the bad one; silently dropping the rest of a batch would let a
 * consumer commit offsets past messages it never saw, so we throw.
 */
import * as zlib from "node:zlib";
import { ProtocolError } from "../errors.js";
import { type CompressionName, compressionOf, MessageSysFlag } from "./compression.js";
import { decodeProperties, KEY_SEPARATOR, MessageProperty } from "./message.js";
import { bytesToHex, formatHost } from "./message-id.js";

/** `MessageDecoder.MESSAGE_MAGIC_CODE` (V1: 1-byte topic length), what 4.9.8 brokers write. */
export const MESSAGE_MAGIC_CODE = -626843481;
/** `MESSAGE_MAGIC_CODE_V2` of RocketMQ 5 (2-byte topic length, for topics over 127 bytes). */
export const MESSAGE_MAGIC_CODE_V2 = -626843477;
/** Bounds an inflated body (a zip bomb); far above the 4 MiB a Java producer sends by default. */
export const DEFAULT_MAX_DECOMPRESSED_BODY_BYTES = 64 * 1024 * 1024;

/** A stored message as a consumer reads it (`MessageExt` / `MessageClientExt`). */
export interface MessageExt {
  /** The topic. */
  topic: string;
  /** A view into the input, or a new buffer when inflated; empty when `readBody` is false. */
  body: Buffer;
  /** The compression `body` is still in; undefined when it is plain (see {@link decodeMessages}). */
  bodyCompression?: CompressionName;
  /** The TAGS property. */
  tags?: string;
  /** The KEYS property split on spaces. */
  keys: string[];
  /** Every stored property, system ones included (the broker adds CLUSTER and drops WAIT). */
  properties: Record<string, string>;
  /** The queue it was stored in. */
  queueId: number;
  /** Its offset within the queue. */
  queueOffset: number;
  /** Its offset in the broker's commit log. */
  commitLogOffset: number;
  /** Its size in the store, in bytes. */
  storeSize: number;
  /** CRC32 & 0x7FFFFFFF of the stored (possibly compressed) body, as the broker computed it. */
  bodyCRC: number;
  /** `MessageSysFlag` bits. */
  sysFlag: number;
  /** The int32 `flag` the producer set. */
  flag: number;
  /** When the producer made it, epoch ms. */
  bornTimestamp: number;
  /** `ip:port`; IPv6 as `[0:0:0:0:0:0:0:1]:port` (Java's `getHostAddress` form). */
  bornHost: string;
  /** When the broker stored it, epoch ms. */
  storeTimestamp: number;
  /** The broker that stored it, `ip:port`. */
  storeHost: string;
  /** Times it was consumed again (retries). */
  reconsumeTimes: number;
  /** Commit log offset of its prepared half message, for transactions; else 0. */
  preparedTransactionOffset: number;
  /** UNIQ_KEY when present, else `offsetMsgId` (`MessageClientExt.getMsgId`). */
  msgId: string;
  /** Store host and commit log offset in hex (`MessageDecoder.createMessageId`). */
  offsetMsgId: string;
  /** The broker it was pulled from; a consumer sets it (the stored message does not hold it). */
  brokerName?: string;
}

/** Options of {@link decodeMessages}. */
export interface DecodeMessagesOptions {
  /** Inflate compressed bodies; default true. */
  decompress?: boolean;
  /** Return bodies at all; default true (false: `body` is empty, as Java's `readBody=false`). */
  readBody?: boolean;
  /** Largest inflated body, bytes; default {@link DEFAULT_MAX_DECOMPRESSED_BODY_BYTES}. */
  maxDecompressedBytes?: number;
}

/** Node 22.15+ has zstd; Node 20 does not. Found at run time so both work. */
const zstdDecompressSync = (zlib as { zstdDecompressSync?: (b: Buffer, o?: object) => Buffer })
  .zstdDecompressSync;

// Fixed part before BORNHOST: TOTALSIZE..BORNTIMESTAMP (4+4+4+4+4+8+8+4+8).
const BORN_HOST_POS = 48;

function fail(index: number, at: number, what: string): never {
  throw new ProtocolError(`stored message ${index} at byte ${at}: ${what}`);
}

function readLong(buf: Buffer, pos: number, index: number, what: string): number {
  const value = buf.readInt32BE(pos) * 4294967296 + buf.readUInt32BE(pos + 4);
  if (!Number.isSafeInteger(value)) fail(index, pos, `${what} does not fit in 2^53`);
  return value;
}

/**
 * `MessageDecoder.decodes(byteBuffer, readBody)` with `clientDecode` semantics. Handles both magic
 * codes (Java 4.9.8 ignores the magic; we refuse any other value), IPv6 born and store hosts
 * (sysFlag BORNHOST_V6_FLAG / STOREHOSTADDRESS_V6_FLAG: 16-byte addresses), and compressed
 * bodies: zlib (type 3, or 0 from older producers) is inflated; ZSTD is inflated where the Node
 * runtime has zstd (22.15+); LZ4 frames (and ZSTD on Node 20) are returned still compressed with
 * `bodyCompression` set, so that one such message does not make the other messages of the batch
 * unreadable (throwing would stall the queue at that offset). A compression type of 4-7 throws.
 * Each message must end exactly where its TOTALSIZE says.
 */
export function decodeMessages(body: Uint8Array, options: DecodeMessagesOptions = {}): MessageExt[] {
  const decompress = options.decompress ?? true;
  const readBody = options.readBody ?? true;
  const maxInflated = options.maxDecompressedBytes ?? DEFAULT_MAX_DECOMPRESSED_BODY_BYTES;
  const buf = Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const out: MessageExt[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const msg = decodeOne(buf, pos, out.length, readBody, decompress, maxInflated);
    out.push(msg);
    pos += msg.storeSize;
  }
  return out;
}

function decodeOne(
  buf: Buffer,
  start: number,
  index: number,
  readBody: boolean,
  decompress: boolean,
  maxInflated: number,
): MessageExt {
  const remaining = buf.length - start;
  if (remaining < 4) fail(index, start, `${remaining} bytes left, TOTALSIZE needs 4`);
  const storeSize = buf.readInt32BE(start);
  // Smallest message: IPv4 hosts, empty body, topic and properties (91 bytes).
  if (storeSize < 91 || storeSize > remaining) {
    fail(index, start, `TOTALSIZE ${storeSize} outside 91..${remaining} (bytes left)`);
  }
  const end = start + storeSize;
  const magic = buf.readInt32BE(start + 4);
  if (magic !== MESSAGE_MAGIC_CODE && magic !== MESSAGE_MAGIC_CODE_V2) {
    fail(index, start, `unknown magic code ${magic}`);
  }
  const sysFlag = buf.readInt32BE(start + 36);
  const bornIpLength = sysFlag & MessageSysFlag.BORNHOST_V6_FLAG ? 16 : 4;
  const storeIpLength = sysFlag & MessageSysFlag.STOREHOSTADDRESS_V6_FLAG ? 16 : 4;
  const topicLengthBytes = magic === MESSAGE_MAGIC_CODE_V2 ? 2 : 1;
  // Fixed fields through BODY's length, then the smallest tail: topic length and properties length.
  const fixedEnd = start + BORN_HOST_POS + bornIpLength + 4 + 8 + storeIpLength + 4 + 4 + 8 + 4;
  if (fixedEnd + topicLengthBytes + 2 > end) {
    fail(index, start, `TOTALSIZE ${storeSize} too small for its hosts`);
  }

  let p = start + BORN_HOST_POS;
  const bornIp = buf.subarray(p, p + bornIpLength);
  const bornPort = buf.readInt32BE(p + bornIpLength);
  p += bornIpLength + 4;
  const storeTimestamp = readLong(buf, p, index, "STORETIMESTAMP");
  p += 8;
  const storeHostStart = p;
  const storeIp = buf.subarray(p, p + storeIpLength);
  const storePort = buf.readInt32BE(p + storeIpLength);
  p += storeIpLength + 4;
  if (bornPort < 0 || bornPort > 0xffff || storePort < 0 || storePort > 0xffff) {
    fail(index, start, "host port outside 0..65535");
  }
  const reconsumeTimes = buf.readInt32BE(p);
  const preparedTransactionOffset = readLong(buf, p + 4, index, "PREPARED_TRANSACTION_OFFSET");
  const bodyLength = buf.readInt32BE(p + 12);
  p += 16;
  if (bodyLength < 0 || bodyLength > end - p - topicLengthBytes - 2) {
    fail(index, p - 4, `BODY length ${bodyLength} exceeds the ${end - p} bytes left in the message`);
  }
  const bodyStart = p;
  p += bodyLength;
  const topicLength = topicLengthBytes === 1 ? buf.readInt8(p) : buf.readInt16BE(p);
  p += topicLengthBytes;
  if (topicLength < 0 || topicLength > end - p - 2) {
    fail(index, p, `TOPIC length ${topicLength} out of bounds`);
  }
  const topic = buf.toString("utf8", p, p + topicLength);
  p += topicLength;
  const propertiesLength = buf.readInt16BE(p);
  p += 2;
  if (propertiesLength < 0 || p + propertiesLength !== end) {
    fail(
      index,
      p - 2,
      `properties length ${propertiesLength} does not end the message at TOTALSIZE ${storeSize}`,
    );
  }
  const properties = propertiesLength > 0 ? decodeProperties(buf.toString("utf8", p, end)) : {};

  const commitLogOffset = readLong(buf, start + 28, index, "PHYSICALOFFSET");
  // createMessageId over getStoreHostBytes: Java turns an IPv4-mapped IPv6 into 4 bytes.
  const idIp = storeIpLength === 16 && isV4MappedAt(buf, storeHostStart) ? storeIp.subarray(12) : storeIp;
  const offsetMsgId =
    bytesToHex(idIp) +
    bytesToHex(buf.subarray(storeHostStart + storeIpLength, storeHostStart + storeIpLength + 4)) +
    bytesToHex(buf.subarray(start + 28, start + 36));

  let messageBody = EMPTY;
  let bodyCompression: CompressionName | undefined;
  if (readBody && bodyLength > 0) {
    messageBody = buf.subarray(bodyStart, bodyStart + bodyLength);
    if (sysFlag & MessageSysFlag.COMPRESSED_FLAG) {
      const type = compressionOf(sysFlag);
      if (type === undefined) fail(index, start, `unknown compression type in sysFlag ${sysFlag}`);
      bodyCompression = type;
      if (decompress) {
        const inflated = inflate(messageBody, type, maxInflated, index, bodyStart);
        if (inflated !== undefined) {
          messageBody = inflated;
          bodyCompression = undefined;
        }
      }
    }
  }

  const keysText = properties[MessageProperty.KEYS];
  const msg: MessageExt = {
    topic,
    body: messageBody,
    keys: keysText === undefined ? [] : keysText.split(KEY_SEPARATOR).filter((k) => k.length > 0),
    properties,
    queueId: buf.readInt32BE(start + 12),
    queueOffset: readLong(buf, start + 20, index, "QUEUEOFFSET"),
    commitLogOffset,
    storeSize,
    bodyCRC: buf.readInt32BE(start + 8),
    sysFlag,
    flag: buf.readInt32BE(start + 16),
    bornTimestamp: readLong(buf, start + 40, index, "BORNTIMESTAMP"),
    bornHost: formatHost(bornIp, bornPort),
    storeTimestamp,
    storeHost: formatHost(storeIp, storePort),
    reconsumeTimes,
    preparedTransactionOffset,
    msgId: properties[MessageProperty.UNIQ_KEY] ?? offsetMsgId,
    offsetMsgId,
  };
  const tags = properties[MessageProperty.TAGS];
  if (tags !== undefined) msg.tags = tags;
  if (bodyCompression !== undefined) msg.bodyCompression = bodyCompression;
  return msg;
}

const EMPTY: Buffer = Buffer.alloc(0);

function isV4MappedAt(buf: Buffer, at: number): boolean {
  for (let i = 0; i < 10; i++) if (buf[at + i] !== 0) return false;
  return buf[at + 10] === 0xff && buf[at + 11] === 0xff;
}

/** The inflated body, or undefined when this runtime cannot inflate `type`. */
function inflate(
  data: Buffer,
  type: CompressionName,
  maxOutputLength: number,
  index: number,
  at: number,
): Buffer | undefined {
  try {
    if (type === "ZLIB") return zlib.inflateSync(data, { maxOutputLength });
    if (type === "ZSTD" && zstdDecompressSync !== undefined)
      return zstdDecompressSync(data, { maxOutputLength });
  } catch (cause) {
    throw new ProtocolError(`stored message ${index} at byte ${at}: ${type} body does not inflate`, {
      cause,
    });
  }
  return undefined;
}
