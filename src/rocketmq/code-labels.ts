/**
 * The labels RocketMQ 5 writes for request and response codes in its metrics
 * (RemotingHelper.getRequestCodeDesc / getResponseCodeDesc): the code's lower-case name, else the
 * number. The names are RocketMQ 4.9.8's (./codes.ts, which the parsers and `RequestCode` keep)
 * plus those RocketMQ 5 added, copied from remoting/.../protocol/RequestCode.java and
 * ResponseCode.java at apache/rocketmq 8fc57f1. They serve labels only: a name here is not a
 * code mqwire's own clients send or its parsers accept.
 */
import { RequestCode, ResponseCode } from "./codes.js";

/**
 * RequestCode.java's `int` constants that 4.9.8 lacks. Its five `short` constants (1014-1018,
 * the controller's broker-liveness requests) are left out, as RemotingHelper's map keeps `int`
 * fields only and labels them with the number.
 */
const ROCKETMQ5_REQUEST_CODES: Readonly<Record<string, number>> = {
  UPDATE_AND_CREATE_TOPIC_LIST: 18,
  GET_CLIENT_CONFIG: 47,
  GET_TIMER_CHECK_POINT: 60,
  GET_TIMER_METRICS: 61,
  POP_MESSAGE: 200050,
  ACK_MESSAGE: 200051,
  BATCH_ACK_MESSAGE: 200151,
  PEEK_MESSAGE: 200052,
  CHANGE_MESSAGE_INVISIBLETIME: 200053,
  NOTIFICATION: 200054,
  POLLING_INFO: 200055,
  POP_ROLLBACK: 200056,
  REGISTER_TOPIC_IN_NAMESRV: 217,
  UPDATE_AND_CREATE_SUBSCRIPTIONGROUP_LIST: 225,
  QUERY_TOPICS_BY_CONSUMER: 343,
  QUERY_SUBSCRIPTION_BY_CONSUMER: 345,
  GET_TOPIC_CONFIG: 351,
  GET_SUBSCRIPTIONGROUP_CONFIG: 352,
  UPDATE_AND_GET_GROUP_FORBIDDEN: 353,
  CHECK_ROCKSDB_CQ_WRITE_PROGRESS: 354,
  EXPORT_ROCKSDB_CONFIG_TO_JSON: 355,
  LITE_PULL_MESSAGE: 361,
  RECALL_MESSAGE: 370,
  QUERY_ASSIGNMENT: 400,
  SET_MESSAGE_REQUEST_MODE: 401,
  GET_ALL_MESSAGE_REQUEST_MODE: 402,
  UPDATE_AND_CREATE_STATIC_TOPIC: 513,
  GET_BROKER_MEMBER_GROUP: 901,
  ADD_BROKER: 902,
  REMOVE_BROKER: 903,
  BROKER_HEARTBEAT: 904,
  NOTIFY_MIN_BROKER_ID_CHANGE: 905,
  EXCHANGE_BROKER_HA_INFO: 906,
  GET_BROKER_HA_STATUS: 907,
  RESET_MASTER_FLUSH_OFFSET: 908,
  CONTROLLER_ALTER_SYNC_STATE_SET: 1001,
  CONTROLLER_ELECT_MASTER: 1002,
  CONTROLLER_REGISTER_BROKER: 1003,
  CONTROLLER_GET_REPLICA_INFO: 1004,
  CONTROLLER_GET_METADATA_INFO: 1005,
  CONTROLLER_GET_SYNC_STATE_DATA: 1006,
  GET_BROKER_EPOCH_CACHE: 1007,
  NOTIFY_BROKER_ROLE_CHANGED: 1008,
  UPDATE_CONTROLLER_CONFIG: 1009,
  GET_CONTROLLER_CONFIG: 1010,
  CLEAN_BROKER_DATA: 1011,
  CONTROLLER_GET_NEXT_BROKER_ID: 1012,
  CONTROLLER_APPLY_BROKER_ID: 1013,
  UPDATE_COLD_DATA_FLOW_CTR_CONFIG: 2001,
  REMOVE_COLD_DATA_FLOW_CTR_CONFIG: 2002,
  GET_COLD_DATA_FLOW_CTR_INFO: 2003,
  SET_COMMITLOG_READ_MODE: 2004,
  AUTH_CREATE_USER: 3001,
  AUTH_UPDATE_USER: 3002,
  AUTH_DELETE_USER: 3003,
  AUTH_GET_USER: 3004,
  AUTH_LIST_USER: 3005,
  AUTH_CREATE_ACL: 3006,
  AUTH_UPDATE_ACL: 3007,
  AUTH_DELETE_ACL: 3008,
  AUTH_GET_ACL: 3009,
  AUTH_LIST_ACL: 3010,
};

/**
 * ResponseCode.java's constants that 4.9.8 lacks. 209-211 were 4.9.8's ACL failure codes
 * (UPDATE_AND_CREATE_ACL_CONFIG_FAILED and the next two); RocketMQ 5 took the values for
 * POLLING_FULL, POLLING_TIMEOUT and BROKER_NOT_EXIST, and its labels say so.
 */
const ROCKETMQ5_RESPONSE_CODES: Readonly<Record<string, number>> = {
  INVALID_PARAMETER: 29,
  POLLING_FULL: 209,
  POLLING_TIMEOUT: 210,
  BROKER_NOT_EXIST: 211,
  BROKER_DISPATCH_NOT_COMPLETE: 212,
  BROADCAST_CONSUMPTION: 213,
  NOT_LEADER_FOR_QUEUE: 501,
  ILLEGAL_OPERATION: 604,
  RPC_UNKNOWN: -1000,
  RPC_ADDR_IS_NULL: -1002,
  RPC_SEND_TO_CHANNEL_FAILED: -1004,
  RPC_TIME_OUT: -1006,
  CONTROLLER_FENCED_MASTER_EPOCH: 2000,
  CONTROLLER_FENCED_SYNC_STATE_SET_EPOCH: 2001,
  CONTROLLER_INVALID_MASTER: 2002,
  CONTROLLER_INVALID_REPLICAS: 2003,
  CONTROLLER_MASTER_NOT_AVAILABLE: 2004,
  CONTROLLER_INVALID_REQUEST: 2005,
  CONTROLLER_BROKER_NOT_ALIVE: 2006,
  CONTROLLER_NOT_LEADER: 2007,
  CONTROLLER_BROKER_METADATA_NOT_EXIST: 2008,
  CONTROLLER_INVALID_CLEAN_BROKER_METADATA: 2009,
  CONTROLLER_BROKER_NEED_TO_BE_REGISTERED: 2010,
  CONTROLLER_MASTER_STILL_EXIST: 2011,
  CONTROLLER_ELECT_MASTER_FAILED: 2012,
  CONTROLLER_ALTER_SYNC_STATE_SET_FAILED: 2013,
  CONTROLLER_BROKER_ID_INVALID: 2014,
  CONTROLLER_JRAFT_INTERNAL_ERROR: 2015,
  CONTROLLER_BROKER_LIVE_INFO_NOT_EXISTS: 2016,
  USER_NOT_EXIST: 3001,
  POLICY_NOT_EXIST: 3002,
};

/** Code → label, 4.9.8's names first and RocketMQ 5's over them where both name a value. */
function labels(...tables: Readonly<Record<string, number>>[]): ReadonlyMap<number, string> {
  const byCode = new Map<number, string>();
  for (const table of tables) {
    for (const [name, code] of Object.entries(table)) byCode.set(code, name.toLowerCase());
  }
  return byCode;
}

const requestLabels = labels(RequestCode, ROCKETMQ5_REQUEST_CODES);
const responseLabels = labels(ResponseCode, ROCKETMQ5_RESPONSE_CODES);

/**
 * The `request_code` label RocketMQ 5 writes for `code`: its lower-case name (`"send_message"`,
 * `"pop_message"`), else the decimal number (`"12345"`).
 */
export function requestCodeLabel(code: number): string {
  return requestLabels.get(code) ?? String(code);
}

/**
 * The `response_code` label RocketMQ 5 writes for `code`: its lower-case name
 * (`"topic_not_exist"`, `"polling_full"`), else the decimal number.
 */
export function responseCodeLabel(code: number): string {
  return responseLabels.get(code) ?? String(code);
}
