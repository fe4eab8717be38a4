/**
 * RocketMQ 4.9.8's custom headers for the calls mqwire makes, each declared once. Property names
 * are the Java field names of common/.../protocol/header/<Class>.java, in declaration order;
 * `required` is the field's `@CFNotNull`. Headers whose class extends `RpcRequestHeader`
 * (common/.../rpc/RpcRequestHeader.java) carry its optional `bname`, the broker name the 4.9.8
 * client fills in; `makeCustomHeaderToNet` writes superclass fields too.
 *
 * Java primitive `boolean` fields are never null, so Java always writes them: they get
 * `default: false` (see `HeaderFieldSpec.default`).
 */
import { defineHeader } from "./custom-header.js";

/**
 * Request of SEND_MESSAGE (10), and of SEND_REPLY_MESSAGE (324); SendMessageRequestHeader.java.
 * The Java client sends SEND_MESSAGE_V2 instead (`sendSmartMsg`, the default): same values,
 * {@link SendMessageRequestHeaderV2}'s keys.
 */
export const SendMessageRequestHeader = defineHeader("SendMessageRequestHeader", {
  /** The producer group. */
  producerGroup: { type: "string", required: true },
  /** The topic. */
  topic: { type: "string", required: true },
  /** The template topic a missing topic is created from (TBW102). */
  defaultTopic: { type: "string", required: true },
  /** Queues of a topic the broker creates at this send. */
  defaultTopicQueueNums: { type: "int", required: true },
  /** The queue within the topic on this broker. */
  queueId: { type: "int", required: true },
  /** `MessageSysFlag` bits (compression, transaction type, batch). */
  sysFlag: { type: "int", required: true },
  /** When the producer made the message, epoch ms. */
  bornTimestamp: { type: "long", required: true },
  /** The message's int32 `flag`, free for the application. */
  flag: { type: "int", required: true },
  /** The message properties, in `MessageDecoder.messageProperties2String` form. */
  properties: { type: "string" },
  /** Times the message was consumed again (retry topics). */
  reconsumeTimes: { type: "int" },
  /** Unit mode (Java primitive, always written). */
  unitMode: { type: "boolean", default: false },
  /** The body is a batch of messages (Java primitive, always written). */
  batch: { type: "boolean", default: false },
  /** Retries before the message goes to the dead-letter queue. */
  maxReconsumeTimes: { type: "int" },
  /** The broker name the request is meant for (RpcRequestHeader). */
  bname: { type: "string" },
});

/**
 * Request of SEND_MESSAGE_V2 (310), SEND_BATCH_MESSAGE (320) and SEND_REPLY_MESSAGE_V2 (325):
 * SendMessageRequestHeaderV2.java, one-letter keys "a".."n" to speed up the broker's parsing.
 * The properties and types are those of {@link SendMessageRequestHeader}, so one values object
 * encodes with either; the order is V2's (`k` unitMode, `l` maxReconsumeTimes, `m` batch,
 * `n` bname), which is its `encode` order. Java's V2 `decode` only logs a missing `@CFNotNull`
 * field (FastCodesHeader.getAndCheckNotNull); here it is refused, as in every header.
 */
export const SendMessageRequestHeaderV2 = defineHeader("SendMessageRequestHeaderV2", {
  /** The producer group. */
  producerGroup: { type: "string", required: true, key: "a" },
  /** The topic. */
  topic: { type: "string", required: true, key: "b" },
  /** The template topic a missing topic is created from (TBW102). */
  defaultTopic: { type: "string", required: true, key: "c" },
  /** Queues of a topic the broker creates at this send. */
  defaultTopicQueueNums: { type: "int", required: true, key: "d" },
  /** The queue within the topic on this broker. */
  queueId: { type: "int", required: true, key: "e" },
  /** `MessageSysFlag` bits (compression, transaction type, batch). */
  sysFlag: { type: "int", required: true, key: "f" },
  /** When the producer made the message, epoch ms. */
  bornTimestamp: { type: "long", required: true, key: "g" },
  /** The message's int32 `flag`, free for the application. */
  flag: { type: "int", required: true, key: "h" },
  /** The message properties, in `MessageDecoder.messageProperties2String` form. */
  properties: { type: "string", key: "i" },
  /** Times the message was consumed again (retry topics). */
  reconsumeTimes: { type: "int", key: "j" },
  /** Unit mode (Java primitive, always written). */
  unitMode: { type: "boolean", default: false, key: "k" },
  /** Retries before the message goes to the dead-letter queue. */
  maxReconsumeTimes: { type: "int", key: "l" },
  /** The body is a batch of messages (Java primitive, always written). */
  batch: { type: "boolean", default: false, key: "m" },
  /** The broker name the request is meant for (RpcRequestHeader). */
  bname: { type: "string", key: "n" },
});

/** Response of SEND_MESSAGE, SEND_MESSAGE_V2 and SEND_BATCH_MESSAGE; SendMessageResponseHeader.java. */
export const SendMessageResponseHeader = defineHeader("SendMessageResponseHeader", {
  /** The broker's message id (store host and commit log offset). */
  msgId: { type: "string", required: true },
  /** The queue the message was stored in. */
  queueId: { type: "int", required: true },
  /** The message's offset within its queue. */
  queueOffset: { type: "long", required: true },
  /** The transaction id, for transactional messages. */
  transactionId: { type: "string" },
});

/** Request of PULL_MESSAGE (11); PullMessageRequestHeader.java. */
export const PullMessageRequestHeader = defineHeader("PullMessageRequestHeader", {
  /** The consumer group. */
  consumerGroup: { type: "string", required: true },
  /** The topic. */
  topic: { type: "string", required: true },
  /** The queue within the topic on this broker. */
  queueId: { type: "int", required: true },
  /** The offset to pull from. */
  queueOffset: { type: "long", required: true },
  /** Most messages to return. */
  maxMsgNums: { type: "int", required: true },
  /** `PullSysFlag` bits: commit offset, suspend, subscription, class filter. */
  sysFlag: { type: "int", required: true },
  /** The consumer offset to commit with this pull (with the commit-offset flag). */
  commitOffset: { type: "long", required: true },
  /** How long the broker may hold the pull when no message is there (long polling), ms. */
  suspendTimeoutMillis: { type: "long", required: true },
  /** The subscription expression (tags: "*" or "TagA || TagB"). */
  subscription: { type: "string" },
  /** Version of the subscription the broker should match. */
  subVersion: { type: "long", required: true },
  /** TAG or SQL92. */
  expressionType: { type: "string" },
  /** The broker name the request is meant for (RpcRequestHeader). */
  bname: { type: "string" },
});

/** Response of PULL_MESSAGE (11); PullMessageResponseHeader.java. */
export const PullMessageResponseHeader = defineHeader("PullMessageResponseHeader", {
  /** The broker id to pull from next (0: the master). */
  suggestWhichBrokerId: { type: "long", required: true },
  /** The offset to pull from next. */
  nextBeginOffset: { type: "long", required: true },
  /** The queue's first offset. */
  minOffset: { type: "long", required: true },
  /** The offset after the queue's last message. */
  maxOffset: { type: "long", required: true },
});

/** Request of QUERY_CONSUMER_OFFSET (14); QueryConsumerOffsetRequestHeader.java. */
export const QueryConsumerOffsetRequestHeader = defineHeader("QueryConsumerOffsetRequestHeader", {
  /** The consumer group. */
  consumerGroup: { type: "string", required: true },
  /** The topic. */
  topic: { type: "string", required: true },
  /** The queue within the topic on this broker. */
  queueId: { type: "int", required: true },
  /** The broker name the request is meant for (RpcRequestHeader). */
  bname: { type: "string" },
});

/** Response of QUERY_CONSUMER_OFFSET (14); QueryConsumerOffsetResponseHeader.java. */
export const QueryConsumerOffsetResponseHeader = defineHeader("QueryConsumerOffsetResponseHeader", {
  /** The group's committed offset. */
  offset: { type: "long", required: true },
});

/** Request of UPDATE_CONSUMER_OFFSET (15); UpdateConsumerOffsetRequestHeader.java. */
export const UpdateConsumerOffsetRequestHeader = defineHeader("UpdateConsumerOffsetRequestHeader", {
  /** The consumer group. */
  consumerGroup: { type: "string", required: true },
  /** The topic. */
  topic: { type: "string", required: true },
  /** The queue within the topic on this broker. */
  queueId: { type: "int", required: true },
  /** The consumer offset to commit. */
  commitOffset: { type: "long", required: true },
  /** The broker name the request is meant for (RpcRequestHeader). */
  bname: { type: "string" },
});

/**
 * Request of GET_ROUTEINFO_BY_TOPIC (105) to a name server; namesrv/GetRouteInfoRequestHeader.java.
 * `acceptStandardJsonOnly` asks for standard JSON (quoted map keys) from a name server that would
 * otherwise answer an old client with fastjson's form; a 4.9.8 name server sends standard JSON to
 * any client of version V4_9_4 or later regardless (DefaultRequestProcessor.getRouteInfoByTopic).
 */
export const GetRouteInfoRequestHeader = defineHeader("GetRouteInfoRequestHeader", {
  /** The topic. */
  topic: { type: "string", required: true },
  /** Ask for standard JSON instead of fastjson's dialect (name servers of 5.x). */
  acceptStandardJsonOnly: { type: "boolean" },
});

/**
 * Request of UPDATE_AND_CREATE_TOPIC (17) to a broker; CreateTopicRequestHeader.java. Java's
 * `order` defaults to false and is always sent; here the caller gives it.
 */
export const CreateTopicRequestHeader = defineHeader("CreateTopicRequestHeader", {
  /** The topic. */
  topic: { type: "string", required: true },
  /** The template topic a missing topic is created from (TBW102). */
  defaultTopic: { type: "string", required: true },
  /** Read queues. */
  readQueueNums: { type: "int", required: true },
  /** Write queues. */
  writeQueueNums: { type: "int", required: true },
  /** Permission bits (`Perm`). */
  perm: { type: "int", required: true },
  /** SINGLE_TAG or MULTI_TAG. */
  topicFilterType: { type: "string", required: true },
  /** Topic system flags (unit, unit subscription). */
  topicSysFlag: { type: "int" },
  /** An ordered topic. */
  order: { type: "boolean", required: true },
});

/**
 * Request of DELETE_TOPIC_IN_BROKER (215); DeleteTopicRequestHeader.java. (DELETE_TOPIC_IN_NAMESRV
 * takes DeleteTopicFromNamesrvRequestHeader, which adds `clusterName`.)
 */
export const DeleteTopicRequestHeader = defineHeader("DeleteTopicRequestHeader", {
  /** The topic. */
  topic: { type: "string", required: true },
});

/** Request of GET_TOPIC_STATS_INFO (202); GetTopicStatsInfoRequestHeader.java. */
export const GetTopicStatsInfoRequestHeader = defineHeader("GetTopicStatsInfoRequestHeader", {
  /** The topic. */
  topic: { type: "string", required: true },
});

/** Request of GET_CONSUME_STATS (208); GetConsumeStatsRequestHeader.java. */
export const GetConsumeStatsRequestHeader = defineHeader("GetConsumeStatsRequestHeader", {
  /** The consumer group. */
  consumerGroup: { type: "string", required: true },
  /** The topic. */
  topic: { type: "string" },
});

/** Request of GET_CONSUMER_LIST_BY_GROUP (38); GetConsumerListByGroupRequestHeader.java. */
export const GetConsumerListByGroupRequestHeader = defineHeader("GetConsumerListByGroupRequestHeader", {
  /** The consumer group. */
  consumerGroup: { type: "string", required: true },
});

/**
 * Request of UNREGISTER_CLIENT (35); UnregisterClientRequestHeader.java. The key is `clientID`,
 * capital D, as the Java field is named.
 */
export const UnregisterClientRequestHeader = defineHeader("UnregisterClientRequestHeader", {
  /** The client id (`ip@instanceName`). */
  clientID: { type: "string", required: true },
  /** The producer group left, if any. */
  producerGroup: { type: "string" },
  /** The consumer group left, if any. */
  consumerGroup: { type: "string" },
});

/** Request of GET_MAX_OFFSET (30); GetMaxOffsetRequestHeader.java. */
export const GetMaxOffsetRequestHeader = defineHeader("GetMaxOffsetRequestHeader", {
  /** The topic. */
  topic: { type: "string", required: true },
  /** The queue within the topic on this broker. */
  queueId: { type: "int", required: true },
  /** The broker name the request is meant for (RpcRequestHeader). */
  bname: { type: "string" },
});

/** Response of GET_MAX_OFFSET (30); GetMaxOffsetResponseHeader.java. */
export const GetMaxOffsetResponseHeader = defineHeader("GetMaxOffsetResponseHeader", {
  /** The offset after the queue's last message. */
  offset: { type: "long", required: true },
});

/** Request of GET_MIN_OFFSET (31); GetMinOffsetRequestHeader.java. */
export const GetMinOffsetRequestHeader = defineHeader("GetMinOffsetRequestHeader", {
  /** The topic. */
  topic: { type: "string", required: true },
  /** The queue within the topic on this broker. */
  queueId: { type: "int", required: true },
  /** The broker name the request is meant for (RpcRequestHeader). */
  bname: { type: "string" },
});

/** Response of GET_MIN_OFFSET (31); GetMinOffsetResponseHeader.java. */
export const GetMinOffsetResponseHeader = defineHeader("GetMinOffsetResponseHeader", {
  /** The queue's first offset. */
  offset: { type: "long", required: true },
});

/** Request of SEARCH_OFFSET_BY_TIMESTAMP (29); SearchOffsetRequestHeader.java. `timestamp` in epoch ms. */
export const SearchOffsetRequestHeader = defineHeader("SearchOffsetRequestHeader", {
  /** The topic. */
  topic: { type: "string", required: true },
  /** The queue within the topic on this broker. */
  queueId: { type: "int", required: true },
  /** Find the first offset stored at or after this time, epoch ms. */
  timestamp: { type: "long", required: true },
  /** The broker name the request is meant for (RpcRequestHeader). */
  bname: { type: "string" },
});

/** Response of SEARCH_OFFSET_BY_TIMESTAMP (29); SearchOffsetResponseHeader.java. */
export const SearchOffsetResponseHeader = defineHeader("SearchOffsetResponseHeader", {
  /** The offset found. */
  offset: { type: "long", required: true },
});

/**
 * Request of CONSUMER_SEND_MSG_BACK (36); ConsumerSendMsgBackRequestHeader.java. `offset` is the
 * message's commit-log offset.
 */
export const ConsumerSendMsgBackRequestHeader = defineHeader("ConsumerSendMsgBackRequestHeader", {
  /** The commit log offset of the message sent back. */
  offset: { type: "long", required: true },
  /** The consumer group. */
  group: { type: "string", required: true },
  /** Delay level of the retry (0: the broker decides from the retry count). */
  delayLevel: { type: "int", required: true },
  /** The message id of the original message. */
  originMsgId: { type: "string" },
  /** The topic of the original message. */
  originTopic: { type: "string" },
  /** Unit mode (Java primitive, always written). */
  unitMode: { type: "boolean", default: false },
  /** Retries before the message goes to the dead-letter queue. */
  maxReconsumeTimes: { type: "int" },
  /** The broker name the request is meant for (RpcRequestHeader). */
  bname: { type: "string" },
});

/** Request of VIEW_MESSAGE_BY_ID (33); ViewMessageRequestHeader.java. `offset`: commit-log offset. */
export const ViewMessageRequestHeader = defineHeader("ViewMessageRequestHeader", {
  /** The commit log offset of the message. */
  offset: { type: "long", required: true },
});

/**
 * Request of QUERY_MESSAGE (12); QueryMessageRequestHeader.java. The Java client also adds the
 * extField `_UNIQUE_KEY_QUERY` ("true"/"false", MixAll.UNIQUE_MSG_QUERY_FLAG) outside the header.
 */
export const QueryMessageRequestHeader = defineHeader("QueryMessageRequestHeader", {
  /** The topic. */
  topic: { type: "string", required: true },
  /** The message key to look for. */
  key: { type: "string", required: true },
  /** Most messages to return. */
  maxNum: { type: "int", required: true },
  /** Start of the time range, epoch ms. */
  beginTimestamp: { type: "long", required: true },
  /** End of the time range, epoch ms. */
  endTimestamp: { type: "long", required: true },
});
