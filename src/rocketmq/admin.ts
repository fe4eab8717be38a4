/**
 * Admin calls, as RocketMQ's DefaultMQAdminExt and `mqadmin` make them: routes, cluster info,
 * topic creation and deletion, topic stats and a group's consumer offsets.
 */
import { ClientError, ProtocolError } from "../errors.js";
import {
  type ClusterInfo,
  type ConsumeStats,
  parseClusterInfo,
  parseConsumeStats,
  parseTopicList,
  parseTopicStatsTable,
  type TopicRouteData,
  type TopicStats,
} from "./bodies.js";
import type { ClientOptions } from "./client-options.js";
import { RequestCode, ResponseCode } from "./codes.js";
import {
  CreateTopicRequestHeader,
  DeleteTopicRequestHeader,
  GetConsumeStatsRequestHeader,
  GetRouteInfoRequestHeader,
  GetTopicStatsInfoRequestHeader,
} from "./headers.js";
import { MQClient } from "./mq-client.js";
import { AUTO_CREATE_TOPIC_KEY, MASTER_ID, Perm } from "./topic-route.js";

/** What `createTopic` sets up; the defaults are `mqadmin updateTopic`'s. */
export interface CreateTopicOptions {
  /** Create on every master of this cluster. Default: every master of every cluster. */
  cluster?: string;
  /** Create on this broker only (host:port), instead of a cluster. */
  brokerAddr?: string;
  /** Default 8. */
  readQueueNums?: number;
  /** Default 8. */
  writeQueueNums?: number;
  /** Permission bits (Perm): default READ | WRITE (6). */
  perm?: number;
  /** An ordered topic. Default false. */
  order?: boolean;
}

function queueNums(name: string, value: number | undefined): number {
  const n = value ?? 8;
  // The broker accepts up to 1024 queues per topic (TopicConfigManager has no lower limit but 0
  // queues makes a topic nobody can use).
  if (!Number.isInteger(n) || n < 1 || n > 1024) throw new ClientError(`${name} must be 1..1024, got ${n}`);
  return n;
}

/** Admin calls on a cluster. */
export class Admin {
  readonly #client: MQClient;

  constructor(options: ClientOptions = {}) {
    this.#client = new MQClient(options);
  }

  /** The client core (its RemotingClient, routes and client id). */
  get client(): MQClient {
    return this.#client;
  }

  /** The topic's route; rejects with BrokerError TOPIC_NOT_EXIST (17) when there is none. */
  async route(topic: string): Promise<TopicRouteData> {
    const route = await this.#client.routes.get(topic, { refresh: true });
    if (route === undefined) {
      // Ask once more for the name server's own answer, so the error carries its remark.
      await this.#client.call(null, {
        code: RequestCode.GET_ROUTEINFO_BY_TOPIC,
        header: GetRouteInfoRequestHeader,
        values: { topic },
      });
      throw new ProtocolError(`the name server has no route for ${topic} but answered SUCCESS`);
    }
    return route;
  }

  /** GET_BROKER_CLUSTER_INFO (106): brokers by name and clusters with their brokers. */
  async clusterInfo(): Promise<ClusterInfo> {
    const response = await this.#client.call(null, { code: RequestCode.GET_BROKER_CLUSTER_INFO });
    if (response.body === null) throw new ProtocolError("cluster info: the name server sent no body");
    return parseClusterInfo(response.body);
  }

  /** GET_ALL_TOPIC_LIST_FROM_NAMESERVER (206). */
  async topics(): Promise<string[]> {
    const response = await this.#client.call(null, { code: RequestCode.GET_ALL_TOPIC_LIST_FROM_NAMESERVER });
    if (response.body === null) throw new ProtocolError("topic list: the name server sent no body");
    return parseTopicList(response.body);
  }

  /**
   * UPDATE_AND_CREATE_TOPIC (17) on each master of the cluster (or on one broker). The broker
   * registers the topic with the name servers before it answers. Resolves with the addresses.
   */
  async createTopic(topic: string, options: CreateTopicOptions = {}): Promise<string[]> {
    const values = {
      topic,
      defaultTopic: AUTO_CREATE_TOPIC_KEY,
      readQueueNums: queueNums("readQueueNums", options.readQueueNums),
      writeQueueNums: queueNums("writeQueueNums", options.writeQueueNums),
      perm: options.perm ?? Perm.READ | Perm.WRITE,
      topicFilterType: "SINGLE_TAG",
      topicSysFlag: 0,
      order: options.order ?? false,
    };
    const addrs =
      options.brokerAddr !== undefined ? [options.brokerAddr] : await this.#masters(options.cluster);
    await Promise.all(
      addrs.map((addr) =>
        this.#client.call(addr, {
          code: RequestCode.UPDATE_AND_CREATE_TOPIC,
          header: CreateTopicRequestHeader,
          values,
        }),
      ),
    );
    this.#client.routes.invalidate(topic);
    return addrs;
  }

  /**
   * Deletes a topic from each master of the cluster (DELETE_TOPIC_IN_BROKER, 215) and then from
   * the name servers (DELETE_TOPIC_IN_NAMESRV, 216), as `mqadmin deleteTopic` does.
   */
  async deleteTopic(topic: string, options: { cluster?: string } = {}): Promise<void> {
    const addrs = await this.#masters(options.cluster);
    const req = { header: DeleteTopicRequestHeader, values: { topic } };
    await Promise.all(
      addrs.map((addr) => this.#client.call(addr, { code: RequestCode.DELETE_TOPIC_IN_BROKER, ...req })),
    );
    for (const ns of this.#client.options.nameServers) {
      await this.#client.call(ns, { code: RequestCode.DELETE_TOPIC_IN_NAMESRV, ...req });
    }
    this.#client.routes.invalidate(topic);
  }

  /** GET_TOPIC_STATS_INFO (202) from every broker of the topic's route: min and max offset per queue. */
  async topicStats(topic: string): Promise<TopicStats> {
    const route = await this.route(topic);
    const parts = await Promise.all(
      this.#routeMasters(route).map(async (addr) => {
        const response = await this.#client.call(addr, {
          code: RequestCode.GET_TOPIC_STATS_INFO,
          header: GetTopicStatsInfoRequestHeader,
          values: { topic },
        });
        if (response.body === null) throw new ProtocolError(`topic stats from ${addr}: no body`);
        return parseTopicStatsTable(response.body);
      }),
    );
    return { queues: parts.flatMap((p) => p.queues).sort(compareQueues) };
  }

  /**
   * GET_CONSUME_STATS (208): the group's committed offset against the broker's max offset for
   * each queue of `topic` (or of every topic the group consumes, on every broker the cluster
   * info names, when `topic` is omitted).
   */
  async consumeStats(group: string, topic?: string): Promise<ConsumeStats> {
    const addrs = topic !== undefined ? this.#routeMasters(await this.route(topic)) : await this.#masters();
    const parts = await Promise.all(
      addrs.map(async (addr) => {
        const response = await this.#client.call(
          addr,
          {
            code: RequestCode.GET_CONSUME_STATS,
            header: GetConsumeStatsRequestHeader,
            values: topic === undefined ? { consumerGroup: group } : { consumerGroup: group, topic },
          },
          // A broker that never saw the group answers CONSUMER_NOT_ONLINE or SUBSCRIPTION_GROUP_NOT_EXIST.
          { accept: [ResponseCode.SUCCESS, ResponseCode.SUBSCRIPTION_GROUP_NOT_EXIST] },
        );
        if (response.code !== ResponseCode.SUCCESS) return undefined;
        if (response.body === null) throw new ProtocolError(`consume stats from ${addr}: no body`);
        return parseConsumeStats(response.body);
      }),
    );
    const found = parts.filter((p): p is ConsumeStats => p !== undefined);
    return {
      consumeTps: found.reduce((sum, p) => sum + p.consumeTps, 0),
      queues: found.flatMap((p) => p.queues).sort(compareQueues),
    };
  }

  /** Closes the connections. The Admin cannot be used afterwards. */
  async close(): Promise<void> {
    await this.#client.close();
  }

  #routeMasters(route: TopicRouteData): string[] {
    const addrs = route.brokerDatas
      .map((b) => b.brokerAddrs[MASTER_ID])
      .filter((a): a is string => a !== undefined);
    return [...new Set(addrs)];
  }

  async #masters(cluster?: string): Promise<string[]> {
    const info = await this.clusterInfo();
    let names = Object.keys(info.brokerAddrTable);
    if (cluster !== undefined) {
      const inCluster = info.clusterAddrTable[cluster];
      if (inCluster === undefined)
        throw new ClientError(
          `no cluster named ${cluster} (known: ${Object.keys(info.clusterAddrTable).join(", ")})`,
        );
      names = inCluster;
    }
    const addrs = names
      .map((n) => info.brokerAddrTable[n]?.brokerAddrs[MASTER_ID])
      .filter((a): a is string => a !== undefined);
    if (addrs.length === 0)
      throw new ClientError(`no master broker${cluster === undefined ? "" : ` in cluster ${cluster}`}`);
    return addrs;
  }
}

function compareQueues(
  a: { topic: string; brokerName: string; queueId: number },
  b: { topic: string; brokerName: string; queueId: number },
): number {
  if (a.topic !== b.topic) return a.topic < b.topic ? -1 : 1;
  if (a.brokerName !== b.brokerName) return a.brokerName < b.brokerName ? -1 : 1;
  return a.queueId - b.queueId;
}
