/**
 * The client's channels, one per address (RocketMQ's channelTables + ChannelWrapper): a connect
 * in progress is a state shared by every caller (single flight: a thousand racing calls open one
 * socket), a closed channel is dropped and reopened on the next call, and failed connects back
 * off exponentially with jitter, capped, so a dead address is not hammered.
 */
import { type Clock, DeadlineTimer, systemClock } from "../clock.js";
import { ConnectError, TimeoutError } from "../errors.js";
import { AfterNextPoll } from "../transport/after-next-poll.js";
import type { RemotingChannel } from "./channel.js";

interface Entry {
  channel: RemotingChannel | undefined;
  connecting: Promise<RemotingChannel> | undefined;
  failures: number;
  /** Epoch ms before which no new connect is tried. */
  retryAt: number;
  lastError: unknown;
  /** Aborts the connect in progress (connect time-out, or clear() at shutdown). */
  abort: AbortController | undefined;
}

/** Back-off of the n-th consecutive failure: base·2^(n-1), capped, ±20% jitter. */
export function backoffMs(failures: number, baseMs: number, maxMs: number, random = Math.random): number {
  const exp = Math.min(maxMs, baseMs * 2 ** Math.min(30, Math.max(0, failures - 1)));
  return Math.round(exp * (0.8 + 0.4 * random()));
}

export class ChannelTable {
  readonly #entries = new Map<string, Entry>();
  readonly #open: (addr: string, signal: AbortSignal) => Promise<RemotingChannel>;
  readonly #baseMs: number;
  readonly #maxMs: number;
  readonly #connectTimeoutMs: number;
  readonly #clock: Clock;

  /**
   * `connectTimeoutMs` bounds every open(), whatever the Connector does (RocketMQ's
   * connectTimeoutMillis); back-off and deadlines are times of `clock`.
   */
  constructor(
    open: (addr: string, signal: AbortSignal) => Promise<RemotingChannel>,
    reconnectBaseMs: number,
    reconnectMaxMs: number,
    connectTimeoutMs = Number.POSITIVE_INFINITY,
    clock: Clock = systemClock,
  ) {
    this.#clock = clock;
    this.#open = open;
    this.#baseMs = reconnectBaseMs;
    this.#maxMs = reconnectMaxMs;
    this.#connectTimeoutMs = connectTimeoutMs;
  }

  /** The active channel of `addr`, without connecting. */
  peek(addr: string): RemotingChannel | undefined {
    const channel = this.#entries.get(addr)?.channel;
    return channel?.isActive ? channel : undefined;
  }

  /** Addresses with an entry. */
  addresses(): string[] {
    return [...this.#entries.keys()];
  }

  /**
   * The channel of `addr`, connecting when needed. Rejects with ConnectError when the connect
   * fails or the address is backing off, with TimeoutError when `deadlineAt` passes first.
   */
  get(addr: string, deadlineAt: number, signal?: AbortSignal): Promise<RemotingChannel> {
    let entry = this.#entries.get(addr);
    if (entry?.channel?.isActive) return Promise.resolve(entry.channel);
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (entry === undefined) {
      entry = {
        channel: undefined,
        connecting: undefined,
        failures: 0,
        retryAt: 0,
        lastError: undefined,
        abort: undefined,
      };
      this.#entries.set(addr, entry);
    }
    if (entry.connecting === undefined) {
      const now = this.#clock.now();
      if (now < entry.retryAt) {
        return Promise.reject(
          new ConnectError(`connect to ${addr} failed; retrying in ${entry.retryAt - now} ms`, {
            cause: entry.lastError,
          }),
        );
      }
      entry.connecting = this.#connect(addr, entry);
    }
    return withDeadline(entry.connecting, deadlineAt, addr, signal, this.#clock);
  }

  async #connect(addr: string, entry: Entry): Promise<RemotingChannel> {
    // A Connector that never settles must not pin the address for ever: bound it here.
    const abort = new AbortController();
    entry.abort = abort;
    const clock = this.#clock;
    // After one more poll: a connect done during a stall of the loop is not failed (after-next-poll.ts).
    const late = new AfterNextPoll(() =>
      abort.abort(new TimeoutError(`connect to ${addr} timed out after ${this.#connectTimeoutMs} ms`)),
    );
    const timer = new DeadlineTimer(clock.now() + this.#connectTimeoutMs, late.fire, clock);
    try {
      const channel = await untilAborted(this.#open(addr, abort.signal), abort.signal);
      entry.channel = channel;
      entry.failures = 0;
      entry.retryAt = 0;
      return channel;
    } catch (err) {
      entry.failures++;
      entry.lastError = err;
      entry.retryAt = this.#clock.now() + backoffMs(entry.failures, this.#baseMs, this.#maxMs);
      throw err instanceof ConnectError ? err : new ConnectError(`connect to ${addr} failed`, { cause: err });
    } finally {
      timer.cancel();
      late.cancel();
      entry.connecting = undefined;
      entry.abort = undefined;
    }
  }

  /**
   * Counts a failure of `addr` that came after its connect succeeded (a name server that accepted
   * and never answered) as a failed connect: the same back-off, so that until it passes no call
   * or scan connects to `addr` again. The caller closes the channel; the next connect, once the
   * back-off passed, resets the count as any successful connect does.
   */
  backOff(addr: string, cause: unknown): void {
    const entry = this.#entries.get(addr);
    if (entry === undefined) return;
    entry.failures++;
    entry.lastError = cause;
    entry.retryAt = this.#clock.now() + backoffMs(entry.failures, this.#baseMs, this.#maxMs);
  }

  /**
   * Forgets `channel` if it is still the one of its address (RocketMQ's intended closeChannel:
   * never drop a freshly re-created connection). Back-off state is kept.
   */
  remove(addr: string, channel: RemotingChannel): void {
    const entry = this.#entries.get(addr);
    if (entry?.channel === channel) {
      entry.channel = undefined;
      if (entry.connecting === undefined && entry.failures === 0) this.#entries.delete(addr);
    }
  }

  /** Closes the channel of `addr` (its pending calls fail at once). */
  close(addr: string): void {
    this.#entries.get(addr)?.channel?.close();
  }

  /** Every active channel. */
  channels(): RemotingChannel[] {
    const out: RemotingChannel[] = [];
    for (const e of this.#entries.values()) if (e.channel?.isActive) out.push(e.channel);
    return out;
  }

  /** Forgets every address and abandons the connects in progress (shutdown). */
  clear(): void {
    for (const e of this.#entries.values()) e.abort?.abort(new ConnectError("the client shut down"));
    this.#entries.clear();
  }
}

/** Settles with `open`, or rejects with the signal's reason once it aborts (a late channel is closed). */
function untilAborted(open: Promise<RemotingChannel>, signal: AbortSignal): Promise<RemotingChannel> {
  return new Promise<RemotingChannel>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    open.then(
      (channel) => {
        signal.removeEventListener("abort", onAbort);
        if (signal.aborted) channel.close(0);
        else resolve(channel);
      },
      (err) => {
        signal.removeEventListener("abort", onAbort);
        reject(err);
      },
    );
  });
}

/**
 * Waits for `promise` until `deadlineAt` (TimeoutError; Infinity: no deadline) or until `signal`
 * aborts (its reason); the connect itself goes on for other callers. The deadline is a
 * {@link DeadlineTimer} of `clock`: a raw setTimeout of a time-out past 2^31-1 ms fired after 1 ms.
 */
export function withDeadline<T>(
  promise: Promise<T>,
  deadlineAt: number,
  addr: string,
  signal: AbortSignal | undefined,
  clock: Clock,
): Promise<T> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  const now = clock.now();
  if (deadlineAt <= now)
    return Promise.reject(new TimeoutError(`connect to ${addr} used up the call's time-out`));
  return new Promise<T>((resolve, reject) => {
    const settle = (): void => {
      timer.cancel();
      signal?.removeEventListener("abort", onAbort);
    };
    const onAbort = (): void => {
      settle();
      reject(signal?.reason);
    };
    const timer = new DeadlineTimer(
      deadlineAt,
      () => {
        settle();
        reject(new TimeoutError(`connect to ${addr} did not finish within the call's time-out`));
      },
      clock,
      now,
    );
    signal?.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        settle();
        resolve(value);
      },
      (err) => {
        settle();
        reject(err);
      },
    );
  });
}
