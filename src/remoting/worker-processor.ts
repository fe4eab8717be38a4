/**
 * Processors that run in a pool of worker threads (piscina), for CPU-heavy work. Qpid's rule is
 * that the engine never blocks the driver; in Node the event loop IS the driver, so a processor
 * that computes for 200 ms would stall every connection. With a WorkerPoolProcessor the event
 * loop only ships the command to a worker and back.
 *
 * The worker module's default export is made with `defineWorkerProcessor(fn)`; commands cross
 * the thread boundary as plain objects (structured clone: the body is copied once each way).
 */
import { Piscina } from "piscina";
import { type LanguageCode, RemotingCommand, type SerializeType } from "../codec/remoting-command.js";
import { InvalidArgumentError } from "../errors.js";
import type { ProcessorResult, RequestProcessor } from "./processor.js";

/** A command as it crosses to and from a worker. */
export interface WireCommand {
  /** The request or response code. */
  code: number;
  /** The sender's language. */
  language: LanguageCode;
  /** The sender's protocol version. */
  version: number;
  /** Matches the response to its request. */
  opaque: number;
  /** Flag bits (response, oneway). */
  flag: number;
  /** Free text, or null. */
  remark: string | null;
  /** The extFields as entries, in order. */
  extFields: [string, string][] | null;
  /** The payload (copied across threads), or null. */
  body: Uint8Array | null;
  /** How the header is serialized. */
  serializeType: SerializeType;
}

export function toWire(c: RemotingCommand): WireCommand {
  return {
    code: c.code,
    language: c.language,
    version: c.version,
    opaque: c.opaque,
    flag: c.flag,
    remark: c.remark,
    extFields: c.extFields === null ? null : [...c.extFields],
    body: c.body,
    serializeType: c.serializeType,
  };
}

export function fromWire(w: WireCommand): RemotingCommand {
  return new RemotingCommand({
    code: w.code,
    language: w.language,
    version: w.version,
    opaque: w.opaque,
    flag: w.flag,
    remark: w.remark,
    extFields: w.extFields === null ? null : new Map(w.extFields),
    body: w.body,
    serializeType: w.serializeType,
  });
}

/**
 * Wraps a processor function as a worker module's default export:
 * `export default defineWorkerProcessor((request) => RemotingCommand.createResponse(0, "ok"))`.
 */
export function defineWorkerProcessor(
  fn: (request: RemotingCommand) => ProcessorResult | Promise<ProcessorResult>,
): (wire: WireCommand) => Promise<WireCommand | null> {
  return async (wire) => {
    const response = await fn(fromWire(wire));
    return response == null ? null : toWire(response);
  };
}

/** Options of a worker pool. */
export interface WorkerPoolOptions {
  /** Absolute path or file: URL of the worker module (its default export from defineWorkerProcessor). */
  filename: string | URL;
  /** Most worker threads. Default: available parallelism. */
  maxThreads?: number;
  /** Threads kept alive when idle. Default 1. */
  minThreads?: number;
}

/** A RequestProcessor whose work runs in worker threads. Close it (or shut the server down). */
export class WorkerPoolProcessor implements RequestProcessor {
  readonly #pool: Piscina;

  constructor(options: WorkerPoolOptions) {
    const filename = options.filename instanceof URL ? options.filename.href : options.filename;
    if (typeof filename !== "string" || filename === "") {
      throw new InvalidArgumentError("option filename must name the worker module");
    }
    this.#pool = new Piscina({
      filename,
      ...(options.maxThreads !== undefined ? { maxThreads: options.maxThreads } : {}),
      minThreads: options.minThreads ?? 1,
    });
  }

  /** Threads running now. */
  get threads(): number {
    return this.#pool.threads.length;
  }

  async processRequest(request: RemotingCommand): Promise<ProcessorResult> {
    const out = (await this.#pool.run(toWire(request))) as WireCommand | null;
    return out === null ? null : fromWire(out);
  }

  /** Stops the worker threads. */
  async close(): Promise<void> {
    await this.#pool.destroy();
  }
}
