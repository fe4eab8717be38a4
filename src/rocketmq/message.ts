/**
 * RocketMQ's message model as a producer sends it: the `Message` shape, the property names of
 * `MessageConst`, the property string of `MessageDecoder.messageProperties2String` /
 * `string2messageProperties`, and the client-side checks of `Validators.checkMessage`
 * (RocketMQ 4.9.8, common/.../message/{Message,MessageConst,MessageDecoder}.java,
 * client/.../Validators.java, common/.../topic/TopicValidator.java).
 *
 * Error convention of this layer: arguments that Java's client refuses throw
 * `InvalidArgumentError`; nothing here does I/O.
 */
import { InvalidArgumentError } from "../errors.js";

/** A message to send. Mirrors `org.apache.rocketmq.common.message.Message`. */
export interface Message {
  /** Topic: `^[%|a-zA-Z0-9_-]+$`, at most 127 characters. */
  topic: string;
  /** Payload; must not be empty (Java's client refuses empty bodies). */
  body: Uint8Array;
  /** The `TAGS` property; omitted when empty. */
  tags?: string;
  /** The `KEYS` property; an array is joined with a space, `MessageConst.KEY_SEPARATOR`. */
  keys?: string | readonly string[];
  /** The `DELAY` property (delay level, 1-18 on a default broker); 0 or undefined means none. */
  delayLevel?: number;
  /** User properties; names in `RESERVED_PROPERTY_NAMES` are refused. */
  properties?: Record<string, string>;
  /** The int32 `flag` field, free for the application; default 0. */
  flag?: number;
}

/**
 * `MessageConst.PROPERTY_*`: the constant's name without the prefix, mapped to its wire string.
 * @enum
 */
export const MessageProperty = {
  KEYS: "KEYS",
  TAGS: "TAGS",
  WAIT_STORE_MSG_OK: "WAIT",
  DELAY_TIME_LEVEL: "DELAY",
  RETRY_TOPIC: "RETRY_TOPIC",
  REAL_TOPIC: "REAL_TOPIC",
  REAL_QUEUE_ID: "REAL_QID",
  TRANSACTION_PREPARED: "TRAN_MSG",
  PRODUCER_GROUP: "PGROUP",
  MIN_OFFSET: "MIN_OFFSET",
  MAX_OFFSET: "MAX_OFFSET",
  BUYER_ID: "BUYER_ID",
  ORIGIN_MESSAGE_ID: "ORIGIN_MESSAGE_ID",
  TRANSFER_FLAG: "TRANSFER_FLAG",
  CORRECTION_FLAG: "CORRECTION_FLAG",
  MQ2_FLAG: "MQ2_FLAG",
  RECONSUME_TIME: "RECONSUME_TIME",
  MSG_REGION: "MSG_REGION",
  TRACE_SWITCH: "TRACE_ON",
  UNIQ_CLIENT_MESSAGE_ID_KEYIDX: "UNIQ_KEY",
  MAX_RECONSUME_TIMES: "MAX_RECONSUME_TIMES",
  CONSUME_START_TIMESTAMP: "CONSUME_START_TIME",
  TRANSACTION_PREPARED_QUEUE_OFFSET: "TRAN_PREPARED_QUEUE_OFFSET",
  TRANSACTION_CHECK_TIMES: "TRANSACTION_CHECK_TIMES",
  CHECK_IMMUNITY_TIME_IN_SECONDS: "CHECK_IMMUNITY_TIME_IN_SECONDS",
  INSTANCE_ID: "INSTANCE_ID",
  CORRELATION_ID: "CORRELATION_ID",
  MESSAGE_REPLY_TO_CLIENT: "REPLY_TO_CLIENT",
  MESSAGE_TTL: "TTL",
  REPLY_MESSAGE_ARRIVE_TIME: "ARRIVE_TIME",
  PUSH_REPLY_TIME: "PUSH_REPLY_TIME",
  CLUSTER: "CLUSTER",
  MESSAGE_TYPE: "MSG_TYPE",
  INNER_MULTI_DISPATCH: "INNER_MULTI_DISPATCH",
  INNER_MULTI_QUEUE_OFFSET: "INNER_MULTI_QUEUE_OFFSET",
  /** Short aliases for the two names the brief and RocketMQ's docs use most. */
  WAIT: "WAIT",
  DELAY: "DELAY",
  UNIQ_KEY: "UNIQ_KEY",
} as const;

/**
 * `MessageConst.STRING_HASH_SET`: the names `Message.putUserProperty` refuses. As in 4.9.8 it
 * leaves out TRAN_PREPARED_QUEUE_OFFSET, TRANSACTION_CHECK_TIMES, CHECK_IMMUNITY_TIME_IN_SECONDS
 * and INNER_MULTI_DISPATCH, so Java (and we) accept those as user properties.
 */
export const RESERVED_PROPERTY_NAMES: ReadonlySet<string> = new Set([
  "TRACE_ON",
  "MSG_REGION",
  "KEYS",
  "TAGS",
  "WAIT",
  "DELAY",
  "RETRY_TOPIC",
  "REAL_TOPIC",
  "REAL_QID",
  "TRAN_MSG",
  "PGROUP",
  "MIN_OFFSET",
  "MAX_OFFSET",
  "BUYER_ID",
  "ORIGIN_MESSAGE_ID",
  "TRANSFER_FLAG",
  "CORRECTION_FLAG",
  "MQ2_FLAG",
  "RECONSUME_TIME",
  "UNIQ_KEY",
  "MAX_RECONSUME_TIMES",
  "CONSUME_START_TIME",
  "INSTANCE_ID",
  "CORRELATION_ID",
  "REPLY_TO_CLIENT",
  "TTL",
  "ARRIVE_TIME",
  "PUSH_REPLY_TIME",
  "CLUSTER",
  "MSG_TYPE",
  "INNER_MULTI_QUEUE_OFFSET",
]);

/** `MessageDecoder.NAME_VALUE_SEPARATOR`. */
export const NAME_VALUE_SEPARATOR = "\u0001";
/** `MessageDecoder.PROPERTY_SEPARATOR`. */
export const PROPERTY_SEPARATOR = "\u0002";
/** `MessageConst.KEY_SEPARATOR`: joins several keys in the KEYS property. */
export const KEY_SEPARATOR = " ";
/** `DefaultMQProducer.maxMessageSize` default: 4 MiB, the largest body the client sends. */
export const DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024;
/** `Validators.TOPIC_MAX_LENGTH`. */
export const TOPIC_MAX_LENGTH = 127;
/** `MixAll.RETRY_GROUP_TOPIC_PREFIX`. */
export const RETRY_TOPIC_PREFIX = "%RETRY%";

/** `TopicValidator.NOT_ALLOWED_SEND_TOPIC_SET`: topics `Validators.checkMessage` refuses. */
export const NOT_ALLOWED_SEND_TOPICS: ReadonlySet<string> = new Set([
  "SCHEDULE_TOPIC_XXXX",
  "RMQ_SYS_TRANS_HALF_TOPIC",
  "RMQ_SYS_TRANS_OP_HALF_TOPIC",
  "TRANS_CHECK_MAX_TIME_TOPIC",
  "SELF_TEST_TOPIC",
  "OFFSET_MOVED_EVENT",
]);

/**
 * `MessageDecoder.messageProperties2String`: `name \u0001 value` pairs joined by `\u0002`, no
 * trailing separator, entries with a null or undefined value skipped. Iterates in the order given.
 */
export function encodeProperties(props: Record<string, string> | ReadonlyMap<string, string>): string {
  let out = "";
  const entries = props instanceof Map ? props.entries() : Object.entries(props);
  for (const [name, value] of entries as Iterable<[string, string | null | undefined]>) {
    if (value === null || value === undefined) continue;
    out += `${name}${NAME_VALUE_SEPARATOR}${value}${PROPERTY_SEPARATOR}`;
  }
  // Java appends a separator after every pair, then deletes the last character.
  return out.length > 0 ? out.slice(0, -1) : out;
}

/**
 * `MessageDecoder.string2messageProperties`: a pair needs a non-empty name and a non-empty value
 * (a segment shorter than 3 characters, or without `\u0001` inside it, is skipped); a value may
 * hold further `\u0001`s; a later duplicate name wins; empty segments (trailing or doubled
 * separators) are skipped.
 */
export function decodeProperties(text: string): Record<string, string> {
  const map: Record<string, string> = {};
  const len = text.length;
  let index = 0;
  while (index < len) {
    let end = text.indexOf(PROPERTY_SEPARATOR, index);
    if (end < 0) end = len;
    if (end - index >= 3) {
      // Java searches from `index` without a bound, so a separator found past `end` fails the test.
      const kv = text.indexOf(NAME_VALUE_SEPARATOR, index);
      if (kv > index && kv < end - 1) setOwn(map, text.slice(index, kv), text.slice(kv + 1, end));
    }
    index = end + 1;
  }
  return map;
}

/** Assigns even `__proto__` as an own property, so a hostile name cannot reach the prototype. */
export function setOwn(map: Record<string, string>, name: string, value: string): void {
  if (name === "__proto__") {
    Object.defineProperty(map, name, { value, enumerable: true, writable: true, configurable: true });
  } else {
    map[name] = value;
  }
}

/** `UtilAll.isBlank`: empty, or only `Character.isWhitespace` characters (no-break spaces are not). */
function isJavaBlank(s: string): boolean {
  return /^[\t-\r\u001c-\u0020\u1680\u2000-\u2006\u2008-\u200a\u2028\u2029\u205f\u3000]*$/.test(s);
}

/** `String.trim().isEmpty()`: trim drops every char <= U+0020. */
function isTrimEmpty(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x20) return false;
  return true;
}

/** `TopicValidator.isTopicOrGroupIllegal`: only `^[%|a-zA-Z0-9_-]+$` characters. */
const TOPIC_CHARS = /^[%|a-zA-Z0-9_-]*$/;

/** `Validators.checkTopic` + `isNotAllowedSendTopic`; throws `InvalidArgumentError`. */
export function validateTopic(topic: string): void {
  if (typeof topic !== "string" || isJavaBlank(topic)) throw new InvalidArgumentError("topic is blank");
  if (topic.length > TOPIC_MAX_LENGTH) {
    throw new InvalidArgumentError(`topic is longer than ${TOPIC_MAX_LENGTH} characters`);
  }
  if (!TOPIC_CHARS.test(topic)) {
    throw new InvalidArgumentError(
      `topic ${JSON.stringify(topic)} has characters outside ^[%|a-zA-Z0-9_-]+$`,
    );
  }
  if (NOT_ALLOWED_SEND_TOPICS.has(topic)) {
    throw new InvalidArgumentError(`sending to topic ${topic} is forbidden`);
  }
}

function hasSeparator(s: string): boolean {
  return s.includes(NAME_VALUE_SEPARATOR) || s.includes(PROPERTY_SEPARATOR);
}

/**
 * `Validators.checkMessage` (topic, body present, non-empty unless `allowEmptyBody`, at most
 * `maxBodyBytes`) plus
 * `Message.putUserProperty` (reserved names, blank names or values) and the int ranges of
 * `flag` and `delayLevel`. Stricter than Java in one respect: a `\u0001` or `\u0002` in tags,
 * keys or a user property is refused, because Java would send it and corrupt the property string.
 */
export function validateMessage(
  msg: Message,
  maxBodyBytes: number = DEFAULT_MAX_BODY_BYTES,
  options: { allowEmptyBody?: boolean } = {},
): void {
  if (msg === null || typeof msg !== "object") throw new InvalidArgumentError("message is null");
  validateTopic(msg.topic);
  if (!(msg.body instanceof Uint8Array)) throw new InvalidArgumentError("message body is null");
  if (msg.body.length === 0 && options.allowEmptyBody !== true) {
    throw new InvalidArgumentError("message body length is zero");
  }
  if (msg.body.length > maxBodyBytes) {
    throw new InvalidArgumentError(`message body size over max value, MAX: ${maxBodyBytes}`);
  }
  if (msg.flag !== undefined && !(Number.isInteger(msg.flag) && msg.flag === (msg.flag | 0))) {
    throw new InvalidArgumentError("message flag must be an int32");
  }
  if (msg.delayLevel !== undefined && !(Number.isInteger(msg.delayLevel) && msg.delayLevel >= 0)) {
    throw new InvalidArgumentError("message delayLevel must be a non-negative integer");
  }
  if (msg.delayLevel !== undefined && msg.delayLevel > 0x7fffffff) {
    throw new InvalidArgumentError("message delayLevel must be an int32");
  }
  if (msg.tags !== undefined && hasSeparator(msg.tags)) {
    throw new InvalidArgumentError("message tags contain a property separator");
  }
  if (msg.keys !== undefined && hasSeparator(joinKeys(msg.keys))) {
    throw new InvalidArgumentError("message keys contain a property separator");
  }
  for (const [name, value] of Object.entries(msg.properties ?? {})) {
    if (RESERVED_PROPERTY_NAMES.has(name)) {
      throw new InvalidArgumentError(`property ${name} is used by the system`);
    }
    if (typeof value !== "string" || isTrimEmpty(value) || isTrimEmpty(name)) {
      throw new InvalidArgumentError("the name or value of a property can not be blank");
    }
    if (hasSeparator(name) || hasSeparator(value)) {
      throw new InvalidArgumentError(`property ${JSON.stringify(name)} contains a property separator`);
    }
  }
}

/** KEYS as Java's `Message.setKeys(Collection)` joins them. */
export function joinKeys(keys: string | readonly string[]): string {
  return typeof keys === "string" ? keys : keys.join(KEY_SEPARATOR);
}

/** `String.hashCode`: over UTF-16 code units, int32 arithmetic. */
function javaStringHash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0;
  return h;
}

/**
 * The iteration order of a `java.util.HashMap` that received these keys in this order: bucket
 * `(h ^ h >>> 16) & (capacity - 1)` ascending, insertion order within a bucket; capacity 16,
 * doubled while size > 0.75 × capacity (a resize keeps the relative order inside a bucket).
 * Not modelled: tree bins, which need 8 keys in one bucket of a table of at least 64.
 */
export function javaHashMapOrder(keys: readonly string[]): string[] {
  let capacity = 16;
  while (keys.length > capacity * 0.75) capacity *= 2;
  const mask = capacity - 1;
  const buckets = keys.map((key, i) => {
    const h = javaStringHash(key);
    return { key, bucket: (h ^ (h >>> 16)) & mask, i };
  });
  buckets.sort((a, b) => a.bucket - b.bucket || a.i - b.i);
  return buckets.map((b) => b.key);
}

/**
 * The properties a Java 4.9.8 producer sends for `msg` (`SendMessageRequestHeader.properties`),
 * in the order it sends them. Java's `Message` keeps them in a `HashMap`, filled by the
 * constructor (TAGS, KEYS, WAIT=true), then by the application (DELAY, user properties), then by
 * `MessageClientIDSetter.setUniqID` at send time (UNIQ_KEY); `messageProperties2String`
 * iterates the map, so the wire order is the HashMap's (see {@link javaHashMapOrder}), e.g.
 * `KEYS, UNIQ_KEY, WAIT, TAGS` as captured from the Java client. Call
 * {@link validateMessage} first.
 */
export function messageToWireProperties(msg: Message, uniqKey: string): Map<string, string> {
  const inserted = new Map<string, string>();
  if (msg.tags !== undefined && msg.tags.length > 0) inserted.set(MessageProperty.TAGS, msg.tags);
  if (msg.keys !== undefined) {
    const keys = joinKeys(msg.keys);
    if (keys.length > 0) inserted.set(MessageProperty.KEYS, keys);
  }
  inserted.set(MessageProperty.WAIT, "true");
  // Level 0 is "no delay" on the broker (CommitLog.putMessage tests > 0): leave DELAY out.
  if (msg.delayLevel !== undefined && msg.delayLevel > 0) {
    inserted.set(MessageProperty.DELAY, String(msg.delayLevel));
  }
  for (const [name, value] of Object.entries(msg.properties ?? {})) inserted.set(name, value);
  inserted.set(MessageProperty.UNIQ_KEY, uniqKey);
  const ordered = new Map<string, string>();
  for (const key of javaHashMapOrder([...inserted.keys()])) ordered.set(key, inserted.get(key) ?? "");
  return ordered;
}
