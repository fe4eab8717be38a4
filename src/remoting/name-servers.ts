/**
 * Name-server addresses as RocketMQ's NettyRemotingClient keeps them (§9.2 of the reference): a
 * shuffled list, a sticky choice that moves on (round robin from a random start) only when the
 * chosen one is unusable, and a periodic reachability scan behind getAvailableNameServerList.
 */
import { type Clock, systemClock } from "../clock.js";
import { ConnectError, TimeoutError } from "../errors.js";
import type { RemotingChannel } from "./channel.js";
import { withDeadline } from "./channel-table.js";

/** Fisher–Yates; RocketMQ shuffles a changed list so clients spread over name servers. */
function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const a = out[i];
    const b = out[j];
    if (a === undefined || b === undefined) continue; // never: i and j are within [0, out.length)
    out[i] = b;
    out[j] = a;
  }
  return out;
}

/** What the name-server list needs from the client. */
export interface NameServerLinks {
  /** The channel of `addr`, connecting when needed (bounded by `deadlineAt`). */
  connect(addr: string, deadlineAt: number, signal?: AbortSignal): Promise<RemotingChannel>;
  /** The active channel of `addr`, if any, without connecting. */
  peek(addr: string): RemotingChannel | undefined;
  /** Closes the channel of `addr`. */
  close(addr: string): void;
  /** Puts `addr` in the connect back-off a refused connect gets. */
  backOff(addr: string, cause: unknown): void;
}

export class NameServers {
  #list: string[] = [];
  #chosen: string | undefined;
  /** RocketMQ's namesrvIndex: starts at a random value in [0, 999). */
  #index: number;
  readonly #available = new Set<string>();
  readonly #links: NameServerLinks;
  readonly #random: () => number;
  readonly #clock: Clock;
  #scanTimer: NodeJS.Timeout | undefined;
  /** Identity of the running scan loop: a loop that is no longer current stops re-arming. */
  #scanLoop: object | undefined;
  /** The selection in progress (RocketMQ's namesrvChannelLock): racing callers wait for it. */
  #selecting: Promise<RemotingChannel> | undefined;

  /** Deadlines are times of `clock`; `random` picks the start of the round robin and shuffles. */
  constructor(links: NameServerLinks, random: () => number = Math.random, clock: Clock = systemClock) {
    this.#clock = clock;
    this.#links = links;
    this.#random = random;
    this.#index = Math.floor(random() * 999);
  }

  /** Replaces the list. A change (size or members) shuffles it; a dropped choice is closed. */
  update(addrs: readonly string[]): void {
    const unique = [...new Set(addrs)];
    const changed = unique.length !== this.#list.length || unique.some((a) => !this.#list.includes(a));
    if (!changed) return;
    this.#list = shuffled(unique, this.#random);
    if (this.#chosen !== undefined && !this.#list.includes(this.#chosen)) {
      this.#links.close(this.#chosen);
      this.#chosen = undefined;
    }
    for (const addr of this.#available) if (!this.#list.includes(addr)) this.#available.delete(addr);
  }

  get list(): string[] {
    return [...this.#list];
  }
  /** The sticky choice, if one was made. */
  get chosen(): string | undefined {
    return this.#chosen;
  }
  /** Addresses the last scans reached. */
  get available(): string[] {
    return this.#list.filter((a) => this.#available.has(a));
  }

  /**
   * The channel of "the name server": the sticky choice while its channel is active; otherwise
   * the next addresses in round-robin order, each tried once, until one connects (fail-over).
   */
  async channel(deadlineAt: number, signal?: AbortSignal): Promise<RemotingChannel> {
    for (;;) {
      if (this.#chosen !== undefined) {
        const active = this.#links.peek(this.#chosen);
        if (active) return active;
      }
      const selecting = this.#selecting;
      if (selecting === undefined) break;
      // RocketMQ: a caller that finds the lock taken waits for it, then checks the choice again.
      const done = selecting.then(
        () => undefined,
        () => undefined,
      );
      await withDeadline(done, deadlineAt, "a name server", signal, this.#clock);
    }
    const selecting = this.#select(deadlineAt, signal);
    this.#selecting = selecting;
    try {
      return await selecting;
    } finally {
      if (this.#selecting === selecting) this.#selecting = undefined;
    }
  }

  /** Round robin from the current index, each address tried once, until one connects. */
  async #select(deadlineAt: number, signal: AbortSignal | undefined): Promise<RemotingChannel> {
    const size = this.#list.length;
    if (size === 0) throw new ConnectError("no name server address: call updateNameServerAddressList first");
    let lastError: unknown;
    for (let i = 0; i < size; i++) {
      if (this.#clock.now() >= deadlineAt)
        throw new TimeoutError("connecting to a name server used up the call's time-out");
      this.#index = (this.#index + 1) | 0;
      const addr = this.#list[Math.abs(this.#index) % size];
      if (addr === undefined) continue; // never: size is the list's length
      try {
        const channel = await this.#links.connect(addr, deadlineAt, signal);
        this.#chosen = addr;
        this.#available.add(addr);
        return channel;
      } catch (err) {
        if (signal?.aborted) throw signal.reason;
        lastError = err;
        this.#available.delete(addr);
      }
    }
    throw new ConnectError(`no name server reachable among ${this.#list.join(", ")}`, { cause: lastError });
  }

  /**
   * A call to `addr` timed out and its channel was closed (invokeSync's rule, which every call
   * to a name server follows): the server accepted and did not answer, which costs each call
   * its whole time-out, where a refused connect costs nothing. So it is treated as a refused
   * connect: out of the available list and backing off, so that neither the selection nor the
   * scan connects to it again before the back-off has passed (the selection skips it at once).
   */
  timedOut(addr: string, cause: unknown): void {
    this.#links.backOff(addr, cause);
    this.#available.delete(addr);
  }

  /** One reachability pass over the list (RocketMQ's scanAvailableNameSrv). */
  async scan(timeoutMs: number): Promise<void> {
    const deadlineAt = this.#clock.now() + timeoutMs;
    await Promise.all(
      this.#list.map(async (addr) => {
        try {
          await this.#links.connect(addr, deadlineAt);
          this.#available.add(addr);
        } catch {
          this.#available.delete(addr);
        }
      }),
    );
  }

  /** Scans now and then every `periodMs` until stopped. The timer does not keep the process alive. */
  startScan(periodMs: number, timeoutMs: number): void {
    if (this.#scanTimer) return;
    const loop = {};
    this.#scanLoop = loop;
    const run = (): void => {
      void this.scan(timeoutMs).finally(() => {
        if (this.#scanLoop === loop) this.#scanTimer = setTimeout(run, periodMs).unref();
      });
    };
    this.#scanTimer = setTimeout(run, 0).unref();
  }

  stopScan(): void {
    clearTimeout(this.#scanTimer);
    this.#scanTimer = undefined;
    this.#scanLoop = undefined;
  }
}
