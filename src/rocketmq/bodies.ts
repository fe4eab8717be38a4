/**
 * RocketMQ's JSON bodies, typed: one import point for the client and admin layers. Each body
 * lives in a file of its own job: route-data.ts (105, 106), admin-bodies.ts (202, 208, 206, 38),
 * heartbeat-data.ts (34), all read through the fastjson dialect parser in dialect.ts.
 */
export {
  type ConsumeQueueStats,
  type ConsumeStats,
  compareQueueKeys,
  parseConsumerIdList,
  parseConsumeStats,
  parseTopicList,
  parseTopicStatsTable,
  type QueueKey,
  type TopicQueueStats,
  type TopicStats,
} from "./admin-bodies.js";
export { BodyFieldError } from "./body-fields.js";
export { JsonDialectError, parseRocketmqJson, toStandardJson } from "./dialect.js";
export {
  buildSubscriptionData,
  type ConsumeFromWhere,
  type ConsumerData,
  type ConsumeType,
  type ExpressionType,
  encodeHeartbeatData,
  type HeartbeatData,
  javaStringHashCode,
  type MessageModel,
  type ProducerData,
  parseHeartbeatData,
  type SubscriptionData,
} from "./heartbeat-data.js";
export {
  type BrokerData,
  type ClusterInfo,
  parseClusterInfo,
  parseTopicRouteData,
  type QueueData,
  type TopicRouteData,
} from "./route-data.js";
