/**
 * The client's channels, one per address (RocketMQ's channelTables + ChannelWrapper): a connect
 * in progress is a state shared by every caller (single flight: a thousand racing calls open one
 * socket), a closed channel is dropped and reopened on the next call, and failed connects back
 * off exponentially with jitter, capped, so a dead address is not hammered.
 */
import { ConnectError, TimeoutError } from "../errors.js";
import type { RemotingChannel } from "./channel.js";

interface Entry {
  channel: RemotingChannel | undefined;
  connecting: Promise<RemotingChannel> | undefined;
  failures: number;
  /** Epoch ms before which no new connect is tried. */
  retryAt: number;
  lastError: unknown;
}

/** Back-off of the n-th consecutive failure: base·2^(n-1), capped, ±20% jitter. */
export function backoffMs(failures: number, baseMs: number, maxMs: number, random = Math.random): number {
  const exp = Math.min(maxMs, baseMs * 2 ** Math.min(30, Math.max(0, failures - 1)));
  return Math.round(exp * (0.8 + 0.4 * random()));
}

export class ChannelTable {
  readonly #entries = new Map<string, Entry>();
  readonly #open: (addr: string) => Promise<RemotingChannel>;
  readonly #baseMs: number;
  readonly #maxMs: number;

  constructor(
    open: (addr: string) => Promise<RemotingChannel>,
    reconnectBaseMs: number,
    reconnectMaxMs: number,
  ) {
    this.#open = open;
    this.#baseMs = reconnectBaseMs;
    this.#maxMs = reconnectMaxMs;
  }

  /** The active channel of `addr`, without connecting. */
  peek(addr: string): RemotingChannel | undefined {
    const channel = this.#entries.get(addr)?.channel;
    return channel?.isActive ? channel : undefined;
  }

  /** True while a connect to `addr` is in progress. */
  isConnecting(addr: string): boolean {
    return this.#entries.get(addr)?.connecting !== undefined;
  }

  /** Addresses with an entry. */
  addresses(): string[] {
    return [...this.#entries.keys()];
  }

  /**
   * The channel of `addr`, connecting when needed. Rejects with ConnectError when the connect
   * fails or the address is backing off, with TimeoutError when `deadlineAt` passes first.
   */
  get(addr: string, deadlineAt: number): Promise<RemotingChannel> {
    let entry = this.#entries.get(addr);
    if (entry?.channel?.isActive) return Promise.resolve(entry.channel);
    if (entry === undefined) {
      entry = { channel: undefined, connecting: undefined, failures: 0, retryAt: 0, lastError: undefined };
      this.#entries.set(addr, entry);
    }
    if (entry.connecting === undefined) {
      const now = Date.now();
      if (now < entry.retryAt) {
        return Promise.reject(
          new ConnectError(`connect to ${addr} failed; retrying in ${entry.retryAt - now} ms`, {
            cause: entry.lastError,
          }),
        );
      }
      entry.connecting = this.#connect(addr, entry);
    }
    return withDeadline(entry.connecting, deadlineAt, addr);
  }

  async #connect(addr: string, entry: Entry): Promise<RemotingChannel> {
    try {
      const channel = await this.#open(addr);
      entry.channel = channel;
      entry.failures = 0;
      entry.retryAt = 0;
      return channel;
    } catch (err) {
      entry.failures++;
      entry.lastError = err;
      entry.retryAt = Date.now() + backoffMs(entry.failures, this.#baseMs, this.#maxMs);
      throw err instanceof ConnectError ? err : new ConnectError(`connect to ${addr} failed`, { cause: err });
    } finally {
      entry.connecting = undefined;
    }
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

  clear(): void {
    this.#entries.clear();
  }
}

/** Waits for `promise` until `deadlineAt`; the connect itself goes on for other callers. */
function withDeadline<T>(promise: Promise<T>, deadlineAt: number, addr: string): Promise<T> {
  const remaining = deadlineAt - Date.now();
  if (remaining <= 0)
    return Promise.reject(new TimeoutError(`connect to ${addr} used up the call's time-out`));
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new TimeoutError(`connect to ${addr} did not finish within the call's time-out`)),
      remaining,
    );
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (err) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}
