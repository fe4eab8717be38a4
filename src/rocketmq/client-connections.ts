/**
 * Which producer and consumer groups each channel of a server carries, learnt as a broker learns
 * it: from the HEART_BEAT (34) requests it answered SUCCESS, less the groups UNREGISTER_CLIENT
 * (35) removed, until the channel closes. RocketMQ's ProducerManager and ConsumerManager reduced
 * to what its connection gauges count (BrokerMetricsManager.initConnectionMetrics): one
 * connection per group and channel, labelled with the client's language and version and, for
 * consumers, the group, its consume mode and whether it is a system group.
 *
 * Fed by the server's reply path (RemotingService.onReplied; it reads codes 34 and 35 only), read by
 * the OpenTelemetry binding at each collection.
 */
import { languageName, type RemotingCommand, ResponseCode } from "../codec/remoting-command.js";
import type { RemotingChannel } from "../remoting/channel.js";
import type { ClientRegistry } from "../remoting/remoting-service.js";
import { RequestCode } from "./codes.js";
import { type ConsumeType, type HeartbeatData, parseHeartbeatData } from "./heartbeat-data.js";
import { mqVersionName } from "./mq-version.js";

/** Producers of one language and version: a `rocketmq_producer_connections` point. */
export interface ProducerConnections {
  /** The client's language, lower-case (`java`, `node_js`), else its code. */
  language: string;
  /** The client's version, lower-case (`v4_9_8`), see `mqVersionName`. */
  version: string;
  /** Producer groups × channels. */
  count: number;
}

/** Consumers of one group, language and version: a `rocketmq_consumer_connections` point. */
export interface ConsumerConnections {
  /** The consumer group. */
  consumerGroup: string;
  /** The client's language, lower-case, else its code. */
  language: string;
  /** The client's version, lower-case. */
  version: string;
  /** `pull`, `push` or `pop`: the consume type the group reported last (ConsumeType.getTypeCN). */
  consumeMode: string;
  /** True for RocketMQ's own groups (`CID_RMQ_SYS_…`, BrokerMetricsManager.isSystemGroup). */
  isSystem: boolean;
  /** Channels. */
  count: number;
}

/** What one channel's heartbeats said (RocketMQ's ClientChannelInfo in each group it joined). */
interface ChannelClients {
  language: string;
  version: string;
  readonly producerGroups: Set<string>;
  readonly consumerGroups: Set<string>;
}

/** ConsumeType.getTypeCN, lower-cased as the gauge writes it. */
const CONSUME_MODE: Readonly<Record<ConsumeType, string>> = {
  CONSUME_ACTIVELY: "pull",
  CONSUME_PASSIVELY: "push",
  CONSUME_POP: "pop",
};

/** MixAll.CID_RMQ_SYS_PREFIX, lower-cased as BrokerMetricsManager.SYSTEM_GROUP_PREFIX_LIST holds it. */
const SYSTEM_GROUP_PREFIX = "cid_rmq_sys_";

/** The producers and consumers of one server's channels. */
export class ClientConnectionTable implements ClientRegistry {
  readonly #channels = new Map<RemotingChannel, ChannelClients>();
  /** Each group's consume type as last reported (ConsumerGroupInfo keeps one per group). */
  readonly #consumeTypes = new Map<string, ConsumeType>();

  /**
   * A reply to `request` was written on `channel`. Only a SUCCESS reply to HEART_BEAT or
   * UNREGISTER_CLIENT changes anything: a broker registers nothing for a refused heartbeat.
   */
  onReplied(channel: RemotingChannel, request: RemotingCommand, response: RemotingCommand | null): void {
    const code = request.code;
    if (code !== RequestCode.HEART_BEAT && code !== RequestCode.UNREGISTER_CLIENT) return;
    if (response === null || response.code !== ResponseCode.SUCCESS) return;
    if (code === RequestCode.HEART_BEAT) this.#register(channel, request);
    else this.#unregister(channel, request);
  }

  /** The channel closed: its groups go (ClientHousekeepingService.doChannelCloseEvent). */
  forget(channel: RemotingChannel): void {
    this.#channels.delete(channel);
  }

  #register(channel: RemotingChannel, request: RemotingCommand): void {
    // A reply that found its channel closing (write_channel_failed, or a oneway heartbeat) would
    // register a channel whose forget() has run or is about to.
    if (!channel.isActive) return;
    let data: HeartbeatData;
    try {
      data = parseHeartbeatData(request.body ?? Buffer.alloc(0));
    } catch {
      // The server's processor took a body that is no heartbeat (its own protocol on code 34):
      // there is no producer or consumer to count.
      return;
    }
    const language = languageName(request.language)?.toLowerCase() ?? String(request.language);
    const version = mqVersionName(request.version).toLowerCase();
    let clients = this.#channels.get(channel);
    if (clients === undefined) {
      clients = { language, version, producerGroups: new Set(), consumerGroups: new Set() };
      this.#channels.set(channel, clients);
    }
    clients.language = language;
    clients.version = version;
    // A broker adds the groups a heartbeat names and drops none (registerProducer/Consumer).
    for (const producer of data.producerDataSet) clients.producerGroups.add(producer.groupName);
    for (const consumer of data.consumerDataSet) {
      clients.consumerGroups.add(consumer.groupName);
      this.#consumeTypes.set(consumer.groupName, consumer.consumeType);
    }
  }

  #unregister(channel: RemotingChannel, request: RemotingCommand): void {
    const clients = this.#channels.get(channel);
    if (clients === undefined) return;
    const producerGroup = request.getExt("producerGroup");
    const consumerGroup = request.getExt("consumerGroup");
    if (producerGroup !== undefined) clients.producerGroups.delete(producerGroup);
    if (consumerGroup !== undefined) clients.consumerGroups.delete(consumerGroup);
    if (clients.producerGroups.size === 0 && clients.consumerGroups.size === 0)
      this.#channels.delete(channel);
  }

  /** Adds this table's producer groups × channels to `into`, keyed by their labels. */
  countProducers(into: Map<string, ProducerConnections>): void {
    for (const { language, version, producerGroups } of this.#channels.values()) {
      if (producerGroups.size === 0) continue;
      const key = `${language}\u0000${version}`;
      const row = into.get(key);
      if (row === undefined) into.set(key, { language, version, count: producerGroups.size });
      else row.count += producerGroups.size;
    }
  }

  /** Adds this table's consumer channels to `into`, keyed by their labels. */
  countConsumers(into: Map<string, ConsumerConnections>): void {
    const live = new Set<string>();
    for (const { language, version, consumerGroups } of this.#channels.values()) {
      for (const group of consumerGroups) {
        live.add(group);
        const consumeType = this.#consumeTypes.get(group) ?? "CONSUME_ACTIVELY";
        const consumeMode = CONSUME_MODE[consumeType];
        const key = `${group}\u0000${language}\u0000${version}\u0000${consumeMode}`;
        const row = into.get(key);
        if (row !== undefined) row.count++;
        else {
          const isSystem = group.toLowerCase().startsWith(SYSTEM_GROUP_PREFIX);
          into.set(key, { consumerGroup: group, language, version, consumeMode, isSystem, count: 1 });
        }
      }
    }
    // A group without channels has no consume type left to report.
    for (const group of this.#consumeTypes.keys()) if (!live.has(group)) this.#consumeTypes.delete(group);
  }
}
