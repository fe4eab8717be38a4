/**
 * Short-string fast paths shared by the header codecs. A RocketMQ header is a dozen short, almost
 * always ASCII strings ("a", "TopicTest", "producerGroup"), and the profile of the codec benchmark
 * (bench/codec/codec-bench.ts) showed their per-call overhead, not their bytes, as the cost:
 * `buf.write`/`buf.toString` normalise their arguments and look the encoding up on every call, and
 * every native call has a fixed cost whatever its length. These helpers stay in JavaScript for
 * short ASCII strings and call Node's encoding-specific methods directly otherwise. (Figures:
 * bench/history/2026-12-06-figures-from-code-comments-codec.md.)
 *
 * `latin1Slice`, `utf8Slice`, `latin1Write` and `utf8Write` are undocumented but long-standing
 * Buffer methods (node lib/internal/buffer.js), the ones `toString`/`write` end in. protobufjs
 * does the same (src/writer_buffer.js: a JS loop below 40 characters, "plain js is faster for short
 * strings", `buf.utf8Write` above), as does msgpackr (pack.js, `target.utf8Write`).
 */

/** The encoding-specific Buffer methods Node defines but @types/node does not declare. */
export interface RawBuffer extends Buffer {
  latin1Slice(start: number, end: number): string;
  utf8Slice(start: number, end: number): string;
  latin1Write(text: string, offset: number, length?: number): number;
  utf8Write(text: string, offset: number, length?: number): number;
}

/**
 * Strings up to this many characters are written in a JavaScript loop, longer ones by one
 * `latin1Write` call: the measured crossover, below which the loop beats the call's fixed cost.
 */
const LOOP_WRITE_MAX_CHARS = 16;

/**
 * Writes the ASCII string `s` at `offset` (one byte per character; the caller knows it is ASCII,
 * e.g. `Buffer.byteLength(s) === s.length`). Returns the offset after it.
 */
export function writeAscii(buf: Buffer, s: string, offset: number): number {
  const n = s.length;
  if (n > LOOP_WRITE_MAX_CHARS) return offset + (buf as RawBuffer).latin1Write(s, offset, n);
  for (let i = 0; i < n; i++) buf[offset + i] = s.charCodeAt(i);
  return offset + n;
}

/** Strings up to this many characters are measured by a JavaScript scan, not Buffer.byteLength. */
const SCAN_LENGTH_MAX_CHARS = 32;

/**
 * `Buffer.byteLength(s, "utf8")`, scanning short ASCII strings in JavaScript (cheaper than a
 * byteLength call each). Equals `s.length` exactly when `s` is ASCII.
 */
export function utf8Length(s: string): number {
  const n = s.length;
  if (n <= SCAN_LENGTH_MAX_CHARS) {
    let i = 0;
    while (i < n && s.charCodeAt(i) < 0x80) i++;
    if (i === n) return n;
  }
  return Buffer.byteLength(s, "utf8");
}

/** True when `buf[start, end)` holds only bytes below 0x80. A JS loop: headers' strings are short. */
export function isAsciiRange(buf: Buffer, start: number, end: number): boolean {
  let bits = 0;
  // biome-ignore lint/style/noNonNullAssertion: in bounds, i < end <= buf.length
  for (let i = start; i < end; i++) bits |= buf[i]!;
  return bits < 0x80;
}

/** Longest ASCII string {@link readUtf8} looks up in its cache, in bytes. */
const CACHED_MAX_BYTES = 16;
/** Slots of the short-string cache (a power of two). */
const CACHE_SLOTS = 512;
/**
 * Recently decoded short ASCII strings, direct-mapped by a hash of their bytes. Header strings
 * repeat: remarks ("ok"), extFields keys, topic and group names. A hit costs a hash and a compare
 * over a few bytes and allocates nothing; a miss replaces the slot. It holds at most
 * 512 × 16 characters. Module state that is safe: a pure cache, a hit returns the string a miss
 * would make, so call order changes only the speed, never a result.
 */
const shortStrings: string[] = new Array<string>(CACHE_SLOTS).fill("");

/**
 * `buf[start, end)`, known to be ASCII, through the short-string cache when it holds at most
 * CACHED_MAX_BYTES (a remark), else one `latin1Slice`.
 */
export function readAscii(buf: Buffer, start: number, end: number): string {
  const n = end - start;
  if (n === 0) return "";
  // biome-ignore lint/style/noNonNullAssertion: in bounds, start < end <= buf.length
  if (n === 1) return String.fromCharCode(buf[start]!);
  return n <= CACHED_MAX_BYTES ? cachedAscii(buf, start, end) : (buf as RawBuffer).latin1Slice(start, end);
}

/** `buf[start, end)` (ASCII, at most CACHED_MAX_BYTES) through the short-string cache. */
function cachedAscii(buf: Buffer, start: number, end: number): string {
  const n = end - start;
  let h = n;
  // biome-ignore lint/style/noNonNullAssertion: in bounds, i < end <= buf.length
  for (let i = start; i < end; i++) h = (Math.imul(h, 31) + buf[i]!) | 0;
  const slot = (h ^ (h >>> 9)) & (CACHE_SLOTS - 1);
  // biome-ignore lint/style/noNonNullAssertion: slot < CACHE_SLOTS, and every slot holds a string
  const hit = shortStrings[slot]!;
  if (hit.length === n) {
    let i = 0;
    while (i < n && hit.charCodeAt(i) === buf[start + i]) i++;
    if (i === n) return hit;
  }
  const s = (buf as RawBuffer).latin1Slice(start, end);
  shortStrings[slot] = s;
  return s;
}

/**
 * `buf[start, end)` decoded as UTF-8 (invalid sequences become U+FFFD, as Java's
 * `new String(bytes, UTF_8)`), cheaply when ASCII:
 * - one ASCII byte: `String.fromCharCode`, which V8 answers from its single-character string
 *   cache, without a native call;
 * - ASCII: a slice of `text`, a latin1 string of the bytes from `textStart` that the caller made
 *   once for many fields (latin1 maps each byte to one character, so offsets carry over); V8
 *   copies or shares it without a native call. (The short-string cache measured slower than
 *   these slices in the codec benchmark.)
 * - ASCII without `text` (the remark) up to 16 bytes: a small cache of recent strings (see
 *   `shortStrings`), which spares the client of the async echo benchmark its `latin1Slice` of
 *   the remark "ok" per response; longer: one `latin1Slice` call;
 * - anything else: `utf8Slice`.
 */
export function readUtf8(
  buf: Buffer,
  start: number,
  end: number,
  text: string | null,
  textStart: number,
): string {
  if (!isAsciiRange(buf, start, end)) return (buf as RawBuffer).utf8Slice(start, end);
  if (text !== null && end - start > 1) return text.slice(start - textStart, end - textStart);
  return readAscii(buf, start, end);
}

/** `buf[start, end)` as a latin1 string (one character per byte), for `readUtf8`'s `text`. */
export function latin1Text(buf: Buffer, start: number, end: number): string {
  return (buf as RawBuffer).latin1Slice(start, end);
}
