/**
 * The broker's and name server's admin bodies, typed and checked: TopicStatsTable
 * (GET_TOPIC_STATS_INFO, 202), ConsumeStats (GET_CONSUME_STATS, 208), TopicList
 * (GET_ALL_TOPIC_LIST_FROM_NAMESERVER, 206) and GetConsumerListByGroupResponseBody
 * (GET_CONSUMER_LIST_BY_GROUP, 38).
 *
 * TopicStatsTable and ConsumeStats hold a `HashMap<MessageQueue, …>` (RocketMQ
 * `common/admin/TopicStatsTable.java`, `ConsumeStats.java`), which fastjson writes with the
 * MessageQueue object itself as the key: `{{"brokerName":"b","queueId":0,"topic":"T"}:{…}}`. The
 * dialect parser gives such a key as its JSON text; here each becomes one flat queue entry, so a
 * result is a plain list, sorted as `MessageQueue.compareTo` sorts (topic, broker name, queue id)
 * because the HashMap's order means nothing.
 */
import {
  array,
  BodyFieldError,
  bodyObject,
  double,
  int,
  type JsonObject,
  long,
  object,
  path,
  string,
  stringList,
} from "./body-fields.js";

/** A queue's identity (RocketMQ `common/message/MessageQueue.java`). */
export interface QueueKey {
  /** The topic. */
  topic: string;
  /** The broker holding the queue. */
  brokerName: string;
  /** The queue within the topic on that broker. */
  queueId: number;
}

/** One queue's offsets (a MessageQueue and its `common/admin/TopicOffset.java`). */
export interface TopicQueueStats extends QueueKey {
  /** The queue's first offset. */
  minOffset: number;
  /** The offset after the queue's last message. */
  maxOffset: number;
  /** Store time (epoch ms) of the last message, 0 when the queue is empty. */
  lastUpdateTimestamp: number;
}

/** A topic's queues on one broker (RocketMQ TopicStatsTable). */
export interface TopicStats {
  /** Every queue of the topic. */
  queues: TopicQueueStats[];
}

/** One queue of a consumer group (a MessageQueue and its `common/admin/OffsetWrapper.java`). */
export interface ConsumeQueueStats extends QueueKey {
  /** The queue's max offset on the broker. */
  brokerOffset: number;
  /** The group's committed offset. */
  consumerOffset: number;
  /** Store time (epoch ms) of the last consumed message, 0 when unknown. */
  lastTimestamp: number;
  /** RocketMQ 5's OffsetWrapper adds the offset of the last pull; 4.9.8 brokers do not send it. */
  pullOffset?: number;
}

/** A consumer group's progress on one broker (RocketMQ ConsumeStats). */
export interface ConsumeStats {
  /** Messages per second the group consumed, as the broker measures it. */
  consumeTps: number;
  /** Every queue the group consumes. */
  queues: ConsumeQueueStats[];
}

/** Order of `MessageQueue.compareTo`: topic, broker name, queue id. */
export function compareQueueKeys(a: QueueKey, b: QueueKey): number {
  if (a.topic !== b.topic) return a.topic < b.topic ? -1 : 1;
  if (a.brokerName !== b.brokerName) return a.brokerName < b.brokerName ? -1 : 1;
  return a.queueId - b.queueId;
}

function queueKey(text: string, field: string): QueueKey {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new BodyFieldError(field, "a MessageQueue object as the key", text);
  }
  const o = object(parsed, `${field} key`);
  return {
    topic: string(o.topic, `${field} key.topic`),
    brokerName: string(o.brokerName, `${field} key.brokerName`),
    queueId: int(o.queueId, `${field} key.queueId`),
  };
}

/** Each entry of a `Map<MessageQueue, V>` as its key and its value's object. */
function queueEntries(
  table: JsonObject,
  field: string,
): { key: QueueKey; value: JsonObject; field: string }[] {
  return Object.keys(table).map((text) => {
    const entryField = `${field}[${JSON.stringify(text)}]`;
    return { key: queueKey(text, entryField), value: object(table[text], entryField), field: entryField };
  });
}

/**
 * Parses a GET_TOPIC_STATS_INFO (202) body.
 *
 * @throws ProtocolError (`MQW_ERR_PROTOCOL`): `JsonDialectError` for text that does not parse,
 * `BodyFieldError` naming the first field of the wrong shape
 */
export function parseTopicStatsTable(body: Uint8Array): TopicStats {
  const field = "TopicStatsTable.offsetTable";
  const table = object(bodyObject(body, "TopicStatsTable").offsetTable, field);
  const queues = queueEntries(table, field).map(({ key, value, field: f }) => ({
    ...key,
    minOffset: long(value.minOffset, path(f, "minOffset")),
    maxOffset: long(value.maxOffset, path(f, "maxOffset")),
    lastUpdateTimestamp: long(value.lastUpdateTimestamp, path(f, "lastUpdateTimestamp")),
  }));
  return { queues: queues.sort(compareQueueKeys) };
}

/**
 * Parses a GET_CONSUME_STATS (208) body. A `consumeTps` fastjson wrote as `null` (NaN or
 * infinite in Java) reads as 0.
 *
 * @throws ProtocolError (`MQW_ERR_PROTOCOL`), as {@link parseTopicStatsTable}
 */
export function parseConsumeStats(body: Uint8Array): ConsumeStats {
  const o = bodyObject(body, "ConsumeStats");
  const field = "ConsumeStats.offsetTable";
  const queues = queueEntries(object(o.offsetTable, field), field).map(({ key, value, field: f }) => {
    const q: ConsumeQueueStats = {
      ...key,
      brokerOffset: long(value.brokerOffset, path(f, "brokerOffset")),
      consumerOffset: long(value.consumerOffset, path(f, "consumerOffset")),
      lastTimestamp: long(value.lastTimestamp, path(f, "lastTimestamp")),
    };
    if (value.pullOffset !== undefined) q.pullOffset = long(value.pullOffset, path(f, "pullOffset"));
    return q;
  });
  // A primitive double, so fastjson always writes it; 0 when absent all the same, as Java would.
  const consumeTps = o.consumeTps === undefined ? 0 : double(o.consumeTps, "ConsumeStats.consumeTps");
  return { consumeTps, queues: queues.sort(compareQueueKeys) };
}

/**
 * Parses a GET_CONSUMER_LIST_BY_GROUP (38) body (`{"consumerIdList":[…]}`): the client ids of
 * the group's consumers connected to that broker.
 *
 * @throws ProtocolError (`MQW_ERR_PROTOCOL`), as {@link parseTopicStatsTable}
 */
export function parseConsumerIdList(body: Uint8Array): string[] {
  const name = "GetConsumerListByGroupResponseBody";
  return stringList(bodyObject(body, name).consumerIdList, path(name, "consumerIdList"));
}

/**
 * Parses a TopicList body (`{"topicList":[…]}`, GET_ALL_TOPIC_LIST_FROM_NAMESERVER 206 and the
 * other topic-list codes), in the order sent (a HashSet's, so no order to rely on).
 *
 * @throws ProtocolError (`MQW_ERR_PROTOCOL`), as {@link parseTopicStatsTable}
 */
export function parseTopicList(body: Uint8Array): string[] {
  const o = bodyObject(body, "TopicList");
  // Java initialises the set; a null one would be omitted, and reads as empty.
  if (o.topicList === undefined) return [];
  return stringList(array(o.topicList, "TopicList.topicList"), "TopicList.topicList");
}
