/**
 * The public shapes of the remoting API that servers and clients share: channel events, per-call
 * options and RocketMQ's InvokeCallback with the helper that runs it exactly once.
 */
import type { RemotingCommand } from "../codec/remoting-command.js";
import type { Logger } from "../logger.js";
import type { RemotingChannel } from "./channel.js";

/** Channel events (RocketMQ's ChannelEventListener), each with the remote address and the channel. */
export interface RemotingEvents {
  /** Server: a connection was accepted. Client: a connect was issued. */
  connect: [remoteAddress: string, channel: RemotingChannel | undefined];
  /** Client only: the connect succeeded. */
  active: [remoteAddress: string, channel: RemotingChannel];
  /** The channel closed, for any reason. */
  close: [remoteAddress: string, channel: RemotingChannel];
  /** No read and no write for channelMaxIdleMs: the channel was closed. */
  idle: [remoteAddress: string, channel: RemotingChannel];
  /** The channel failed (malformed frame, socket error); it is closed. */
  exception: [remoteAddress: string, channel: RemotingChannel, error: Error];
}

/** Per-call options of every invoke. */
export interface InvokeOptions {
  /** Time-out of the whole call in ms, connect and permit wait included. */
  timeoutMs?: number;
  /** Aborting ends the call with the signal's reason. */
  signal?: AbortSignal;
}

/** RocketMQ's InvokeCallback: exactly one of succeed / fail runs, then complete. */
export interface InvokeCallback {
  operationSucceed?(response: RemotingCommand): void;
  operationFail?(error: Error): void;
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
    if (error === null) callback.operationSucceed?.(response!);
    else callback.operationFail?.(error);
    callback.operationComplete?.(response, error);
  } catch (err) {
    logger.warn(`invoke callback threw: ${String(err)}`);
  }
}
