/**
 * The RocketMQ `RemotingCommand` value type (remoting/protocol/RemotingCommand.java), its flag
 * bits, `LanguageCode` and `SerializeType`, and the process-wide opaque sequence.
 */
import { InvalidArgumentError } from "../errors.js";

/**
 * Header serialization of a frame: the top byte of the header-length word.
 * @enum
 */
export const SerializeType = { JSON: 0, ROCKETMQ: 1 } as const;
export type SerializeType = (typeof SerializeType)[keyof typeof SerializeType];

/** The serialize type's name as RocketMQ writes it (`serializeTypeCurrentRPC`). */
export function serializeTypeName(type: SerializeType): "JSON" | "ROCKETMQ" {
  return type === SerializeType.ROCKETMQ ? "ROCKETMQ" : "JSON";
}

/** Parses "json" / "rocketmq" (any case) into a SerializeType. */
export function parseSerializeType(name: string): SerializeType {
  const upper = name.toUpperCase();
  if (upper === "JSON") return SerializeType.JSON;
  if (upper === "ROCKETMQ") return SerializeType.ROCKETMQ;
  throw new InvalidArgumentError(`serialize type must be "json" or "rocketmq", got ${JSON.stringify(name)}`);
}

/**
 * RocketMQ's LanguageCode (remoting/protocol/LanguageCode.java): the enum ordinal equals the byte
 * on the wire. NODE_JS (13) exists only in RocketMQ 5.3.2+, so older servers read it as null.
 * @enum
 */
export const LanguageCode = {
  JAVA: 0,
  CPP: 1,
  DOTNET: 2,
  PYTHON: 3,
  DELPHI: 4,
  ERLANG: 5,
  RUBY: 6,
  OTHER: 7,
  HTTP: 8,
  GO: 9,
  PHP: 10,
  OMS: 11,
  RUST: 12,
  NODE_JS: 13,
} as const;
/** A {@link LanguageCode} name ("JAVA", "GO", …). */
export type LanguageName = keyof typeof LanguageCode;
/** A language byte; codes without a name (a newer peer's) are kept as their number. */
export type LanguageCode = number;

const LANGUAGE_NAMES: readonly LanguageName[] = Object.keys(LanguageCode) as LanguageName[];

/** The enum name of a language code, or undefined for a code RocketMQ does not define. */
export function languageName(code: LanguageCode): LanguageName | undefined {
  return LANGUAGE_NAMES[code];
}

/** The code of a language name (case-sensitive, as Java's enum `valueOf`), or undefined. */
export function languageFromName(name: string): LanguageCode | undefined {
  return Object.hasOwn(LanguageCode, name) ? LanguageCode[name as LanguageName] : undefined;
}

/** Flag bit 0: the command is a response (`RPC_TYPE`). */
export const FLAG_RESPONSE = 1;
/** Flag bit 1: the request expects no response (`RPC_ONEWAY`). */
export const FLAG_ONEWAY = 2;

/** Transport-level response codes (RemotingSysResponseCode) plus GO_AWAY. */
export const ResponseCode = {
  SUCCESS: 0,
  SYSTEM_ERROR: 1,
  SYSTEM_BUSY: 2,
  REQUEST_CODE_NOT_SUPPORTED: 3,
  TRANSACTION_FAILED: 4,
  NO_PERMISSION: 16,
  GO_AWAY: 1500,
} as const;

/**
 * A shutting-down RocketMQ 5.x server answers GO_AWAY only to requests whose version is above
 * V5_3_1 (ordinal 475); older peers are still served (NettyRemotingAbstract.processRequestCommand).
 */
export const GO_AWAY_MIN_VERSION = 476;

// Module state by design: one request id counter per process, as RocketMQ's static AtomicInteger
// `requestId`, so opaques are unique across every connection without per-connection state.
let opaqueSequence = 0;

/**
 * Next value of the process-wide opaque sequence. Like Java's `AtomicInteger.getAndIncrement`
 * it starts at 0 and wraps from 2^31-1 to -2^31, which is harmless: opaques only need to be
 * unique among the calls pending at one time.
 */
export function nextOpaque(): number {
  const value = opaqueSequence;
  opaqueSequence = (opaqueSequence + 1) | 0;
  return value;
}

/** The fields a command can be built from; every one is optional. */
export interface CommandInit {
  /** Request or response code. Default 0. */
  code?: number;
  /** The sender's language. Default JAVA. */
  language?: LanguageCode;
  /** The sender's protocol version (RocketMQ's MQVersion ordinal). Default 0. */
  version?: number;
  /** Defaults to the next value of the process-wide sequence. */
  opaque?: number;
  /** Flag bits ({@link FLAG_RESPONSE}, {@link FLAG_ONEWAY}). Default 0. */
  flag?: number;
  /** Free text; on a response, usually why it failed. Default null. */
  remark?: string | null;
  /** A Map keeps its order; a plain object's integer-like keys are sorted by JavaScript. */
  extFields?: Map<string, string> | Record<string, string> | null;
  /** The payload. Default null. */
  body?: Uint8Array | null;
  /** How the header is written. Default JSON. */
  serializeType?: SerializeType;
}

function toExtMap(ext: CommandInit["extFields"]): Map<string, string> | null {
  if (ext == null) return null;
  if (ext instanceof Map) return ext;
  return new Map(Object.entries(ext));
}

function toBuffer(body: Uint8Array | null | undefined): Buffer | null {
  if (body == null) return null;
  return Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
}

/**
 * The init object {@link RemotingCommand.decoded} refills for every command (always this shape).
 * Module state that is safe: filled and emptied within one synchronous call that runs no caller code.
 */
const decodedInit: CommandInit = {
  code: undefined,
  language: undefined,
  version: undefined,
  opaque: undefined,
  flag: undefined,
  remark: null,
  extFields: null,
  serializeType: SerializeType.JSON,
};

/**
 * One remoting command: a request or a response. A plain mutable value, as in Java, so hooks can
 * sign it and processors can fill it in. `extFields` keeps insertion order, which the encoders
 * write as is (Java writes HashMap order; receivers must not depend on either).
 */
export class RemotingCommand {
  /** The request code, or on a response the response code. */
  code: number;
  /** The sender's language (LanguageCode). */
  language: LanguageCode;
  /** The sender's protocol version (RocketMQ's MQVersion ordinal). */
  version: number;
  /** Matches a response to its request: a response carries its request's opaque. */
  opaque: number;
  /** Flag bits: bit 0 response ({@link FLAG_RESPONSE}), bit 1 oneway ({@link FLAG_ONEWAY}). */
  flag: number;
  /** Free text; on a failed response, why. */
  remark: string | null;
  /** The header's string fields (RocketMQ's extFields), in insertion order. */
  extFields: Map<string, string> | null;
  /** The payload, or null. */
  body: Buffer | null;
  /** How the header is (or was) serialized: JSON or ROCKETMQ. */
  serializeType: SerializeType;
  /**
   * On a request received from a peer: when it arrived, in `performance.now()` ms; 0 otherwise.
   * Not on the wire: the service stamps it for its processing-time metrics (RocketMQ keeps a
   * transient `processTimer` on the command for the same purpose).
   */
  receivedAt = 0;
  /**
   * On a request received from a peer: true once it is held for long polling (RocketMQ's
   * `RemotingCommand.setSuspended`, the `is_long_polling` label of `rocketmq_rpc_latency`), so
   * its processing time, mostly the hold, is told apart from ordinary requests'. Set for you when
   * a processor returns no response to a request that expects one, to answer it later with
   * `channel.respond`; a processor that holds a request in a pending Promise sets it itself.
   * Not on the wire.
   */
  suspended = false;

  constructor(init: CommandInit = {}) {
    this.code = init.code ?? 0;
    this.language = init.language ?? LanguageCode.JAVA;
    this.version = init.version ?? 0;
    this.opaque = init.opaque ?? nextOpaque();
    this.flag = init.flag ?? 0;
    this.remark = init.remark ?? null;
    this.extFields = toExtMap(init.extFields);
    this.body = toBuffer(init.body);
    this.serializeType = init.serializeType ?? SerializeType.JSON;
  }

  /**
   * A command with the fields a decoder read (`undefined`: the constructor's default, an absent
   * opaque drawing from the sequence). The same construction as `new RemotingCommand({...})`
   * through one init object reused for every decoded command: the literal per frame was not
   * optimised away in the servers' decode path (a heap profile showed it), and every byte
   * allocated per call brings the next scavenge closer.
   */
  static decoded(
    code: number | undefined,
    language: LanguageCode | undefined,
    version: number | undefined,
    opaque: number | undefined,
    flag: number | undefined,
    remark: string | null,
    extFields: Map<string, string> | null,
    serializeType: SerializeType,
  ): RemotingCommand {
    const init = decodedInit;
    init.code = code;
    init.language = language;
    init.version = version;
    init.opaque = opaque;
    init.flag = flag;
    init.remark = remark;
    init.extFields = extFields;
    init.serializeType = serializeType;
    const command = new RemotingCommand(init);
    init.remark = init.extFields = null; // hold nothing of the frame past this call
    return command;
  }

  /** A request with flag 0 (`RemotingCommand.createRequestCommand`). */
  static createRequest(code: number, init: Omit<CommandInit, "code" | "flag"> = {}): RemotingCommand {
    // No `{ ...init, code }`: V8 spreads an object holding a Buffer on a slow path that costs
    // more than encoding the command.
    const command = new RemotingCommand(init);
    command.code = code;
    command.flag = 0;
    return command;
  }

  /** A response with the response bit set (`RemotingCommand.createResponseCommand(code, remark)`). */
  static createResponse(
    code: number,
    remark: string | null = null,
    init: Omit<CommandInit, "code" | "remark"> = {},
  ): RemotingCommand {
    const command = new RemotingCommand(init); // no spread: see createRequest
    command.code = code;
    command.remark = remark;
    command.flag |= FLAG_RESPONSE;
    return command;
  }

  /** True when the response flag is set. */
  get isResponse(): boolean {
    return (this.flag & FLAG_RESPONSE) !== 0;
  }
  /** True when the oneway flag is set: no response is expected. */
  get isOneway(): boolean {
    return (this.flag & FLAG_ONEWAY) !== 0;
  }
  /** Sets the oneway flag; returns this. */
  markOneway(): this {
    this.flag |= FLAG_ONEWAY;
    return this;
  }

  /** Reads one extField; undefined when absent. */
  getExt(key: string): string | undefined {
    return this.extFields?.get(key);
  }
  /** Sets one extField, creating the map when needed. */
  setExt(key: string, value: string): this {
    if (this.extFields === null) this.extFields = new Map();
    this.extFields.set(key, value);
    return this;
  }

  /** The command as Java's `RemotingCommand.toString` prints it, for logs. */
  toString(): string {
    return `RemotingCommand [code=${this.code}, language=${languageName(this.language) ?? this.language}, version=${this.version}, opaque=${this.opaque}, flag(B)=${this.flag.toString(2)}, remark=${this.remark}, extFields=${this.extFields ? JSON.stringify(Object.fromEntries(this.extFields)) : null}, serializeTypeCurrentRPC=${serializeTypeName(this.serializeType)}]`;
  }
}
