/**
 * What Producer, PullConsumer and Admin share (RocketMQ's MQClientInstance with MQClientAPIImpl):
 * one RemotingClient speaking as RocketMQ 4.9.8's Java client, the name-server list, the route
 * table, typed requests, response codes turned into BrokerError, and the heartbeat that tells
 * brokers which groups this client belongs to.
 *
 * Error convention of this floor: every call returns a promise that rejects with an MqwireError
 * (BrokerError for a server's failure code, ProtocolError for an answer that breaks the protocol,
 * ClientError for what the client cannot do); nothing returns an error as a value.
 */
import { networkInterfaces } from "node:os";
import type { RemotingCommand } from "../codec/remoting-command.js";
import { BrokerError, ClientError, ProtocolError } from "../errors.js";
import { RemotingClient } from "../remoting/remoting-client.js";
import {
  encodeHeartbeatData,
  type HeartbeatData,
  parseClusterInfo,
  parseTopicRouteData,
  type TopicRouteData,
} from "./bodies.js";
import type { ResolvedRocketmqClientOptions } from "./client-options.js";
import {
  type ClientOptions,
  DEFAULT_CLIENT_VERSION,
  resolveRocketmqClientOptions,
} from "./client-options.js";
import { RequestCode, ResponseCode, responseCodeName } from "./codes.js";
import type { CustomHeader } from "./custom-header.js";
import { GetRouteInfoRequestHeader, UnregisterClientRequestHeader } from "./headers.js";
import { type MessageQueue, RouteTable } from "./topic-route.js";

/** The first non-internal IPv4 address of this host (RemotingUtil.getLocalAddress), else 127.0.0.1. */
export function localIpv4(): string {
  for (const list of Object.values(networkInterfaces())) {
    for (const info of list ?? []) if (info.family === "IPv4" && !info.internal) return info.address;
  }
  return "127.0.0.1";
}

let instanceSequence = 0;

/** V4_9_4's ordinal: name servers answer requests of this version or later in standard JSON. */
const STANDARD_JSON_MIN_VERSION = 401;

/** One typed request: its code, its header (declared once) with values, and a body. */
export interface TypedRequest<T> {
  /** The request code. */
  code: number;
  /** The header, declared once with `defineHeader`; none for a request without extFields. */
  header?: CustomHeader<T>;
  /** The header's values, written as extFields. */
  values?: T;
  /** The body, or none. */
  body?: Uint8Array | null;
}

/** A group this client belongs to, as the heartbeat reports it. */
export interface GroupMembership {
  /** A producer group (ProducerData) or a consumer group (ConsumerData). */
  readonly kind: "producer" | "consumer";
  /** The group's name. */
  readonly group: string;
  /** The heartbeat's entry for a consumer group (ConsumerData); none for a producer. */
  consumerData?(): HeartbeatData["consumerDataSet"][number];
}

/** The shared client core. Producer, PullConsumer and Admin each own one. */
export class MQClient {
  /** The options as validated at construction. */
  readonly options: ResolvedRocketmqClientOptions;
  /** The remoting client all calls go through. */
  readonly remoting: RemotingClient;
  /** `ip@instance`: how brokers know this client (ClientConfig.buildMQClientId). */
  readonly clientId: string;
  /** Topic routes read from the name servers, cached and refreshed. */
  readonly routes: RouteTable;
  readonly #groups = new Set<GroupMembership>();
  #routeTimer: NodeJS.Timeout | undefined;
  #heartbeatTimer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(options: ClientOptions) {
    this.options = resolveRocketmqClientOptions(options);
    this.remoting = new RemotingClient({
      version: DEFAULT_CLIENT_VERSION,
      defaultTimeoutMs: this.options.requestTimeoutMs,
      ...this.options.remoting,
    });
    this.remoting.updateNameServerAddressList(this.options.nameServers);
    const instance = this.options.instanceName ?? `${process.pid}#${instanceSequence++}`;
    this.clientId = `${localIpv4()}@${instance}`;
    this.routes = new RouteTable((topic) => this.fetchRoute(topic), this.options.routeRefreshMs);
  }

  /** Starts the route refresh and the heartbeat; calls work before it too. */
  start(): void {
    if (this.#routeTimer !== undefined || this.#closed) return;
    this.#routeTimer = setInterval(() => void this.#refreshRoutes(), this.options.routeRefreshMs).unref();
    this.#heartbeatTimer = setInterval(
      () => void this.sendHeartbeat().catch(() => undefined),
      this.options.heartbeatIntervalMs,
    ).unref();
  }

  /** Joins a group: from now on heartbeats name it, and close() unregisters it. */
  addGroup(membership: GroupMembership): void {
    this.#groups.add(membership);
  }

  /**
   * The master address of the queue's broker, reading the topic's route again, then the
   * cluster info, when no cached route names the broker (a broker that joined since).
   */
  async brokerAddrOf(queue: MessageQueue): Promise<string> {
    let addr = this.routes.brokerAddr(queue.brokerName);
    if (addr === undefined) {
      await this.routes.get(queue.topic, { refresh: true });
      addr = this.routes.brokerAddr(queue.brokerName);
    }
    if (addr === undefined) {
      // The name servers may not route the topic yet (a broker registers a topic it created
      // with a oneway call): every broker is in the cluster info all the same.
      const response = await this.call(null, { code: RequestCode.GET_BROKER_CLUSTER_INFO });
      if (response.body !== null)
        this.routes.addBrokers(Object.values(parseClusterInfo(response.body).brokerAddrTable));
      addr = this.routes.brokerAddr(queue.brokerName);
    }
    if (addr === undefined) throw new ClientError(`no address for broker ${queue.brokerName}`);
    return addr;
  }

  /** Builds a request carrying the header's extFields and the body. */
  request<T>(req: TypedRequest<T>): RemotingCommand {
    const extFields =
      req.header !== undefined && req.values !== undefined ? req.header.encode(req.values) : null;
    return this.remoting.createRequest(req.code, { extFields, body: req.body ?? null });
  }

  /**
   * Sends a request and returns the response when its code is one of `accept` (default
   * SUCCESS); any other code rejects with a BrokerError naming it. `addr` null: a name server.
   */
  async call<T>(
    addr: string | null,
    req: TypedRequest<T>,
    options: { timeoutMs?: number; accept?: readonly number[] } = {},
  ): Promise<RemotingCommand> {
    const response = await this.remoting.invoke(addr, this.request(req), {
      timeoutMs: options.timeoutMs ?? this.options.requestTimeoutMs,
    });
    const accept = options.accept ?? [ResponseCode.SUCCESS];
    if (!accept.includes(response.code)) throw this.brokerError(response, addr);
    return response;
  }

  /** Sends a request that expects no reply. */
  oneway<T>(addr: string, req: TypedRequest<T>, timeoutMs?: number): Promise<void> {
    return this.remoting.invokeOneway(addr, this.request(req), timeoutMs ?? this.options.requestTimeoutMs);
  }

  /** The BrokerError for a response code that means failure. */
  brokerError(response: RemotingCommand, addr: string | null): BrokerError {
    const from = addr ?? this.remoting.chosenNameServer ?? "name server";
    return new BrokerError(response.code, responseCodeName(response.code), response.remark, from);
  }

  /**
   * GET_ROUTEINFO_BY_TOPIC from the name servers; undefined for TOPIC_NOT_EXIST. A request of
   * version 401 (V4_9_4) or later gets standard JSON from a 4.9.4+ name server; an older version
   * asks for it with acceptStandardJsonOnly (DefaultRequestProcessor.getRouteInfoByTopic). The
   * body goes through the dialect parser anyway, for name servers older than both.
   */
  async fetchRoute(topic: string): Promise<TopicRouteData | undefined> {
    const response = await this.call(
      null,
      {
        code: RequestCode.GET_ROUTEINFO_BY_TOPIC,
        header: GetRouteInfoRequestHeader,
        values: this.#routeQuery(topic),
      },
      { accept: [ResponseCode.SUCCESS, ResponseCode.TOPIC_NOT_EXIST] },
    );
    if (response.code === ResponseCode.TOPIC_NOT_EXIST) return undefined;
    if (response.body === null) throw new ProtocolError(`route of ${topic}: the name server sent no body`);
    return parseTopicRouteData(response.body);
  }

  #routeQuery(topic: string): { topic: string; acceptStandardJsonOnly?: boolean } {
    return this.remoting.options.version >= STANDARD_JSON_MIN_VERSION
      ? { topic }
      : { topic, acceptStandardJsonOnly: true };
  }

  /** HEART_BEAT to every master broker the routes name, with this client's groups. */
  async sendHeartbeat(): Promise<void> {
    const data = this.#heartbeatData();
    if (data.producerDataSet.length === 0 && data.consumerDataSet.length === 0) return;
    const body = encodeHeartbeatData(data);
    await Promise.all(
      this.routes.masterAddrs().map((addr) => this.call(addr, { code: RequestCode.HEART_BEAT, body })),
    );
  }

  /** Heartbeat to one broker now (a consumer's first pull should find its group known). */
  async heartbeatTo(addr: string): Promise<void> {
    await this.call(addr, { code: RequestCode.HEART_BEAT, body: encodeHeartbeatData(this.#heartbeatData()) });
  }

  /** Unregisters this client's groups from the brokers (UNREGISTER_CLIENT) and closes every channel. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#routeTimer);
    clearInterval(this.#heartbeatTimer);
    const unregister: Promise<unknown>[] = [];
    for (const addr of this.routes.masterAddrs()) {
      for (const g of this.#groups) {
        const values =
          g.kind === "producer"
            ? { clientID: this.clientId, producerGroup: g.group }
            : { clientID: this.clientId, consumerGroup: g.group };
        unregister.push(
          this.call(addr, {
            code: RequestCode.UNREGISTER_CLIENT,
            header: UnregisterClientRequestHeader,
            values,
          }).catch(() => undefined),
        );
      }
    }
    await Promise.all(unregister);
    await this.remoting.shutdown();
  }

  /** True once `close()` was called. */
  get closed(): boolean {
    return this.#closed;
  }

  #heartbeatData(): HeartbeatData {
    const data: HeartbeatData = { clientID: this.clientId, producerDataSet: [], consumerDataSet: [] };
    for (const g of this.#groups) {
      if (g.kind === "producer") data.producerDataSet.push({ groupName: g.group });
      else if (g.consumerData !== undefined) data.consumerDataSet.push(g.consumerData());
    }
    // The Java client reports its internal producer group too (MixAll.CLIENT_INNER_PRODUCER_GROUP).
    if (data.producerDataSet.length > 0) data.producerDataSet.push({ groupName: "CLIENT_INNER_PRODUCER" });
    return data;
  }

  async #refreshRoutes(): Promise<void> {
    for (const topic of this.routes.topics) {
      if (this.#closed) return;
      await this.routes.get(topic, { refresh: true }).catch(() => undefined);
    }
  }
}
