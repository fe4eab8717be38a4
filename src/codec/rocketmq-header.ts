/**
 * The two RocketMQ header serializations, byte-exact with Java (reference §2; vectors in
 * test/fixtures/vectors/rocketmq and rocketmq-random):
 * - JSON (type 0): fastjson's rendering of the `RemotingCommand` bean (`RemotingSerializable.encode`),
 *   written by a specialised encoder for its fixed, alphabetical key order; decoded tolerantly.
 *   It lives in ./json-header.ts (encoding) and ./json-header-decode.ts and is re-exported here.
 * - ROCKETMQ (type 1): the big-endian binary layout of `RocketMQSerializable.rocketMQProtocolEncode`
 *   and `rocketMQProtocolDecode`.
 * Each encoder returns one `Buffer.allocUnsafe` holding `reserve` free bytes and then the header,
 * so the framing can write its 8 prefix bytes in place: one allocation per header, no concat.
 * Why the hot paths look the way they do is measured in bench/codec/codec-bench.ts (figures:
 * bench/history/2026-12-06-figures-from-code-comments-codec.md).
 */
import { InvalidArgumentError, MalformedFrameError } from "../errors.js";
import { latin1Text, type RawBuffer, readUtf8, utf8Length, writeAscii } from "./byte-strings.js";
import { DEFAULT_MAX_EXT_FIELDS } from "./codec.js";
import { javaWellFormed } from "./fastjson.js";
import { checkInt32 } from "./json-header.js";
import { RemotingCommand, SerializeType } from "./remoting-command.js";

export { encodeJsonHeader, jsonHeaderText } from "./json-header.js";
export { decodeJsonHeader } from "./json-header-decode.js";

/** Size of the fixed part of a ROCKETMQ header: code 2, language 1, version 2, opaque 4, flag 4, remarkLen 4, extLen 4. */
export const ROCKETMQ_FIXED_HEADER_BYTES = 21;

// ------------------------------------------------------------------------------------ ROCKETMQ

/**
 * Encodes `cmd`'s ROCKETMQ binary header after `reserve` unwritten bytes. Strings are UTF-8 as
 * Java's `getBytes(UTF_8)` (lone surrogates as `?`); null or empty remark and null or empty
 * extFields are written as length 0; entries with a null value are skipped. Throws
 * InvalidArgumentError when code or version is outside int16 (Java would silently truncate them:
 * codes above 32767 need JSON, reference §2.2), language outside a byte, or a key over 32767 bytes.
 * `pass` is the encoder's state between its two passes (a codec passes its own, reused).
 */
export function encodeRocketmqHeader(
  cmd: RemotingCommand,
  reserve = 0,
  pass: RocketmqHeaderPass = new RocketmqHeaderPass(),
): Buffer {
  const buf = Buffer.allocUnsafe(reserve + pass.measure(cmd));
  pass.write(buf, reserve);
  return buf;
}

/**
 * The ROCKETMQ header encoder in two passes, so a frame can be encoded straight into memory
 * claimed for exactly its size: {@link measure} validates a command and sizes its header,
 * {@link write} writes it (or {@link discard} drops it). What pass 1 found is kept here for pass 2.
 * One object serves any number of encodes (a codec keeps one; nothing is allocated per frame),
 * one at a time: between measure and write it is {@link busy}, and an encode that starts then
 * (from code run by a sink's `claim`) must take a fresh one.
 */
export class RocketmqHeaderPass {
  /** The extFields entries pass 1 kept for pass 2 (key, value, ...): cheaper to walk than the Map. */
  readonly #entries: string[] = [];
  #entryCount = 0;
  #ascii = true;
  #remark: string | null = null;
  #remarkBytes = 0;
  #extBytes = 0;
  // The measured command's fields, copied: code run between measure and write (a sink's claim)
  // may change the command, not the header measured.
  #code = 0;
  #language = 0;
  #version = 0;
  #opaque = 0;
  #flag = 0;
  #busy = false;

  /** True between {@link measure} and {@link write} or {@link discard}. */
  get busy(): boolean {
    return this.#busy;
  }

  /**
   * Pass 1: validates `cmd` (throws as {@link encodeRocketmqHeader}, keeping nothing) and returns
   * its header's size in bytes. {@link write} or {@link discard} must follow.
   */
  measure(cmd: RemotingCommand): number {
    if (this.#busy) throw new InvalidArgumentError("RocketmqHeaderPass is busy");
    // Plain JavaScript sizing and stores instead of Buffer.byteLength, buf.write and
    // writeInt*BE, whose per-call checks dominated this encode's profile.
    const { code, version, opaque, flag, language } = cmd;
    checkInt16(code, "code");
    checkInt16(version, "version");
    checkInt32(opaque, "opaque");
    checkInt32(flag, "flag");
    if ((language & 0xff) !== language) {
      throw new InvalidArgumentError(`language must be a byte (0..255), got ${language}`);
    }
    // A string is ASCII exactly when its UTF-8 length equals its length, so the same numbers pick
    // pass 2's writer; only a non-ASCII string can hold a lone surrogate, so only those pay for
    // `javaWellFormed` (which hands back the string itself when there is none).
    let ascii = true;
    let remark = cmd.remark;
    let remarkBytes = 0;
    if (remark != null && remark.length > 0) {
      remarkBytes = utf8Length(remark);
      if (remarkBytes !== remark.length) {
        ascii = false;
        const fixed = javaWellFormed(remark);
        if (fixed !== remark) {
          remark = fixed;
          remarkBytes = Buffer.byteLength(fixed, "utf8");
        }
      }
    }
    let extBytes = 0;
    let entryCount = 0;
    const entries = this.#entries;
    const ext = cmd.extFields;
    if (ext !== null) {
      for (let [key, value] of ext) {
        if (value == null) continue;
        let keyBytes = utf8Length(key);
        let valueBytes = utf8Length(value);
        // Each string is fixed on its own, so "\ud800" and "?" stay two keys that both write "?",
        // as Java's HashMap holds and writes them.
        if (keyBytes !== key.length) {
          ascii = false;
          const fixed = javaWellFormed(key);
          if (fixed !== key) {
            key = fixed;
            keyBytes = Buffer.byteLength(fixed, "utf8");
          }
        }
        if (valueBytes !== value.length) {
          ascii = false;
          const fixed = javaWellFormed(value);
          if (fixed !== value) {
            value = fixed;
            valueBytes = Buffer.byteLength(fixed, "utf8");
          }
        }
        if (keyBytes > 0x7fff) {
          entries.fill("", 0, entryCount);
          throw new InvalidArgumentError(`extFields key of ${keyBytes} bytes exceeds 32767`);
        }
        extBytes += 6 + keyBytes + valueBytes;
        entries[entryCount++] = key;
        entries[entryCount++] = value;
      }
    }
    this.#ascii = ascii;
    this.#remark = remark;
    this.#remarkBytes = remarkBytes;
    this.#extBytes = extBytes;
    this.#entryCount = entryCount;
    this.#code = code;
    this.#language = language;
    this.#version = version;
    this.#opaque = opaque;
    this.#flag = flag;
    this.#busy = true;
    return ROCKETMQ_FIXED_HEADER_BYTES + remarkBytes + extBytes;
  }

  /** Drops what pass 1 kept (the caller will not write this header). */
  discard(): void {
    this.#entries.fill("", 0, this.#entryCount);
    this.#entryCount = 0;
    this.#remark = null;
    this.#busy = false;
  }

  /**
   * Pass 2: writes the header {@link measure} just measured into `buf` at `o`, which must have
   * room for the size it returned. Returns the offset after the header.
   */
  write(buf: Buffer, o: number): number {
    if (!this.#busy) throw new InvalidArgumentError("RocketmqHeaderPass.write without measure");
    const ascii = this.#ascii;
    const remark = this.#remark;
    const remarkBytes = this.#remarkBytes;
    const entries = this.#entries;
    const entryCount = this.#entryCount;
    this.#busy = false;
    this.#remark = null;
    this.#entryCount = 0;
    // Plain stores rather than buf.writeInt32BE & co, which re-validate every value already checked
    // in pass 1.
    o = putInt16(buf, o, this.#code);
    buf[o++] = this.#language;
    o = putInt16(buf, o, this.#version);
    o = putInt32(buf, o, this.#opaque);
    o = putInt32(buf, o, this.#flag);
    o = putInt32(buf, o, remarkBytes);
    if (remark !== null && remarkBytes > 0) {
      o = ascii ? writeAscii(buf, remark, o) : o + (buf as RawBuffer).utf8Write(remark, o);
    }
    o = putInt32(buf, o, this.#extBytes);
    for (let i = 0; i < entryCount; i += 2) {
      // biome-ignore lint/style/noNonNullAssertion: in bounds, i + 1 < entryCount (entries measure stored)
      const key = entries[i]!;
      // biome-ignore lint/style/noNonNullAssertion: in bounds, as the key above
      const value = entries[i + 1]!;
      entries[i] = entries[i + 1] = ""; // hold no caller strings past this call
      if (ascii) {
        // The common case: lengths are the string lengths, each string written in JavaScript.
        o = putInt16(buf, o, key.length);
        o = writeAscii(buf, key, o);
        o = putInt32(buf, o, value.length);
        o = writeAscii(buf, value, o);
      } else {
        const keyBytes = (buf as RawBuffer).utf8Write(key, o + 2);
        putInt16(buf, o, keyBytes);
        o += 2 + keyBytes;
        const valueBytes = (buf as RawBuffer).utf8Write(value, o + 4);
        putInt32(buf, o, valueBytes);
        o += 4 + valueBytes;
      }
    }
    return o;
  }
}

/**
 * extFields regions up to this size are turned into one latin1 string and sliced per field
 * (`readUtf8`); larger ones are decoded field by field, so that a short value sliced from a
 * huge region cannot keep the whole region's string alive.
 */
const SHARED_TEXT_MAX_BYTES = 4096;

/**
 * Decodes a ROCKETMQ header (`buf[start, end)`). As Java's `readStr`, a zero-length string is
 * null: an empty remark decodes to null and an extFields entry whose key or value is empty is
 * dropped (Java keeps it with a null, which every Java reader treats as absent and both Java
 * encoders skip; `Map<string, string>` cannot hold it). extLen 0 gives null extFields. Invalid
 * UTF-8 is replaced by U+FFFD, as Java's `new String(bytes, UTF_8)` does. Throws
 * MalformedFrameError "truncated", "string-length", "ext-length" or, past `maxExtFields` entries
 * (empty ones too), "ext-fields-count".
 */
export function decodeRocketmqHeader(
  buf: Buffer,
  start = 0,
  end = buf.length,
  maxExtFields = DEFAULT_MAX_EXT_FIELDS,
): RemotingCommand {
  if (end - start < ROCKETMQ_FIXED_HEADER_BYTES) {
    throw new MalformedFrameError("truncated", `ROCKETMQ header of ${end - start} bytes is shorter than 21`);
  }
  const code = getInt16(buf, start);
  // biome-ignore lint/style/noNonNullAssertion: in bounds, end - start >= 21 was checked
  const language = buf[start + 2]!;
  const version = getInt16(buf, start + 3);
  const opaque = getInt32(buf, start + 5);
  const flag = getInt32(buf, start + 9);
  const remarkLen = getInt32(buf, start + 13);
  let o = start + 17;
  if (remarkLen < 0 || remarkLen > end - o) {
    throw new MalformedFrameError("string-length", `remark length ${remarkLen} exceeds the header`);
  }
  const remark = remarkLen === 0 ? null : readUtf8(buf, o, o + remarkLen, null, 0);
  o += remarkLen;
  if (end - o < 4) throw new MalformedFrameError("truncated", "ROCKETMQ header ends before extLen");
  const extLen = getInt32(buf, o);
  o += 4;
  if (extLen < 0 || extLen > end - o) {
    throw new MalformedFrameError("ext-length", `extFields length ${extLen} exceeds the header`);
  }
  const extFields = extLen === 0 ? null : decodeExtFields(buf, o, o + extLen, maxExtFields);
  return RemotingCommand.decoded(
    code,
    language,
    version,
    opaque,
    flag,
    remark,
    extFields,
    SerializeType.ROCKETMQ,
  );
}

function decodeExtFields(buf: Buffer, start: number, end: number, maxExtFields: number): Map<string, string> {
  const map = new Map<string, string>();
  // One native call for every field's text instead of one per key and per value, whose fixed cost
  // dominated the decode.
  const text = end - start <= SHARED_TEXT_MAX_BYTES ? latin1Text(buf, start, end) : null;
  let o = start;
  let count = 0;
  while (o < end) {
    if (++count > maxExtFields) {
      throw new MalformedFrameError("ext-fields-count", `extFields hold more than ${maxExtFields} entries`);
    }
    if (end - o < 2) throw new MalformedFrameError("truncated", "extFields entry ends before its key length");
    const keyLen = getInt16(buf, o);
    o += 2;
    if (keyLen < 0 || keyLen > end - o) {
      throw new MalformedFrameError("string-length", `extFields key length ${keyLen} exceeds extLen`);
    }
    const keyEnd = o + keyLen;
    if (end - keyEnd < 4)
      throw new MalformedFrameError("truncated", "extFields entry ends before its value length");
    const valueLen = getInt32(buf, keyEnd);
    const valueStart = keyEnd + 4;
    if (valueLen < 0 || valueLen > end - valueStart) {
      throw new MalformedFrameError("string-length", `extFields value length ${valueLen} exceeds extLen`);
    }
    const valueEnd = valueStart + valueLen;
    if (keyLen > 0 && valueLen > 0) {
      map.set(readUtf8(buf, o, keyEnd, text, start), readUtf8(buf, valueStart, valueEnd, text, start));
    }
    o = valueEnd;
  }
  return map;
}

// Big-endian integer access without Buffer's per-call argument validation (every offset here is
// already bounds-checked by the callers' length checks).

function putInt16(buf: Buffer, o: number, value: number): number {
  buf[o] = value >>> 8;
  buf[o + 1] = value;
  return o + 2;
}

function putInt32(buf: Buffer, o: number, value: number): number {
  buf[o] = value >>> 24;
  buf[o + 1] = value >>> 16;
  buf[o + 2] = value >>> 8;
  buf[o + 3] = value;
  return o + 4;
}

function getInt16(buf: Buffer, o: number): number {
  // biome-ignore lint/style/noNonNullAssertion: in bounds, the callers checked o + 2 <= end
  return ((buf[o]! << 24) | (buf[o + 1]! << 16)) >> 16;
}

function getInt32(buf: Buffer, o: number): number {
  // biome-ignore lint/style/noNonNullAssertion: in bounds, the callers checked o + 4 <= end
  return (buf[o]! << 24) | (buf[o + 1]! << 16) | (buf[o + 2]! << 8) | buf[o + 3]!;
}

// ------------------------------------------------------------------------------------ checks

function checkInt16(value: number, field: string): void {
  if ((value << 16) >> 16 !== value) {
    throw new InvalidArgumentError(
      `${field} ${value} is outside the int16 range a ROCKETMQ header holds; use JSON`,
    );
  }
}
