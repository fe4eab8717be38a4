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
  producerGroup: { type: "string", required: true },
  topic: { type: "string", required: true },
  defaultTopic: { type: "string", required: true },
  defaultTopicQueueNums: { type: "int", required: true },
  queueId: { type: "int", required: true },
  sysFlag: { type: "int", required: true },
  bornTimestamp: { type: "long", required: true },
  flag: { type: "int", required: true },
  properties: { type: "string" },
  reconsumeTimes: { type: "int" },
  unitMode: { type: "boolean", default: false },
  batch: { type: "boolean", default: false },
  maxReconsumeTimes: { type: "int" },
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
  producerGroup: { type: "string", required: true, key: "a" },
  topic: { type: "string", required: true, key: "b" },
  defaultTopic: { type: "string", required: true, key: "c" },
  defaultTopicQueueNums: { type: "int", required: true, key: "d" },
  queueId: { type: "int", required: true, key: "e" },
  sysFlag: { type: "int", required: true, key: "f" },
  bornTimestamp: { type: "long", required: true, key: "g" },
  flag: { type: "int", required: true, key: "h" },
  properties: { type: "string", key: "i" },
  reconsumeTimes: { type: "int", key: "j" },
  unitMode: { type: "boolean", default: false, key: "k" },
  maxReconsumeTimes: { type: "int", key: "l" },
  batch: { type: "boolean", default: false, key: "m" },
  bname: { type: "string", key: "n" },
});

/** Response of SEND_MESSAGE, SEND_MESSAGE_V2 and SEND_BATCH_MESSAGE; SendMessageResponseHeader.java. */
export const SendMessageResponseHeader = defineHeader("SendMessageResponseHeader", {
  msgId: { type: "string", required: true },
  queueId: { type: "int", required: true },
  queueOffset: { type: "long", required: true },
  transactionId: { type: "string" },
});

/** Request of PULL_MESSAGE (11); PullMessageRequestHeader.java. */
export const PullMessageRequestHeader = defineHeader("PullMessageRequestHeader", {
  consumerGroup: { type: "string", required: true },
  topic: { type: "string", required: true },
  queueId: { type: "int", required: true },
  queueOffset: { type: "long", required: true },
  maxMsgNums: { type: "int", required: true },
  sysFlag: { type: "int", required: true },
  commitOffset: { type: "long", required: true },
  suspendTimeoutMillis: { type: "long", required: true },
  subscription: { type: "string" },
  subVersion: { type: "long", required: true },
  expressionType: { type: "string" },
  bname: { type: "string" },
});

/** Response of PULL_MESSAGE (11); PullMessageResponseHeader.java. */
export const PullMessageResponseHeader = defineHeader("PullMessageResponseHeader", {
  suggestWhichBrokerId: { type: "long", required: true },
  nextBeginOffset: { type: "long", required: true },
  minOffset: { type: "long", required: true },
  maxOffset: { type: "long", required: true },
});

/** Request of QUERY_CONSUMER_OFFSET (14); QueryConsumerOffsetRequestHeader.java. */
export const QueryConsumerOffsetRequestHeader = defineHeader("QueryConsumerOffsetRequestHeader", {
  consumerGroup: { type: "string", required: true },
  topic: { type: "string", required: true },
  queueId: { type: "int", required: true },
  bname: { type: "string" },
});

/** Response of QUERY_CONSUMER_OFFSET (14); QueryConsumerOffsetResponseHeader.java. */
export const QueryConsumerOffsetResponseHeader = defineHeader("QueryConsumerOffsetResponseHeader", {
  offset: { type: "long", required: true },
});

/** Request of UPDATE_CONSUMER_OFFSET (15); UpdateConsumerOffsetRequestHeader.java. */
export const UpdateConsumerOffsetRequestHeader = defineHeader("UpdateConsumerOffsetRequestHeader", {
  consumerGroup: { type: "string", required: true },
  topic: { type: "string", required: true },
  queueId: { type: "int", required: true },
  commitOffset: { type: "long", required: true },
  bname: { type: "string" },
});

/**
 * Request of GET_ROUTEINFO_BY_TOPIC (105) to a name server; namesrv/GetRouteInfoRequestHeader.java.
 * `acceptStandardJsonOnly` asks for standard JSON (quoted map keys) from a name server that would
 * otherwise answer an old client with fastjson's form; a 4.9.8 name server sends standard JSON to
 * any client of version V4_9_4 or later regardless (DefaultRequestProcessor.getRouteInfoByTopic).
 */
export const GetRouteInfoRequestHeader = defineHeader("GetRouteInfoRequestHeader", {
  topic: { type: "string", required: true },
  acceptStandardJsonOnly: { type: "boolean" },
});

/**
 * Request of UPDATE_AND_CREATE_TOPIC (17) to a broker; CreateTopicRequestHeader.java. Java's
 * `order` defaults to false and is always sent; here the caller gives it.
 */
export const CreateTopicRequestHeader = defineHeader("CreateTopicRequestHeader", {
  topic: { type: "string", required: true },
  defaultTopic: { type: "string", required: true },
  readQueueNums: { type: "int", required: true },
  writeQueueNums: { type: "int", required: true },
  perm: { type: "int", required: true },
  topicFilterType: { type: "string", required: true },
  topicSysFlag: { type: "int" },
  order: { type: "boolean", required: true },
});

/**
 * Request of DELETE_TOPIC_IN_BROKER (215); DeleteTopicRequestHeader.java. (DELETE_TOPIC_IN_NAMESRV
 * takes DeleteTopicFromNamesrvRequestHeader, which adds `clusterName`.)
 */
export const DeleteTopicRequestHeader = defineHeader("DeleteTopicRequestHeader", {
  topic: { type: "string", required: true },
});

/** Request of GET_TOPIC_STATS_INFO (202); GetTopicStatsInfoRequestHeader.java. */
export const GetTopicStatsInfoRequestHeader = defineHeader("GetTopicStatsInfoRequestHeader", {
  topic: { type: "string", required: true },
});

/** Request of GET_CONSUME_STATS (208); GetConsumeStatsRequestHeader.java. */
export const GetConsumeStatsRequestHeader = defineHeader("GetConsumeStatsRequestHeader", {
  consumerGroup: { type: "string", required: true },
  topic: { type: "string" },
});

/** Request of GET_CONSUMER_LIST_BY_GROUP (38); GetConsumerListByGroupRequestHeader.java. */
export const GetConsumerListByGroupRequestHeader = defineHeader("GetConsumerListByGroupRequestHeader", {
  consumerGroup: { type: "string", required: true },
});

/**
 * Request of UNREGISTER_CLIENT (35); UnregisterClientRequestHeader.java. The key is `clientID`,
 * capital D, as the Java field is named.
 */
export const UnregisterClientRequestHeader = defineHeader("UnregisterClientRequestHeader", {
  clientID: { type: "string", required: true },
  producerGroup: { type: "string" },
  consumerGroup: { type: "string" },
});

/** Request of GET_MAX_OFFSET (30); GetMaxOffsetRequestHeader.java. */
export const GetMaxOffsetRequestHeader = defineHeader("GetMaxOffsetRequestHeader", {
  topic: { type: "string", required: true },
  queueId: { type: "int", required: true },
  bname: { type: "string" },
});

/** Response of GET_MAX_OFFSET (30); GetMaxOffsetResponseHeader.java. */
export const GetMaxOffsetResponseHeader = defineHeader("GetMaxOffsetResponseHeader", {
  offset: { type: "long", required: true },
});

/** Request of GET_MIN_OFFSET (31); GetMinOffsetRequestHeader.java. */
export const GetMinOffsetRequestHeader = defineHeader("GetMinOffsetRequestHeader", {
  topic: { type: "string", required: true },
  queueId: { type: "int", required: true },
  bname: { type: "string" },
});

/** Response of GET_MIN_OFFSET (31); GetMinOffsetResponseHeader.java. */
export const GetMinOffsetResponseHeader = defineHeader("GetMinOffsetResponseHeader", {
  offset: { type: "long", required: true },
});

/** Request of SEARCH_OFFSET_BY_TIMESTAMP (29); SearchOffsetRequestHeader.java. `timestamp` in epoch ms. */
export const SearchOffsetRequestHeader = defineHeader("SearchOffsetRequestHeader", {
  topic: { type: "string", required: true },
  queueId: { type: "int", required: true },
  timestamp: { type: "long", required: true },
  bname: { type: "string" },
});

/** Response of SEARCH_OFFSET_BY_TIMESTAMP (29); SearchOffsetResponseHeader.java. */
export const SearchOffsetResponseHeader = defineHeader("SearchOffsetResponseHeader", {
  offset: { type: "long", required: true },
});

/**
 * Request of CONSUMER_SEND_MSG_BACK (36); ConsumerSendMsgBackRequestHeader.java. `offset` is the
 * message's commit-log offset.
 */
export const ConsumerSendMsgBackRequestHeader = defineHeader("ConsumerSendMsgBackRequestHeader", {
  offset: { type: "long", required: true },
  group: { type: "string", required: true },
  delayLevel: { type: "int", required: true },
  originMsgId: { type: "string" },
  originTopic: { type: "string" },
  unitMode: { type: "boolean", default: false },
  maxReconsumeTimes: { type: "int" },
  bname: { type: "string" },
});

/** Request of VIEW_MESSAGE_BY_ID (33); ViewMessageRequestHeader.java. `offset`: commit-log offset. */
export const ViewMessageRequestHeader = defineHeader("ViewMessageRequestHeader", {
  offset: { type: "long", required: true },
});

/**
 * Request of QUERY_MESSAGE (12); QueryMessageRequestHeader.java. The Java client also adds the
 * extField `_UNIQUE_KEY_QUERY` ("true"/"false", MixAll.UNIQUE_MSG_QUERY_FLAG) outside the header.
 */
export const QueryMessageRequestHeader = defineHeader("QueryMessageRequestHeader", {
  topic: { type: "string", required: true },
  key: { type: "string", required: true },
  maxNum: { type: "int", required: true },
  beginTimestamp: { type: "long", required: true },
  endTimestamp: { type: "long", required: true },
});
