/**
 * The body of SEND_BATCH_MESSAGE (320), as RocketMQ 4.9.8's `DefaultMQProducer.batch` builds it:
 * `MessageBatch.generateFromList` checks the messages, each gets a UNIQ_KEY, and
 * `MessageDecoder.encodeMessages` concatenates `encodeMessage` of each
 * (client/.../producer/DefaultMQProducer.java, common/.../message/{MessageBatch,MessageDecoder}.java).
 *
 * Error convention: a batch Java's client refuses throws `InvalidArgumentError`.
 */
import { InvalidArgumentError } from "../errors.js";
import {
  DEFAULT_MAX_BODY_BYTES,
  encodeProperties,
  type Message,
  MessageProperty,
  messageToWireProperties,
  RETRY_TOPIC_PREFIX,
  validateMessage,
} from "./message.js";
import type { UniqIdGenerator } from "./message-id.js";

/** `RequestCode.SEND_BATCH_MESSAGE`. */
export const SEND_BATCH_MESSAGE = 320;
/** `Short.MAX_VALUE`: `encodeMessage` refuses a longer property string. */
const MAX_PROPERTIES_BYTES = 0x7fff;
// TOTALSIZE, MAGICCODE, BODYCRC, FLAG, BODY length, properties length.
const ENTRY_OVERHEAD = 4 + 4 + 4 + 4 + 4 + 2;

/** Options of {@link encodeBatch}. */
export interface EncodeBatchOptions {
  /** Largest body of one message and of the whole encoded batch, bytes; default 4 MiB (`maxMessageSize`). */
  maxBodyBytes?: number;
}

/** What {@link encodeBatch} returns: the request body and what its header needs. */
export interface EncodedBatch {
  /** The request body. */
  body: Buffer;
  /** Header field `b` (topic): every message's topic. */
  topic: string;
  /** Each message's UNIQ_KEY, in order: the msgIds the Java client reports for the batch. */
  msgIds: string[];
  /** Header field `i` (properties): `WAIT\u0001true`, from `MessageBatch.setWaitStoreMsgOK`. */
  properties: string;
  /** Header field `f` (sysFlag): 0, a batch is never compressed (`tryToCompressMessage`). */
  sysFlag: 0;
  /** Header field `h` (flag): 0, a `MessageBatch`'s own flag. */
  flag: 0;
}

/**
 * Encodes a batch. Each entry is `encodeMessage`'s layout, big-endian: TOTALSIZE (int32),
 * MAGICCODE 0, BODYCRC 0 (the broker computes it), FLAG, BODY length + bytes, properties length
 * (int16) + the property string of `messageToWireProperties`.
 *
 * Checks as Java does: at least one message; each passes `Validators.checkMessage`; no delay
 * level; no `%RETRY%` topic; one topic for all; the encoded batch at most `maxBodyBytes`.
 *
 * The producer sends the result as a SEND_BATCH_MESSAGE (320) request with the
 * SEND_MESSAGE_V2 one-letter header: `a` producer group, `b` the batch's `topic`,
 * `c` TBW102, `d` 4 (default topic queue count), `e` queue id, `f` 0, `g` born timestamp,
 * `h` 0, `i` the batch's `properties`, `j` 0, `k` false, `m` true (batch), `n` broker
 * name. The broker stores one message per entry, appending the header's properties (WAIT and the
 * CLUSTER it adds) to each entry's own (`CommitLog.MessageExtEncoder.encode(MessageExtBatch)`).
 */
export function encodeBatch(
  messages: readonly Message[],
  ids: UniqIdGenerator,
  options: EncodeBatchOptions = {},
): EncodedBatch {
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const first = Array.isArray(messages) ? messages[0] : undefined;
  if (first === undefined) throw new InvalidArgumentError("a batch needs at least one message");
  const topic = first.topic;
  const entries: { msg: Message; props: Buffer }[] = [];
  const msgIds: string[] = [];
  let total = 0;
  for (const msg of messages) {
    if (msg.delayLevel !== undefined && msg.delayLevel > 0) {
      throw new InvalidArgumentError("TimeDelayLevel is not supported for batching");
    }
    if (typeof msg.topic === "string" && msg.topic.startsWith(RETRY_TOPIC_PREFIX)) {
      throw new InvalidArgumentError("Retry Group is not supported for batching");
    }
    if (msg.topic !== topic) {
      throw new InvalidArgumentError("The topic of the messages in one batch should be the same");
    }
    validateMessage(msg, maxBodyBytes);
    const uniqKey = ids.next();
    const props = Buffer.from(encodeProperties(messageToWireProperties(msg, uniqKey)), "utf8");
    if (props.length > MAX_PROPERTIES_BYTES) {
      throw new InvalidArgumentError(
        `properties of a message are ${props.length} bytes, over ${MAX_PROPERTIES_BYTES}`,
      );
    }
    msgIds.push(uniqKey);
    entries.push({ msg, props });
    total += ENTRY_OVERHEAD + msg.body.length + props.length;
  }
  // DefaultMQProducerImpl.sendDefaultImpl runs checkMessage on the MessageBatch, whose body is this.
  if (total > maxBodyBytes) {
    throw new InvalidArgumentError(
      `the encoded batch is ${total} bytes, over the maximum of ${maxBodyBytes}`,
    );
  }
  const body = Buffer.allocUnsafe(total);
  let p = 0;
  for (const { msg, props } of entries) {
    const size = ENTRY_OVERHEAD + msg.body.length + props.length;
    p = body.writeInt32BE(size, p);
    p = body.writeInt32BE(0, p);
    p = body.writeInt32BE(0, p);
    p = body.writeInt32BE(msg.flag ?? 0, p);
    p = body.writeInt32BE(msg.body.length, p);
    body.set(msg.body, p);
    p += msg.body.length;
    p = body.writeInt16BE(props.length, p);
    props.copy(body, p);
    p += props.length;
  }
  return {
    body,
    topic,
    msgIds,
    properties: encodeProperties(new Map([[MessageProperty.WAIT, "true"]])),
    sysFlag: 0,
    flag: 0,
  };
}
