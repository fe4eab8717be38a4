/**
 * The fast path of the JSON header decoder: a scanner over the header's bytes for the shape that
 * fastjson (`RemotingSerializable.encode`) and mqwire's own encoder write, building the
 * `RemotingCommand` directly, without `JSON.parse`.
 *
 * Why: `JSON.parse` was most of a JSON header decode (bench/codec/codec-bench.ts), and it builds
 * an object that the decoder then copies into a Map; the scanner builds the Map and the command
 * directly, makes one latin1 text of the header (one native call, once a string needs it) and
 * slices the strings out of it, and matches keys and language names as bytes. Where it gains
 * least: every key is a new string, which `Map.set` hashes in the runtime where JSON.parse hands
 * out internalised keys, and a JavaScript loop reads byte by byte; a header of many long keys
 * and values can decode slower than by JSON.parse.
 *
 * Scope, and the rule that keeps it safe: it accepts only a strict subset of JSON, an object whose
 * keys are among `code, extFields, flag, language, opaque, remark, serializeTypeCurrentRPC,
 * version` (any order, each once), with integers (no fraction, exponent or leading zero, in the
 * int range) for the numbers, strings for `language`, `remark` and `serializeTypeCurrentRPC`, and
 * an object of string to string (each key once) for `extFields`, JSON whitespace anywhere. On
 * anything else (an unknown key, `null`, a number as an extFields value, invalid JSON, invalid
 * UTF-8, a value out of range) it answers null and the caller takes the `JSON.parse` path, which
 * keeps every tolerance and every typed error. For what it accepts it gives what that path gives,
 * which test/unit/json-header-fast.test.ts checks on encoder output and on mutated headers.
 *
 * One exception to "answers null": extFields with more than `maxExtFields` keys throw
 * "ext-fields-count" as soon as the scanner counts one too many, rather than hand a header of up
 * to maxHeaderBytes to `JSON.parse` to be counted again (the JSON.parse path counts keys too, so
 * both paths refuse the same headers, except one that repeats the top-level extFields key).
 */
import { MalformedFrameError } from "../errors.js";
import { type RawBuffer, readAscii } from "./byte-strings.js";
import { DEFAULT_MAX_EXT_FIELDS } from "./codec.js";
import { equalBytes, type JsonHeaderTemplates, TemplateBytes } from "./json-header-template.js";
import {
  LanguageCode,
  languageFromName,
  languageName,
  RemotingCommand,
  SerializeType,
} from "./remoting-command.js";

const QUOTE = 0x22;
const COMMA = 0x2c;
const MINUS = 0x2d;
const ZERO = 0x30;
const COLON = 0x3a;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

/** One bit per known top-level key, to refuse a repeated key (JSON.parse keeps the last one). */
const CODE = 1;
const EXT_FIELDS = 2;
const FLAG = 4;
const LANGUAGE = 8;
const OPAQUE = 16;
const REMARK = 32;
const SERIALIZE_TYPE = 64;
const VERSION = 128;

const ascii = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, "latin1"));

/** Where the code's digits start: after `{"code":`. */
const CODE_DIGITS_AT = 8;
/** `,"remark":`, the bytes before a remark's opening quote in a header of known shape. */
const REMARK_KEY = new TemplateBytes(',"remark":');

/**
 * The known keys by their first byte (the eight start with eight different letters): the bytes
 * after it, closing quote included, and the key's bit.
 */
const KEYS: readonly ({ rest: Uint8Array; field: number } | undefined)[] = (() => {
  const table: ({ rest: Uint8Array; field: number } | undefined)[] = new Array(256).fill(undefined);
  const keys: [string, number][] = [
    ["code", CODE],
    ["extFields", EXT_FIELDS],
    ["flag", FLAG],
    ["language", LANGUAGE],
    ["opaque", OPAQUE],
    ["remark", REMARK],
    ["serializeTypeCurrentRPC", SERIALIZE_TYPE],
    ["version", VERSION],
  ];
  for (const [key, field] of keys) table[key.charCodeAt(0)] = { rest: ascii(`${key.slice(1)}"`), field };
  return table;
})();

/** The language names as bytes, by code, so `"JAVA"` is recognised without making a string. */
const LANGUAGE_NAMES: readonly Uint8Array[] = (() => {
  const table: Uint8Array[] = [];
  for (const [name, code] of Object.entries(LanguageCode)) table[code] = ascii(name);
  return table;
})();

/** `findString`'s flag for a string holding a backslash escape; its low byte ORs the string's bytes. */
const ESCAPED = 0x100;
/** `findString`'s flag bit for a string holding a byte >= 0x80 (non-ASCII UTF-8). */
const NON_ASCII = 0x80;
/**
 * The scanner, as a value: its cursor and the header's latin1 text live here for one `scan`, so
 * each decoder keeps one (nothing allocated per frame) and no call depends on another's state.
 * `scan` runs no caller code, so nothing can re-enter it; it still refuses to start while a scan
 * is current, as undici guards its parser globals.
 *
 * Reading past `end`: single-byte checks do not test `i < end` (fewer loads and branches per
 * token), so on a malformed header they may read past `end` (a body byte, or undefined past the
 * buffer; never outside `buf`). That is safe because the cursor only moves forward and every loop
 * stops at `end`: a parse that looked past `end` has its cursor past `end` and cannot finish
 * exactly at `end`, which `scan` checks last. test/unit/json-header-fast.test.ts holds this with
 * every truncation of a header followed by the bytes that would complete it.
 */
export class JsonHeaderScanner {
  /** The position after the last token read. */
  #pos = 0;
  /** The header's buffer while a scan is current, else null. */
  #header: Buffer | null = null;
  /**
   * The header as latin1 text (one character per byte, so byte offsets minus `textStart` index
   * it), made at the first string that needs it (a header of numbers only does without the
   * native call).
   */
  #text: string | null = null;
  #textStart = 0;
  #textEnd = 0;
  /**
   * The header shapes seen (./json-header-template.ts), tried before the key-by-key scan; null
   * for a scanner of one header, which would learn a shape for nothing.
   */
  readonly #templates: JsonHeaderTemplates | null;
  /** A view of the ArrayBuffer under the last header, for comparing eight bytes at a time. */
  #view: DataView | null = null;
  #viewBuffer: ArrayBufferLike | null = null;
  /** The Buffer the view was last asked for: the frames of one chunk skip reading `buf.buffer`. */
  #viewChunk: Buffer | null = null;
  /** While true (between {@link hold} and {@link release}), the view outlives a scan. */
  #holding = false;

  /**
   * `templates`: the shapes to compare headers with and to learn, which the decoders of one codec
   * share (a shape is immutable, and a scan runs no caller code); null (the default) for a
   * scanner that reads one header or a few.
   */
  constructor(templates: JsonHeaderTemplates | null = null) {
    this.#templates = templates;
  }

  /**
   * `buf[start, end)` decoded as `decodeJsonHeader` would, or null when the header is not of the
   * shape this scanner handles (see the file comment); then the caller must take the `JSON.parse`
   * path, which also raises every error. Throws only "ext-fields-count" (see the file comment).
   */
  scan(buf: Buffer, start: number, end: number, maxExtFields: number): RemotingCommand | null {
    if (this.#header !== null) throw new Error("JsonHeaderScanner.scan while a scan is current");
    this.#header = buf;
    this.#textStart = start;
    this.#textEnd = end;
    try {
      const templates = this.#templates;
      if (templates === null) return this.#scanObject(buf, start, end, maxExtFields);
      const known = this.#scanKnownShape(buf, start, end, maxExtFields, templates);
      if (known !== null) return known;
      const cmd = this.#scanObject(buf, start, end, maxExtFields);
      // Learn the shape, so that the next header like this one is compared instead of scanned.
      if (cmd !== null && languageName(cmd.language) !== undefined) {
        templates.get(cmd.code, cmd.flag, cmd.language, cmd.version, cmd.extFields !== null);
      }
      return cmd;
    } finally {
      this.#header = this.#text = null; // hold nothing past this call (extFields slices keep what they need)
      if (!this.#holding) this.#view = this.#viewBuffer = this.#viewChunk = null;
    }
  }

  /**
   * Keeps the view of a received chunk's memory from one scan to the next, until
   * {@link release}: a decoder holds it over the frames of one chunk, so a chunk of many frames
   * makes one view.
   */
  hold(): void {
    this.#holding = true;
  }

  /** Ends {@link hold}: drops the view, so the scanner keeps no received bytes alive. */
  release(): void {
    this.#holding = false;
    this.#view = this.#viewBuffer = this.#viewChunk = null;
  }

  /**
   * The header when it is exactly a shape seen before (its bytes around the opaque, the remark
   * and the extFields object), else null, and then the key-by-key scan decides. Compares eight
   * bytes at a time, never past `end`; the strings are read as the scan reads them.
   */
  #scanKnownShape(
    buf: Buffer,
    start: number,
    end: number,
    maxExtFields: number,
    templates: JsonHeaderTemplates,
  ): RemotingCommand | null {
    // The code's digits pick the set of shapes to try; `{"code":` is compared with the rest.
    let i = start + CODE_DIGITS_AT;
    if (i >= end) return null;
    const code = this.#scanInt(buf, i, end);
    if (code === undefined) return null;
    i = this.#pos;
    const hasExtFields = buf[i + 2] === 0x65; // e: `,"extFields"`; checked with the bytes below
    const first = templates.setOf(code, hasExtFields);
    let view: DataView | null = null;
    for (let slot = first; slot < first + 4; slot++) {
      const template = templates.at(slot);
      if (template === undefined) return null;
      if (template.code !== code || template.hasExtFields !== hasExtFields) continue;
      if (view === null) view = this.#viewOf(buf);
      const base = buf.byteOffset;
      const head = template.decodeHead;
      i = start + head.bytes.length;
      if (i >= end || !equalBytes(buf, view, base, start, head)) continue;
      let extFields: Map<string, string> | null = null;
      if (hasExtFields) {
        const ext = this.#scanExtFields(buf, i, end, maxExtFields);
        if (ext === undefined) return null;
        extFields = ext;
        i = this.#pos;
        if (!this.#equalAt(buf, view, base, i, end, template.decodeMid)) continue;
        i += template.decodeMid.bytes.length;
      }
      const opaque = this.#scanInt(buf, i, end);
      if (opaque === undefined) continue;
      i = this.#pos;
      let remark: string | null = null;
      if (buf[i + 2] === 0x72) {
        // r: `,"remark":"…"`
        if (!this.#equalAt(buf, view, base, i, end, REMARK_KEY)) continue;
        const value = this.#scanRemark(buf, i + REMARK_KEY.bytes.length, end);
        if (value === undefined) return null;
        remark = value;
        i = this.#pos;
      }
      const tail = template.decodeTail;
      if (end - i !== tail.bytes.length || !equalBytes(buf, view, base, i, tail)) continue;
      return RemotingCommand.decoded(
        code,
        template.language,
        template.version,
        opaque,
        template.flag,
        remark,
        extFields,
        SerializeType.JSON,
      );
    }
    return null;
  }

  /** True when `expected` is at `i` and ends by `end`. */
  #equalAt(
    buf: Buffer,
    view: DataView,
    base: number,
    i: number,
    end: number,
    expected: TemplateBytes,
  ): boolean {
    return end - i >= expected.bytes.length && equalBytes(buf, view, base, i, expected);
  }

  /** A view of `buf`'s ArrayBuffer, kept while the scanner is held. */
  #viewOf(buf: Buffer): DataView {
    let view = this.#view;
    if (view !== null && buf === this.#viewChunk) return view;
    const memory = buf.buffer;
    if (view === null || this.#viewBuffer !== memory) {
      view = new DataView(memory);
      this.#view = view;
      this.#viewBuffer = memory;
    }
    this.#viewChunk = buf;
    return view;
  }

  /** The object at `start`; may look past `end` on a malformed header (see the class comment). */
  #scanObject(buf: Buffer, start: number, end: number, maxExtFields: number): RemotingCommand | null {
    let i = start;
    if (buf[i] !== OPEN_BRACE) i = skipSpace(buf, i, end);
    if (buf[i++] !== OPEN_BRACE) return null;
    let seen = 0;
    let code: number | undefined;
    let flag: number | undefined;
    let opaque: number | undefined;
    let version: number | undefined;
    let language: number | undefined;
    let remark: string | null = null;
    let extFields: Map<string, string> | null = null;
    if (buf[i] !== QUOTE) i = skipSpace(buf, i, end);
    if (buf[i] === CLOSE_BRACE) {
      i++; // {}
    } else {
      for (;;) {
        // A known key, matched as bytes: KEYS by its first letter holds the rest and the quote.
        if (buf[i] !== QUOTE) return null;
        // biome-ignore lint/style/noNonNullAssertion: past the buffer, KEYS[undefined] is undefined: refused
        const key = KEYS[buf[i + 1]!];
        if (key === undefined) return null;
        const rest = key.rest;
        for (let k = 0; k < rest.length; k++) if (buf[i + 2 + k] !== rest[k]) return null;
        i += rest.length + 2;
        const field = key.field;
        if ((seen & field) !== 0) return null;
        seen |= field;
        if (buf[i] !== COLON) i = skipSpace(buf, i, end);
        if (buf[i++] !== COLON) return null;
        // biome-ignore lint/style/noNonNullAssertion: past the buffer, undefined <= 0x20 is false
        if (buf[i]! <= 0x20) i = skipSpace(buf, i, end);
        if (field === EXT_FIELDS) {
          const ext = this.#scanExtFields(buf, i, end, maxExtFields);
          if (ext === undefined) return null;
          extFields = ext;
        } else if (field === LANGUAGE) {
          const value = this.#scanLanguage(buf, i, end);
          if (value === undefined) return null;
          language = value;
        } else if (field === REMARK) {
          const value = this.#scanRemark(buf, i, end);
          if (value === undefined) return null;
          remark = value;
        } else if (field === SERIALIZE_TYPE) {
          // Ignored, as by the JSON.parse path: the frame's header word carries the type.
          if (!this.#skipString(buf, i, end)) return null;
        } else {
          const value = this.#scanInt(buf, i, end);
          if (value === undefined) return null;
          if (field === CODE) code = value;
          else if (field === FLAG) flag = value;
          else if (field === OPAQUE) opaque = value;
          else version = value;
        }
        i = this.#pos;
        if (buf[i] !== COMMA && buf[i] !== CLOSE_BRACE) i = skipSpace(buf, i, end);
        const c = buf[i++];
        if (c === CLOSE_BRACE) break;
        if (c !== COMMA) return null;
        // biome-ignore lint/style/noNonNullAssertion: past the buffer, undefined <= 0x20 is false
        if (buf[i]! <= 0x20) i = skipSpace(buf, i, end);
      }
    }
    if (i !== end && skipSpace(buf, i, end) !== end) return null;
    // The same construction as the JSON.parse path: absent fields left to the constructor's
    // defaults (an absent opaque draws from the sequence there too).
    return RemotingCommand.decoded(
      code,
      language,
      version,
      opaque,
      flag,
      remark,
      extFields,
      SerializeType.JSON,
    );
  }

  /**
   * A JSON integer in the int range at `i`, or undefined; sets `pos` after its digits. What follows
   * them is the caller's to check: it wants `,`, `}` or whitespace, so a fraction, an exponent or a
   * digit after a leading zero sends the header to the JSON.parse path.
   */
  #scanInt(buf: Buffer, i: number, end: number): number | undefined {
    const negative = buf[i] === MINUS;
    if (negative) i++;
    // biome-ignore lint/style/noNonNullAssertion: past the buffer, NaN, refused below
    let n = buf[i]! - ZERO;
    if (!(n >= 0 && n <= 9)) return undefined;
    i++;
    if (n !== 0) {
      for (; i < end; i++) {
        // biome-ignore lint/style/noNonNullAssertion: in bounds, i < end
        const digit = buf[i]! - ZERO;
        if (digit < 0 || digit > 9) break;
        n = n * 10 + digit; // past 10 digits out of range (and maybe inexact): refused below
      }
    }
    this.#pos = i;
    const value = negative ? -n : n; // "-0" gives -0, as JSON.parse does
    return (value | 0) === value ? value : undefined;
  }

  /**
   * Finds the end of the string quoted at `i`; sets `pos` after its closing quote. Returns the
   * OR of its bytes (>= NON_ASCII when it holds UTF-8), plus ESCAPED when it holds a backslash, or
   * -1 when it is not a string or holds a control character (invalid JSON).
   */
  #findString(buf: Buffer, i: number, end: number): number {
    if (i >= end || buf[i] !== QUOTE) return -1;
    let bits = 0;
    let j = i + 1;
    for (;;) {
      if (j >= end) return -1;
      // biome-ignore lint/style/noNonNullAssertion: in bounds, j < end
      const c = buf[j]!;
      if (c === QUOTE) break;
      if (c === BACKSLASH) {
        // Every JSON escape is `\` and one ASCII character (\uXXXX's hex digits hold no quote), so
        // skipping one byte finds the same closing quote as JSON.parse; a bad escape fails there.
        bits |= ESCAPED;
        j += 2;
      } else {
        if (c < 0x20) return -1;
        bits |= c;
        j++;
      }
    }
    this.#pos = j + 1;
    return bits;
  }

  /** The string quoted at `i`, or undefined; sets `pos` after it. */
  #scanString(buf: Buffer, i: number, end: number): string | undefined {
    const bits = this.#findString(buf, i, end);
    if (bits < 0) return undefined;
    return this.#decodeString(buf, i, this.#pos, bits);
  }

  /**
   * The remark quoted at `i`: as `scanString`, but a plain ASCII remark read before the header's
   * latin1 text exists goes through the short-string cache (byte-strings.ts): a response whose only
   * string is "ok" then needs no native call.
   */
  #scanRemark(buf: Buffer, i: number, end: number): string | undefined {
    const bits = this.#findString(buf, i, end);
    if (bits < 0) return undefined;
    if (bits < NON_ASCII && this.#text === null) return readAscii(buf, i + 1, this.#pos - 1);
    return this.#decodeString(buf, i, this.#pos, bits);
  }

  /**
   * The string `buf[i, j)` (quotes included) that `findString` described with `bits`, or undefined
   * to leave it to the JSON.parse path: on invalid UTF-8 (or a real U+FFFD, which cannot be told
   * from a substituted one without the strict decode) and on an invalid escape.
   */
  #decodeString(buf: Buffer, i: number, j: number, bits: number): string | undefined {
    // Without escapes or UTF-8, a slice of the latin1 text: no native call per string.
    if (bits < NON_ASCII) return this.#latin1Text().slice(i + 1 - this.#textStart, j - 1 - this.#textStart);
    let quoted: string;
    if ((bits & NON_ASCII) !== 0) {
      // Valid UTF-8 iff no U+FFFD came out (as in json-header.ts's headerText); a string's bytes lie
      // between two ASCII quotes, which no multi-byte sequence contains, so strings are checked alone.
      const escaped = (bits & ESCAPED) !== 0;
      quoted = escaped ? (buf as RawBuffer).utf8Slice(i, j) : (buf as RawBuffer).utf8Slice(i + 1, j - 1);
      if (quoted.indexOf("\uFFFD") !== -1) return undefined;
      if (!escaped) return quoted;
    } else {
      quoted = this.#latin1Text().slice(i - this.#textStart, j - this.#textStart);
    }
    // Escapes are rare in headers (a remark with a newline or a quote): JSON.parse on the one
    // string gives exactly what it gives inside the whole text.
    try {
      return JSON.parse(quoted) as string;
    } catch {
      return undefined;
    }
  }

  /** The header as latin1 text, made on first use. */
  #latin1Text(): string {
    if (this.#text === null)
      this.#text = (this.#header as RawBuffer).latin1Slice(this.#textStart, this.#textEnd);
    return this.#text;
  }

  /** Checks the string quoted at `i` without making it; sets `pos` after it. */
  #skipString(buf: Buffer, i: number, end: number): boolean {
    const bits = this.#findString(buf, i, end);
    if (bits < 0) return false;
    return bits < NON_ASCII || this.#decodeString(buf, i, this.#pos, bits) !== undefined;
  }

  /**
   * The language named by the string at `i`: a known name matched as bytes, any other string
   * read as OTHER (as the JSON.parse path does), undefined when not a string (a number there is
   * left to that path too).
   */
  #scanLanguage(buf: Buffer, i: number, end: number): number | undefined {
    const bits = this.#findString(buf, i, end);
    if (bits < 0) return undefined;
    if (bits < NON_ASCII) {
      const n = this.#pos - i - 2;
      for (let code = 0; code < LANGUAGE_NAMES.length; code++) {
        const name = LANGUAGE_NAMES[code];
        if (name === undefined || name.length !== n) continue;
        let k = 0;
        while (k < n && buf[i + 1 + k] === name[k]) k++;
        if (k === n) return code;
      }
      return LanguageCode.OTHER; // an escape-free ASCII string that is no known name
    }
    const name = this.#decodeString(buf, i, this.#pos, bits);
    if (name === undefined) return undefined;
    return languageFromName(name) ?? LanguageCode.OTHER;
  }

  /**
   * The extFields object at `i` (string values, each key once), or undefined; sets `pos` after it.
   * Throws "ext-fields-count" at key `maxExtFields + 1`.
   */
  #scanExtFields(buf: Buffer, i: number, end: number, maxExtFields: number): Map<string, string> | undefined {
    if (buf[i++] !== OPEN_BRACE) return undefined;
    const map = new Map<string, string>();
    if (buf[i] !== QUOTE) i = skipSpace(buf, i, end);
    if (buf[i] === CLOSE_BRACE) {
      this.#pos = i + 1;
      return map;
    }
    for (;;) {
      const key = this.#scanString(buf, i, end);
      if (key === undefined) return undefined;
      i = this.#pos;
      if (buf[i] !== COLON) i = skipSpace(buf, i, end);
      if (buf[i++] !== COLON) return undefined;
      // biome-ignore lint/style/noNonNullAssertion: past the buffer, undefined <= 0x20 is false
      if (buf[i]! <= 0x20) i = skipSpace(buf, i, end);
      const value = this.#scanString(buf, i, end);
      if (value === undefined) return undefined;
      const size = map.size;
      map.set(key, value);
      if (map.size === size) return undefined; // a repeated key: JSON.parse's last-wins is the slow path's
      if (size === maxExtFields) {
        throw new MalformedFrameError("ext-fields-count", `extFields hold more than ${maxExtFields} keys`);
      }
      i = this.#pos;
      if (buf[i] !== COMMA && buf[i] !== CLOSE_BRACE) i = skipSpace(buf, i, end);
      const c = buf[i++];
      if (c === CLOSE_BRACE) {
        this.#pos = i;
        return map;
      }
      if (c !== COMMA) return undefined;
      // biome-ignore lint/style/noNonNullAssertion: past the buffer, undefined <= 0x20 is false
      if (buf[i]! <= 0x20) i = skipSpace(buf, i, end);
    }
  }
}

/** `scanner.scan(buf, start, end, maxExtFields)`, with a scanner of its own unless given one. */
export function scanJsonHeader(
  buf: Buffer,
  start: number,
  end: number,
  maxExtFields = DEFAULT_MAX_EXT_FIELDS,
  scanner: JsonHeaderScanner = new JsonHeaderScanner(),
): RemotingCommand | null {
  return scanner.scan(buf, start, end, maxExtFields);
}

/**
 * JSON's whitespace (RFC 8259 §2: space, tab, LF, CR) from `i`: the first other position. Called
 * only where the expected byte is missing, so fastjson's whitespace-free text never pays for it.
 */
function skipSpace(buf: Buffer, i: number, end: number): number {
  while (i < end) {
    // biome-ignore lint/style/noNonNullAssertion: in bounds, i < end
    const c = buf[i]!;
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
    i++;
  }
  return i;
}
