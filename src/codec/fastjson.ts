/**
 * The JSON text details that make mqwire's JSON header byte-exact with RocketMQ's: fastjson
 * 1.2.69's string escaping (`SerializeWriter.writeStringWithDoubleQuote`, the version RocketMQ
 * 4.9.8 pins), Java's `String.getBytes(UTF_8)` treatment of lone surrogates, and an order-keeping
 * scan of one object's keys, because `JSON.parse` moves integer-like keys ("0", "12") first.
 * See test/fixtures/vectors/rocketmq/README.md ("JSON string escaping").
 */

/** Characters fastjson escapes; everything else, non-BMP included, is written raw. */
const NEEDS_ESCAPE = /[\u0000-\u001f"\\\u007f-\u009f\u2028\u2029]/;

/** The replacement of every code unit below U+00A0 that needs one, upper-case hex as fastjson writes it. */
const ESCAPES: readonly (string | undefined)[] = (() => {
  const table: (string | undefined)[] = new Array(0xa0).fill(undefined);
  const hex = (c: number): string => `\\u${c.toString(16).toUpperCase().padStart(4, "0")}`;
  for (let c = 0; c < 0x20; c++) table[c] = hex(c);
  for (let c = 0x7f; c <= 0x9f; c++) table[c] = hex(c);
  table[0x08] = "\\b";
  table[0x09] = "\\t";
  table[0x0a] = "\\n";
  table[0x0c] = "\\f";
  table[0x0d] = "\\r";
  table[0x22] = '\\"';
  table[0x5c] = "\\\\";
  return table;
})();

/**
 * `s` as a quoted JSON string exactly as fastjson 1.2.69 writes it: `"` and `\` escaped, the short
 * forms `\b \t \n \f \r`, every other code unit below U+0020, U+007F–U+009F, U+2028 and U+2029 as
 * `\uXXXX` with upper-case hex, `/` left alone. Strings that need nothing take a regex-only path.
 */
export function fastjsonQuote(s: string): string {
  if (!NEEDS_ESCAPE.test(s)) return `"${s}"`;
  let out = '"';
  let last = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let replacement: string | undefined;
    if (c < 0xa0) replacement = ESCAPES[c];
    else if (c === 0x2028) replacement = "\\u2028";
    else if (c === 0x2029) replacement = "\\u2029";
    if (replacement !== undefined) {
      out += s.slice(last, i) + replacement;
      last = i + 1;
    }
  }
  return `${out}${s.slice(last)}"`;
}

/** Strings up to this many characters are checked in a JavaScript loop, longer ones by a regex. */
const PLAIN_LOOP_MAX_CHARS = 32;
const NOT_PLAIN = /[^\u0020\u0021\u0023-\u005b\u005d-\u007e]/;

/**
 * True when `s` is ASCII and fastjson writes it as is between quotes: U+0020–U+007E except `"`
 * and `\`. Then its UTF-8 length is its length and `"` + s + `"` is its JSON form, which lets the
 * header encoder copy it byte for byte. A loop for short strings (a regex test costs a call).
 */
export function isPlainJsonString(s: string): boolean {
  const n = s.length;
  if (n > PLAIN_LOOP_MAX_CHARS) return !NOT_PLAIN.test(s);
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) return false;
  }
  return true;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** ES2024's `String.prototype.isWellFormed` (Node 20 has it; the ES2023 lib does not declare it). */
const isWellFormed = (String.prototype as unknown as { isWellFormed(this: string): boolean }).isWellFormed;

/**
 * `s` as Java would encode it: `String.getBytes(UTF_8)` writes `?` for an unpaired surrogate where
 * Node writes U+FFFD (EF BF BD). Call it only on strings whose UTF-8 length differs from their
 * length (pure ASCII cannot hold a surrogate), so the common case costs only the UTF-8 length
 * the caller needs anyway.
 */
export function javaWellFormed(s: string): string {
  return isWellFormed.call(s) ? s : s.replace(LONE_SURROGATE, "?");
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/**
 * The keys of the object under the top-level key `field` of the JSON text `text`, in the order
 * they appear in the text (a repeated key appears twice; `new Map` keeps its first position, as a
 * JS object does). Null when `field` is absent or not an object; the last occurrence wins, as in
 * `JSON.parse`. `text` must already be valid JSON (parse it first): this scan does not validate.
 */
export function jsonObjectKeyOrder(text: string, field: string): string[] | null {
  let depth = 0;
  let pending = false;
  let inTarget = false;
  let keys: string[] = [];
  let result: string[] | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      let j = i + 1;
      let escaped = false;
      for (;;) {
        const d = text.charCodeAt(j);
        if (d === 0x22 || Number.isNaN(d)) break;
        if (d === 0x5c) {
          escaped = true;
          j += 2;
        } else j++;
      }
      let k = j + 1;
      while (isSpace(text.charCodeAt(k))) k++;
      if (text.charCodeAt(k) === 0x3a && (depth === 1 || (depth === 2 && inTarget))) {
        const key = escaped ? (JSON.parse(text.slice(i, j + 1)) as string) : text.slice(i + 1, j);
        if (depth === 1) pending = key === field;
        else keys.push(key);
      }
      i = j;
    } else if (c === 0x7b || c === 0x5b) {
      depth++;
      if (depth === 2 && pending && c === 0x7b) {
        inTarget = true;
        keys = [];
      }
    } else if (c === 0x7d || c === 0x5d) {
      if (depth === 2 && inTarget) {
        inTarget = false;
        result = keys;
      }
      depth--;
    } else if (c === 0x2c && depth === 1) {
      pending = false;
    }
  }
  return result;
}
