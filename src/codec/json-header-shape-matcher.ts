/**
 * The known-shape path of the JSON header scanner (./json-header-parser.ts): a header that is
 * exactly a shape seen before (./json-header-template.ts) is compared with the shape's bytes,
 * eight at a time through a DataView, instead of being scanned key by key; only its opaque, its
 * remark and its extFields entries are read, by the scanner's value readers
 * (./json-value-reader.ts). A header that differs anywhere answers null, and the key-by-key scan
 * decides and then teaches the matcher its shape ({@link JsonHeaderShapeMatcher.learn}).
 *
 * Why apart from the scanner: it owns the shapes and the view of the received memory, state the
 * key-by-key scan never touches, and its rule (compare, or give up) is not the scan's grammar.
 */
import type { JsonHeaderTemplates } from "./json-header-template.js";
import { equalBytes, TemplateBytes } from "./json-header-template.js";
import type { JsonValueReader } from "./json-value-reader.js";
import { languageName, RemotingCommand, SerializeType } from "./remoting-command.js";

/** Where the code's digits start: after `{"code":`. */
const CODE_DIGITS_AT = 8;
/** `,"remark":`, the bytes before a remark's opening quote in a header of known shape. */
const REMARK_KEY = new TemplateBytes(',"remark":');

/**
 * The matcher, as a value: a scanner that learns shapes owns one, with the shapes (which the
 * decoders of one codec share: a shape is immutable, and a scan runs no caller code) and the
 * scanner's reader; nothing is allocated per frame but the view, once per chunk memory.
 * @internal
 */
export class JsonHeaderShapeMatcher {
  readonly #templates: JsonHeaderTemplates;
  readonly #reader: JsonValueReader;
  /** A view of the ArrayBuffer under the last header, for comparing eight bytes at a time. */
  #view: DataView | null = null;
  #viewBuffer: ArrayBufferLike | null = null;
  /** The Buffer the view was last asked for: the frames of one chunk skip reading `buf.buffer`. */
  #viewChunk: Buffer | null = null;
  /** While true (between {@link hold} and {@link release}), the view outlives a scan. */
  #holding = false;

  constructor(templates: JsonHeaderTemplates, reader: JsonValueReader) {
    this.#templates = templates;
    this.#reader = reader;
  }

  /**
   * The header when it is exactly a shape seen before (its bytes around the opaque, the remark
   * and the extFields object), else null, and then the key-by-key scan decides. Compares eight
   * bytes at a time, never past `end`; the strings are read as the scan reads them. Throws only
   * "ext-fields-count", as the scan does.
   */
  match(buf: Buffer, start: number, end: number, maxExtFields: number): RemotingCommand | null {
    const reader = this.#reader;
    const templates = this.#templates;
    // The code's digits pick the set of shapes to try; `{"code":` is compared with the rest.
    let i = start + CODE_DIGITS_AT;
    if (i >= end) return null;
    const code = reader.scanInt(buf, i, end);
    if (code === undefined) return null;
    i = reader.pos;
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
        const ext = reader.scanExtFields(buf, i, end, maxExtFields);
        if (ext === undefined) return null;
        extFields = ext;
        i = reader.pos;
        if (!equalAt(buf, view, base, i, end, template.decodeMid)) continue;
        i += template.decodeMid.bytes.length;
      }
      const opaque = reader.scanInt(buf, i, end);
      if (opaque === undefined) continue;
      i = reader.pos;
      let remark: string | null = null;
      if (buf[i + 2] === 0x72) {
        // r: `,"remark":"…"`
        if (!equalAt(buf, view, base, i, end, REMARK_KEY)) continue;
        const value = reader.scanRemark(buf, i + REMARK_KEY.bytes.length, end);
        if (value === undefined) return null;
        remark = value;
        i = reader.pos;
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

  /** Learns the shape of `cmd`, which the key-by-key scan read: the next header like it is compared. */
  learn(cmd: RemotingCommand): void {
    if (languageName(cmd.language) !== undefined) {
      this.#templates.get(cmd.code, cmd.flag, cmd.language, cmd.version, cmd.extFields !== null);
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

  /** Ends {@link hold}: drops the view, so the matcher keeps no received bytes alive. */
  release(): void {
    this.#holding = false;
    this.#view = this.#viewBuffer = this.#viewChunk = null;
  }

  /** Called at the end of every scan: drops the view unless held. */
  finish(): void {
    if (!this.#holding) this.#view = this.#viewBuffer = this.#viewChunk = null;
  }

  /** A view of `buf`'s ArrayBuffer, kept while the matcher is held. */
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
}

/** True when `expected` is at `i` and ends by `end`. */
function equalAt(
  buf: Buffer,
  view: DataView,
  base: number,
  i: number,
  end: number,
  expected: TemplateBytes,
): boolean {
  return end - i >= expected.bytes.length && equalBytes(buf, view, base, i, expected);
}
