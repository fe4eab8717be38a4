/**
 * The JSON header serialization (type 0), decoding side: a header read as tolerantly as fastjson
 * reads it (`RemotingSerializable.decode`), through the byte scanner (./json-header-parser.ts)
 * for the shape fastjson and mqwire write, and through `JSON.parse` for everything else, which
 * also raises every typed error. Encoding is ./json-header.ts. Re-exported by
 * ./rocketmq-header.ts.
 */
import { MalformedFrameError } from "../errors.js";
import type { RawBuffer } from "./byte-strings.js";
import { DEFAULT_MAX_EXT_FIELDS } from "./codec.js";
import { jsonObjectKeyOrder } from "./fastjson.js";
import { JsonHeaderScanner } from "./json-header-parser.js";
import { LanguageCode, languageFromName, RemotingCommand, SerializeType } from "./remoting-command.js";

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
