/**
 * RPC hooks and the request pipeline (RocketMQ `RPCHook`, `pipeline/RequestPipeline`,
 * `common/AbortProcessException`) and the exception policy of `doBeforeRpcHooks` /
 * `doAfterRpcHooks` in remoting/netty/NettyRemotingAbstract.java (reference §5, §5.1).
 * Hooks and pipelines may be synchronous or return a promise; the runners allocate no promise
 * unless one of them does.
 *
 * Error convention: the hook runners never throw and never reject. A hook's failure, an
 * AbortProcessError included, is the runner's result ({@link HookOutcome}); the caller decides
 * what it means (the dispatcher: the abort's own reply, or SYSTEM_ERROR after the after-hooks;
 * a client call: it rejects with it).
 */
import type { RemotingCommand } from "../codec/remoting-command.js";
import { AbortProcessError } from "../errors.js";
import type { RemotingChannel } from "./channel.js";

/**
 * Runs around every request (RocketMQ `RPCHook`). On a server: before the processor and after
 * it, with its response (null when the processor defers its answer). On a client: before the
 * write, and after a response arrives (never on failure). A hook may mutate the command (signing)
 * and may throw {@link AbortProcessError} to answer with its own code.
 */
export interface RpcHook {
  /**
   * Runs before the request is processed (server) or written (client). `channel` is the
   * connection it came or goes on: who is calling (`peerCertificate`, `proxiedBy`); RocketMQ's
   * RPCHook has only the address, so Java-shaped hooks may ignore it.
   */
  doBeforeRequest(
    remoteAddr: string,
    request: RemotingCommand,
    channel?: RemotingChannel,
  ): void | Promise<void>;
  /** Runs after the response is made (server) or has arrived (client); `channel` as above. */
  doAfterResponse(
    remoteAddr: string,
    request: RemotingCommand,
    response: RemotingCommand | null,
    channel?: RemotingChannel,
  ): void | Promise<void>;
}

/** What a pipeline sees of the connection (Java passes Netty's `ChannelHandlerContext`). */
export interface RequestContext {
  /** The peer's address ("host:port"). */
  readonly remoteAddress: string;
  /** This side's address ("host:port"). */
  readonly localAddress: string;
  /** The channel the request arrived on, when the remoting layer provides it. */
  readonly channel?: RemotingChannel;
}

/**
 * A server-side stage between the before-hooks and the processor (RocketMQ 5.3 `RequestPipeline`,
 * used by the broker for authentication and authorization). Throwing or rejecting ends the
 * request: {@link AbortProcessError} with its code, anything else as SYSTEM_ERROR.
 */
export interface RequestPipeline {
  /** Runs for each request; throw (or reject) to refuse it. */
  execute(ctx: RequestContext, request: RemotingCommand): void | Promise<void>;
}

/** True when `value` has a callable `then` (a promise or any thenable). */
export function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return value != null && typeof (value as PromiseLike<unknown>).then === "function";
}

/** Combinators for {@link RequestPipeline}, under the interface's name. */
export const RequestPipeline = {
  /**
   * Java's `target.pipe(source)`: a pipeline that runs `source` first, then `target`, so the last
   * one piped runs first (`noop.pipe(authz).pipe(authn)` authenticates, then authorizes).
   */
  pipe(target: RequestPipeline, source: RequestPipeline): RequestPipeline {
    return {
      execute(ctx, request) {
        const first = source.execute(ctx, request);
        if (isPromiseLike(first)) return Promise.resolve(first).then(() => target.execute(ctx, request));
        return target.execute(ctx, request);
      },
    };
  },
  /** Runs `stages` in the order given (left to right); with none, a no-op. */
  sequence(...stages: RequestPipeline[]): RequestPipeline {
    let result: RequestPipeline = RequestPipeline.noop;
    for (const stage of stages) result = RequestPipeline.pipe(stage, result);
    return result;
  },
  /** Does nothing (the broker's starting point for `pipe`). */
  noop: { execute() {} } as RequestPipeline,
};

/**
 * Result of {@link runBeforeHooks} / {@link runAfterHooks}: `undefined` when every hook ran
 * cleanly; the Error of the hook that failed (an AbortProcessError as it was thrown); a promise
 * of either, never rejected, when a hook went async.
 */
export type HookOutcome = undefined | Error | Promise<Error | undefined>;

/**
 * Runs every `doBeforeRequest` in registration order with RocketMQ's policy (§5 step 5.1): the
 * first hook that throws stops the loop (Java's loop has no per-hook catch), and its error is
 * returned (non-Error values wrapped). The caller answers an {@link AbortProcessError} with its
 * own code at once (Java rethrows it); for any other failure it skips the processor, runs the
 * after-hooks with a SYSTEM_ERROR response, and reports the error as the remark.
 */
export function runBeforeHooks(
  hooks: readonly RpcHook[],
  remoteAddr: string,
  request: RemotingCommand,
  channel?: RemotingChannel,
): HookOutcome {
  return hooks.length === 0 ? undefined : runHooks(hooks, 0, false, remoteAddr, request, null, channel);
}

/**
 * Runs every `doAfterResponse` in registration order with the same policy as
 * {@link runBeforeHooks}. A returned error replaces one remembered from the before-hooks (Java
 * assigns the same variable).
 */
export function runAfterHooks(
  hooks: readonly RpcHook[],
  remoteAddr: string,
  request: RemotingCommand,
  response: RemotingCommand | null,
  channel?: RemotingChannel,
): HookOutcome {
  return hooks.length === 0 ? undefined : runHooks(hooks, 0, true, remoteAddr, request, response, channel);
}

function runHooks(
  hooks: readonly RpcHook[],
  from: number,
  after: boolean,
  remoteAddr: string,
  request: RemotingCommand,
  response: RemotingCommand | null,
  channel: RemotingChannel | undefined,
): HookOutcome {
  for (let i = from; i < hooks.length; i++) {
    let result: unknown;
    try {
      const hook = hooks[i];
      if (hook === undefined) continue; // never: i < hooks.length
      result = after
        ? hook.doAfterResponse(remoteAddr, request, response, channel)
        : hook.doBeforeRequest(remoteAddr, request, channel);
    } catch (err) {
      return remember(err);
    }
    if (isPromiseLike(result))
      return continueHooks(result, hooks, i + 1, after, remoteAddr, request, response, channel);
  }
  return undefined;
}

async function continueHooks(
  pending: PromiseLike<unknown>,
  hooks: readonly RpcHook[],
  next: number,
  after: boolean,
  remoteAddr: string,
  request: RemotingCommand,
  response: RemotingCommand | null,
  channel: RemotingChannel | undefined,
): Promise<Error | undefined> {
  try {
    await pending;
  } catch (err) {
    return remember(err);
  }
  return runHooks(hooks, next, after, remoteAddr, request, response, channel);
}

/**
 * Java's `catch (AbortProcessException e) { throw e; } catch (Exception e) { exception = e; }`,
 * as a value: the caller tells the two apart (instanceof AbortProcessError).
 */
function remember(err: unknown): Error {
  if (err instanceof Error || err instanceof AbortProcessError) return err;
  return new Error(String(err), { cause: err });
}
