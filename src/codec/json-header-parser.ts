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
 *
 * This file holds the scanner's grammar (the top-level object, key by key) and its entry point;
 * the values are read by ./json-value-reader.ts and headers of a shape seen before are compared
 * by ./json-header-shape-matcher.ts, each a value the scanner owns.
 */
import { DEFAULT_MAX_EXT_FIELDS } from "./codec.js";
import { JsonHeaderShapeMatcher } from "./json-header-shape-matcher.js";
import type { JsonHeaderTemplates } from "./json-header-template.js";
import { JsonValueReader, skipSpace } from "./json-value-reader.js";
import { RemotingCommand, SerializeType } from "./remoting-command.js";

const QUOTE = 0x22;
const COMMA = 0x2c;
const COLON = 0x3a;
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

/**
 * The scanner, as a value: its value reader (./json-value-reader.ts, which holds the cursor and
 * the header's latin1 text for one `scan`) and, when it learns shapes, its known-shape matcher
 * (./json-header-shape-matcher.ts); each decoder keeps one (nothing allocated per frame) and no
 * call depends on another's state. `scan` runs no caller code, so nothing can re-enter it; it
 * still refuses to start while a scan is current, as undici guards its parser globals.
 *
 * The scan may look past `end` on a malformed header, and that is safe: see {@link JsonValueReader}.
 */
export class JsonHeaderScanner {
  readonly #reader = new JsonValueReader();
  /**
   * The header shapes seen, tried before the key-by-key scan; null for a scanner of one header,
   * which would learn a shape for nothing.
   */
  readonly #shapes: JsonHeaderShapeMatcher | null;

  /**
   * `templates`: the shapes to compare headers with and to learn, which the decoders of one codec
   * share (a shape is immutable, and a scan runs no caller code); null (the default) for a
   * scanner that reads one header or a few.
   */
  constructor(templates: JsonHeaderTemplates | null = null) {
    this.#shapes = templates === null ? null : new JsonHeaderShapeMatcher(templates, this.#reader);
  }

  /**
   * `buf[start, end)` decoded as `decodeJsonHeader` would, or null when the header is not of the
   * shape this scanner handles (see the file comment); then the caller must take the `JSON.parse`
   * path, which also raises every error. Throws only "ext-fields-count" (see the file comment).
   */
  scan(buf: Buffer, start: number, end: number, maxExtFields: number): RemotingCommand | null {
    const reader = this.#reader;
    reader.begin(buf, start, end);
    const shapes = this.#shapes;
    try {
      if (shapes === null) return this.#scanObject(buf, start, end, maxExtFields);
      const known = shapes.match(buf, start, end, maxExtFields);
      if (known !== null) return known;
      const cmd = this.#scanObject(buf, start, end, maxExtFields);
      // Learn the shape, so that the next header like this one is compared instead of scanned.
      if (cmd !== null) shapes.learn(cmd);
      return cmd;
    } finally {
      reader.finish();
      if (shapes !== null) shapes.finish();
    }
  }

  /**
   * Keeps the view of a received chunk's memory from one scan to the next, until
   * {@link release}: a decoder holds it over the frames of one chunk, so a chunk of many frames
   * makes one view.
   */
  hold(): void {
    if (this.#shapes !== null) this.#shapes.hold();
  }

  /** Ends {@link hold}: drops the view, so the scanner keeps no received bytes alive. */
  release(): void {
    if (this.#shapes !== null) this.#shapes.release();
  }

  /** The object at `start`; may look past `end` on a malformed header (see {@link JsonValueReader}). */
  #scanObject(buf: Buffer, start: number, end: number, maxExtFields: number): RemotingCommand | null {
    const reader = this.#reader;
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
          const ext = reader.scanExtFields(buf, i, end, maxExtFields);
          if (ext === undefined) return null;
          extFields = ext;
        } else if (field === LANGUAGE) {
          const value = reader.scanLanguage(buf, i, end);
          if (value === undefined) return null;
          language = value;
        } else if (field === REMARK) {
          const value = reader.scanRemark(buf, i, end);
          if (value === undefined) return null;
          remark = value;
        } else if (field === SERIALIZE_TYPE) {
          // Ignored, as by the JSON.parse path: the frame's header word carries the type.
          if (!reader.skipString(buf, i, end)) return null;
        } else {
          const value = reader.scanInt(buf, i, end);
          if (value === undefined) return null;
          if (field === CODE) code = value;
          else if (field === FLAG) flag = value;
          else if (field === OPAQUE) opaque = value;
          else version = value;
        }
        i = reader.pos;
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
