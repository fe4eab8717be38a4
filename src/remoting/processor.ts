/**
 * Request processors (RocketMQ's NettyRequestProcessor) and how they are registered: per request
 * code, each with its own concurrency limit and queue (RocketMQ pairs each processor with its own
 * executor), plus a default processor for codes nobody registered.
 */
import type { RemotingCommand } from "../codec/remoting-command.js";
import type { RemotingChannel } from "./channel.js";

/**
 * What a processor returns: a response to send now, or nothing (`null`/`undefined`) to answer
 * later through `channel.respond(request, response)` (RocketMQ 5.x long polling) or not at all.
 * Returning nothing to a request that expects a response marks it `suspended`: its reply is
 * counted as long polling (`is_long_polling` in the metrics).
 */
export type ProcessorResult = RemotingCommand | null | undefined;

/** Handles requests of one or more codes. */
export interface RequestProcessor {
  /**
   * Processes one request. `channel` is where it came from: keep it with the request to answer
   * later, or push requests back to the peer (`server.invoke(channel, ...)`). May return a Promise.
   */
  processRequest(
    request: RemotingCommand,
    channel: RemotingChannel,
  ): ProcessorResult | Promise<ProcessorResult>;
  /** True to refuse work for now: the peer gets SYSTEM_BUSY "[REJECTREQUEST]". */
  rejectRequest?(): boolean;
  /** Releases what the processor holds (worker threads); called once by the server's or client's shutdown. */
  close?(): Promise<void> | void;
}

/** A processor written as a plain function. */
export type ProcessorFunction = RequestProcessor["processRequest"];

/** Per-processor limits. */
export interface ProcessorOptions {
  /**
   * Requests processed at once (a Promise-returning processor holds its slot until it settles).
   * Default 64 (see DEFAULT_PROCESSOR_CONCURRENCY for why).
   */
  concurrency?: number;
  /** Requests waiting for a slot before SYSTEM_BUSY "[OVERLOAD]". Default 10000. */
  maxQueue?: number;
}

/** Normalises a function or object into a RequestProcessor. */
export function toProcessor(p: RequestProcessor | ProcessorFunction): RequestProcessor {
  return typeof p === "function" ? { processRequest: p } : p;
}
