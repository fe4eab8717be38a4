/**
 * RocketMQ 4.9.8's request and response codes, with O(1) lookups both ways and parsers for
 * command-line input. Copied constant by constant, in Java's order, from
 * common/.../protocol/RequestCode.java, common/.../protocol/ResponseCode.java and
 * remoting/.../protocol/RemotingSysResponseCode.java.
 *
 * Error convention of this file: lookups return `undefined` for an unknown code; the parsers throw
 * `InvalidArgumentError` (`MQW_ERR_INVALID_ARGUMENT`), since their input comes from a user.
 */
import { InvalidArgumentError } from "../errors.js";

/**
 * Every `RequestCode` of RocketMQ 4.9.8 (common/.../protocol/RequestCode.java), same names and
 * values, in Java's declaration order (which is not numeric: QUERY_TOPIC_CONSUME_BY_WHO, 300, comes
 * before GET_TOPICS_BY_CLUSTER, 224). No two names share a value.
 * @enum
 */
export const RequestCode = {
  SEND_MESSAGE: 10,
  PULL_MESSAGE: 11,
  QUERY_MESSAGE: 12,
  QUERY_BROKER_OFFSET: 13,
  QUERY_CONSUMER_OFFSET: 14,
  UPDATE_CONSUMER_OFFSET: 15,
  UPDATE_AND_CREATE_TOPIC: 17,
  GET_ALL_TOPIC_CONFIG: 21,
  GET_TOPIC_CONFIG_LIST: 22,
  GET_TOPIC_NAME_LIST: 23,
  UPDATE_BROKER_CONFIG: 25,
  GET_BROKER_CONFIG: 26,
  TRIGGER_DELETE_FILES: 27,
  GET_BROKER_RUNTIME_INFO: 28,
  SEARCH_OFFSET_BY_TIMESTAMP: 29,
  GET_MAX_OFFSET: 30,
  GET_MIN_OFFSET: 31,
  GET_EARLIEST_MSG_STORETIME: 32,
  VIEW_MESSAGE_BY_ID: 33,
  HEART_BEAT: 34,
  UNREGISTER_CLIENT: 35,
  CONSUMER_SEND_MSG_BACK: 36,
  END_TRANSACTION: 37,
  GET_CONSUMER_LIST_BY_GROUP: 38,
  CHECK_TRANSACTION_STATE: 39,
  NOTIFY_CONSUMER_IDS_CHANGED: 40,
  LOCK_BATCH_MQ: 41,
  UNLOCK_BATCH_MQ: 42,
  GET_ALL_CONSUMER_OFFSET: 43,
  GET_ALL_DELAY_OFFSET: 45,
  CHECK_CLIENT_CONFIG: 46,
  UPDATE_AND_CREATE_ACL_CONFIG: 50,
  DELETE_ACL_CONFIG: 51,
  GET_BROKER_CLUSTER_ACL_INFO: 52,
  UPDATE_GLOBAL_WHITE_ADDRS_CONFIG: 53,
  PUT_KV_CONFIG: 100,
  GET_KV_CONFIG: 101,
  DELETE_KV_CONFIG: 102,
  REGISTER_BROKER: 103,
  UNREGISTER_BROKER: 104,
  GET_ROUTEINFO_BY_TOPIC: 105,
  GET_BROKER_CLUSTER_INFO: 106,
  UPDATE_AND_CREATE_SUBSCRIPTIONGROUP: 200,
  GET_ALL_SUBSCRIPTIONGROUP_CONFIG: 201,
  GET_TOPIC_STATS_INFO: 202,
  GET_CONSUMER_CONNECTION_LIST: 203,
  GET_PRODUCER_CONNECTION_LIST: 204,
  WIPE_WRITE_PERM_OF_BROKER: 205,
  GET_ALL_TOPIC_LIST_FROM_NAMESERVER: 206,
  DELETE_SUBSCRIPTIONGROUP: 207,
  GET_CONSUME_STATS: 208,
  SUSPEND_CONSUMER: 209,
  RESUME_CONSUMER: 210,
  RESET_CONSUMER_OFFSET_IN_CONSUMER: 211,
  RESET_CONSUMER_OFFSET_IN_BROKER: 212,
  ADJUST_CONSUMER_THREAD_POOL: 213,
  WHO_CONSUME_THE_MESSAGE: 214,
  DELETE_TOPIC_IN_BROKER: 215,
  DELETE_TOPIC_IN_NAMESRV: 216,
  GET_KVLIST_BY_NAMESPACE: 219,
  RESET_CONSUMER_CLIENT_OFFSET: 220,
  GET_CONSUMER_STATUS_FROM_CLIENT: 221,
  INVOKE_BROKER_TO_RESET_OFFSET: 222,
  INVOKE_BROKER_TO_GET_CONSUMER_STATUS: 223,
  QUERY_TOPIC_CONSUME_BY_WHO: 300,
  GET_TOPICS_BY_CLUSTER: 224,
  REGISTER_FILTER_SERVER: 301,
  REGISTER_MESSAGE_FILTER_CLASS: 302,
  QUERY_CONSUME_TIME_SPAN: 303,
  GET_SYSTEM_TOPIC_LIST_FROM_NS: 304,
  GET_SYSTEM_TOPIC_LIST_FROM_BROKER: 305,
  CLEAN_EXPIRED_CONSUMEQUEUE: 306,
  GET_CONSUMER_RUNNING_INFO: 307,
  QUERY_CORRECTION_OFFSET: 308,
  CONSUME_MESSAGE_DIRECTLY: 309,
  SEND_MESSAGE_V2: 310,
  GET_UNIT_TOPIC_LIST: 311,
  GET_HAS_UNIT_SUB_TOPIC_LIST: 312,
  GET_HAS_UNIT_SUB_UNUNIT_TOPIC_LIST: 313,
  CLONE_GROUP_OFFSET: 314,
  VIEW_BROKER_STATS_DATA: 315,
  CLEAN_UNUSED_TOPIC: 316,
  GET_BROKER_CONSUME_STATS: 317,
  /** Update the name server's config. */
  UPDATE_NAMESRV_CONFIG: 318,
  /** Get the name server's config. */
  GET_NAMESRV_CONFIG: 319,
  SEND_BATCH_MESSAGE: 320,
  QUERY_CONSUME_QUEUE: 321,
  QUERY_DATA_VERSION: 322,
  /** Resume checking half messages already put in TRANS_CHECK_MAXTIME_TOPIC. */
  RESUME_CHECK_HALF_MESSAGE: 323,
  SEND_REPLY_MESSAGE: 324,
  SEND_REPLY_MESSAGE_V2: 325,
  PUSH_REPLY_MESSAGE_TO_CLIENT: 326,
  ADD_WRITE_PERM_OF_BROKER: 327,
  GET_ALL_PRODUCER_INFO: 328,
  DELETE_EXPIRED_COMMITLOG: 329,
} as const;

/**
 * Every `ResponseCode` of RocketMQ 4.9.8 (common/.../protocol/ResponseCode.java), the transport
 * codes it inherits from `RemotingSysResponseCode` (0-4), and RocketMQ 5's GO_AWAY (1500), which a
 * shutting-down 5.x server sends. A superset of the remoting layer's `ResponseCode`
 * (src/codec/remoting-command.ts), with the same values for the same names.
 *
 * No two names share a value in 4.9.8 (RocketMQ 5.x reuses 209-211 for POLLING_FULL and others,
 * which are not copied here). Should two ever share one, `responseCodeName` returns the name
 * declared first in this object: the lookup table keeps the first name it sees for a value.
 * @enum
 */
export const ResponseCode = {
  // RemotingSysResponseCode.java
  SUCCESS: 0,
  SYSTEM_ERROR: 1,
  SYSTEM_BUSY: 2,
  REQUEST_CODE_NOT_SUPPORTED: 3,
  TRANSACTION_FAILED: 4,
  // ResponseCode.java
  FLUSH_DISK_TIMEOUT: 10,
  SLAVE_NOT_AVAILABLE: 11,
  FLUSH_SLAVE_TIMEOUT: 12,
  MESSAGE_ILLEGAL: 13,
  SERVICE_NOT_AVAILABLE: 14,
  VERSION_NOT_SUPPORTED: 15,
  NO_PERMISSION: 16,
  TOPIC_NOT_EXIST: 17,
  TOPIC_EXIST_ALREADY: 18,
  PULL_NOT_FOUND: 19,
  PULL_RETRY_IMMEDIATELY: 20,
  PULL_OFFSET_MOVED: 21,
  QUERY_NOT_FOUND: 22,
  SUBSCRIPTION_PARSE_FAILED: 23,
  SUBSCRIPTION_NOT_EXIST: 24,
  SUBSCRIPTION_NOT_LATEST: 25,
  SUBSCRIPTION_GROUP_NOT_EXIST: 26,
  FILTER_DATA_NOT_EXIST: 27,
  FILTER_DATA_NOT_LATEST: 28,
  TRANSACTION_SHOULD_COMMIT: 200,
  TRANSACTION_SHOULD_ROLLBACK: 201,
  /** Java's spelling, kept: it is the name every RocketMQ tool prints. */
  TRANSACTION_STATE_UNKNOW: 202,
  TRANSACTION_STATE_GROUP_WRONG: 203,
  NO_BUYER_ID: 204,
  NOT_IN_CURRENT_UNIT: 205,
  CONSUMER_NOT_ONLINE: 206,
  CONSUME_MSG_TIMEOUT: 207,
  NO_MESSAGE: 208,
  UPDATE_AND_CREATE_ACL_CONFIG_FAILED: 209,
  DELETE_ACL_CONFIG_FAILED: 210,
  UPDATE_GLOBAL_WHITE_ADDRS_CONFIG_FAILED: 211,
  FLOW_CONTROL: 215,
  // RocketMQ 5.x (remoting/.../protocol/ResponseCode.java): a server shutting down answers GO_AWAY.
  GO_AWAY: 1500,
} as const;

/** A name of `RequestCode`. */
export type RequestCodeName = keyof typeof RequestCode;
/** A name of `ResponseCode`. */
export type ResponseCodeName = keyof typeof ResponseCode;

/** Lookup tables built once from one code object; the first name declared for a value wins. */
interface CodeTable {
  readonly kind: string;
  readonly names: readonly string[];
  readonly nameByCode: ReadonlyMap<number, string>;
  readonly codeByUpperName: ReadonlyMap<string, number>;
}

function buildTable(kind: string, codes: Readonly<Record<string, number>>): CodeTable {
  const nameByCode = new Map<number, string>();
  const codeByUpperName = new Map<string, number>();
  for (const [name, code] of Object.entries(codes)) {
    if (!nameByCode.has(code)) nameByCode.set(code, name);
    codeByUpperName.set(name.toUpperCase(), code);
  }
  return { kind, names: Object.keys(codes), nameByCode, codeByUpperName };
}

const requestTable = buildTable("request code", RequestCode);
const responseTable = buildTable("response code", ResponseCode);

/** The `RequestCode` name of `code`, or `undefined` when RocketMQ 4.9.8 has none. */
export function requestCodeName(code: number): RequestCodeName | undefined {
  return requestTable.nameByCode.get(code) as RequestCodeName | undefined;
}

/** The `ResponseCode` name of `code`, or `undefined` when it has none. */
export function responseCodeName(code: number): ResponseCodeName | undefined {
  return responseTable.nameByCode.get(code) as ResponseCodeName | undefined;
}

/** `code` for logs and errors: `"TOPIC_NOT_EXIST (17)"`, or `"12345"` when the code has no name. */
export function describeResponseCode(code: number): string {
  const name = responseTable.nameByCode.get(code);
  return name === undefined ? `${code}` : `${name} (${code})`;
}

/**
 * A request code from user input: a `RequestCode` name in any case (`"GET_ROUTEINFO_BY_TOPIC"`,
 * `"get_routeinfo_by_topic"`) or a decimal integer from 0 to 2^31-1 (the wire's `code` is a Java
 * int; codes without a name are accepted, for custom processors). Surrounding whitespace is
 * ignored.
 * @throws InvalidArgumentError (`MQW_ERR_INVALID_ARGUMENT`) naming the input and the closest names.
 */
export function parseRequestCode(text: string): number {
  return parseCode(requestTable, text);
}

/**
 * A response code from user input, as {@link parseRequestCode} reads a request code.
 * @throws InvalidArgumentError (`MQW_ERR_INVALID_ARGUMENT`) naming the input and the closest names.
 */
export function parseResponseCode(text: string): number {
  return parseCode(responseTable, text);
}

const MAX_CODE = 2 ** 31 - 1;
const MAX_SUGGESTIONS = 5;

function parseCode(table: CodeTable, text: string): number {
  const trimmed = String(text).trim();
  if (/^[0-9]+$/.test(trimmed)) {
    const code = Number(trimmed);
    if (code <= MAX_CODE) return code;
    throw new InvalidArgumentError(`${table.kind} ${JSON.stringify(text)} is above 2^31-1 (a Java int)`);
  }
  const code = table.codeByUpperName.get(trimmed.toUpperCase());
  if (code !== undefined) return code;
  const close = closestNames(table.names, trimmed.toUpperCase());
  const hint = close.length > 0 ? `; did you mean ${close.join(", ")}?` : "";
  throw new InvalidArgumentError(
    `unknown ${table.kind} ${JSON.stringify(text)}: expected a name or a non-negative decimal integer${hint}`,
  );
}

/**
 * Names that contain `query` (or that it contains); failing that, those sharing its longest
 * prefix of at least 3 characters. Enough to catch a typo's tail or a half-remembered name.
 */
function closestNames(names: readonly string[], query: string): string[] {
  if (query.length === 0) return [];
  const containing = names.filter((n) => n.includes(query) || (n.length >= 3 && query.includes(n)));
  if (containing.length > 0) return containing.slice(0, MAX_SUGGESTIONS);
  let best = 0;
  let matches: string[] = [];
  for (const name of names) {
    let common = 0;
    while (common < name.length && common < query.length && name[common] === query[common]) common++;
    if (common < 3 || common < best) continue;
    if (common > best) {
      best = common;
      matches = [];
    }
    matches.push(name);
  }
  return matches.slice(0, MAX_SUGGESTIONS);
}
