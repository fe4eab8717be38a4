/**
 * The HEART_BEAT (34) body a client sends to every broker it uses (RocketMQ
 * `common/protocol/heartbeat/HeartbeatData.java`, `ConsumerData.java`, `SubscriptionData.java`),
 * written as the Java client writes it and read as a broker reads it, and
 * `FilterAPI.buildSubscriptionData` for TAG expressions.
 *
 * The encoding is byte for byte what the Java client writes: fastjson sorts a bean's fields by
 * name and omits nulls, and strings are escaped as fastjson escapes them (`fastjsonQuote`).
 * test/fixtures/rocketmq/java-heartbeat.jsonl holds the Java lite pull consumer's body to compare.
 */
import { fastjsonQuote, javaWellFormed } from "../codec/fastjson.js";
import { InvalidArgumentError } from "../errors.js";
import {
  array,
  BodyFieldError,
  bodyObject,
  int,
  type JsonObject,
  long,
  object,
  path,
  boolean as readBoolean,
  string,
  stringList,
} from "./body-fields.js";

/**
 * Pull (lite pull, pull consumers), push, or RocketMQ 5's pop (RocketMQ `heartbeat/ConsumeType.java`;
 * a 4.x broker knows the first two only).
 */
export type ConsumeType = "CONSUME_ACTIVELY" | "CONSUME_PASSIVELY" | "CONSUME_POP";
/** RocketMQ `heartbeat/MessageModel.java`. */
export type MessageModel = "CLUSTERING" | "BROADCASTING";
/** Where a group with no committed offset starts (RocketMQ `consumer/ConsumeFromWhere.java`). */
export type ConsumeFromWhere =
  | "CONSUME_FROM_LAST_OFFSET"
  | "CONSUME_FROM_LAST_OFFSET_AND_FROM_MIN_WHEN_BOOT_FIRST"
  | "CONSUME_FROM_MIN_OFFSET"
  | "CONSUME_FROM_MAX_OFFSET"
  | "CONSUME_FROM_FIRST_OFFSET"
  | "CONSUME_FROM_TIMESTAMP";
/** RocketMQ `filter/ExpressionType.java`. */
export type ExpressionType = "TAG" | "SQL92";

const CONSUME_TYPES: readonly string[] = ["CONSUME_ACTIVELY", "CONSUME_PASSIVELY", "CONSUME_POP"];
const MESSAGE_MODELS: readonly string[] = ["CLUSTERING", "BROADCASTING"];
const CONSUME_FROM: readonly string[] = [
  "CONSUME_FROM_LAST_OFFSET",
  "CONSUME_FROM_LAST_OFFSET_AND_FROM_MIN_WHEN_BOOT_FIRST",
  "CONSUME_FROM_MIN_OFFSET",
  "CONSUME_FROM_MAX_OFFSET",
  "CONSUME_FROM_FIRST_OFFSET",
  "CONSUME_FROM_TIMESTAMP",
];
const EXPRESSION_TYPES: readonly string[] = ["TAG", "SQL92"];

/** One topic a group subscribes (RocketMQ SubscriptionData). */
export interface SubscriptionData {
  /** Filter-class mode, gone from 4.x brokers; false. */
  classFilterMode: boolean;
  /** The topic subscribed. */
  topic: string;
  /** The expression: `*`, `a || b`, or SQL92 text. */
  subString: string;
  /** The TAG expression's tags; empty for `*` and SQL92. */
  tagsSet: string[];
  /** Java `String.hashCode` of each tag, which the broker's consume queue filter compares. */
  codeSet: number[];
  /** Version of the subscription (epoch ms when built); the broker keeps the newest. */
  subVersion: number;
  /** How `subString` is read: TAG or SQL92. */
  expressionType: ExpressionType;
}

/** A consumer group of this client (RocketMQ ConsumerData). */
export interface ConsumerData {
  /** The consumer group. */
  groupName: string;
  /** CONSUME_ACTIVELY (pull) or CONSUME_PASSIVELY (push). */
  consumeType: ConsumeType;
  /** CLUSTERING or BROADCASTING. */
  messageModel: MessageModel;
  /** Where a queue with no committed offset starts. */
  consumeFromWhere: ConsumeFromWhere;
  /** The group's subscriptions. */
  subscriptionDataSet: SubscriptionData[];
  /** Unit mode; false. */
  unitMode: boolean;
}

/** A producer group of this client (RocketMQ ProducerData). */
export interface ProducerData {
  /** The producer group. */
  groupName: string;
}

/** The HEART_BEAT body (RocketMQ HeartbeatData). */
export interface HeartbeatData {
  /** `ip@instance`, plus `@STREAM` for pull-style consumers, as the Java client builds it. */
  clientID: string;
  /** The client's producer groups. */
  producerDataSet: ProducerData[];
  /** The client's consumer groups. */
  consumerDataSet: ConsumerData[];
}

/** Java's `String.hashCode`: `s[0]*31^(n-1) + … + s[n-1]` over UTF-16 code units, in 32-bit arithmetic. */
export function javaStringHashCode(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(31, h) + s.charCodeAt(i)) | 0;
  return h;
}

/** Java's `String.trim`: strips code units up to U+0020 only, unlike `String.prototype.trim`. */
function javaTrim(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && s.charCodeAt(start) <= 0x20) start++;
  while (end > start && s.charCodeAt(end - 1) <= 0x20) end--;
  return s.slice(start, end);
}

/**
 * RocketMQ's `FilterAPI.buildSubscriptionData` for a TAG expression: `*` (or empty) subscribes
 * everything; otherwise tags separated by `||`, each trimmed as Java trims, empty ones skipped,
 * duplicates kept once (a HashSet in Java), with each tag's Java hash code in `codeSet`.
 *
 * @param subVersion the subscription's version; Java uses `System.currentTimeMillis()`
 * @throws InvalidArgumentError when the expression is only separators (`||`), which Java's
 * `split` turns into no parts and FilterAPI refuses ("subString split error")
 */
export function buildSubscriptionData(
  topic: string,
  expression: string,
  subVersion = Date.now(),
): SubscriptionData {
  const data: SubscriptionData = {
    classFilterMode: false,
    topic,
    subString: expression,
    tagsSet: [],
    codeSet: [],
    subVersion,
    expressionType: "TAG",
  };
  if (expression === "*" || expression.length === 0) {
    data.subString = "*";
    return data;
  }
  const parts = expression.split("||");
  // Java's split drops trailing empty strings; all empty leaves none.
  while (parts.length > 0 && parts[parts.length - 1] === "") parts.pop();
  if (parts.length === 0)
    throw new InvalidArgumentError(`subscription expression ${JSON.stringify(expression)}: no tags`);
  const tags = new Set<string>();
  for (const part of parts) {
    const tag = javaTrim(part);
    if (tag.length > 0) tags.add(tag);
  }
  data.tagsSet = [...tags];
  data.codeSet = [...new Set(data.tagsSet.map(javaStringHashCode))];
  return data;
}

function oneOf(value: string, allowed: readonly string[], field: string): string {
  if (!allowed.includes(value))
    throw new InvalidArgumentError(`${field}: ${JSON.stringify(value)} is not one of ${allowed.join(", ")}`);
  return fastjsonQuote(value);
}

function str(value: unknown, field: string): string {
  if (typeof value !== "string") throw new InvalidArgumentError(`${field}: expected a string`);
  return fastjsonQuote(value);
}

function bool(value: unknown, field: string): string {
  if (typeof value !== "boolean") throw new InvalidArgumentError(`${field}: expected a boolean`);
  return value ? "true" : "false";
}

function list<T>(values: readonly T[], field: string, write: (v: T, f: string) => string): string {
  if (!Array.isArray(values)) throw new InvalidArgumentError(`${field}: expected an array`);
  return `[${values.map((v, i) => write(v, `${field}[${i}]`)).join(",")}]`;
}

function int32(value: number, field: string): string {
  if (!Number.isInteger(value) || value < -0x80000000 || value > 0x7fffffff) {
    throw new InvalidArgumentError(`${field}: expected a 32-bit integer`);
  }
  return String(value);
}

function subscription(s: SubscriptionData, f: string): string {
  if (!Number.isSafeInteger(s.subVersion))
    throw new InvalidArgumentError(`${f}.subVersion: expected an integer`);
  // Fields in name order, as fastjson's JavaBeanSerializer writes them.
  return (
    `{"classFilterMode":${bool(s.classFilterMode, `${f}.classFilterMode`)}` +
    `,"codeSet":${list(s.codeSet, `${f}.codeSet`, int32)}` +
    `,"expressionType":${oneOf(s.expressionType, EXPRESSION_TYPES, `${f}.expressionType`)}` +
    `,"subString":${str(s.subString, `${f}.subString`)}` +
    `,"subVersion":${s.subVersion}` +
    `,"tagsSet":${list(s.tagsSet, `${f}.tagsSet`, str)}` +
    `,"topic":${str(s.topic, `${f}.topic`)}}`
  );
}

function consumer(c: ConsumerData, f: string): string {
  return (
    `{"consumeFromWhere":${oneOf(c.consumeFromWhere, CONSUME_FROM, `${f}.consumeFromWhere`)}` +
    `,"consumeType":${oneOf(c.consumeType, CONSUME_TYPES, `${f}.consumeType`)}` +
    `,"groupName":${str(c.groupName, `${f}.groupName`)}` +
    `,"messageModel":${oneOf(c.messageModel, MESSAGE_MODELS, `${f}.messageModel`)}` +
    `,"subscriptionDataSet":${list(c.subscriptionDataSet, `${f}.subscriptionDataSet`, subscription)}` +
    `,"unitMode":${bool(c.unitMode, `${f}.unitMode`)}}`
  );
}

function producer(p: ProducerData, f: string): string {
  return `{"groupName":${str(p.groupName, `${f}.groupName`)}}`;
}

/**
 * The HEART_BEAT (34) body for `data`, as RocketMQ's Java client encodes it (UTF-8 JSON, fields
 * in name order). Sets are written in the order given.
 *
 * @throws InvalidArgumentError (`MQW_ERR_INVALID_ARGUMENT`) naming the first field that is of
 * the wrong type or not one of RocketMQ's enum names
 */
export function encodeHeartbeatData(data: HeartbeatData): Buffer {
  const text =
    `{"clientID":${str(data.clientID, "HeartbeatData.clientID")}` +
    `,"consumerDataSet":${list(data.consumerDataSet, "HeartbeatData.consumerDataSet", consumer)}` +
    `,"producerDataSet":${list(data.producerDataSet, "HeartbeatData.producerDataSet", producer)}}`;
  // Java's getBytes(UTF_8) writes a lone surrogate as '?' where Buffer.from writes U+FFFD.
  return Buffer.from(javaWellFormed(text), "utf8");
}

// Reading a body: absent fields take the defaults of Java's beans (empty sets, false, TAG),
// present ones must have the right type; enum fields and names are required.

function enumField<T extends string>(o: JsonObject, key: string, allowed: readonly string[], f: string): T {
  const value = string(o[key], path(f, key));
  if (!allowed.includes(value)) throw new BodyFieldError(path(f, key), `one of ${allowed.join(", ")}`, value);
  return value as T;
}

function listField<T>(o: JsonObject, key: string, f: string, read: (v: unknown, f: string) => T): T[] {
  const value = o[key];
  if (value === undefined || value === null) return [];
  return array(value, path(f, key)).map((item, i) => read(item, path(path(f, key), i)));
}

function parseSubscription(value: unknown, f: string): SubscriptionData {
  const o = object(value, f);
  return {
    classFilterMode:
      o.classFilterMode == null ? false : readBoolean(o.classFilterMode, path(f, "classFilterMode")),
    topic: string(o.topic, path(f, "topic")),
    subString: string(o.subString, path(f, "subString")),
    tagsSet: o.tagsSet == null ? [] : stringList(o.tagsSet, path(f, "tagsSet")),
    codeSet: listField(o, "codeSet", f, int),
    subVersion: o.subVersion == null ? 0 : long(o.subVersion, path(f, "subVersion")),
    expressionType: o.expressionType == null ? "TAG" : enumField(o, "expressionType", EXPRESSION_TYPES, f),
  };
}

function parseConsumer(value: unknown, f: string): ConsumerData {
  const o = object(value, f);
  return {
    groupName: string(o.groupName, path(f, "groupName")),
    consumeType: enumField(o, "consumeType", CONSUME_TYPES, f),
    messageModel: enumField(o, "messageModel", MESSAGE_MODELS, f),
    consumeFromWhere: enumField(o, "consumeFromWhere", CONSUME_FROM, f),
    subscriptionDataSet: listField(o, "subscriptionDataSet", f, parseSubscription),
    unitMode: o.unitMode == null ? false : readBoolean(o.unitMode, path(f, "unitMode")),
  };
}

/**
 * Reads a HEART_BEAT (34) body, as a broker does (HeartbeatData.decode): what Java and mqwire
 * clients send, and RocketMQ 5's (a `CONSUME_POP` consumer; `heartbeatFingerprint` and
 * `withoutSub`, which a lite heartbeat carries, are not read). Sets absent from the body are
 * empty.
 *
 * @throws ProtocolError (`MQW_ERR_PROTOCOL`): `JsonDialectError` for a body that is not
 * RocketMQ JSON, `BodyFieldError` naming the first field that is missing or of the wrong type
 */
export function parseHeartbeatData(body: Uint8Array): HeartbeatData {
  const f = "HeartbeatData";
  const o = bodyObject(body, f);
  return {
    clientID: string(o.clientID, path(f, "clientID")),
    producerDataSet: listField(o, "producerDataSet", f, (v, at) => ({
      groupName: string(object(v, at).groupName, path(at, "groupName")),
    })),
    consumerDataSet: listField(o, "consumerDataSet", f, parseConsumer),
  };
}
