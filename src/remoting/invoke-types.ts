/**
 * The public shapes of the remoting API that servers and clients share: channel events, per-call
 * options with the one check of every call's `timeoutMs`, and RocketMQ's InvokeCallback with the
 * helper that runs it exactly once.
 */
import type { RemotingCommand } from "../codec/remoting-command.js";
import { InvalidArgumentError } from "../errors.js";
import type { Logger } from "../logger.js";
import type { IdleKind } from "../transport/transport.js";
import type { RemotingChannel } from "./channel.js";

/** Channel events (RocketMQ's ChannelEventListener), each with the remote address and the channel. */
export interface RemotingEvents {
  /** Server: a connection was accepted. Client: a connect was issued. */
  connect: [remoteAddress: string, channel: RemotingChannel | undefined];
  /** Client only: the connect succeeded. */
  active: [remoteAddress: string, channel: RemotingChannel];
  /** The channel closed, for any reason. */
  close: [remoteAddress: string, channel: RemotingChannel];
  /**
   * The channel was closed by an idle rule: `kind` "all", no read and no write for
   * channelMaxIdleMs (either side); "reader", a client's, nothing read for channelMaxIdleMs while
   * calls awaited a response (a dead peer; its calls failed with MQW_ERR_CHANNEL_CLOSED).
   */
  idle: [remoteAddress: string, channel: RemotingChannel, kind: IdleKind];
  /** The channel failed (malformed frame, socket error); it is closed. */
  exception: [remoteAddress: string, channel: RemotingChannel, error: Error];
}

/** Per-call options of every invoke. */
export interface InvokeOptions {
  /**
   * Time-out of the whole call in ms, connect and permit wait included; a number >= 0.
   * `Infinity` means no deadline: the call ends with its response, its signal or its channel's
   * close (a connect is still bounded by the client's connectTimeoutMs). Default: the client's
   * defaultTimeoutMs, 3000 for a server's push.
   */
  timeoutMs?: number;
  /** Aborting ends the call with the signal's reason. */
  signal?: AbortSignal;
}

/**
 * The check of every public call's `timeoutMs` (client calls and server pushes alike): a number
 * >= 0, Infinity included ({@link InvokeOptions.timeoutMs}); undefined gives `fallback`. The
 * error is returned, not thrown, so that each call rejects or runs its callback with it.
 */
export function checkTimeoutMs(
  timeoutMs: number | undefined,
  fallback: number,
): number | InvalidArgumentError {
  const t = timeoutMs ?? fallback;
  return typeof t === "number" && t >= 0
    ? t
    : new InvalidArgumentError(`timeoutMs must be a number >= 0 or Infinity, got ${String(t)}`);
}

/** RocketMQ's InvokeCallback: exactly one of succeed / fail runs, then complete. */
export interface InvokeCallback {
  /** Called with the response when the call succeeds. */
  operationSucceed?(response: RemotingCommand): void;
  /** Called with the error (an `MqwireError`) when the call fails. */
  operationFail?(error: Error): void;
  /** Called last in either case, with the response or the error. */
  operationComplete?(response: RemotingCommand | null, error: Error | null): void;
}

/** Runs an InvokeCallback for a settled call; a throwing callback is logged, never rethrown. */
export function runCallback(
  callback: InvokeCallback,
  response: RemotingCommand | null,
  error: Error | null,
  logger: Logger,
): void {
  try {
    if (error !== null) callback.operationFail?.(error);
    else if (response !== null) callback.operationSucceed?.(response);
    callback.operationComplete?.(response, error);
  } catch (err) {
    logger.warn(`invoke callback threw: ${String(err)}`);
  }
}
