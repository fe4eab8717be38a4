/**
 * The JSON header serialization (type 0), byte-exact with Java (reference §2; vectors in
 * test/fixtures/vectors/rocketmq and rocketmq-random): fastjson's rendering of the `RemotingCommand`
 * bean (`RemotingSerializable.encode`), written by a specialised encoder for its fixed,
 * alphabetical key order; decoded tolerantly. Re-exported by ./rocketmq-header.ts.
 */
import { InvalidArgumentError, MalformedFrameError } from "../errors.js";
import { type RawBuffer, writeAscii } from "./byte-strings.js";
import { DEFAULT_MAX_EXT_FIELDS } from "./codec.js";
import { fastjsonQuote, isPlainJsonString, javaWellFormed, jsonObjectKeyOrder } from "./fastjson.js";
import { JsonHeaderScanner } from "./json-header-parser.js";
import { type JsonHeaderTemplate, JsonHeaderTemplates, REMARK_OPEN } from "./json-header-template.js";
import {
  LanguageCode,
  languageFromName,
  languageName,
  RemotingCommand,
  SerializeType,
} from "./remoting-command.js";

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

/** 10^1 .. 10^9: an int32's digits are counted by comparisons, not divisions (once per opaque). */
const POWERS_OF_TEN = [1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9] as const;

/** Characters of an int32 in decimal, sign included (-0 is "0", as `${-0}`). */
function decimalLength(n: number): number {
  const v = n < 0 ? -n : n;
  let len = 1;
  // biome-ignore lint/style/noNonNullAssertion: in bounds, len - 1 < 9
  while (len < 10 && v >= POWERS_OF_TEN[len - 1]!) len++;
  return n < 0 ? len + 1 : len;
}

/** Writes the int32 `n` in decimal (`len` from decimalLength) at `o`; returns the offset after it. */
function writeDecimal(buf: Buffer, o: number, n: number, len: number): number {
  const end = o + len;
  let v = n >>> 0; // as uint32, so that `/ 10 >>> 0` divides as integers (-2^31 negated fits)
  if (n < 0) {
    buf[o] = 0x2d; // -
    v = -n >>> 0;
  }
  let p = end;
  do {
    const q = (v / 10) >>> 0;
    buf[--p] = 0x30 + (v - q * 10);
    v = q;
  } while (v > 0);
  return end;
}

/** The largest header the 24-bit header-length word holds. */
const MAX_HEADER_BYTES = 0xff_ffff;

/**
 * The plain JSON header encoder: `jsonHeaderText(cmd)`'s bytes written straight into memory
 * sized first, for headers whose strings are ASCII and need no escaping (nearly all). The
 * constant parts come from the command's shape ({@link JsonHeaderTemplate}: a few `buf.set`
 * calls), the opaque as digits, the remark and extFields as ASCII. {@link measure} sizes a
 * command's header, or refuses it; {@link write} writes it (or {@link discard} drops it). One
 * object serves any number of encodes (a codec keeps one; nothing is allocated per frame but a
 * shape's template, once), one at a time: between measure and write it is {@link busy}, and an
 * encode that starts then (from code run by a sink's `claim`) must take a fresh one, which may
 * share this one's templates (they are immutable).
 */
export class JsonHeaderPass {
  readonly #templates: JsonHeaderTemplates;
  /** The extFields entries measure kept for write (key, value, key, ...). */
  readonly #entries: string[] = [];
  #entryCount = 0;
  #opaqueLen = 0;
  // The measured command's fields, copied: code run between measure and write (a sink's claim)
  // may change the command, not the header measured.
  #template: JsonHeaderTemplate | null = null;
  #opaque = 0;
  #remark: string | null = null;
  #busy = false;

  constructor(templates: JsonHeaderTemplates = new JsonHeaderTemplates()) {
    this.#templates = templates;
  }

  /** True between {@link measure} and {@link write} or {@link discard}. */
  get busy(): boolean {
    return this.#busy;
  }

  /**
   * The size of `cmd`'s header, or -1 (nothing kept) when a string needs escaping or is not
   * ASCII, or when the header would not fit the 24-bit length: callers take the general path
   * then. The int32 fields must have been checked ({@link checkJsonInts}).
   */
  measure(cmd: RemotingCommand): number {
    if (this.#busy) throw new InvalidArgumentError("JsonHeaderPass is busy");
    const remark = cmd.remark;
    if (remark != null && !isPlainJsonString(remark)) return -1;
    const ext = cmd.extFields;
    // Digits written straight into the buffer: no string per opaque for the GC.
    const opaque = cmd.opaque;
    const opaqueLen = decimalLength(opaque);
    let bytes = opaqueLen;
    if (remark != null) bytes += REMARK_OPEN.length + remark.length + 1;
    const entries = this.#entries;
    let count = 0;
    if (ext !== null) {
      for (const [key, value] of ext) {
        if (value == null) continue;
        if (!isPlainJsonString(key) || !isPlainJsonString(value)) {
          entries.fill("", 0, count);
          return -1;
        }
        bytes += key.length + value.length + 6; // "key":"value",
        entries[count++] = key;
        entries[count++] = value;
      }
      if (count > 0) bytes -= 1; // no comma after the last entry
    }
    const template = this.#templates.get(cmd.code, cmd.flag, cmd.language, cmd.version, ext !== null);
    bytes += template.fixedBytes;
    if (bytes > MAX_HEADER_BYTES) {
      entries.fill("", 0, count);
      return -1;
    }
    this.#entryCount = count;
    this.#opaqueLen = opaqueLen;
    this.#opaque = opaque;
    this.#template = template;
    this.#remark = remark;
    this.#busy = true;
    return bytes;
  }

  /** Drops what {@link measure} kept (the caller will not write this header). */
  discard(): void {
    this.#entries.fill("", 0, this.#entryCount);
    this.#entryCount = 0;
    this.#remark = null;
    this.#template = null;
    this.#busy = false;
  }

  /**
   * Writes the header {@link measure} just sized into `buf` at `o`, which must have room for the
   * size it returned. Returns the offset after the header.
   */
  write(buf: Buffer, o: number): number {
    const template = this.#template;
    if (!this.#busy || template === null)
      throw new InvalidArgumentError("JsonHeaderPass.write without measure");
    const entries = this.#entries;
    const count = this.#entryCount;
    const remark = this.#remark;
    this.#busy = false;
    this.#entryCount = 0;
    this.#remark = null;
    this.#template = null;
    const head = template.head;
    buf.set(head, o);
    o += head.length;
    if (template.hasExtFields) {
      for (let i = 0; i < count; i += 2) {
        if (i > 0) buf[o++] = 0x2c; // ,
        buf[o++] = 0x22; // "
        // biome-ignore lint/style/noNonNullAssertion: in bounds, i + 1 < count (entries measure stored)
        o = writeAscii(buf, entries[i]!, o);
        buf[o++] = 0x22;
        buf[o++] = 0x3a; // :
        buf[o++] = 0x22;
        // biome-ignore lint/style/noNonNullAssertion: in bounds, as the key above
        o = writeAscii(buf, entries[i + 1]!, o);
        buf[o++] = 0x22;
        entries[i] = entries[i + 1] = ""; // hold no caller strings past this call
      }
      const mid = template.mid;
      buf.set(mid, o);
      o += mid.length;
    }
    o = writeDecimal(buf, o, this.#opaque, this.#opaqueLen);
    if (remark !== null) {
      buf.set(REMARK_OPEN, o);
      o = writeAscii(buf, remark, o + REMARK_OPEN.length);
      buf[o++] = 0x22;
    }
    const tail = template.tail;
    buf.set(tail, o);
    return o + tail.length;
  }
}

/**
 * Encodes `cmd`'s JSON header after `reserve` unwritten bytes. Throws InvalidArgumentError for
 * non-int32 fields. `pass` is the plain encoder's state (a codec passes its own, reused).
 */
export function encodeJsonHeader(
  cmd: RemotingCommand,
  reserve = 0,
  pass: JsonHeaderPass = new JsonHeaderPass(),
): Buffer {
  checkJsonInts(cmd);
  const plainBytes = pass.measure(cmd);
  if (plainBytes >= 0) {
    const buf = Buffer.allocUnsafe(reserve + plainBytes);
    pass.write(buf, reserve);
    return buf;
  }
  // Escapes or non-ASCII: build the text, then replace lone surrogates with '?' as Java does.
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
  (buf as RawBuffer).utf8Write(text, reserve, bytes);
  return buf;
}

// Validates UTF-8 like Java would not (Java's `new String` replaces bad bytes), because a JSON
// header with invalid UTF-8 is a corrupt frame. ignoreBOM keeps a BOM, which JSON.parse refuses.
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * The header's text, refusing invalid UTF-8. `utf8Slice` replaces every invalid sequence with
 * U+FFFD, so a text without U+FFFD came from valid bytes (on an all-ASCII text V8 answers the
 * `indexOf` at once: a one-byte string cannot hold U+FFFD); only a text with U+FFFD, real or
 * substituted, is decoded again strictly. Cheaper than always decoding strictly, which goes
 * through TextDecoder's argument checks and needs a subarray.
 */
function headerText(buf: Buffer, start: number, end: number): string {
  const text = (buf as RawBuffer).utf8Slice(start, end);
  if (text.indexOf("\uFFFD") === -1) return text; // a BOM is kept, as ignoreBOM does
  try {
    return utf8.decode(buf.subarray(start, end));
  } catch (err) {
    throw new MalformedFrameError("utf8", "JSON header is not valid UTF-8", { cause: err });
  }
}

/**
 * Decodes a JSON header (`buf[start, end)`) as tolerantly as fastjson: any key order, unknown keys
 * and `serializeTypeCurrentRPC` ignored, `"remark": null`, language as name or number, extFields
 * values that are numbers or booleans turned into strings, null values skipped, absent or null
 * fields left at RemotingCommand's defaults (Java's field initialisers). extFields keep the frame's
 * key order. Throws MalformedFrameError "utf8", "json", "json-type", "field-range" or, when
 * extFields has more than `maxExtFields` keys (null values counted), "ext-fields-count".
 *
 * Headers of the shape fastjson and mqwire write go through a byte scanner
 * (./json-header-parser.ts; `scanner`, a decoder passes its own), everything else through
 * `JSON.parse` (`decodeJsonHeaderSlow`), which keeps the tolerance and raises the errors. The
 * scanner exists because `JSON.parse` was most of this decode.
 */
export function decodeJsonHeader(
  buf: Buffer,
  start = 0,
  end = buf.length,
  maxExtFields = DEFAULT_MAX_EXT_FIELDS,
  scanner: JsonHeaderScanner = new JsonHeaderScanner(),
): RemotingCommand {
  return scanner.scan(buf, start, end, maxExtFields) ?? decodeJsonHeaderSlow(buf, start, end, maxExtFields);
}

/**
 * `decodeJsonHeader` through `JSON.parse` only: the path for every header the scanner leaves.
 * Exported for the tests that hold the scanner to it (test/unit/json-header-fast.test.ts).
 * @internal
 */
export function decodeJsonHeaderSlow(
  buf: Buffer,
  start = 0,
  end = buf.length,
  maxExtFields = DEFAULT_MAX_EXT_FIELDS,
): RemotingCommand {
  const text = headerText(buf, start, end);
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
    extFields: jsonExtFields(h.extFields, text, maxExtFields),
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

/**
 * fastjson turns a number or boolean token into the String a field or map value wants. `key`
 * names an extFields entry; the error message is built only when thrown (an eager template per
 * entry was a string allocation per field on the hot path).
 */
function jsonString(value: unknown, field: string, key?: string): string {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  const name = key === undefined ? field : `${field}.${key}`;
  throw new MalformedFrameError("json-type", `JSON header field ${name} is not a string`);
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

function jsonExtFields(value: unknown, text: string, maxExtFields: number): Map<string, string> | null {
  if (value == null) return null;
  if (typeof value !== "object" || Array.isArray(value)) {
    throw new MalformedFrameError("json-type", "JSON header field extFields is not an object");
  }
  const ext = value as Record<string, unknown>;
  let keys = Object.keys(ext);
  if (keys.length > maxExtFields) {
    throw new MalformedFrameError("ext-fields-count", `extFields hold more than ${maxExtFields} keys`);
  }
  // JSON.parse moved integer-like keys first; only then is the text scanned for the real order.
  const first = keys[0];
  if (first !== undefined && isArrayIndex(first)) keys = jsonObjectKeyOrder(text, "extFields") ?? keys;
  const map = new Map<string, string>();
  for (const key of keys) {
    const v = ext[key];
    if (v === null) continue;
    map.set(key, jsonString(v, "extFields", key));
  }
  return map;
}

/** The int32 fields of a JSON header, checked before anything is written (InvalidArgumentError). */
export function checkJsonInts(cmd: RemotingCommand): void {
  checkInt32(cmd.code, "code");
  checkInt32(cmd.version, "version");
  checkInt32(cmd.opaque, "opaque");
  checkInt32(cmd.flag, "flag");
}

/** Throws InvalidArgumentError unless `value` is an int32 (Java's `int`). */
export function checkInt32(value: number, field: string): void {
  if ((value | 0) !== value) throw new InvalidArgumentError(`${field} must be an int32, got ${value}`);
}
