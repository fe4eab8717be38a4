/**
 * Body compression as RocketMQ 4.9.8's Java producer does it (client/.../DefaultMQProducerImpl.java
 * `tryToCompressMessage`, common/.../compression/ZlibCompressor.java) and the sysFlag bits that
 * say so (common/.../sysflag/MessageSysFlag.java).
 */
import { deflateSync } from "node:zlib";

/** `DefaultMQProducer.compressMsgBodyOverHowmuch` default: bodies of 4096 bytes or more are compressed. */
export const DEFAULT_COMPRESS_THRESHOLD_BYTES = 4096;
/** `DefaultMQProducerImpl.compressLevel` default (`rocketmq.message.compressLevel`). */
export const COMPRESS_LEVEL = 5;

/**
 * `MessageSysFlag` bits.
 * @enum
 */
export const MessageSysFlag = {
  COMPRESSED_FLAG: 0x1,
  MULTI_TAGS_FLAG: 0x1 << 1,
  TRANSACTION_PREPARED_TYPE: 0x1 << 2,
  TRANSACTION_COMMIT_TYPE: 0x2 << 2,
  TRANSACTION_ROLLBACK_TYPE: 0x3 << 2,
  BORNHOST_V6_FLAG: 0x1 << 4,
  STOREHOSTADDRESS_V6_FLAG: 0x1 << 5,
  NEED_UNWRAP_FLAG: 0x1 << 6,
  INNER_BATCH_FLAG: 0x1 << 7,
  COMPRESSION_LZ4_TYPE: 0x1 << 8,
  COMPRESSION_ZSTD_TYPE: 0x2 << 8,
  COMPRESSION_ZLIB_TYPE: 0x3 << 8,
  COMPRESSION_TYPE_COMPARATOR: 0x7 << 8,
} as const;

/** `CompressionType` by its value in sysFlag bits 8-10; 0 is zlib, from producers before 4.9.8. */
export type CompressionName = "ZLIB" | "LZ4" | "ZSTD";

/**
 * `MessageSysFlag.getCompressionType` + `CompressionType.findByValue`: the compression of a
 * stored body whose sysFlag has COMPRESSED_FLAG, or undefined for a value (4-7) no RocketMQ
 * version defines.
 */
export function compressionOf(sysFlag: number): CompressionName | undefined {
  switch ((sysFlag & MessageSysFlag.COMPRESSION_TYPE_COMPARATOR) >> 8) {
    case 0:
    case 3:
      return "ZLIB";
    case 1:
      return "LZ4";
    case 2:
      return "ZSTD";
    default:
      return undefined;
  }
}

/** The sysFlag a 4.9.8 producer sends with a zlib-compressed body: COMPRESSED | ZLIB << 8 = 769. */
export const ZLIB_COMPRESSED_SYS_FLAG = MessageSysFlag.COMPRESSED_FLAG | MessageSysFlag.COMPRESSION_ZLIB_TYPE;

/** `tryToCompressMessage`'s test: `body.length >= compressMsgBodyOverHowmuch`. */
export function shouldCompress(
  body: Uint8Array,
  thresholdBytes: number = DEFAULT_COMPRESS_THRESHOLD_BYTES,
): boolean {
  return body.length >= thresholdBytes;
}

/**
 * zlib level 5, an RFC 1950 stream, as `ZlibCompressor.compress(body, 5)`. Any RFC 1950 decoder
 * (Java's `InflaterInputStream` included) reads it back to the same body, but the deflate bytes
 * in between are not Java's: Node 20 bundles Chromium's zlib fork, which matches differently
 * from the stock zlib Java and Python use (a 10 KiB kit body: 6795 bytes here, 6929 from Java).
 * The 2-byte header (0x78 0x5E) and the Adler-32 trailer are the same. Nothing in the protocol
 * depends on the bytes: the broker computes bodyCRC over whatever it receives.
 */
export function compressBody(body: Uint8Array): Buffer {
  return deflateSync(body, { level: COMPRESS_LEVEL });
}
