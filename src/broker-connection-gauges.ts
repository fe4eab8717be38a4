/**
 * RocketMQ 5's broker connection gauges (BrokerMetricsManager.initConnectionMetrics) for mqwire
 * servers: `rocketmq_producer_connections` {language, version, protocol_type} and
 * `rocketmq_consumer_connections` {consumer_group, language, version, consume_mode,
 * protocol_type, is_system}, counted from what each server's clients said in their heartbeats
 * (./rocketmq/client-connections.ts). The option `brokerConnectionGauges` of
 * `enableOpenTelemetry` turns them on.
 */
import type { OpenTelemetryOptions, OtelAttributes, OtelBatchResult, OtelMeter } from "./opentelemetry.js";
import type { RemotingServer } from "./remoting/remoting-server.js";
import {
  ClientConnectionTable,
  type ConsumerConnections,
  type ProducerConnections,
} from "./rocketmq/client-connections.js";

/**
 * Gauge: producer groups × channels by `language` and `version` (BrokerMetricsConstant
 * GAUGE_PRODUCER_CONNECTIONS); see {@link OpenTelemetryOptions.brokerConnectionGauges}.
 */
export const PRODUCER_CONNECTIONS = "rocketmq_producer_connections";
/**
 * Gauge: consumer channels by `consumer_group`, `language`, `version`, `consume_mode` and
 * `is_system` (GAUGE_CONSUMER_CONNECTIONS); see {@link OpenTelemetryOptions.brokerConnectionGauges}.
 */
export const CONSUMER_CONNECTIONS = "rocketmq_consumer_connections";

/**
 * Classifies the channels of `servers` from now on and observes the two gauges on `meter`, with
 * `extra` on every point. Returns what undoes it. Each server must not have a registry yet.
 */
export function observeBrokerConnectionGauges(
  meter: OtelMeter,
  servers: readonly RemotingServer[],
  extra: Readonly<Record<string, string>>,
): () => void {
  const tables = servers.map((server) => {
    const table = new ClientConnectionTable();
    server.clientRegistry = table;
    return table;
  });
  const producers = meter.createObservableGauge(PRODUCER_CONNECTIONS, {
    description: "Producer connections",
  });
  const consumers = meter.createObservableGauge(CONSUMER_CONNECTIONS, {
    description: "Consumer connections",
  });
  const producerSets = new LabelSets();
  const consumerSets = new LabelSets();
  const observe = (result: OtelBatchResult): void => {
    const producerRows = new Map<string, ProducerConnections>();
    const consumerRows = new Map<string, ConsumerConnections>();
    for (const table of tables) {
      table.countProducers(producerRows);
      table.countConsumers(consumerRows);
    }
    for (const [key, row] of producerRows) {
      const attributes = producerSets.seen(key, () => ({
        ...extra,
        language: row.language,
        version: row.version,
        protocol_type: "remoting",
      }));
      result.observe(producers, row.count, attributes);
    }
    for (const [key, row] of consumerRows) {
      const attributes = consumerSets.seen(key, () => ({
        ...extra,
        consumer_group: row.consumerGroup,
        language: row.language,
        version: row.version,
        consume_mode: row.consumeMode,
        protocol_type: "remoting",
        is_system: row.isSystem,
      }));
      result.observe(consumers, row.count, attributes);
    }
    for (const attributes of producerSets.departed(producerRows)) result.observe(producers, 0, attributes);
    for (const attributes of consumerSets.departed(consumerRows)) result.observe(consumers, 0, attributes);
  };
  const observables = [producers, consumers];
  meter.addBatchObservableCallback(observe, observables);
  return () => {
    meter.removeBatchObservableCallback(observe, observables);
    for (const server of servers) server.clientRegistry = undefined;
  };
}

/** Label sets kept after their last connection went, to be observed at 0. */
const MAX_DEPARTED_SETS = 256;

/**
 * The label sets a gauge has reported. The JS SDK keeps reporting a cumulative gauge's label set
 * at its last value once the callback stops observing it (Java's SDK drops it), which would leave
 * a departed group's connections counted; so a set whose connections are gone is observed at 0
 * from then on (at most {@link MAX_DEPARTED_SETS} of them, the oldest forgotten first), at every
 * collection, since each reader of a provider collects on its own.
 */
class LabelSets {
  readonly #attributes = new Map<string, OtelAttributes>();
  readonly #departed = new Map<string, OtelAttributes>();

  /** The attributes of `key`, built by `build` the first time; the set has connections now. */
  seen(key: string, build: () => OtelAttributes): OtelAttributes {
    this.#departed.delete(key);
    let attributes = this.#attributes.get(key);
    if (attributes === undefined) {
      attributes = build();
      this.#attributes.set(key, attributes);
    }
    return attributes;
  }

  /** The sets reported before and absent from `current`: to observe at 0. */
  departed(current: ReadonlyMap<string, unknown>): Iterable<OtelAttributes> {
    for (const [key, attributes] of this.#attributes) {
      if (current.has(key)) continue;
      this.#attributes.delete(key);
      this.#departed.set(key, attributes);
    }
    for (const key of this.#departed.keys()) {
      if (this.#departed.size <= MAX_DEPARTED_SETS) break;
      this.#departed.delete(key);
    }
    return this.#departed.values();
  }
}
