/**
 * The two RocketMQ header serializations, byte-exact with Java (reference §2; vectors in
 * ../shared/vectors/rocketmq and rocketmq-random):
 * - JSON (type 0): fastjson's rendering of the `RemotingCommand` bean (`RemotingSerializable.encode`),
 *   written by a specialised encoder for its fixed, alphabetical key order; decoded tolerantly.
 * - ROCKETMQ (type 1): the big-endian binary layout of `RocketMQSerializable.rocketMQProtocolEncode`
 *   and `rocketMQProtocolDecode`.
 * Each encoder returns one `Buffer.allocUnsafe` holding `reserve` free bytes and then the header,
 * so the framing can write its 8 prefix bytes in place: one allocation per header, no concat.
 */
import { InvalidArgumentError, MalformedFrameError } from "../errors.js";
import { fastjsonQuote, javaWellFormed, jsonObjectKeyOrder } from "./fastjson.js";
import {
  LanguageCode,
  languageFromName,
  languageName,
  RemotingCommand,
  SerializeType,
} from "./remoting-command.js";

/** Size of the fixed part of a ROCKETMQ header: code 2, language 1, version 2, opaque 4, flag 4, remarkLen 4, extLen 4. */
export const ROCKETMQ_FIXED_HEADER_BYTES = 21;

// ---------------------------------------------------------------------------------------- JSON

/**
 * The JSON header text of `cmd` as fastjson writes it: keys `code, extFields, flag, language,
 * opaque, remark, serializeTypeCurrentRPC, version`; null `remark`/`extFields` omitted, `""` and
 * `{}` kept; null extFields values skipped (fastjson's MapSerializer); a language code without a
 * name omitted (Java would hold a null enum, which fastjson omits).
 */
export function jsonHeaderText(cmd: RemotingCommand): string {
  let text = `{"code":${cmd.code}`;
  const ext = cmd.extFields;
  if (ext !== null) {
    text += ',"extFields":{';
    let first = true;
    for (const [key, value] of ext) {
      if (value == null) continue;
      text += `${first ? "" : ","}${fastjsonQuote(key)}:${fastjsonQuote(value)}`;
      first = false;
    }
    text += "}";
  }
  text += `,"flag":${cmd.flag}`;
  const language = languageName(cmd.language);
  if (language !== undefined) text += `,"language":"${language}"`;
  text += `,"opaque":${cmd.opaque}`;
  if (cmd.remark != null) text += `,"remark":${fastjsonQuote(cmd.remark)}`;
  return `${text},"serializeTypeCurrentRPC":"JSON","version":${cmd.version}}`;
}

/** Encodes `cmd`'s JSON header after `reserve` unwritten bytes. Throws InvalidArgumentError for non-int32 fields. */
export function encodeJsonHeader(cmd: RemotingCommand, reserve = 0): Buffer {
  checkInt32(cmd.code, "code");
  checkInt32(cmd.version, "version");
  checkInt32(cmd.opaque, "opaque");
  checkInt32(cmd.flag, "flag");
  let text = jsonHeaderText(cmd);
  let bytes = Buffer.byteLength(text, "utf8");
  if (bytes !== text.length) {
    const fixed = javaWellFormed(text);
    if (fixed !== text) {
      text = fixed;
      bytes = Buffer.byteLength(text, "utf8");
    }
  }
  const buf = Buffer.allocUnsafe(reserve + bytes);
  buf.write(text, reserve, bytes, "utf8");
  return buf;
}

// Validates UTF-8 like Java would not (Java's `new String` replaces bad bytes), because a JSON
// header with invalid UTF-8 is a corrupt frame. ignoreBOM keeps a BOM, which JSON.parse refuses.
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * Decodes a JSON header (`buf[start, end)`) as tolerantly as fastjson: any key order, unknown keys
 * and `serializeTypeCurrentRPC` ignored, `"remark": null`, language as name or number, extFields
 * values that are numbers or booleans turned into strings, null values skipped, absent or null
 * fields left at RemotingCommand's defaults (Java's field initialisers). extFields keep the frame's
 * key order. Throws MalformedFrameError "utf8", "json", "json-type" or "field-range".
 */
export function decodeJsonHeader(buf: Buffer, start = 0, end = buf.length): RemotingCommand {
  let text: string;
  try {
    text = utf8.decode(buf.subarray(start, end));
  } catch (err) {
    throw new MalformedFrameError("utf8", "JSON header is not valid UTF-8", { cause: err });
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (err) {
    throw new MalformedFrameError("json", "JSON header is not valid JSON", { cause: err });
  }
  if (header === null || typeof header !== "object" || Array.isArray(header)) {
    throw new MalformedFrameError("json-type", "JSON header is not an object");
  }
  const h = header as Record<string, unknown>;
  return new RemotingCommand({
    code: jsonInt(h.code, "code"),
    language: jsonLanguage(h.language),
    version: jsonInt(h.version, "version"),
    opaque: jsonInt(h.opaque, "opaque"),
    flag: jsonInt(h.flag, "flag"),
    remark: h.remark == null ? null : jsonString(h.remark, "remark"),
    extFields: jsonExtFields(h.extFields, text),
    serializeType: SerializeType.JSON,
  });
}

function jsonInt(value: unknown, field: string): number | undefined {
  if (value == null) return undefined;
  if (typeof value !== "number" || !Number.isInteger(value)) {
    throw new MalformedFrameError("json-type", `JSON header field ${field} is not an integer`);
  }
  if ((value | 0) !== value) {
    throw new MalformedFrameError("field-range", `JSON header field ${field} is outside the int range`);
  }
  return value;
}

/** fastjson turns a number or boolean token into the String a field or map value wants. */
function jsonString(value: unknown, field: string): string {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  throw new MalformedFrameError("json-type", `JSON header field ${field} is not a string`);
}

function jsonLanguage(value: unknown): number | undefined {
  if (value == null) return undefined;
  if (typeof value === "string") {
    // A name this build does not know (a newer peer's) reads as OTHER rather than failing the
    // frame; Java reads it as a null language and goes on.
    return languageFromName(value) ?? LanguageCode.OTHER;
  }
  if (typeof value === "number" && Number.isInteger(value)) {
    if (value < 0 || value > 255) {
      throw new MalformedFrameError("field-range", "JSON header language code is outside 0..255");
    }
    return value;
  }
  throw new MalformedFrameError("json-type", "JSON header field language is not a name or a number");
}

/** True for the keys JavaScript orders first in an object: canonical integers 0 .. 2^32-2. */
function isArrayIndex(key: string): boolean {
  const c = key.charCodeAt(0);
  if (c < 0x30 || c > 0x39) return false;
  return /^(?:0|[1-9]\d*)$/.test(key) && Number(key) < 4294967295;
}

function jsonExtFields(value: unknown, text: string): Map<string, string> | null {
  if (value == null) return null;
  if (typeof value !== "object" || Array.isArray(value)) {
    throw new MalformedFrameError("json-type", "JSON header field extFields is not an object");
  }
  const ext = value as Record<string, unknown>;
  let keys = Object.keys(ext);
  // JSON.parse moved integer-like keys first; only then is the text scanned for the real order.
  if (keys.length > 0 && isArrayIndex(keys[0]!)) keys = jsonObjectKeyOrder(text, "extFields") ?? keys;
  const map = new Map<string, string>();
  for (const key of keys) {
    const v = ext[key];
    if (v === null) continue;
    map.set(key, jsonString(v, `extFields.${key}`));
  }
  return map;
}

// ------------------------------------------------------------------------------------ ROCKETMQ

/**
 * Encodes `cmd`'s ROCKETMQ binary header after `reserve` unwritten bytes. Strings are UTF-8 as
 * Java's `getBytes(UTF_8)` (lone surrogates as `?`); null or empty remark and null or empty
 * extFields are written as length 0; entries with a null value are skipped. Throws
 * InvalidArgumentError when code or version is outside int16 (Java would silently truncate them:
 * codes above 32767 need JSON, reference §2.2), language outside a byte, or a key over 32767 bytes.
 */
export function encodeRocketmqHeader(cmd: RemotingCommand, reserve = 0): Buffer {
  checkInt16(cmd.code, "code");
  checkInt16(cmd.version, "version");
  checkInt32(cmd.opaque, "opaque");
  checkInt32(cmd.flag, "flag");
  const language = cmd.language;
  if (!Number.isInteger(language) || language < 0 || language > 255) {
    throw new InvalidArgumentError(`language must be a byte (0..255), got ${language}`);
  }
  const remark = cmd.remark ?? "";
  const remarkBytes = remark.length === 0 ? 0 : Buffer.byteLength(remark, "utf8");
  if (remarkBytes !== remark.length && javaWellFormed(remark) !== remark)
    return encodeRocketmqHeader(javaCopy(cmd), reserve);
  let extBytes = 0;
  const ext = cmd.extFields;
  if (ext !== null) {
    for (const [key, value] of ext) {
      if (value == null) continue;
      const keyBytes = Buffer.byteLength(key, "utf8");
      const valueBytes = Buffer.byteLength(value, "utf8");
      if (
        (keyBytes !== key.length && javaWellFormed(key) !== key) ||
        (valueBytes !== value.length && javaWellFormed(value) !== value)
      ) {
        return encodeRocketmqHeader(javaCopy(cmd), reserve);
      }
      if (keyBytes > 0x7fff)
        throw new InvalidArgumentError(`extFields key of ${keyBytes} bytes exceeds 32767`);
      extBytes += 6 + keyBytes + valueBytes;
    }
  }
  const buf = Buffer.allocUnsafe(reserve + ROCKETMQ_FIXED_HEADER_BYTES + remarkBytes + extBytes);
  let o = buf.writeInt16BE(cmd.code, reserve);
  o = buf.writeUInt8(language, o);
  o = buf.writeInt16BE(cmd.version, o);
  o = buf.writeInt32BE(cmd.opaque, o);
  o = buf.writeInt32BE(cmd.flag, o);
  o = buf.writeInt32BE(remarkBytes, o);
  if (remarkBytes > 0) o += buf.write(remark, o, remarkBytes, "utf8");
  o = buf.writeInt32BE(extBytes, o);
  if (ext !== null && extBytes > 0) {
    for (const [key, value] of ext) {
      if (value == null) continue;
      const keyBytes = buf.write(key, o + 2, "utf8");
      buf.writeInt16BE(keyBytes, o);
      o += 2 + keyBytes;
      const valueBytes = buf.write(value, o + 4, "utf8");
      buf.writeInt32BE(valueBytes, o);
      o += 4 + valueBytes;
    }
  }
  return buf;
}

/** A copy of `cmd` whose strings hold `?` for lone surrogates (the rare slow path). */
function javaCopy(cmd: RemotingCommand): RemotingCommand {
  const copy = new RemotingCommand({ ...cmd, opaque: cmd.opaque });
  copy.remark = cmd.remark == null ? null : javaWellFormed(cmd.remark);
  if (cmd.extFields !== null) {
    copy.extFields = new Map();
    for (const [k, v] of cmd.extFields)
      if (v != null) copy.extFields.set(javaWellFormed(k), javaWellFormed(v));
  }
  return copy;
}

/**
 * Decodes a ROCKETMQ header (`buf[start, end)`). As Java's `readStr`, a zero-length string is
 * null: an empty remark decodes to null and an extFields entry whose key or value is empty is
 * dropped (Java keeps it with a null, which every Java reader treats as absent and both Java
 * encoders skip; `Map<string, string>` cannot hold it). extLen 0 gives null extFields. Invalid
 * UTF-8 is replaced by U+FFFD, as Java's `new String(bytes, UTF_8)` does. Throws
 * MalformedFrameError "truncated", "string-length" or "ext-length".
 */
export function decodeRocketmqHeader(buf: Buffer, start = 0, end = buf.length): RemotingCommand {
  if (end - start < ROCKETMQ_FIXED_HEADER_BYTES) {
    throw new MalformedFrameError("truncated", `ROCKETMQ header of ${end - start} bytes is shorter than 21`);
  }
  const code = buf.readInt16BE(start);
  const language = buf[start + 2]!;
  const version = buf.readInt16BE(start + 3);
  const opaque = buf.readInt32BE(start + 5);
  const flag = buf.readInt32BE(start + 9);
  const remarkLen = buf.readInt32BE(start + 13);
  let o = start + 17;
  if (remarkLen < 0 || remarkLen > end - o) {
    throw new MalformedFrameError("string-length", `remark length ${remarkLen} exceeds the header`);
  }
  const remark = remarkLen === 0 ? null : buf.toString("utf8", o, o + remarkLen);
  o += remarkLen;
  if (end - o < 4) throw new MalformedFrameError("truncated", "ROCKETMQ header ends before extLen");
  const extLen = buf.readInt32BE(o);
  o += 4;
  if (extLen < 0 || extLen > end - o) {
    throw new MalformedFrameError("ext-length", `extFields length ${extLen} exceeds the header`);
  }
  const extFields = extLen === 0 ? null : decodeExtFields(buf, o, o + extLen);
  return new RemotingCommand({
    code,
    language,
    version,
    opaque,
    flag,
    remark,
    extFields,
    serializeType: SerializeType.ROCKETMQ,
  });
}

function decodeExtFields(buf: Buffer, start: number, end: number): Map<string, string> {
  const map = new Map<string, string>();
  let o = start;
  while (o < end) {
    if (end - o < 2) throw new MalformedFrameError("truncated", "extFields entry ends before its key length");
    const keyLen = buf.readInt16BE(o);
    o += 2;
    if (keyLen < 0 || keyLen > end - o) {
      throw new MalformedFrameError("string-length", `extFields key length ${keyLen} exceeds extLen`);
    }
    const keyEnd = o + keyLen;
    if (end - keyEnd < 4)
      throw new MalformedFrameError("truncated", "extFields entry ends before its value length");
    const valueLen = buf.readInt32BE(keyEnd);
    const valueStart = keyEnd + 4;
    if (valueLen < 0 || valueLen > end - valueStart) {
      throw new MalformedFrameError("string-length", `extFields value length ${valueLen} exceeds extLen`);
    }
    if (keyLen > 0 && valueLen > 0) {
      map.set(buf.toString("utf8", o, keyEnd), buf.toString("utf8", valueStart, valueStart + valueLen));
    }
    o = valueStart + valueLen;
  }
  return map;
}

// ------------------------------------------------------------------------------------ checks

function checkInt16(value: number, field: string): void {
  if ((value << 16) >> 16 !== value) {
    throw new InvalidArgumentError(
      `${field} ${value} is outside the int16 range a ROCKETMQ header holds; use JSON`,
    );
  }
}

function checkInt32(value: number, field: string): void {
  if ((value | 0) !== value) throw new InvalidArgumentError(`${field} must be an int32, got ${value}`);
}
