/**
 * A pull consumer, as RocketMQ 4.9.8's DefaultMQPullConsumer and DefaultLitePullConsumer speak to
 * brokers: a topic's readable queues from its route, PULL_MESSAGE with long polling and a tag
 * subscription (filtered by tag code on the broker and by tag on the client, as PullAPIWrapper
 * does), consumer offsets read and committed on the broker, and heartbeats so the broker knows
 * the group. `messages(topic)` reads every queue of a topic as one async iterator
 * (./message-stream.ts). Rebalancing among several members of a group is not done yet: a
 * consumer reads every queue it is given.
 */
import { ClientError, InvalidArgumentError, ProtocolError } from "../errors.js";
import { buildSubscriptionData, type SubscriptionData } from "./bodies.js";
import type { ClientOptions } from "./client-options.js";
import { RequestCode, ResponseCode } from "./codes.js";
import {
  GetMaxOffsetRequestHeader,
  GetMaxOffsetResponseHeader,
  GetMinOffsetRequestHeader,
  GetMinOffsetResponseHeader,
  PullMessageRequestHeader,
  PullMessageResponseHeader,
  QueryConsumerOffsetRequestHeader,
  QueryConsumerOffsetResponseHeader,
  UpdateConsumerOffsetRequestHeader,
} from "./headers.js";
import { decodeMessages, type MessageExt } from "./message-decoder.js";
import { MessageStream, type MessageStreamOptions } from "./message-stream.js";
import { MQClient } from "./mq-client.js";
import { type MessageQueue, subscribeQueues } from "./topic-route.js";

/** Options of a PullConsumer. */
export interface PullConsumerOptions extends ClientOptions {
  /** The consumer group. */
  group: string;
  /** Longest time the broker holds a pull with no message, in ms (brokerSuspendMaxTimeMillis). Default 20000. */
  maxSuspendMs?: number;
}

/** What a pull found (RocketMQ's PullStatus). */
export type PullStatus = "FOUND" | "NO_NEW_MSG" | "NO_MATCHED_MSG" | "OFFSET_ILLEGAL";

/** The outcome of one pull (RocketMQ's PullResult). */
export interface PullResult {
  /** What the pull found. */
  status: PullStatus;
  /** Where the next pull of this queue starts. */
  nextBeginOffset: number;
  /** The queue's first offset. */
  minOffset: number;
  /** The offset after the queue's last message. */
  maxOffset: number;
  /** The messages found, after the client-side tag filter. */
  messages: MessageExt[];
}

/** Options of one pull. */
export interface PullOptions {
  /** At most this many messages (maxMsgNums). Default 32. */
  maxMessages?: number;
  /** Long polling: the broker holds the pull up to this long when the queue has nothing new, in ms. Default 0. */
  suspendMs?: number;
  /** Tag expression: "*" or "TagA || TagB". Default "*". */
  subscription?: string;
  /** Time-out of the call, in ms. Default: suspendMs + 10 s when held, else the client's requestTimeoutMs. */
  timeoutMs?: number;
  /** Abandons the pull: it rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** How much longer than its hold a held pull may take (see #pullTimeoutMs). */
const SUSPEND_MARGIN_MS = 10_000;

/** PullSysFlag bits. */
const PullSysFlag = {
  COMMIT_OFFSET: 0x1,
  SUSPEND: 0x2,
  SUBSCRIPTION: 0x4,
  CLASS_FILTER: 0x8,
  LITE_PULL: 0x10,
} as const;

const PULL_STATUS = new Map<number, PullStatus>([
  [ResponseCode.SUCCESS, "FOUND"],
  [ResponseCode.PULL_NOT_FOUND, "NO_NEW_MSG"],
  [ResponseCode.PULL_RETRY_IMMEDIATELY, "NO_MATCHED_MSG"],
  [ResponseCode.PULL_OFFSET_MOVED, "OFFSET_ILLEGAL"],
]);

/** Reads messages from a RocketMQ cluster, queue by queue. */
export class PullConsumer {
  /** The consumer group. */
  readonly group: string;
  readonly #client: MQClient;
  readonly #maxSuspendMs: number;
  /** topic → its subscription, as heartbeats report it. */
  readonly #subscriptions = new Map<string, SubscriptionData>();
  /** Brokers that got this client's heartbeat since it last changed. */
  readonly #greeted = new Set<string>();

  constructor(options: PullConsumerOptions) {
    if (typeof options?.group !== "string" || options.group === "") {
      throw new InvalidArgumentError("group is required");
    }
    this.group = options.group;
    const suspend = options.maxSuspendMs ?? 20_000;
    if (!Number.isInteger(suspend) || suspend < 0)
      throw new InvalidArgumentError(`maxSuspendMs must be an integer >= 0, got ${suspend}`);
    this.#maxSuspendMs = suspend;
    this.#client = new MQClient(options);
    this.#client.addGroup({
      kind: "consumer",
      group: this.group,
      consumerData: () => ({
        groupName: this.group,
        consumeType: "CONSUME_ACTIVELY",
        messageModel: "CLUSTERING",
        consumeFromWhere: "CONSUME_FROM_LAST_OFFSET",
        subscriptionDataSet: [...this.#subscriptions.values()],
        unitMode: false,
      }),
    });
    this.#client.start();
  }

  /** The client core (its RemotingClient, routes and client id). */
  get client(): MQClient {
    return this.#client;
  }

  /** Records the topic's subscription for heartbeats (pull and messages() call it for you). */
  subscribe(topic: string, expression = "*"): SubscriptionData {
    const current = this.#subscriptions.get(topic);
    if (current !== undefined && current.subString === expression) return current;
    const data = buildSubscriptionData(topic, expression);
    this.#subscriptions.set(topic, data);
    this.#greeted.clear();
    return data;
  }

  /** The topic's readable queues (fetchSubscribeMessageQueues). */
  async queues(topic: string): Promise<MessageQueue[]> {
    const route = await this.#client.routes.get(topic);
    const queues = route === undefined ? [] : subscribeQueues(topic, route);
    if (queues.length === 0) throw new ClientError(`topic ${topic} has no readable queue (does it exist?)`);
    return queues;
  }

  /** Pulls from one queue starting at `offset`. */
  async pull(queue: MessageQueue, offset: number, options: PullOptions = {}): Promise<PullResult> {
    const maxMessages = options.maxMessages ?? 32;
    const suspendMs = Math.min(options.suspendMs ?? 0, this.#maxSuspendMs);
    if (!Number.isSafeInteger(offset) || offset < 0)
      throw new InvalidArgumentError(`offset must be an integer >= 0, got ${offset}`);
    if (!Number.isInteger(maxMessages) || maxMessages < 1)
      throw new InvalidArgumentError(`maxMessages must be >= 1, got ${maxMessages}`);
    const subscription = this.subscribe(queue.topic, options.subscription ?? "*");
    const addr = await this.#client.brokerAddrOf(queue);
    if (!this.#greeted.has(addr)) await this.#greet(addr);
    let sysFlag = PullSysFlag.SUBSCRIPTION | PullSysFlag.LITE_PULL;
    if (suspendMs > 0) sysFlag |= PullSysFlag.SUSPEND;
    const response = await this.#client.remoting.invoke(
      addr,
      this.#client.request({
        code: RequestCode.PULL_MESSAGE,
        header: PullMessageRequestHeader,
        values: {
          consumerGroup: this.group,
          topic: queue.topic,
          queueId: queue.queueId,
          queueOffset: offset,
          maxMsgNums: maxMessages,
          sysFlag,
          commitOffset: 0,
          suspendTimeoutMillis: suspendMs,
          subscription: subscription.subString,
          subVersion: subscription.subVersion,
          expressionType: subscription.expressionType,
          bname: queue.brokerName,
        },
      }),
      {
        timeoutMs: options.timeoutMs ?? this.#pullTimeoutMs(suspendMs),
        signal: options.signal,
      },
    );
    const status = PULL_STATUS.get(response.code);
    if (status === undefined) throw this.#client.brokerError(response, addr);
    const header = PullMessageResponseHeader.decode(response.extFields);
    let messages: MessageExt[] = [];
    if (status === "FOUND") {
      if (response.body === null) throw new ProtocolError(`pull from ${addr}: FOUND without a body`);
      messages = decodeMessages(response.body);
      if (subscription.tagsSet.length > 0) {
        const tags = new Set(subscription.tagsSet);
        messages = messages.filter((m) => m.tags !== undefined && tags.has(m.tags));
      }
      // As PullAPIWrapper.processPullResult: each message learns the queue's bounds and broker.
      const minOffset = String(header.minOffset);
      const maxOffset = String(header.maxOffset);
      for (const m of messages) {
        m.properties.MIN_OFFSET = minOffset;
        m.properties.MAX_OFFSET = maxOffset;
        m.brokerName = queue.brokerName;
      }
    }
    return {
      status,
      nextBeginOffset: header.nextBeginOffset,
      minOffset: header.minOffset,
      maxOffset: header.maxOffset,
      messages,
    };
  }

  /**
   * A held pull's time-out: the hold plus 10 s, as the Java consumer waits 30 s for a 20 s hold
   * (consumerTimeoutMillisWhenSuspend): a 4.x broker checks held pulls every 5 s, so a short
   * hold can come back up to 5 s late.
   */
  #pullTimeoutMs(suspendMs: number): number {
    return suspendMs > 0 ? suspendMs + SUSPEND_MARGIN_MS : this.#client.options.requestTimeoutMs;
  }

  /** The group's committed offset of the queue, or undefined when it has none (QUERY_CONSUMER_OFFSET). */
  async committedOffset(queue: MessageQueue): Promise<number | undefined> {
    const addr = await this.#client.brokerAddrOf(queue);
    const response = await this.#client.call(
      addr,
      {
        code: RequestCode.QUERY_CONSUMER_OFFSET,
        header: QueryConsumerOffsetRequestHeader,
        values: {
          consumerGroup: this.group,
          topic: queue.topic,
          queueId: queue.queueId,
          bname: queue.brokerName,
        },
      },
      { accept: [ResponseCode.SUCCESS, ResponseCode.QUERY_NOT_FOUND] },
    );
    if (response.code === ResponseCode.QUERY_NOT_FOUND) return undefined;
    return QueryConsumerOffsetResponseHeader.decode(response.extFields).offset;
  }

  /** Commits the group's offset of the queue: the next message to read (UPDATE_CONSUMER_OFFSET). */
  async commitOffset(queue: MessageQueue, offset: number): Promise<void> {
    if (!Number.isSafeInteger(offset) || offset < 0)
      throw new InvalidArgumentError(`offset must be an integer >= 0, got ${offset}`);
    const addr = await this.#client.brokerAddrOf(queue);
    await this.#client.call(addr, {
      code: RequestCode.UPDATE_CONSUMER_OFFSET,
      header: UpdateConsumerOffsetRequestHeader,
      values: {
        consumerGroup: this.group,
        topic: queue.topic,
        queueId: queue.queueId,
        commitOffset: offset,
        bname: queue.brokerName,
      },
    });
  }

  /** The queue's smallest offset still stored (GET_MIN_OFFSET). */
  async minOffset(queue: MessageQueue): Promise<number> {
    const addr = await this.#client.brokerAddrOf(queue);
    const response = await this.#client.call(addr, {
      code: RequestCode.GET_MIN_OFFSET,
      header: GetMinOffsetRequestHeader,
      values: { topic: queue.topic, queueId: queue.queueId, bname: queue.brokerName },
    });
    return GetMinOffsetResponseHeader.decode(response.extFields).offset;
  }

  /** The queue's next offset to be written (GET_MAX_OFFSET). */
  async maxOffset(queue: MessageQueue): Promise<number> {
    const addr = await this.#client.brokerAddrOf(queue);
    const response = await this.#client.call(addr, {
      code: RequestCode.GET_MAX_OFFSET,
      header: GetMaxOffsetRequestHeader,
      values: { topic: queue.topic, queueId: queue.queueId, bname: queue.brokerName },
    });
    return GetMaxOffsetResponseHeader.decode(response.extFields).offset;
  }

  /**
   * Every queue of the topic as one stream of messages, read with long polling. A message's
   * offset is committed once the iterator is asked for the next one (or ends), so a consumer
   * that stops and starts again goes on after the last message it was given.
   */
  messages(topic: string, options: MessageStreamOptions = {}): MessageStream {
    return new MessageStream(this, topic, { maxSuspendMs: this.#maxSuspendMs, ...options });
  }

  /** Unregisters the group from the brokers and closes the connections. */
  async close(): Promise<void> {
    await this.#client.close();
  }

  /** A broker hears this client's heartbeat before its first pull, so it knows the group. */
  async #greet(addr: string): Promise<void> {
    if (this.#greeted.has(addr)) return;
    this.#greeted.add(addr);
    try {
      await this.#client.heartbeatTo(addr);
    } catch (err) {
      this.#greeted.delete(addr);
      throw err;
    }
  }
}
