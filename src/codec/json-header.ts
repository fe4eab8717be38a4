/**
 * The JSON header serialization (type 0), encoding side, byte-exact with Java (reference §2;
 * vectors in test/fixtures/vectors/rocketmq and rocketmq-random): fastjson's rendering of the
 * `RemotingCommand` bean (`RemotingSerializable.encode`), written by a specialised encoder for its
 * fixed, alphabetical key order, and the int32 checks made before anything is written. Decoding,
 * which is tolerant and has a fast path of its own, is ./json-header-decode.ts. Re-exported by
 * ./rocketmq-header.ts.
 */
import { InvalidArgumentError } from "../errors.js";
import { type RawBuffer, writeAscii } from "./byte-strings.js";
import { fastjsonQuote, isPlainJsonString, javaWellFormed } from "./fastjson.js";
import { type JsonHeaderTemplate, JsonHeaderTemplates, REMARK_OPEN } from "./json-header-template.js";
import { languageName, type RemotingCommand } from "./remoting-command.js";

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
