/**
 * Protocol negotiation: the first bytes of a server connection choose the codec.
 *
 * Qpid's `ProtocolEngine` factories (qpid-java `MultiVersionProtocolEngine`) buffer the first
 * bytes, ask each supported version whether the header is theirs, then hand the buffered bytes to
 * the winner; an unknown header closes the connection with a logged reason. RocketMQ's server does
 * the same for PROXY headers and TLS (`NettyRemotingServer.HandshakeHandler`, `TlsModeHandler`):
 * peek, decide, remove itself, replay. This class is that decision, pure (no I/O, no timers): the
 * protocol engine owns the handshake deadline and feeds bytes here until a codec is chosen.
 */
import type { Codec, SniffResult } from "../codec/codec.js";
import { InvalidArgumentError, NegotiationError } from "../errors.js";

/**
 * Most bytes sniffed before giving up: a peer cannot make the negotiation buffer grow without bound
 * by sending bytes that keep every codec at "need-more". Netty's HAProxy detector needs 12 bytes,
 * RocketMQ's codec 8; 64 leaves room for longer magic strings.
 */
export const DEFAULT_MAX_SNIFF_BYTES = 64;

/** Bytes shown in hex in a negotiation failure message (enough to recognise TLS, HTTP, PROXY). */
const HEX_DUMP_BYTES = 16;

/** What the negotiator decided once a codec said "yes". */
export interface NegotiationResult<F> {
  /** The codec that recognised the first bytes. */
  readonly codec: Codec<F>;
  /** Every byte received so far, in order, to replay into the chosen codec's decoder in one push. */
  readonly head: Buffer;
}

/**
 * Buffers the first bytes of a connection and asks each codec's `sniff` in order. The first
 * "yes" wins, even when a codec earlier in the list still says "need-more" (list a catch-all codec
 * such as RocketMQ's, which has no magic bytes, last); while none says "yes" and one says
 * "need-more", it waits; when all say "no", or the sniff limit is reached, it throws.
 */
export class Negotiator<F> {
  readonly #codecs: readonly Codec<F>[];
  readonly #maxSniffBytes: number;
  #head: Buffer | undefined;
  #done = false;

  /**
   * @param codecs candidates in sniff order, at least one.
   * @param maxSniffBytes most bytes shown to `sniff` before a "no" decision; default 64.
   */
  constructor(codecs: readonly Codec<F>[], maxSniffBytes: number = DEFAULT_MAX_SNIFF_BYTES) {
    if (!Array.isArray(codecs) || codecs.length === 0) {
      throw new InvalidArgumentError("codecs must be a non-empty array of Codec");
    }
    if (!Number.isInteger(maxSniffBytes) || maxSniffBytes < 1) {
      throw new InvalidArgumentError(`maxSniffBytes must be a positive integer, got ${maxSniffBytes}`);
    }
    this.#codecs = codecs.slice();
    this.#maxSniffBytes = maxSniffBytes;
  }

  /** Bytes held while undecided. */
  get bufferedBytes(): number {
    return this.#head === undefined ? 0 : this.#head.length;
  }

  /** True once a codec was chosen or negotiation failed; `push` must not be called again. */
  get isDone(): boolean {
    return this.#done;
  }

  /**
   * Adds the next chunk of the connection and decides if it can.
   * @returns the chosen codec and the bytes to replay, or `undefined` while more bytes are needed.
   * @throws NegotiationError (`MQW_ERR_NEGOTIATION`) when no codec accepts the bytes.
   */
  push(chunk: Buffer): NegotiationResult<F> | undefined {
    if (this.#done) throw new NegotiationError("negotiation already ended");
    // Runs once or a few times per connection, so a copy here costs nothing on the hot path; the
    // first chunk, the common case, is kept without a copy.
    const head = this.#head === undefined ? chunk : Buffer.concat([this.#head, chunk]);
    this.#head = head;
    if (head.length === 0) return undefined;
    const view = head.length > this.#maxSniffBytes ? head.subarray(0, this.#maxSniffBytes) : head;
    let waiting = false;
    for (const codec of this.#codecs) {
      const answer: SniffResult = codec.sniff(view);
      if (answer === "yes") {
        this.#done = true;
        this.#head = undefined;
        return { codec, head };
      }
      if (answer === "need-more") waiting = true;
    }
    if (waiting && view.length < this.#maxSniffBytes) return undefined;
    this.#done = true;
    this.#head = undefined;
    throw new NegotiationError(
      waiting
        ? `no codec decided within ${this.#maxSniffBytes} bytes (${this.#describe(view)})`
        : `no codec accepted the first bytes (${this.#describe(view)})`,
    );
  }

  /**
   * The error for a handshake deadline that passed while undecided, naming what was received.
   * Ends the negotiation.
   */
  timeout(timeoutMs: number): NegotiationError {
    const head = this.#head ?? Buffer.alloc(0);
    this.#done = true;
    this.#head = undefined;
    return new NegotiationError(
      `no protocol chosen within ${timeoutMs} ms: ${head.length} bytes received (${this.#describe(head)})`,
    );
  }

  /** "rocketmq: no, line: no; head 4c3a68" for the log line that explains the close. */
  #describe(head: Buffer): string {
    const answers = this.#codecs.map((c) => `${c.name}: ${head.length === 0 ? "-" : c.sniff(head)}`);
    const hex = head.subarray(0, HEX_DUMP_BYTES).toString("hex");
    return `${answers.join(", ")}; head ${hex}${head.length > HEX_DUMP_BYTES ? "…" : ""}`;
  }
}
