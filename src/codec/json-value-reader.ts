/**
 * The value readers of the JSON header scanner (./json-header-parser.ts): an int, a string, a
 * remark, a language name and the extFields object, read at a position of the header's bytes.
 * The key-by-key scan and the known-shape matcher (./json-header-shape-matcher.ts) both read
 * their values here, so the two agree on what a value is and on when to leave a header to the
 * `JSON.parse` path (./json-header-decode.ts): a reader answers undefined (or -1, or false) for
 * anything it does not handle, and its caller answers null.
 *
 * Why a value of its own: the header's latin1 text, made once a string needs it and sliced for
 * every string after, is state that only the string readers use; keeping it with them leaves the
 * scanner its grammar and the matcher its byte comparisons.
 */
import { MalformedFrameError } from "../errors.js";
import { type RawBuffer, readAscii } from "./byte-strings.js";
import { LanguageCode, languageFromName } from "./remoting-command.js";

const QUOTE = 0x22;
const COMMA = 0x2c;
const MINUS = 0x2d;
const ZERO = 0x30;
const COLON = 0x3a;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

const ascii = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, "latin1"));

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
 * The readers, as a value: the position after the last value read and the header's latin1 text
 * live here for one scan, between {@link begin} and {@link finish}; each scanner owns one
 * (nothing allocated per frame). Every reader takes the header's buffer and `end` as arguments
 * (fewer field loads per byte) and, on success, sets {@link pos} after what it read.
 *
 * Reading past `end`: single-byte checks do not test `i < end` (fewer loads and branches per
 * token), so on a malformed header they may read past `end` (a body byte, or undefined past the
 * buffer; never outside `buf`). That is safe because the cursor only moves forward and every loop
 * stops at `end`: a parse that looked past `end` has its cursor past `end` and cannot finish
 * exactly at `end`, which the scanner checks last. test/unit/json-header-fast.test.ts holds this
 * with every truncation of a header followed by the bytes that would complete it.
 * @internal
 */
export class JsonValueReader {
  /** The position after the last value read. @internal */
  pos = 0;
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

  /** Starts the scan of `buf[start, end)`; refuses to while one is current (see the scanner). */
  begin(buf: Buffer, start: number, end: number): void {
    if (this.#header !== null) throw new Error("JsonHeaderScanner.scan while a scan is current");
    this.#header = buf;
    this.#textStart = start;
    this.#textEnd = end;
  }

  /** Ends the scan: holds nothing past it (extFields slices keep what they need). */
  finish(): void {
    this.#header = this.#text = null;
  }

  /**
   * A JSON integer in the int range at `i`, or undefined; sets `pos` after its digits. What follows
   * them is the caller's to check: it wants `,`, `}` or whitespace, so a fraction, an exponent or a
   * digit after a leading zero sends the header to the JSON.parse path.
   */
  scanInt(buf: Buffer, i: number, end: number): number | undefined {
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
    this.pos = i;
    const value = negative ? -n : n; // "-0" gives -0, as JSON.parse does
    return (value | 0) === value ? value : undefined;
  }

  /**
   * The remark quoted at `i`: as a key's or value's string, but a plain ASCII remark read before
   * the header's latin1 text exists goes through the short-string cache (byte-strings.ts): a
   * response whose only string is "ok" then needs no native call.
   */
  scanRemark(buf: Buffer, i: number, end: number): string | undefined {
    const bits = this.#findString(buf, i, end);
    if (bits < 0) return undefined;
    if (bits < NON_ASCII && this.#text === null) return readAscii(buf, i + 1, this.pos - 1);
    return this.#decodeString(buf, i, this.pos, bits);
  }

  /** Checks the string quoted at `i` without making it; sets `pos` after it. */
  skipString(buf: Buffer, i: number, end: number): boolean {
    const bits = this.#findString(buf, i, end);
    if (bits < 0) return false;
    return bits < NON_ASCII || this.#decodeString(buf, i, this.pos, bits) !== undefined;
  }

  /**
   * The language named by the string at `i`: a known name matched as bytes, any other string
   * read as OTHER (as the JSON.parse path does), undefined when not a string (a number there is
   * left to that path too).
   */
  scanLanguage(buf: Buffer, i: number, end: number): number | undefined {
    const bits = this.#findString(buf, i, end);
    if (bits < 0) return undefined;
    if (bits < NON_ASCII) {
      const n = this.pos - i - 2;
      for (let code = 0; code < LANGUAGE_NAMES.length; code++) {
        const name = LANGUAGE_NAMES[code];
        if (name === undefined || name.length !== n) continue;
        let k = 0;
        while (k < n && buf[i + 1 + k] === name[k]) k++;
        if (k === n) return code;
      }
      return LanguageCode.OTHER; // an escape-free ASCII string that is no known name
    }
    const name = this.#decodeString(buf, i, this.pos, bits);
    if (name === undefined) return undefined;
    return languageFromName(name) ?? LanguageCode.OTHER;
  }

  /**
   * The extFields object at `i` (string values, each key once), or undefined; sets `pos` after it.
   * Throws "ext-fields-count" at key `maxExtFields + 1` (see the scanner's file comment).
   */
  scanExtFields(buf: Buffer, i: number, end: number, maxExtFields: number): Map<string, string> | undefined {
    if (buf[i++] !== OPEN_BRACE) return undefined;
    const map = new Map<string, string>();
    if (buf[i] !== QUOTE) i = skipSpace(buf, i, end);
    if (buf[i] === CLOSE_BRACE) {
      this.pos = i + 1;
      return map;
    }
    for (;;) {
      const key = this.#scanString(buf, i, end);
      if (key === undefined) return undefined;
      i = this.pos;
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
      i = this.pos;
      if (buf[i] !== COMMA && buf[i] !== CLOSE_BRACE) i = skipSpace(buf, i, end);
      const c = buf[i++];
      if (c === CLOSE_BRACE) {
        this.pos = i;
        return map;
      }
      if (c !== COMMA) return undefined;
      // biome-ignore lint/style/noNonNullAssertion: past the buffer, undefined <= 0x20 is false
      if (buf[i]! <= 0x20) i = skipSpace(buf, i, end);
    }
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
    this.pos = j + 1;
    return bits;
  }

  /** The string quoted at `i`, or undefined; sets `pos` after it. */
  #scanString(buf: Buffer, i: number, end: number): string | undefined {
    const bits = this.#findString(buf, i, end);
    if (bits < 0) return undefined;
    return this.#decodeString(buf, i, this.pos, bits);
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
      // Valid UTF-8 iff no U+FFFD came out (as in json-header-decode.ts's headerText); a string's
      // bytes lie between two ASCII quotes, which no multi-byte sequence contains, so strings are
      // checked alone.
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
}

/**
 * JSON's whitespace (RFC 8259 §2: space, tab, LF, CR) from `i`: the first other position. Called
 * only where the expected byte is missing, so fastjson's whitespace-free text never pays for it.
 * @internal
 */
export function skipSpace(buf: Buffer, i: number, end: number): number {
  while (i < end) {
    // biome-ignore lint/style/noNonNullAssertion: in bounds, i < end
    const c = buf[i]!;
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
    i++;
  }
  return i;
}
