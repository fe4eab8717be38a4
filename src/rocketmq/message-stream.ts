/**
 * Every queue of a topic as one async iterator of messages. One long-polling pull runs per queue
 * at a time (RocketMQ's PullMessageService keeps one PullRequest per queue); pulled messages wait
 * in a bounded buffer, and a queue whose messages fill it pulls no more until the reader catches
 * up. Offsets follow what the reader was given: a message counts as consumed when the reader asks
 * for the next one or ends the iteration, and consumed offsets are committed to the broker
 * periodically and at the end (RemoteBrokerOffsetStore's persistAll every 5 s and at shutdown).
 */
import { setTimeout as sleep } from "node:timers/promises";
import { ErrorCodes, isMqwireError } from "../errors.js";
import type { Logger } from "../logger.js";
import type { MessageExt } from "./message-decoder.js";
import type { PullConsumer } from "./pull-consumer.js";
import type { MessageQueue } from "./topic-route.js";

/** Options of `PullConsumer.messages()`. */
export interface MessageStreamOptions {
  /** Tag expression: "*" or "TagA || TagB". Default "*". */
  subscription?: string;
  /**
   * Where each queue starts: the group's committed offset (default), or the queue's first or
   * last offset whatever the group committed (`--from-beginning`).
   */
  from?: "committed" | "first" | "last";
  /** Where a queue with no committed offset starts. Default "last", as CONSUME_FROM_LAST_OFFSET. */
  whenNoCommitted?: "first" | "last";
  /** Messages per pull (pullBatchSize). Default 32. */
  maxMessagesPerPull?: number;
  /** Messages held for the reader before pulls pause (pullThresholdForAll). Default 1024. */
  bufferMessages?: number;
  /** Period of the offset commit, in ms (persistConsumerOffsetInterval). Default 5000. */
  commitIntervalMs?: number;
  /** Wait after a failed pull before the next one, in ms (PULL_TIME_DELAY_MILLS_WHEN_EXCEPTION). Default 3000. */
  retryDelayMs?: number;
  /** Longest long poll, in ms; the consumer's maxSuspendMs by default. */
  maxSuspendMs?: number;
  /** Ends the iteration (pending pulls are abandoned, consumed offsets committed). */
  signal?: AbortSignal;
  /** Where failed pulls are reported. Default: silent. */
  logger?: Logger;
}

/** How often a stream whose topic has no route yet asks again, in ms. */
const ROUTE_RETRY_MS = 1_000;

/** One queue a {@link MessageStream} reads, with its offsets. */
export interface QueueState {
  /** The queue. */
  readonly queue: MessageQueue;
  /** Next offset to pull. */
  pullOffset: number;
  /** Next offset after the last message given to the reader. */
  consumedOffset: number;
  /** The offset last committed to the broker. */
  committedOffset: number;
}

interface Pending {
  message: MessageExt;
  state: QueueState;
}

/** The stream `PullConsumer.messages(topic)` returns. */
export class MessageStream implements AsyncIterableIterator<MessageExt> {
  /** The topic read. */
  readonly topic: string;
  readonly #consumer: PullConsumer;
  readonly #options: MessageStreamOptions;
  readonly #stop = new AbortController();
  readonly #buffer: Pending[] = [];
  #head = 0;
  #states: QueueState[] = [];
  #started: Promise<void> | undefined;
  #loops: Promise<void>[] = [];
  /** The message handed out last; it counts as consumed at the next call. */
  #given: Pending | undefined;
  #waiter: (() => void) | undefined;
  #spaceWaiters: (() => void)[] = [];
  #commitTimer: NodeJS.Timeout | undefined;
  #ended = false;
  /** The commit running or last run; the next one starts after it. */
  #committing: Promise<void> = Promise.resolve();

  constructor(consumer: PullConsumer, topic: string, options: MessageStreamOptions) {
    this.#consumer = consumer;
    this.topic = topic;
    this.#options = options;
    options.signal?.addEventListener("abort", () => this.#stop.abort(), { once: true });
    this.#stop.signal.addEventListener("abort", () => {
      this.#wakeReader();
      this.#wakeSpace();
    });
  }

  /** The stream is its own iterator: `for await (const m of stream)`. */
  [Symbol.asyncIterator](): this {
    return this;
  }

  /** The queues read and their offsets (pull position, consumed, committed). */
  get queues(): readonly Readonly<QueueState>[] {
    return this.#states;
  }

  /**
   * The next message; the previous one counts as consumed. Done once the signal aborts or `return()` is
   * called.
   */
  async next(): Promise<IteratorResult<MessageExt>> {
    this.#consumeGiven();
    if (this.#ended) return { done: true, value: undefined };
    this.#started ??= this.#start();
    await this.#started;
    for (;;) {
      if (this.#stop.signal.aborted) {
        await this.return();
        return { done: true, value: undefined };
      }
      if (this.#head < this.#buffer.length) {
        // biome-ignore lint/style/noNonNullAssertion: #head < length, and only slots before #head are cleared
        const pending = this.#buffer[this.#head]!;
        this.#buffer[this.#head++] = undefined as unknown as Pending;
        if (this.#head > 1024 && this.#head * 2 > this.#buffer.length) {
          this.#buffer.splice(0, this.#head);
          this.#head = 0;
        }
        this.#given = pending;
        this.#wakeSpace();
        return { done: false, value: pending.message };
      }
      await new Promise<void>((resolve) => {
        this.#waiter = resolve;
      });
    }
  }

  /** Ends the iteration: stops pulling and commits the consumed offsets. */
  async return(): Promise<IteratorResult<MessageExt>> {
    this.#consumeGiven();
    if (!this.#ended) {
      this.#ended = true;
      this.#stop.abort();
      clearInterval(this.#commitTimer);
      await this.#started?.catch(() => undefined);
      await Promise.all(this.#loops);
      await this.commit();
    }
    return { done: true, value: undefined };
  }

  /**
   * Commits every queue's consumed offset that moved since the last commit. Commits never overlap
   * (a periodic one and the final one wait for each other), and the queues of one broker are
   * committed one after another: the broker runs these requests on a thread pool, and its
   * ConsumerOffsetManager creates a group's offset table with a get-then-put, so two first
   * commits for one topic and group at once can lose one queue's offset, and two commits of one
   * queue at once can land in either order.
   */
  commit(): Promise<void> {
    const run = this.#committing.then(() => this.#commitMoved());
    this.#committing = run.catch(() => undefined);
    return run;
  }

  async #commitMoved(): Promise<void> {
    const byBroker = new Map<string, QueueState[]>();
    for (const s of this.#states) {
      if (s.consumedOffset <= s.committedOffset) continue;
      const states = byBroker.get(s.queue.brokerName);
      if (states === undefined) byBroker.set(s.queue.brokerName, [s]);
      else states.push(s);
    }
    // Every queue is tried, and the commit ends only once none is in flight: a failed queue
    // neither stops the others nor lets the next commit overlap one still running.
    let failure: unknown;
    await Promise.all(
      Array.from(byBroker.values(), async (states) => {
        for (const s of states) {
          const offset = s.consumedOffset;
          try {
            await this.#consumer.commitOffset(s.queue, offset);
            s.committedOffset = Math.max(s.committedOffset, offset);
          } catch (err) {
            failure ??= err;
          }
        }
      }),
    );
    if (failure !== undefined) throw failure;
  }

  #consumeGiven(): void {
    const given = this.#given;
    if (given === undefined) return;
    this.#given = undefined;
    const next = given.message.queueOffset + 1;
    if (next > given.state.consumedOffset) given.state.consumedOffset = next;
  }

  async #start(): Promise<void> {
    const queues = await this.#findQueues();
    if (queues === undefined) return;
    this.#consumer.subscribe(this.topic, this.#options.subscription ?? "*");
    this.#states = await Promise.all(
      queues.map(async (queue) => {
        const offset = await this.#startOffset(queue);
        return { queue, pullOffset: offset, consumedOffset: offset, committedOffset: offset };
      }),
    );
    const interval = this.#options.commitIntervalMs ?? 5000;
    this.#commitTimer = setInterval(
      () => void this.commit().catch((err) => this.#log(err)),
      interval,
    ).unref();
    this.#loops = this.#states.map((s) => this.#pullLoop(s));
  }

  /**
   * The topic's queues, waiting for a topic the name servers do not route yet, as a Java
   * consumer subscribed to it waits: a broker registers a topic it auto-created with a oneway
   * call, so a reader started right after the first send can be ahead of the name server.
   * Undefined when the stream was stopped meanwhile.
   */
  async #findQueues(): Promise<MessageQueue[] | undefined> {
    const signal = this.#stop.signal;
    for (;;) {
      try {
        return await this.#consumer.queues(this.topic);
      } catch (err) {
        if (!isMqwireError(err, ErrorCodes.CLIENT)) throw err;
        this.#log(err);
      }
      await sleep(ROUTE_RETRY_MS, undefined, { signal }).catch(() => undefined);
      if (signal.aborted) return undefined;
    }
  }

  async #startOffset(queue: MessageQueue): Promise<number> {
    const from = this.#options.from ?? "committed";
    if (from === "first") return this.#consumer.minOffset(queue);
    if (from === "last") return this.#consumer.maxOffset(queue);
    const committed = await this.#consumer.committedOffset(queue);
    if (committed !== undefined && committed >= 0) return committed;
    return (this.#options.whenNoCommitted ?? "last") === "first"
      ? this.#consumer.minOffset(queue)
      : this.#consumer.maxOffset(queue);
  }

  async #pullLoop(state: QueueState): Promise<void> {
    const signal = this.#stop.signal;
    const highWater = this.#options.bufferMessages ?? 1024;
    while (!signal.aborted) {
      if (this.#buffer.length - this.#head >= highWater) {
        await new Promise<void>((resolve) => this.#spaceWaiters.push(resolve));
        continue;
      }
      try {
        const result = await this.#consumer.pull(state.queue, state.pullOffset, {
          maxMessages: this.#options.maxMessagesPerPull ?? 32,
          suspendMs: this.#options.maxSuspendMs ?? 20_000,
          subscription: this.#options.subscription ?? "*",
          signal,
        });
        state.pullOffset = result.nextBeginOffset;
        if (result.status === "OFFSET_ILLEGAL" && state.consumedOffset < result.nextBeginOffset) {
          // The broker moved the queue's start (expired messages): go on from there, as Java does.
          state.consumedOffset = result.nextBeginOffset;
        }
        if (result.messages.length > 0) {
          for (const message of result.messages) this.#buffer.push({ message, state });
          this.#wakeReader();
        }
      } catch (err) {
        if (signal.aborted) return;
        this.#log(err);
        await sleep(this.#options.retryDelayMs ?? 3000, undefined, { signal }).catch(() => undefined);
      }
    }
  }

  #wakeReader(): void {
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.();
  }

  #wakeSpace(): void {
    const waiters = this.#spaceWaiters;
    if (waiters.length === 0) return;
    this.#spaceWaiters = [];
    for (const w of waiters) w();
  }

  #log(err: unknown): void {
    this.#options.logger?.warn(`${this.topic}: ${err instanceof Error ? err.message : String(err)}`);
  }
}
