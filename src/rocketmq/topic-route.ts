/**
 * Routes: which brokers hold a topic's queues, cached per topic and refreshed while in use
 * (RocketMQ's MQClientInstance.updateTopicRouteInfoFromNameServer and its topicRouteTable), and
 * the queue lists a producer writes to and a consumer reads from (topicRouteData2TopicPublishInfo
 * and topicRouteData2TopicSubscribeInfo).
 */
import type { BrokerData, QueueData, TopicRouteData } from "./bodies.js";

/** One queue of a topic on one broker (RocketMQ's MessageQueue). */
export interface MessageQueue {
  /** The topic. */
  readonly topic: string;
  /** The broker holding the queue. */
  readonly brokerName: string;
  /** The queue within the topic on that broker. */
  readonly queueId: number;
}

/**
 * Queue permission bits (RocketMQ's PermName).
 * @enum
 */
export const Perm = { PRIORITY: 8, READ: 4, WRITE: 2, INHERIT: 1 } as const;

/** The auto-create template topic (TopicValidator.AUTO_CREATE_TOPIC_KEY_TOPIC). */
export const AUTO_CREATE_TOPIC_KEY = "TBW102";

/** The broker id of a master (MixAll.MASTER_ID). */
export const MASTER_ID = "0";

/** `topic@broker#queue`: a queue's key in maps and logs. */
export function queueKey(queue: MessageQueue): string {
  return `${queue.topic}@${queue.brokerName}#${queue.queueId}`;
}

function byBrokerName(a: QueueData, b: QueueData): number {
  return a.brokerName < b.brokerName ? -1 : a.brokerName > b.brokerName ? 1 : 0;
}

/**
 * The queues a producer may write to: writable queue data whose broker has a master, in broker
 * name order, queue ids 0..writeQueueNums-1 (topicRouteData2TopicPublishInfo; order topics
 * are not supported yet).
 */
export function publishQueues(topic: string, route: TopicRouteData): MessageQueue[] {
  const queues: MessageQueue[] = [];
  for (const qd of [...route.queueDatas].sort(byBrokerName)) {
    if ((qd.perm & Perm.WRITE) === 0) continue;
    const broker = route.brokerDatas.find((b) => b.brokerName === qd.brokerName);
    if (broker?.brokerAddrs[MASTER_ID] === undefined) continue;
    for (let id = 0; id < qd.writeQueueNums; id++)
      queues.push({ topic, brokerName: qd.brokerName, queueId: id });
  }
  return queues;
}

/** The queues a consumer may read: readable queue data, queue ids 0..readQueueNums-1. */
export function subscribeQueues(topic: string, route: TopicRouteData): MessageQueue[] {
  const queues: MessageQueue[] = [];
  for (const qd of [...route.queueDatas].sort(byBrokerName)) {
    if ((qd.perm & Perm.READ) === 0) continue;
    for (let id = 0; id < qd.readQueueNums; id++)
      queues.push({ topic, brokerName: qd.brokerName, queueId: id });
  }
  return queues;
}

/**
 * The route of a topic that does not exist yet, through the auto-create template (TBW102): its
 * brokers, with at most `queueNums` queues each (DefaultMQProducerImpl.tryToFindTopicPublishInfo
 * and MQClientAPIImpl.getDefaultTopicRouteInfoFromNameServer).
 */
export function templateRoute(template: TopicRouteData, queueNums: number): TopicRouteData {
  return {
    ...template,
    queueDatas: template.queueDatas.map((qd) => ({
      ...qd,
      readQueueNums: Math.min(queueNums, qd.readQueueNums),
      writeQueueNums: Math.min(queueNums, qd.writeQueueNums),
    })),
  };
}

/** Reads one topic's route from the name servers; undefined when the topic does not exist. */
export type RouteFetcher = (topic: string) => Promise<TopicRouteData | undefined>;

interface CachedRoute {
  route: TopicRouteData;
  fetchedAt: number;
}

/**
 * The client's routes: one cached TopicRouteData per topic, refreshed after `refreshMs`, and
 * the broker addresses they name. Concurrent reads of one topic share one fetch.
 */
export class RouteTable {
  readonly #fetch: RouteFetcher;
  readonly #refreshMs: number;
  readonly #routes = new Map<string, CachedRoute>();
  readonly #inFlight = new Map<string, Promise<TopicRouteData | undefined>>();
  /** brokerName → its BrokerData from the newest route that named it. */
  readonly #brokers = new Map<string, BrokerData>();

  constructor(fetch: RouteFetcher, refreshMs: number) {
    this.#fetch = fetch;
    this.#refreshMs = refreshMs;
  }

  /** The topic's route, from the cache while fresh; undefined when the name server has none. */
  async get(topic: string, options: { refresh?: boolean } = {}): Promise<TopicRouteData | undefined> {
    const cached = this.#routes.get(topic);
    if (cached !== undefined && options.refresh !== true && Date.now() - cached.fetchedAt < this.#refreshMs) {
      return cached.route;
    }
    let pending = this.#inFlight.get(topic);
    if (pending === undefined) {
      pending = this.#fetch(topic).then(
        (route) => {
          this.#inFlight.delete(topic);
          if (route === undefined) this.#routes.delete(topic);
          else this.#remember(topic, route);
          return route;
        },
        (err: unknown) => {
          this.#inFlight.delete(topic);
          throw err;
        },
      );
      this.#inFlight.set(topic, pending);
    }
    try {
      return await pending;
    } catch (err) {
      // A name server that cannot be reached leaves the last route in use, as the Java
      // client does (it keeps topicRouteTable when an update fails).
      if (cached !== undefined) return cached.route;
      throw err;
    }
  }

  /** Forgets a topic's route, so the next read asks the name server. */
  invalidate(topic: string): void {
    this.#routes.delete(topic);
  }

  /** Topics with a cached route. */
  get topics(): string[] {
    return [...this.#routes.keys()];
  }

  /** The address of a broker (the master unless `brokerId` says otherwise), if a route named it. */
  brokerAddr(brokerName: string, brokerId: string = MASTER_ID): string | undefined {
    return this.#brokers.get(brokerName)?.brokerAddrs[brokerId];
  }

  /** Learns broker addresses from elsewhere (the cluster info), for brokers no route named yet. */
  addBrokers(brokers: Iterable<BrokerData>): void {
    for (const broker of brokers) {
      if (!this.#brokers.has(broker.brokerName)) this.#brokers.set(broker.brokerName, broker);
    }
  }

  /** Every master address the cached routes name (where heartbeats go). */
  masterAddrs(): string[] {
    const addrs = new Set<string>();
    for (const broker of this.#brokers.values()) {
      const addr = broker.brokerAddrs[MASTER_ID];
      if (addr !== undefined) addrs.add(addr);
    }
    return [...addrs];
  }

  /** Broker names with their master address, from the cached routes. */
  masters(): Map<string, string> {
    const out = new Map<string, string>();
    for (const [name, broker] of this.#brokers) {
      const addr = broker.brokerAddrs[MASTER_ID];
      if (addr !== undefined) out.set(name, addr);
    }
    return out;
  }

  #remember(topic: string, route: TopicRouteData): void {
    this.#routes.set(topic, { route, fetchedAt: Date.now() });
    for (const broker of route.brokerDatas) this.#brokers.set(broker.brokerName, broker);
  }
}
