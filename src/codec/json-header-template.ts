/**
 * The constant parts of a JSON header, per shape: every header that fastjson and mqwire write for
 * one (code, flag, language, version, with or without extFields) is the same bytes around the
 * opaque's digits, the remark and the extFields entries. The encoder copies a shape's bytes with
 * a few `buf.set` calls instead of building them field by field; the decoder compares a header
 * with the shape's bytes, eight at a time, instead of scanning it key by key.
 *
 * The layout, as `jsonHeaderText` writes it (./json-header.ts):
 *
 *   head                          [entries  mid]                opaque [remark]          tail
 *   {"code":C,"extFields":{       "k":"v",…  },"flag":F,…"opaque":  123   ,"remark":"R"  ,"serialize…":"JSON","version":V}
 *   {"code":C,"flag":F,"language":"L","opaque":                  123   ,"remark":"R"  ,"serialize…":"JSON","version":V}
 */
import { languageName } from "./remoting-command.js";

const ascii = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, "latin1"));

/** `,"remark":"`: what comes between the opaque's digits and a remark's first character. */
export const REMARK_OPEN: Uint8Array = ascii(',"remark":"');

/**
 * `bytes` as little-endian doubles, eight bytes each, for {@link equalBytes}; the last 0–7 bytes
 * are left out. Comparing doubles is comparing bytes here: eight printable ASCII bytes (all a
 * template holds) are never a NaN (its exponent needs a byte >= 0xF0) nor a zero, and two
 * doubles other than those are equal only when their bits are.
 */
function doublesOf(bytes: Uint8Array): Float64Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const doubles = new Float64Array(bytes.length >>> 3);
  for (let k = 0; k < doubles.length; k++) doubles[k] = view.getFloat64(8 * k, true);
  return doubles;
}

/** Bytes a decoder compares with a header, and the same bytes as doubles. */
export class TemplateBytes {
  readonly bytes: Uint8Array;
  readonly doubles: Float64Array;
  constructor(text: string) {
    this.bytes = ascii(text);
    this.doubles = doublesOf(this.bytes);
  }
}

/** The constant bytes of one header shape; immutable, so a pass may keep one past an eviction. */
export class JsonHeaderTemplate {
  /** `{"code":C` and then `,"extFields":{` or everything up to the opaque's digits. */
  readonly head: Uint8Array;
  /** With extFields, `},"flag":F…"opaque":` after the entries; else empty. */
  readonly mid: Uint8Array;
  /** `,"serializeTypeCurrentRPC":"JSON","version":V}`, after the opaque or the remark. */
  readonly tail: Uint8Array;
  /** Bytes of head, mid and tail together. */
  readonly fixedBytes: number;
  /** What a decoder compares up to the extFields object (its `{` is the object scanner's) or the opaque. */
  readonly decodeHead: TemplateBytes;
  /** What a decoder compares after the extFields object (its `}` is the object scanner's). */
  readonly decodeMid: TemplateBytes;
  /** The tail, for the decoder. */
  readonly decodeTail: TemplateBytes;

  constructor(
    readonly code: number,
    readonly flag: number,
    readonly language: number,
    readonly version: number,
    readonly hasExtFields: boolean,
  ) {
    // A language code without a name is omitted, as jsonHeaderText does.
    const name = languageName(language);
    const toOpaque = `,"flag":${flag}${name === undefined ? "" : `,"language":"${name}"`},"opaque":`;
    const head = hasExtFields ? `{"code":${code},"extFields":{` : `{"code":${code}${toOpaque}`;
    const mid = hasExtFields ? `}${toOpaque}` : "";
    const tail = `,"serializeTypeCurrentRPC":"JSON","version":${version}}`;
    this.head = ascii(head);
    this.mid = ascii(mid);
    this.tail = ascii(tail);
    this.fixedBytes = head.length + mid.length + tail.length;
    this.decodeHead = new TemplateBytes(hasExtFields ? head.slice(0, -1) : head);
    this.decodeMid = new TemplateBytes(mid.slice(1));
    this.decodeTail = new TemplateBytes(tail);
  }

  /** True when this is the shape of a header with these fields. */
  matches(code: number, flag: number, language: number, version: number, hasExtFields: boolean): boolean {
    return (
      this.code === code &&
      this.flag === flag &&
      this.language === language &&
      this.version === version &&
      this.hasExtFields === hasExtFields
    );
  }
}

/** Sets of the cache (a power of two) and shapes per set. */
const SETS = 16;
const WAYS = 4;

/**
 * A small cache of header shapes: 16 sets chosen by code, four shapes each, the newest first. A
 * process sees a handful of shapes (its request codes, the responses to them), so a miss, which
 * builds a template, is rare; a shape is built again only once four newer ones of its set pushed
 * it out. A codec keeps one for its encoders and one its decoders share (no module state).
 */
export class JsonHeaderTemplates {
  readonly #table: (JsonHeaderTemplate | undefined)[] = new Array(SETS * WAYS).fill(undefined);

  /** The first slot of the set of headers with `code` (and extFields or not). */
  setOf(code: number, hasExtFields: boolean): number {
    return (((code ^ (code >>> 4)) * 2 + (hasExtFields ? 1 : 0)) & (SETS - 1)) * WAYS;
  }

  /** The shape in `slot` (from {@link setOf}, plus 0 to 3), or undefined. */
  at(slot: number): JsonHeaderTemplate | undefined {
    return this.#table[slot];
  }

  /** The shape of these fields, built and cached on a miss. */
  get(
    code: number,
    flag: number,
    language: number,
    version: number,
    hasExtFields: boolean,
  ): JsonHeaderTemplate {
    const table = this.#table;
    const first = this.setOf(code, hasExtFields);
    for (let slot = first; slot < first + WAYS; slot++) {
      const template = table[slot];
      if (template === undefined) break;
      if (template.matches(code, flag, language, version, hasExtFields)) return template;
    }
    const template = new JsonHeaderTemplate(code, flag, language, version, hasExtFields);
    table.copyWithin(first + 1, first, first + WAYS - 1);
    table[first] = template;
    return template;
  }
}

/**
 * True when `buf` holds `expected` at `at`, compared eight bytes at a time (`view` over
 * `buf.buffer`, `base` = `buf.byteOffset`). The caller has checked that `at +
 * expected.bytes.length` is within the header.
 */
export function equalBytes(
  buf: Buffer,
  view: DataView,
  base: number,
  at: number,
  expected: TemplateBytes,
): boolean {
  const doubles = expected.doubles;
  const n = doubles.length;
  const o = base + at;
  for (let k = 0; k < n; k++) if (view.getFloat64(o + 8 * k, true) !== doubles[k]) return false;
  const bytes = expected.bytes;
  for (let k = 8 * n; k < bytes.length; k++) if (buf[at + k] !== bytes[k]) return false;
  return true;
}
