/**
 * A parser for the JSON that RocketMQ 4.9.8 writes through fastjson 1.2.69
 * (`RemotingSerializable.encode`, which calls `JSON.toJSONBytes` with fastjson's default features).
 *
 * fastjson's `MapSerializer` writes a map key that is not a `String` with the serializer of the
 * key's own type and no quotes, so bodies built from `Map<Long, …>` or `Map<MessageQueue, …>`
 * are not JSON: `{"brokerAddrs":{0:"127.0.0.1:10911"}}` (BrokerData, every GET_BROKER_CLUSTER_INFO
 * answer) and `{"offsetTable":{{"brokerName":"b","queueId":0,"topic":"T"}:{…}}}` (TopicStatsTable,
 * ConsumeStats). This parser accepts standard JSON plus any JSON value in key position.
 *
 * Representation, chosen to equal what RocketMQ itself sends when asked for standard JSON
 * (namesrv `DefaultRequestProcessor.getRouteInfoByTopic` encodes with `BrowserCompatible`, which
 * turns on fastjson's non-string-key-as-string mode and quotes longs beyond 2^53):
 * - a key that is not a string becomes a string key: its standard JSON text. An integer key
 *   keeps its digits (`0` → `"0"`), `true`/`null`/`1.5` their literal text, and an object or
 *   array key its `JSON.stringify` text (`{"brokerName":"b","queueId":0,"topic":"T"}`). So every
 *   map stays an object with one rule for all keys, a parsed value is plain JSON, and a key is
 *   read back with `JSON.parse(key)`;
 * - an integer literal (no fraction, no exponent) outside ±(2^53 − 1) becomes its decimal
 *   string: a Java `long` must not round silently, and a string stays plain JSON where a
 *   `bigint` would not. Literals with a fraction or exponent are Java doubles already and
 *   become numbers (±Infinity past the double range, as `JSON.parse` gives; fastjson writes
 *   non-finite doubles as `null`, so RocketMQ never sends such a literal).
 *
 * No `JSON.parse` fast path for bodies that happen to be standard: it would round longs beyond
 * 2^53 without a sign, and telling the two apart takes a scan of its own. One parser gives one
 * behaviour (depth limit, errors, numbers) whatever the name server's version.
 *
 * Errors: every malformed input throws {@link JsonDialectError} (a `ProtocolError`, code
 * `MQW_ERR_PROTOCOL`) with the offset; nothing else is thrown. The recursion is bounded by
 * {@link MAX_JSON_DEPTH}, so hostile nesting cannot overflow the stack.
 */

import { ProtocolError } from "../errors.js";

/** Deepest nesting of objects and arrays accepted; RocketMQ's bodies nest at most about 6 deep. */
export const MAX_JSON_DEPTH = 256;

/** A malformed RocketMQ JSON text. `offset` counts UTF-16 code units of the decoded text. */
export class JsonDialectError extends ProtocolError {
  readonly offset: number;
  constructor(message: string, offset: number, options?: { cause?: unknown }) {
    super(`RocketMQ JSON: ${message} at offset ${offset}`, options);
    this.offset = offset;
  }
}

// fastjson writes UTF-8 only, and Java's encoder turns a lone surrogate into '?', so a body that
// is not valid UTF-8 did not come from fastjson.
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Longest digit run that is always a safe integer (2^53 − 1 has 16 digits). */
const SAFE_DIGITS = 15;

const ESCAPE: readonly (string | undefined)[] = (() => {
  const t: (string | undefined)[] = [];
  t[0x22] = '"';
  t[0x5c] = "\\";
  t[0x2f] = "/";
  t[0x62] = "\b";
  t[0x66] = "\f";
  t[0x6e] = "\n";
  t[0x72] = "\r";
  t[0x74] = "\t";
  return t;
})();

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  if (l >= 0x61 && l <= 0x66) return l - 0x57;
  return -1;
}

/** One parse: the text and a cursor. A value per call, so parses never share state. */
class Cursor {
  pos = 0;
  constructor(readonly text: string) {}

  fail(message: string, at = this.pos): never {
    throw new JsonDialectError(message, at);
  }

  unexpected(): never {
    if (this.pos >= this.text.length) this.fail("unexpected end of input");
    this.fail(`unexpected ${JSON.stringify(this.text[this.pos])}`);
  }

  skipWs(): number {
    const text = this.text;
    let pos = this.pos;
    let c = text.charCodeAt(pos);
    while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = text.charCodeAt(++pos);
    this.pos = pos;
    return c;
  }

  value(depth: number): unknown {
    const c = this.skipWs();
    if (c === 0x22) return this.string();
    if (c === 0x7b) return this.object(depth + 1);
    if (c === 0x5b) return this.array(depth + 1);
    if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return this.number();
    if (c === 0x74) return this.literal("true", true);
    if (c === 0x66) return this.literal("false", false);
    if (c === 0x6e) return this.literal("null", null);
    return this.unexpected();
  }

  literal<T>(word: string, value: T): T {
    if (!this.text.startsWith(word, this.pos)) this.unexpected();
    this.pos += word.length;
    return value;
  }

  object(depth: number): Record<string, unknown> {
    if (depth > MAX_JSON_DEPTH) this.fail(`nesting deeper than ${MAX_JSON_DEPTH}`);
    this.pos++;
    const out: Record<string, unknown> = {};
    let c = this.skipWs();
    if (c === 0x7d) {
      this.pos++;
      return out;
    }
    for (;;) {
      const key = c === 0x22 ? this.string() : this.key(depth);
      if (this.skipWs() !== 0x3a) this.unexpected();
      this.pos++;
      const value = this.value(depth);
      // Own property even for "__proto__", as JSON.parse makes it; plain assignment would set the prototype.
      if (key === "__proto__") {
        Object.defineProperty(out, key, { value, writable: true, enumerable: true, configurable: true });
      } else {
        out[key] = value;
      }
      c = this.skipWs();
      if (c === 0x2c) {
        this.pos++;
        c = this.skipWs();
        continue;
      }
      if (c === 0x7d) {
        this.pos++;
        return out;
      }
      this.unexpected();
    }
  }

  /** A key fastjson wrote without quotes: a number's digits or another value's JSON text. */
  key(depth: number): string {
    const start = this.pos;
    const c = this.text.charCodeAt(start);
    if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      this.number();
      return this.text.slice(start, this.pos);
    }
    return JSON.stringify(this.value(depth));
  }

  array(depth: number): unknown[] {
    if (depth > MAX_JSON_DEPTH) this.fail(`nesting deeper than ${MAX_JSON_DEPTH}`);
    this.pos++;
    const out: unknown[] = [];
    if (this.skipWs() === 0x5d) {
      this.pos++;
      return out;
    }
    for (;;) {
      out.push(this.value(depth));
      const c = this.skipWs();
      if (c === 0x2c) {
        this.pos++;
        continue;
      }
      if (c === 0x5d) {
        this.pos++;
        return out;
      }
      this.unexpected();
    }
  }

  string(): string {
    const text = this.text;
    const start = ++this.pos;
    let pos = start;
    // Fast path: no escape, the usual case for topic names, addresses and keys.
    for (;;) {
      const c = text.charCodeAt(pos);
      if (c === 0x22) {
        this.pos = pos + 1;
        return text.slice(start, pos);
      }
      if (c === 0x5c) break;
      if (!(c >= 0x20)) this.badStringChar(pos);
      pos++;
    }
    let out = text.slice(start, pos);
    let chunk = pos;
    for (;;) {
      const c = text.charCodeAt(pos);
      if (c === 0x22) {
        this.pos = pos + 1;
        return out + text.slice(chunk, pos);
      }
      if (c === 0x5c) {
        out += text.slice(chunk, pos);
        const e = text.charCodeAt(pos + 1);
        if (e === 0x75) {
          let code = 0;
          for (let i = 2; i < 6; i++) {
            const h = hexValue(text.charCodeAt(pos + i));
            if (h < 0) this.fail("bad \\u escape", pos);
            code = (code << 4) | h;
          }
          out += String.fromCharCode(code);
          pos += 6;
        } else {
          const s = ESCAPE[e];
          if (s === undefined) this.fail(Number.isNaN(e) ? "unexpected end of input" : "bad escape", pos);
          out += s;
          pos += 2;
        }
        chunk = pos;
        continue;
      }
      if (!(c >= 0x20)) this.badStringChar(pos);
      pos++;
    }
  }

  badStringChar(pos: number): never {
    if (pos >= this.text.length) this.fail("unterminated string", pos);
    this.fail("control character in string", pos);
  }

  number(): number | string {
    const text = this.text;
    const start = this.pos;
    let pos = start;
    if (text.charCodeAt(pos) === 0x2d) pos++;
    const intStart = pos;
    let c = text.charCodeAt(pos);
    if (c === 0x30) {
      c = text.charCodeAt(++pos);
      if (c >= 0x30 && c <= 0x39) this.fail("leading zero", pos);
    } else if (c >= 0x31 && c <= 0x39) {
      do c = text.charCodeAt(++pos);
      while (c >= 0x30 && c <= 0x39);
    } else {
      this.pos = pos;
      this.unexpected();
    }
    const intDigits = pos - intStart;
    let integer = true;
    if (c === 0x2e) {
      integer = false;
      pos = this.digits(pos + 1);
      c = text.charCodeAt(pos);
    }
    if (c === 0x65 || c === 0x45) {
      integer = false;
      pos++;
      c = text.charCodeAt(pos);
      if (c === 0x2b || c === 0x2d) pos++;
      pos = this.digits(pos);
    }
    this.pos = pos;
    const literal = text.slice(start, pos);
    const n = Number(literal);
    // Longer literals can exceed 2^53; a Java long there is kept exact, as its digits.
    if (integer && intDigits > SAFE_DIGITS && !Number.isSafeInteger(n)) return literal;
    return n;
  }

  digits(from: number): number {
    const text = this.text;
    let pos = from;
    let c = text.charCodeAt(pos);
    while (c >= 0x30 && c <= 0x39) c = text.charCodeAt(++pos);
    if (pos === from) {
      this.pos = pos;
      this.unexpected();
    }
    return pos;
  }
}

function decode(input: string | Uint8Array): string {
  if (typeof input === "string") return input;
  try {
    return utf8.decode(input);
  } catch (err) {
    throw new JsonDialectError("invalid UTF-8", 0, { cause: err });
  }
}

/**
 * Parses a body written by fastjson 1.2.69 (RocketMQ's dialect) or standard JSON. Keys that are
 * not strings become their JSON text (`{0:"a"}` → `{ "0": "a" }`); integers beyond 2^53 become
 * their decimal string; see the module comment for why. Equal to `JSON.parse` of the same data
 * as RocketMQ's `BrowserCompatible` encoding would write it.
 *
 * @param input the text, or UTF-8 bytes (a frame's body)
 * @throws JsonDialectError (`MQW_ERR_PROTOCOL`) on any malformed input, with its offset
 */
export function parseRocketmqJson(input: string | Uint8Array): unknown {
  const cursor = new Cursor(decode(input));
  const value = cursor.value(0);
  cursor.skipWs();
  if (cursor.pos < cursor.text.length) cursor.fail("trailing characters after the value");
  return value;
}

/**
 * RocketMQ's dialect as standard JSON text, for tools that print or store bodies; `space` is
 * passed to `JSON.stringify` for pretty printing.
 *
 * @throws JsonDialectError (`MQW_ERR_PROTOCOL`) on any malformed input
 */
export function toStandardJson(input: string | Uint8Array, space?: string | number): string {
  return JSON.stringify(parseRocketmqJson(input), null, space);
}
