/**
 * The name server's routing bodies: TopicRouteData (GET_ROUTEINFO_BY_TOPIC, 105) and ClusterInfo
 * (GET_BROKER_CLUSTER_INFO, 106), typed and checked.
 *
 * Both hold BrokerData, whose `brokerAddrs` is a `HashMap<Long, String>`: fastjson writes its
 * keys unquoted (`{0:"127.0.0.1:10911"}`) in every 106 answer and in 105 answers to requests
 * below version 401 without `acceptStandardJsonOnly` (namesrv `DefaultRequestProcessor`), so the
 * bodies go through the dialect parser, which turns the ids into decimal string keys.
 */
import {
  array,
  BodyFieldError,
  bodyObject,
  int,
  object,
  path,
  setOwn,
  string,
  stringList,
  stringMap,
} from "./body-fields.js";

/** One broker's queues of a topic (RocketMQ `protocol/route/QueueData.java`). */
export interface QueueData {
  /** The broker name holding these queues. */
  brokerName: string;
  /** Queues consumers read. */
  readQueueNums: number;
  /** Queues producers write. */
  writeQueueNums: number;
  /** PermName bits: 4 read, 2 write, 1 inherit, 8 priority. */
  perm: number;
  /** Topic system flags. */
  topicSysFlag: number;
}

/**
 * A broker name's master and slaves (RocketMQ `protocol/route/BrokerData.java`). `brokerAddrs`
 * maps the broker id, a decimal string ("0" is the master, `MixAll.MASTER_ID`), to `host:port`.
 */
export interface BrokerData {
  /** The cluster the broker belongs to. */
  cluster: string;
  /** The broker name: a master and its slaves. */
  brokerName: string;
  /** Addresses by broker id, as string keys: "0" is the master. */
  brokerAddrs: Record<string, string>;
}

/** A topic's route (RocketMQ `protocol/route/TopicRouteData.java`). */
export interface TopicRouteData {
  /** `brokerName:queueNums;…` of an ordered topic; only when the name server has `orderMessageEnable`. */
  orderTopicConf?: string;
  /** The topic's queues, per broker name. */
  queueDatas: QueueData[];
  /** The brokers holding them, with their addresses. */
  brokerDatas: BrokerData[];
  /** Broker address → filter server addresses (empty since filter servers left RocketMQ 4.3). */
  filterServerTable: Record<string, string[]>;
}

/** Every broker and cluster the name server knows (RocketMQ `protocol/body/ClusterInfo.java`). */
export interface ClusterInfo {
  /** Broker name → its BrokerData. */
  brokerAddrTable: Record<string, BrokerData>;
  /** Cluster name → its broker names. */
  clusterAddrTable: Record<string, string[]>;
}

// A broker id is a Java long; its key comes out of the dialect parser as the digits fastjson wrote.
const BROKER_ID = /^-?(?:0|[1-9][0-9]*)$/;

function queueData(value: unknown, field: string): QueueData {
  const o = object(value, field);
  return {
    brokerName: string(o.brokerName, path(field, "brokerName")),
    readQueueNums: int(o.readQueueNums, path(field, "readQueueNums")),
    writeQueueNums: int(o.writeQueueNums, path(field, "writeQueueNums")),
    perm: int(o.perm, path(field, "perm")),
    topicSysFlag: int(o.topicSysFlag, path(field, "topicSysFlag")),
  };
}

function brokerData(value: unknown, field: string): BrokerData {
  const o = object(value, field);
  const addrsField = path(field, "brokerAddrs");
  const brokerAddrs = stringMap(o.brokerAddrs, addrsField);
  for (const id of Object.keys(brokerAddrs)) {
    if (!BROKER_ID.test(id))
      throw new BodyFieldError(addrsField, "broker ids (decimal integers) as keys", id);
  }
  return {
    cluster: string(o.cluster, path(field, "cluster")),
    brokerName: string(o.brokerName, path(field, "brokerName")),
    brokerAddrs,
  };
}

/**
 * Parses a GET_ROUTEINFO_BY_TOPIC (105) body, in the dialect or in standard JSON.
 * `filterServerTable`, which fastjson omits when null, reads as `{}`.
 *
 * @throws ProtocolError (`MQW_ERR_PROTOCOL`): `JsonDialectError` for text that does not parse,
 * `BodyFieldError` naming the first field of the wrong shape
 */
export function parseTopicRouteData(body: Uint8Array): TopicRouteData {
  const name = "TopicRouteData";
  const o = bodyObject(body, name);
  const queueDatas = array(o.queueDatas, path(name, "queueDatas")).map((q, i) =>
    queueData(q, path(path(name, "queueDatas"), i)),
  );
  const brokerDatas = array(o.brokerDatas, path(name, "brokerDatas")).map((b, i) =>
    brokerData(b, path(path(name, "brokerDatas"), i)),
  );
  const filterServerTable: Record<string, string[]> = {};
  if (o.filterServerTable !== undefined && o.filterServerTable !== null) {
    const field = path(name, "filterServerTable");
    const table = object(o.filterServerTable, field);
    for (const addr of Object.keys(table)) {
      setOwn(filterServerTable, addr, stringList(table[addr], `${field}[${JSON.stringify(addr)}]`));
    }
  }
  const route: TopicRouteData = { queueDatas, brokerDatas, filterServerTable };
  if (o.orderTopicConf !== undefined && o.orderTopicConf !== null) {
    route.orderTopicConf = string(o.orderTopicConf, path(name, "orderTopicConf"));
  }
  return route;
}

/**
 * Parses a GET_BROKER_CLUSTER_INFO (106) body (always in the dialect: `ClusterInfo.encode()`).
 *
 * @throws ProtocolError (`MQW_ERR_PROTOCOL`), as {@link parseTopicRouteData}
 */
export function parseClusterInfo(body: Uint8Array): ClusterInfo {
  const name = "ClusterInfo";
  const o = bodyObject(body, name);
  const brokerField = path(name, "brokerAddrTable");
  const brokers = object(o.brokerAddrTable, brokerField);
  const brokerAddrTable: Record<string, BrokerData> = {};
  for (const brokerName of Object.keys(brokers)) {
    const data = brokerData(brokers[brokerName], `${brokerField}[${JSON.stringify(brokerName)}]`);
    setOwn(brokerAddrTable, brokerName, data);
  }
  const clusterField = path(name, "clusterAddrTable");
  const clusters = object(o.clusterAddrTable, clusterField);
  const clusterAddrTable: Record<string, string[]> = {};
  for (const cluster of Object.keys(clusters)) {
    setOwn(
      clusterAddrTable,
      cluster,
      stringList(clusters[cluster], `${clusterField}[${JSON.stringify(cluster)}]`),
    );
  }
  return { brokerAddrTable, clusterAddrTable };
}
