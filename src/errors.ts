/**
 * Errors with stable codes (undici `lib/core/errors.js` style). Tests and callers branch on
 * `err.code`, never on message text. Each class maps one to one to RocketMQ's
 * `Remoting*Exception` family where one exists (see the mapping in each TSDoc line).
 *
 * Each class carries a brand, `Symbol.for("mqwire.error.<ClassName>")`, and its `instanceof`
 * checks the brand, not the prototype (undici's `kUndiciError`): an error made by another copy
 * of mqwire in the same process (two versions in node_modules) still passes `instanceof` and
 * {@link isMqwireError}.
 */

/** True when `value` is an object carrying `brand` (see the note at the top of this file). */
function hasBrand(value: unknown, brand: symbol): boolean {
  return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[brand] === true;
}

const prototypeCheck = Function.prototype[Symbol.hasInstance];

/**
 * Gives `cls` the brand `Symbol.for("mqwire.error.<name>")` on its prototype and a static
 * `[Symbol.hasInstance]` that checks it (undici's kUndiciError, installed here once per class
 * instead of written out in each). A subclass declared elsewhere without a brand of its own
 * (rocketmq/dialect.ts's JsonDialectError) inherits the static method; for it, `this` is not
 * `cls` and the ordinary prototype check applies.
 */
function brand(cls: abstract new (...args: never[]) => Error, name: string): void {
  const key = Symbol.for(`mqwire.error.${name}`);
  Object.defineProperty(cls.prototype, key, { value: true });
  Object.defineProperty(cls, Symbol.hasInstance, {
    value(this: unknown, value: unknown): boolean {
      return this === cls ? hasBrand(value, key) : prototypeCheck.call(this, value);
    },
  });
}

/**
 * Every stable error code mqwire raises (README.md, "Errors", says when each is raised).
 * @enum
 */
export const ErrorCodes = {
  TIMEOUT: "MQW_ERR_TIMEOUT",
  CONNECT: "MQW_ERR_CONNECT",
  SEND: "MQW_ERR_SEND",
  TOO_MANY_REQUESTS: "MQW_ERR_TOO_MANY_REQUESTS",
  FRAME_TOO_LARGE: "MQW_ERR_FRAME_TOO_LARGE",
  MALFORMED_FRAME: "MQW_ERR_MALFORMED_FRAME",
  CHANNEL_CLOSED: "MQW_ERR_CHANNEL_CLOSED",
  NEGOTIATION: "MQW_ERR_NEGOTIATION",
  INVALID_ARGUMENT: "MQW_ERR_INVALID_ARGUMENT",
  BROKER: "MQW_ERR_BROKER",
  PROTOCOL: "MQW_ERR_PROTOCOL",
  CLIENT: "MQW_ERR_CLIENT",
  PROCESS_ABORTED: "MQW_ERR_PROCESS_ABORTED",
} as const;
/** One of the stable codes of {@link ErrorCodes}, as `err.code` holds it. */
export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

/** Base class of every error mqwire raises. */
export class MqwireError extends Error {
  /** The stable code to branch on (`MQW_ERR_*`). */
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
  /** The class name, as `err.name` shows it. */
  override get name(): string {
    return this.constructor.name;
  }
}

/** A call's deadline passed (RocketMQ `RemotingTimeoutException`). */
export class TimeoutError extends MqwireError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCodes.TIMEOUT, message, options);
  }
}

/** No usable connection could be made (RocketMQ `RemotingConnectException`). */
export class ConnectError extends MqwireError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCodes.CONNECT, message, options);
  }
}

/** A request could not be written (RocketMQ `RemotingSendRequestException`). */
export class SendError extends MqwireError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCodes.SEND, message, options);
  }
}

/** No in-flight permit was available (RocketMQ `RemotingTooMuchRequestException`). */
export class TooManyRequestsError extends MqwireError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCodes.TOO_MANY_REQUESTS, message, options);
  }
}

/** Why a frame was refused; stable, for tests and logs. */
export type FrameErrorReason =
  | "length-too-small"
  | "length-too-large"
  | "header-length"
  | "serialize-type"
  | "utf8"
  | "json"
  | "json-type"
  | "truncated"
  | "ext-length"
  | "string-length"
  | "field-range"
  | "header-too-large"
  | "ext-fields-count"
  | "frame-deadline";

/** A frame's declared length is above the maximum (Netty `TooLongFrameException`). */
export class FrameTooLargeError extends MqwireError {
  /** Always "length-too-large". */
  readonly reason: FrameErrorReason = "length-too-large";
  /** The frame size as RocketMQ counts it: the length field plus 4. */
  readonly frameBytes: number;
  /** The limit it broke, in bytes (`maxFrameBytes`). */
  readonly maxFrameBytes: number;
  constructor(frameBytes: number, maxFrameBytes: number) {
    super(ErrorCodes.FRAME_TOO_LARGE, `frame of ${frameBytes} bytes exceeds the maximum of ${maxFrameBytes}`);
    this.frameBytes = frameBytes;
    this.maxFrameBytes = maxFrameBytes;
  }
}

/** A frame could not be parsed (Netty `CorruptedFrameException` / `RemotingCommandException`). */
export class MalformedFrameError extends MqwireError {
  /** Which rule the frame broke. */
  readonly reason: FrameErrorReason;
  constructor(reason: FrameErrorReason, message: string, options?: { cause?: unknown }) {
    super(ErrorCodes.MALFORMED_FRAME, message, options);
    this.reason = reason;
  }
}

/** The channel closed before the call ended (failFast on close; RocketMQ `RemotingSendRequestException`). */
export class ChannelClosedError extends MqwireError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCodes.CHANNEL_CLOSED, message, options);
  }
}

/** No codec accepted the first bytes of a connection, or they did not arrive in time. */
export class NegotiationError extends MqwireError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCodes.NEGOTIATION, message, options);
  }
}

/** Why a PROXY protocol header was refused (src/transport/proxy-protocol.ts); stable, for tests and logs. */
export type ProxyProtocolErrorReason =
  | "missing"
  | "truncated"
  | "timeout"
  | "line-too-long"
  | "line-ending"
  | "syntax"
  | "address"
  | "port"
  | "version"
  | "command"
  | "family"
  | "address-length"
  | "tlv"
  | "checksum";

/**
 * A connection's HAProxy PROXY protocol header was missing (mode "required"), malformed,
 * truncated or late. A NegotiationError (`MQW_ERR_NEGOTIATION`): like an unknown protocol, it is
 * refused before any frame; `reason` says which rule the first bytes broke.
 */
export class ProxyProtocolError extends NegotiationError {
  /** Which rule the PROXY header broke. */
  readonly reason: ProxyProtocolErrorReason;
  constructor(reason: ProxyProtocolErrorReason, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.reason = reason;
  }
}

/** An option or argument is invalid; the message names it. */
export class InvalidArgumentError extends MqwireError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCodes.INVALID_ARGUMENT, message, options);
  }
}

/**
 * A RocketMQ server (broker or name server) answered with a response code that means failure
 * (RocketMQ `MQBrokerException`, which the Java client also throws for name-server answers).
 * `responseCode` is RocketMQ's code, `responseCodeName` its `ResponseCode` name when known.
 */
export class BrokerError extends MqwireError {
  /** RocketMQ's response code. */
  readonly responseCode: number;
  /** The response code's `ResponseCode` name, when it has one. */
  readonly responseCodeName: string | undefined;
  /** The server's remark, as sent. */
  readonly remark: string | null;
  /** The address that answered. */
  readonly addr: string | undefined;
  constructor(
    responseCode: number,
    responseCodeName: string | undefined,
    remark: string | null,
    addr: string | undefined,
    options?: { cause?: unknown },
  ) {
    const name = responseCodeName === undefined ? `${responseCode}` : `${responseCodeName} (${responseCode})`;
    const from = addr === undefined ? "" : ` from ${addr}`;
    super(ErrorCodes.BROKER, `${name}${from}${remark ? `: ${remark}` : ""}`, options);
    this.responseCode = responseCode;
    this.responseCodeName = responseCodeName;
    this.remark = remark;
    this.addr = addr;
  }
}

/**
 * A server's answer does not follow RocketMQ's protocol: a header field missing or of the wrong
 * type, a body that does not parse, a stored message whose layout lies (RocketMQ
 * `RemotingCommandException` on decode).
 */
export class ProtocolError extends MqwireError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCodes.PROTOCOL, message, options);
  }
}

/**
 * The client cannot do what was asked with what it knows: no route for a topic, no writable
 * queue, a body over the size limit (RocketMQ `MQClientException`).
 */
export class ClientError extends MqwireError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCodes.CLIENT, message, options);
  }
}

/**
 * Thrown by an RPC hook or a request pipeline to stop processing and answer with `responseCode`
 * and `errorMessage` as the remark (RocketMQ `AbortProcessException`; auth failures use
 * NO_PERMISSION 16). Built from a message alone, the code is -1, as in Java. Its `code` is
 * `MQW_ERR_PROCESS_ABORTED`; `responseCode` is what the server answers with.
 */
export class AbortProcessError extends MqwireError {
  /** The response code the server answers with. */
  readonly responseCode: number;
  /** The remark the server answers with. */
  readonly errorMessage: string;

  constructor(responseCode: number, errorMessage: string, options?: { cause?: unknown });
  constructor(errorMessage: string, options?: { cause?: unknown });
  constructor(
    codeOrMessage: number | string,
    messageOrOptions?: string | { cause?: unknown },
    options?: { cause?: unknown },
  ) {
    const hasCode = typeof codeOrMessage === "number";
    const message = hasCode ? String(messageOrOptions ?? "") : codeOrMessage;
    super(
      ErrorCodes.PROCESS_ABORTED,
      message,
      hasCode ? options : (messageOrOptions as { cause?: unknown } | undefined),
    );
    this.responseCode = hasCode ? codeOrMessage : -1;
    this.errorMessage = message;
  }
}

/** True when `err` is an mqwire error, optionally with the given code. */
export function isMqwireError(err: unknown, code?: ErrorCode): err is MqwireError {
  return err instanceof MqwireError && (code === undefined || err.code === code);
}

// The brands, one per class (see the note at the top of this file).
brand(MqwireError, "MqwireError");
brand(TimeoutError, "TimeoutError");
brand(ConnectError, "ConnectError");
brand(SendError, "SendError");
brand(TooManyRequestsError, "TooManyRequestsError");
brand(FrameTooLargeError, "FrameTooLargeError");
brand(MalformedFrameError, "MalformedFrameError");
brand(ChannelClosedError, "ChannelClosedError");
brand(NegotiationError, "NegotiationError");
brand(ProxyProtocolError, "ProxyProtocolError");
brand(InvalidArgumentError, "InvalidArgumentError");
brand(BrokerError, "BrokerError");
brand(ProtocolError, "ProtocolError");
brand(ClientError, "ClientError");
brand(AbortProcessError, "AbortProcessError");
