/**
 * A producer, as RocketMQ 4.9.8's DefaultMQProducer sends: route discovery through the name
 * servers (and the TBW102 template for a topic that does not exist yet, which the broker then
 * creates), round robin over writable queues, SEND_MESSAGE_V2 with one-letter keys, bodies of
 * 4 KiB or more compressed with zlib, and a failed attempt retried on a queue of another broker
 * (DefaultMQProducerImpl.sendDefaultImpl).
 */
import type { RemotingCommand } from "../codec/remoting-command.js";
import { BrokerError, ClientError, InvalidArgumentError, isMqwireError, ProtocolError } from "../errors.js";
import type { ClientOptions } from "./client-options.js";
import { RequestCode, ResponseCode } from "./codes.js";
import { compressBody, shouldCompress, ZLIB_COMPRESSED_SYS_FLAG } from "./compression.js";
import { SendMessageRequestHeaderV2, SendMessageResponseHeader } from "./headers.js";
import { encodeProperties, type Message, messageToWireProperties, validateMessage } from "./message.js";
import { encodeBatch } from "./message-batch.js";
import { createUniqIdGenerator } from "./message-id.js";
import { MQClient } from "./mq-client.js";
import { AUTO_CREATE_TOPIC_KEY, type MessageQueue, publishQueues, templateRoute } from "./topic-route.js";

/** Options of a Producer (DefaultMQProducer's fields, same defaults). */
export interface ProducerOptions extends ClientOptions {
  /** The producer group. Default "mqwire_producer" (RocketMQ refuses its own "DEFAULT_PRODUCER"). */
  group?: string;
  /** Time-out of a send, retries included, in ms (sendMsgTimeout). Default 3000. */
  sendTimeoutMs?: number;
  /** Further attempts after a failed send (retryTimesWhenSendFailed). Default 2. */
  retries?: number;
  /** Bodies of at least this many bytes are sent zlib-compressed (compressMsgBodyOverHowmuch). Default 4096. */
  compressOverBytes?: number;
  /** Largest body accepted, in bytes (maxMessageSize). Default 4 MiB. */
  maxMessageBytes?: number;
  /** Queues of a topic the broker auto-creates (defaultTopicQueueNums). Default 4. */
  defaultTopicQueueNums?: number;
  /**
   * Send messages with an empty body. Default true: the broker stores them and Java consumers
   * read them; RocketMQ's Java producer refuses them (Validators.checkMessage), false does too.
   */
  allowEmptyBody?: boolean;
}

/** How the broker stored a message (RocketMQ's SendStatus). */
export type SendStatus = "SEND_OK" | "FLUSH_DISK_TIMEOUT" | "FLUSH_SLAVE_TIMEOUT" | "SLAVE_NOT_AVAILABLE";

/** The outcome of a send (RocketMQ's SendResult). */
export interface SendResult {
  /** How the broker stored it. */
  status: SendStatus;
  /** The client-made id (UNIQ_KEY); for a batch, the ids joined with commas as Java does. */
  msgId: string;
  /** The broker's id: store host, port and commit log offset. */
  offsetMsgId: string;
  /** The queue it was stored in. */
  queue: MessageQueue;
  /** Its offset within the queue (for a batch, the first message's). */
  queueOffset: number;
  /** The transaction id, for transactional messages. */
  transactionId?: string;
  /** The broker's region (MSG_REGION), if it sent one. */
  regionId?: string;
}

/** Options of one send. */
export interface SendOptions {
  /** Overrides the producer's sendTimeoutMs. */
  timeoutMs?: number;
  /** Send to this queue (no retry on another), as `send(msg, mq)` does. */
  queue?: MessageQueue;
}

/** The group of a producer that names none. */
export const DEFAULT_PRODUCER_GROUP = "mqwire_producer";

const STATUS_BY_CODE = new Map<number, SendStatus>([
  [ResponseCode.SUCCESS, "SEND_OK"],
  [ResponseCode.FLUSH_DISK_TIMEOUT, "FLUSH_DISK_TIMEOUT"],
  [ResponseCode.FLUSH_SLAVE_TIMEOUT, "FLUSH_SLAVE_TIMEOUT"],
  [ResponseCode.SLAVE_NOT_AVAILABLE, "SLAVE_NOT_AVAILABLE"],
]);
const SEND_ACCEPT = [...STATUS_BY_CODE.keys()];

/** Broker answers worth another attempt (DefaultMQProducer.retryResponseCodes). */
const RETRY_CODES: ReadonlySet<number> = new Set([
  ResponseCode.TOPIC_NOT_EXIST,
  ResponseCode.SERVICE_NOT_AVAILABLE,
  ResponseCode.SYSTEM_ERROR,
  ResponseCode.NO_PERMISSION,
  ResponseCode.NO_BUYER_ID,
  ResponseCode.NOT_IN_CURRENT_UNIT,
]);

function intOption(name: string, value: number | undefined, fallback: number, min: number): number {
  const n = value ?? fallback;
  if (!Number.isInteger(n) || n < min)
    throw new InvalidArgumentError(`${name} must be an integer >= ${min}, got ${value}`);
  return n;
}

/** Sends messages to a RocketMQ cluster. */
export class Producer {
  /** The producer group. */
  readonly group: string;
  readonly #client: MQClient;
  readonly #sendTimeoutMs: number;
  readonly #retries: number;
  readonly #compressOverBytes: number;
  readonly #maxMessageBytes: number;
  readonly #defaultTopicQueueNums: number;
  readonly #validation: { allowEmptyBody: boolean };
  readonly #ids = createUniqIdGenerator();
  /** Where round robin goes next (sendWhichQueue); a random start, as ThreadLocalIndex. */
  #queueIndex = Math.floor(Math.random() * 0x7fffffff);
  readonly #publish = new Map<string, { queues: MessageQueue[]; at: number }>();

  constructor(options: ProducerOptions = {}) {
    this.group = options.group ?? DEFAULT_PRODUCER_GROUP;
    // RocketMQ keeps DEFAULT_PRODUCER for itself (DefaultMQProducerImpl.checkConfig refuses it).
    if (this.group === "" || this.group === "DEFAULT_PRODUCER") {
      throw new InvalidArgumentError(`group must be a name of your own, got "${this.group}"`);
    }
    this.#sendTimeoutMs = intOption("sendTimeoutMs", options.sendTimeoutMs, 3000, 1);
    this.#retries = intOption("retries", options.retries, 2, 0);
    this.#compressOverBytes = intOption("compressOverBytes", options.compressOverBytes, 4096, 0);
    this.#maxMessageBytes = intOption("maxMessageBytes", options.maxMessageBytes, 4 * 1024 * 1024, 1);
    this.#defaultTopicQueueNums = intOption("defaultTopicQueueNums", options.defaultTopicQueueNums, 4, 1);
    this.#validation = { allowEmptyBody: options.allowEmptyBody ?? true };
    this.#client = new MQClient(options);
    this.#client.addGroup({ kind: "producer", group: this.group });
    this.#client.start();
  }

  /** The client core (its RemotingClient, routes and client id). */
  get client(): MQClient {
    return this.#client;
  }

  /**
   * The queues this producer writes `topic` to, kept for the route refresh period
   * (topicPublishInfoTable). A topic the name servers do not know yet gets the template's
   * brokers (TBW102), and keeps them until the next refresh, so that, as with the Java producer,
   * every broker of the template receives a first message and creates the topic.
   */
  async queues(topic: string): Promise<MessageQueue[]> {
    const cached = this.#publish.get(topic);
    if (cached !== undefined && Date.now() - cached.at < this.#client.options.routeRefreshMs)
      return cached.queues;
    const route = await this.#client.routes.get(topic);
    let queues = route === undefined ? [] : publishQueues(topic, route);
    if (queues.length === 0) {
      const template = await this.#client.routes.get(AUTO_CREATE_TOPIC_KEY);
      if (template !== undefined)
        queues = publishQueues(topic, templateRoute(template, this.#defaultTopicQueueNums));
    }
    if (queues.length === 0) {
      throw new ClientError(
        `no route for topic ${topic}, and no ${AUTO_CREATE_TOPIC_KEY} route to create it through`,
      );
    }
    this.#publish.set(topic, { queues, at: Date.now() });
    return queues;
  }

  /**
   * Sends one message and resolves once the broker stored it. A failed attempt (connection
   * refused, time-out, or a broker answer in RocketMQ's retry list) is retried on a queue of
   * another broker while the time-out allows; the last error is thrown.
   */
  async send(message: Message, options: SendOptions = {}): Promise<SendResult> {
    const m = this.#prepare(message);
    const build = (queue: MessageQueue): SendAttempt => ({
      code: RequestCode.SEND_MESSAGE_V2,
      queue,
      values: this.#header(queue, m.sysFlag, message.flag ?? 0, m.properties, false),
      body: m.body,
      msgId: m.uniqKey,
    });
    return this.#sendWithRetries(message.topic, build, options, this.#retries);
  }

  /**
   * Sends several messages of one topic in one request (SEND_BATCH_MESSAGE); the broker stores
   * them together in one queue. Bodies are not compressed, as in Java's batch.
   */
  async sendBatch(messages: readonly Message[], options: SendOptions = {}): Promise<SendResult> {
    const batch = encodeBatch(messages, this.#ids, { maxBodyBytes: this.#maxMessageBytes });
    const build = (queue: MessageQueue): SendAttempt => ({
      code: RequestCode.SEND_BATCH_MESSAGE,
      queue,
      values: this.#header(queue, batch.sysFlag, batch.flag, batch.properties, true),
      body: batch.body,
      msgId: batch.msgIds.join(","),
    });
    return this.#sendWithRetries(batch.topic, build, options, this.#retries);
  }

  /** Sends one message without waiting for the broker: resolves once written (one attempt). */
  async sendOneway(message: Message, options: SendOptions = {}): Promise<void> {
    const m = this.#prepare(message);
    const queue = options.queue ?? this.#select(await this.queues(message.topic), undefined);
    const addr = await this.#client.brokerAddrOf(queue);
    await this.#client.oneway(
      addr,
      {
        code: RequestCode.SEND_MESSAGE_V2,
        header: SendMessageRequestHeaderV2,
        values: this.#header(queue, m.sysFlag, message.flag ?? 0, m.properties, false),
        body: m.body,
      },
      options.timeoutMs ?? this.#sendTimeoutMs,
    );
  }

  /** Unregisters the group from the brokers and closes the connections. */
  async close(): Promise<void> {
    await this.#client.close();
  }

  /** Validates a message and makes what every attempt sends: its id, properties and body. */
  #prepare(message: Message): { uniqKey: string; properties: string; body: Uint8Array; sysFlag: number } {
    validateMessage(message, this.#maxMessageBytes, this.#validation);
    const uniqKey = this.#ids.next();
    const properties = encodeProperties(messageToWireProperties(message, uniqKey));
    if (!shouldCompress(message.body, this.#compressOverBytes)) {
      return { uniqKey, properties, body: message.body, sysFlag: 0 };
    }
    return { uniqKey, properties, body: compressBody(message.body), sysFlag: ZLIB_COMPRESSED_SYS_FLAG };
  }

  #header(queue: MessageQueue, sysFlag: number, flag: number, properties: string, batch: boolean) {
    return {
      producerGroup: this.group,
      topic: queue.topic,
      defaultTopic: AUTO_CREATE_TOPIC_KEY,
      defaultTopicQueueNums: this.#defaultTopicQueueNums,
      queueId: queue.queueId,
      sysFlag,
      bornTimestamp: Date.now(),
      flag,
      properties,
      reconsumeTimes: 0,
      unitMode: false,
      batch,
      bname: queue.brokerName,
    };
  }

  async #sendWithRetries(
    topic: string,
    build: (queue: MessageQueue) => SendAttempt,
    options: SendOptions,
    retries: number,
  ): Promise<SendResult> {
    const timeoutMs = options.timeoutMs ?? this.#sendTimeoutMs;
    const deadlineAt = Date.now() + timeoutMs;
    const attempts = options.queue === undefined ? 1 + retries : 1;
    let lastBroker: string | undefined;
    let lastError: unknown;
    for (let attempt = 0; attempt < attempts; attempt++) {
      const remaining = deadlineAt - Date.now();
      if (remaining <= 0) break;
      const queue = options.queue ?? this.#select(await this.queues(topic), lastBroker);
      try {
        return await this.#sendOnce(build(queue), remaining);
      } catch (err) {
        lastError = err;
        lastBroker = queue.brokerName;
        if (err instanceof BrokerError && !RETRY_CODES.has(err.responseCode)) throw err;
        if (!isMqwireError(err) || err instanceof ProtocolError || err instanceof InvalidArgumentError)
          throw err;
        // A connection that failed may be the route's fault (a broker gone): read it again.
        if (err instanceof BrokerError) this.#client.routes.invalidate(topic);
      }
    }
    if (lastError !== undefined) throw lastError;
    throw new ClientError(`send to ${topic}: no attempt within the time-out of ${timeoutMs} ms`);
  }

  async #sendOnce(attempt: SendAttempt, timeoutMs: number): Promise<SendResult> {
    const addr = await this.#client.brokerAddrOf(attempt.queue);
    const response = await this.#client.call(
      addr,
      { code: attempt.code, header: SendMessageRequestHeaderV2, values: attempt.values, body: attempt.body },
      { timeoutMs, accept: SEND_ACCEPT },
    );
    // `accept` let through only the codes of STATUS_BY_CODE.
    const status = STATUS_BY_CODE.get(response.code);
    if (status === undefined) throw this.#client.brokerError(response, addr);
    return this.#result(response, status, attempt);
  }

  #result(response: RemotingCommand, status: SendStatus, attempt: SendAttempt): SendResult {
    const header = SendMessageResponseHeader.decode(response.extFields);
    const result: SendResult = {
      status,
      msgId: attempt.msgId,
      offsetMsgId: header.msgId,
      queue: { topic: attempt.queue.topic, brokerName: attempt.queue.brokerName, queueId: header.queueId },
      queueOffset: header.queueOffset,
    };
    if (header.transactionId !== undefined) result.transactionId = header.transactionId;
    const region = response.extFields?.get("MSG_REGION");
    if (region !== undefined) result.regionId = region;
    return result;
  }

  /**
   * Round robin; after a failure, the next queue of another broker if there is one
   * (selectOneMessageQueue). `queues` is never empty: {@link Producer.queues} throws first.
   */
  #select(queues: readonly MessageQueue[], avoidBroker: string | undefined): MessageQueue {
    const n = queues.length;
    this.#queueIndex = (this.#queueIndex + 1) & 0x7fffffff;
    const start = this.#queueIndex;
    const chosen = queues[start % n];
    if (avoidBroker !== undefined) {
      for (let i = 0; i < n; i++) {
        const q = queues[(start + i) % n];
        if (q !== undefined && q.brokerName !== avoidBroker) return q;
      }
    }
    if (chosen === undefined) throw new ClientError(`no writable queue to send to`);
    return chosen;
  }
}

interface SendAttempt {
  code: number;
  queue: MessageQueue;
  values: ReturnType<typeof SendMessageRequestHeaderV2.decode>;
  body: Uint8Array;
  msgId: string;
}
