/**
 * Request dispatch, RocketMQ's `NettyRemotingAbstract.processRequestCommand` in event-loop terms:
 * code → processor (or the default one) → GO_AWAY or refusal while shutting down → rejectRequest
 * → a concurrency slot or the processor's bounded queue → before-hooks → request pipeline →
 * processor → after-hooks → reply. Errors become the replies RocketMQ sends (§4, §5 of the reference):
 * REQUEST_CODE_NOT_SUPPORTED, SYSTEM_BUSY, SYSTEM_ERROR, or an AbortProcessError's own code.
 *
 * Hot path: with no hooks, no pipeline and a synchronous processor, a request costs no Promise
 * and no closure; anything asynchronous falls back to one `async` function per request.
 *
 * Error convention: dispatch never throws. Whatever a processor, hook or pipeline throws or
 * rejects with (or a hook runner returns) ends in {@link Dispatcher}'s one catch, `#fail`, which
 * turns it into the reply RocketMQ would send.
 */
import { GO_AWAY_MIN_VERSION, RemotingCommand, ResponseCode } from "../codec/remoting-command.js";
import { AbortProcessError, InvalidArgumentError } from "../errors.js";
import { ConcurrencyLimiter } from "../limiter.js";
import type { Logger } from "../logger.js";
import type { RemotingChannel } from "./channel.js";
import { isPromiseLike, type RequestPipeline, type RpcHook, runAfterHooks, runBeforeHooks } from "./hooks.js";
import {
  type ProcessorFunction,
  type ProcessorOptions,
  type ProcessorResult,
  type RequestProcessor,
  toProcessor,
} from "./processor.js";

const REJECT_REMARK = "[REJECTREQUEST]system busy, start flow control for a while";
const OVERLOAD_REMARK = "[OVERLOAD]system busy, start flow control for a while";

/** One registered processor with its own slots and queue (RocketMQ: its own executor). */
interface Registration {
  readonly processor: RequestProcessor;
  /** Runs `#process(this registration, channel, request)` for each `tryRunWith(channel, request)`. */
  readonly limiter: ConcurrencyLimiter<RemotingChannel, RemotingCommand>;
}

/** `UtilAll.exceptionSimpleDesc`: "Name: message, first stack frame". */
export function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const frame = err.stack
    ?.split("\n")
    .find((line) => line.trimStart().startsWith("at "))
    ?.trim();
  return frame ? `${err.name}: ${err.message}, ${frame}` : `${err.name}: ${err.message}`;
}

/** Routes requests to processors and writes their replies. */
export class Dispatcher {
  readonly #processors = new Map<number, Registration>();
  #default: Registration | undefined;
  #hooks: RpcHook[] = [];
  #pipeline: RequestPipeline | undefined;
  #inProcess = 0;
  #idleWaiters: (() => void)[] = [];
  readonly #logger: Logger;
  /** Set by {@link beginShutdown}: takes the requests of peers too old for GO_AWAY. */
  #refuse: ((channel: RemotingChannel) => void) | undefined;

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  register(code: number, processor: RequestProcessor | ProcessorFunction, options?: ProcessorOptions): void {
    if (!Number.isInteger(code))
      throw new InvalidArgumentError(`request code must be an integer, got ${code}`);
    this.#processors.set(code, this.#registration(processor, options));
  }

  registerDefault(processor: RequestProcessor | ProcessorFunction, options?: ProcessorOptions): void {
    this.#default = this.#registration(processor, options);
  }

  #registration(processor: RequestProcessor | ProcessorFunction, options?: ProcessorOptions): Registration {
    const logger = this.#logger;
    const reg: Registration = {
      processor: toProcessor(processor),
      // One runner per registration: a request enters the limiter as (channel, request), with
      // no closure per request (see ConcurrencyLimiter.tryRunWith).
      limiter: new ConcurrencyLimiter({
        // The limiter applies the defaults (DEFAULT_PROCESSOR_*) and validates.
        concurrency: options?.concurrency,
        maxQueue: options?.maxQueue,
        onError: (err) => logger.error(`processor task failed: ${String(err)}`),
        runner: (channel: RemotingChannel, request: RemotingCommand) => this.#process(reg, channel, request),
      }),
    };
    return reg;
  }

  registerRpcHook(hook: RpcHook): void {
    if (!this.#hooks.includes(hook)) this.#hooks = [...this.#hooks, hook];
  }
  clearRpcHooks(): void {
    this.#hooks = [];
  }
  get rpcHooks(): readonly RpcHook[] {
    return this.#hooks;
  }
  setRequestPipeline(pipeline: RequestPipeline | undefined): void {
    this.#pipeline = pipeline;
  }

  /** Closes every registered processor that has a `close` (each once). */
  async closeProcessors(): Promise<void> {
    const all = new Set(
      [...this.#processors.values(), ...(this.#default ? [this.#default] : [])].map((r) => r.processor),
    );
    await Promise.allSettled([...all].map((p) => p.close?.()));
  }

  /**
   * Graceful shutdown from now on: no new request is taken. A peer newer than V5_3_1 gets GO_AWAY
   * (RocketMQ 5.x, reference §5 step 2) and retries elsewhere. An older one cannot read GO_AWAY:
   * RocketMQ serves it until its wait ends and then drops what is in process; here its request is
   * dropped unprocessed and `refuse(channel)` runs, for the server to close that channel once what
   * it took on it is answered (the close fails the dropped calls on the client, typed).
   */
  beginShutdown(refuse: (channel: RemotingChannel) => void): void {
    this.#refuse = refuse;
  }
  /** True once {@link beginShutdown} was called. */
  get shuttingDown(): boolean {
    return this.#refuse !== undefined;
  }

  /** Requests taken and not yet finished (running or queued). */
  get inProcess(): number {
    return this.#inProcess;
  }

  /** Resolves when no request is in process (graceful shutdown). */
  whenIdle(): Promise<void> {
    if (this.#inProcess === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Takes one request from `channel`. Never throws. */
  dispatch(channel: RemotingChannel, request: RemotingCommand): void {
    if (request.version >= GO_AWAY_MIN_VERSION) channel.peerUnderstandsGoAway = true;
    const reg = this.#processors.get(request.code) ?? this.#default;
    if (reg === undefined) {
      this.#reply(
        channel,
        request,
        ResponseCode.REQUEST_CODE_NOT_SUPPORTED,
        ` request type ${request.code} not supported`,
      );
      this.#logger.warn(`${channel.remoteAddress}: request type ${request.code} not supported`);
      return;
    }
    if (this.#refuse !== undefined) {
      if (request.version >= GO_AWAY_MIN_VERSION)
        this.#reply(channel, request, ResponseCode.GO_AWAY, "please go away");
      else this.#refuse(channel);
      return;
    }
    try {
      if (reg.processor.rejectRequest?.()) {
        this.#reply(channel, request, ResponseCode.SYSTEM_BUSY, REJECT_REMARK);
        return;
      }
    } catch (err) {
      this.#reply(channel, request, ResponseCode.SYSTEM_ERROR, describeError(err));
      return;
    }
    this.#inProcess++;
    channel.requestStarted();
    const taken = reg.limiter.tryRunWith(channel, request);
    if (!taken) {
      this.#finished(channel);
      this.#reply(channel, request, ResponseCode.SYSTEM_BUSY, OVERLOAD_REMARK);
    }
  }

  #finished(channel: RemotingChannel): void {
    this.#inProcess--;
    channel.requestFinished();
    if (this.#inProcess === 0 && this.#idleWaiters.length > 0) {
      for (const wake of this.#idleWaiters.splice(0)) wake();
    }
  }

  /**
   * Processes one request in a limiter slot. The fast path (no hooks, no pipeline, a synchronous
   * processor) returns undefined and allocates no Promise; otherwise the returned Promise holds
   * the slot until the reply is written.
   */
  #process(reg: Registration, channel: RemotingChannel, request: RemotingCommand): Promise<void> | undefined {
    if (this.#hooks.length !== 0 || this.#pipeline !== undefined)
      return this.#runWithHooks(reg, channel, request);
    let result: ProcessorResult | Promise<ProcessorResult>;
    try {
      result = reg.processor.processRequest(request, channel);
    } catch (err) {
      this.#fail(channel, request, err);
      this.#finished(channel);
      return undefined;
    }
    if (isPromiseLike(result)) return this.#settle(channel, request, result);
    channel.respond(request, result);
    this.#finished(channel);
    return undefined;
  }

  async #settle(
    channel: RemotingChannel,
    request: RemotingCommand,
    pending: Promise<ProcessorResult>,
  ): Promise<void> {
    try {
      channel.respond(request, await pending);
    } catch (err) {
      this.#fail(channel, request, err);
    }
    this.#finished(channel);
  }

  /** RocketMQ's order: before-hooks → pipeline → processor → after-hooks → reply (§5 step 5). */
  async #runWithHooks(reg: Registration, channel: RemotingChannel, request: RemotingCommand): Promise<void> {
    const addr = channel.remoteAddress;
    const hooks = this.#hooks;
    try {
      // A failing before-hook skips the processor; the error becomes the SYSTEM_ERROR remark
      // after the after-hooks ran (an after-hook's error replaces it, as Java's variable does).
      let hookError = await runBeforeHooks(hooks, addr, request, channel);
      // Java rethrows an AbortProcessException at once: no pipeline, processor or after-hooks.
      if (hookError instanceof AbortProcessError) throw hookError;
      if (this.#pipeline) {
        await this.#pipeline.execute(
          { channel, remoteAddress: addr, localAddress: channel.localAddress },
          request,
        );
      }
      const response =
        hookError === undefined
          ? await reg.processor.processRequest(request, channel)
          : RemotingCommand.createResponse(ResponseCode.SYSTEM_ERROR);
      hookError = (await runAfterHooks(hooks, addr, request, response ?? null, channel)) ?? hookError;
      if (hookError !== undefined) throw hookError;
      channel.respond(request, response);
    } catch (err) {
      this.#fail(channel, request, err);
    }
    this.#finished(channel);
  }

  /** A processor, hook or pipeline failed: AbortProcessError's code, else SYSTEM_ERROR. */
  #fail(channel: RemotingChannel, request: RemotingCommand, err: unknown): void {
    if (err instanceof AbortProcessError) {
      this.#reply(channel, request, err.responseCode, err.errorMessage);
      return;
    }
    this.#logger.warn(
      `${channel.remoteAddress}: processing request code ${request.code} failed: ${describeError(err)}`,
    );
    this.#reply(channel, request, ResponseCode.SYSTEM_ERROR, describeError(err));
  }

  #reply(channel: RemotingChannel, request: RemotingCommand, code: number, remark: string | null): void {
    // respond() drops replies to oneway requests, as RocketMQ 5.x does on every error path.
    channel.respond(request, RemotingCommand.createResponse(code, remark));
  }
}
