/**
 * The figures of `metrics()` as OpenTelemetry instruments, named and labelled as RocketMQ 5's
 * remoting metrics (remoting/.../metrics/RemotingMetricsConstant.java, RemotingMetricsManager.java)
 * so that a dashboard built on a RocketMQ broker's `rocketmq_rpc_latency` reads an mqwire server
 * unchanged.
 *
 * `@opentelemetry/api` is an optional peer dependency: it is loaded with a dynamic import only
 * when no `meterProvider` is given, and only the structural types below reach mqwire's own
 * declarations, so an application without OpenTelemetry installs, compiles and runs as before.
 */

import { observeBrokerConnectionGauges } from "./broker-connection-gauges.js";
import type { CallMetrics, CallMetricsSink, CallStatsRow } from "./call-metrics.js";
import { InvalidArgumentError } from "./errors.js";
import type { RemotingClient } from "./remoting/remoting-client.js";
import { RemotingServer } from "./remoting/remoting-server.js";
import { requestCodeLabel, responseCodeLabel } from "./rocketmq/code-labels.js";

/** Attribute values mqwire records. */
export type OtelAttributes = Record<string, string | boolean>;

/** The part of `@opentelemetry/api`'s Histogram mqwire uses. */
export interface OtelHistogram {
  /** Records one value. */
  record(value: number, attributes?: OtelAttributes): void;
}
/** An asynchronous instrument (`@opentelemetry/api`'s Observable). */
export type OtelObservable = object;
/** What a batch observable callback receives (`@opentelemetry/api`'s BatchObservableResult). */
export interface OtelBatchResult {
  /** Reports the current value of `observable`. */
  observe(observable: OtelObservable, value: number, attributes?: OtelAttributes): void;
}
/** Options of an instrument (`@opentelemetry/api`'s MetricOptions, the fields mqwire sets). */
export interface OtelInstrumentOptions {
  /** What the instrument measures. */
  description?: string;
  /** Its unit. */
  unit?: string;
  /** Hints to the SDK. */
  advice?: {
    /** A histogram's bucket boundaries. */
    explicitBucketBoundaries?: number[];
  };
}
/** The part of `@opentelemetry/api`'s Meter mqwire uses. */
export interface OtelMeter {
  /** A synchronous histogram. */
  createHistogram(name: string, options?: OtelInstrumentOptions): OtelHistogram;
  /** An asynchronous gauge. */
  createObservableGauge(name: string, options?: OtelInstrumentOptions): OtelObservable;
  /** An asynchronous monotonic counter. */
  createObservableCounter(name: string, options?: OtelInstrumentOptions): OtelObservable;
  /** Registers one callback observing several instruments at each collection. */
  addBatchObservableCallback(
    callback: (result: OtelBatchResult) => void,
    observables: OtelObservable[],
  ): void;
  /** Removes a callback added by addBatchObservableCallback. */
  removeBatchObservableCallback(
    callback: (result: OtelBatchResult) => void,
    observables: OtelObservable[],
  ): void;
}
/** The part of `@opentelemetry/api`'s MeterProvider mqwire uses; the SDK's MeterProvider fits. */
export interface OtelMeterProvider {
  /** The meter named `name`. */
  getMeter(name: string, version?: string): OtelMeter;
}

/** Options of {@link enableOpenTelemetry}. */
export interface OpenTelemetryOptions {
  /** Where the instruments are created. Default: the global MeterProvider of `@opentelemetry/api`. */
  meterProvider?: OtelMeterProvider;
  /**
   * Attributes added to every point, e.g. RocketMQ's `cluster`, `node_type` and `node_id` that a
   * broker's dashboards filter on. Default none.
   */
  attributes?: Readonly<Record<string, string>>;
  /**
   * Also observe RocketMQ 5's broker connection gauges, `rocketmq_producer_connections` and
   * `rocketmq_consumer_connections`, for the servers bound: each channel is classified from the
   * HEART_BEAT (34) bodies its server answered SUCCESS, less UNREGISTER_CLIENT (35), until it
   * closes. For a server playing a broker (or a proxy in front of one); a reply to any other
   * code costs a method call and a compare more. Default false.
   */
  brokerConnectionGauges?: boolean;
}

/** A binding made by {@link enableOpenTelemetry}. */
export interface OpenTelemetryBinding {
  /** Stops recording and observing; the services keep their own `metrics()`. Idempotent. */
  close(): void;
}

/** The histogram RocketMQ 5 records every reply in (RemotingMetricsConstant.HISTOGRAM_RPC_LATENCY). */
export const RPC_LATENCY = "rocketmq_rpc_latency";
/** mqwire's histogram of the calls a side made, with the same attributes as {@link RPC_LATENCY}. */
export const RPC_CALL_LATENCY = "mqwire_rpc_call_latency";
/** Gauge: connections open now, by `side`. */
export const CONNECTIONS = "mqwire_connections";
/** Counter: connections opened (accepted or connected), by `side`. */
export const CONNECTIONS_OPENED = "mqwire_connections_opened";
/** Counter: bytes read, by `side`. */
export const BYTES_RECEIVED = "mqwire_bytes_received";
/** Counter: bytes written, by `side`. */
export const BYTES_SENT = "mqwire_bytes_sent";
/** Gauge: calls waiting for their response, by `side`. */
export const CALLS_IN_FLIGHT = "mqwire_calls_in_flight";
/** Gauge: requests in processing, by `side`. */
export const REQUESTS_IN_FLIGHT = "mqwire_requests_in_flight";

/** RocketMQ's view of rpc_latency (RemotingMetricsManager.getMetricsView), given as advice. */
const RPC_LATENCY_BUCKETS_MS = [1, 3, 5, 7, 10, 100, 1000, 2000, 3000];
const bound = new WeakSet<RemotingClient | RemotingServer>();

async function globalMeterProvider(): Promise<OtelMeterProvider | undefined> {
  try {
    const api = await import("@opentelemetry/api");
    return api.metrics.getMeterProvider();
  } catch {
    return undefined; // not installed: OpenTelemetry is optional
  }
}

/**
 * Records the calls and requests of `services` as OpenTelemetry metrics and observes their
 * connections, bytes and in-flight counts:
 * - `rocketmq_rpc_latency` (histogram, ms): requests served, timed from arrival to the reply's
 *   write, with RocketMQ's attributes `protocol_type` ("remoting"), `request_code` and
 *   `response_code` (RocketMQ 5's lower-case names, else the number: {@link requestCodeLabel},
 *   {@link responseCodeLabel}), `is_long_polling` (true for requests held and answered later,
 *   see `RemotingCommand.suspended`) and `result` (success, oneway, write_channel_failed), and
 *   RocketMQ's bucket boundaries as advice;
 * - `mqwire_rpc_call_latency` (histogram, ms): calls made, same attributes; `result` is also
 *   timeout, cancelled, channel_closed or error, and `response_code` is absent when none came;
 * - gauges `mqwire_connections`, `mqwire_calls_in_flight`, `mqwire_requests_in_flight` and
 *   counters `mqwire_connections_opened`, `mqwire_bytes_received`, `mqwire_bytes_sent`, with
 *   `protocol_type` and `side` ("server" or "client"), summed over the services of each side;
 * - with `brokerConnectionGauges`, RocketMQ 5's `rocketmq_producer_connections` and
 *   `rocketmq_consumer_connections` for the servers among `services`.
 *
 * Resolves with undefined when no `meterProvider` is given and `@opentelemetry/api` is not
 * installed. A service can be bound once at a time (MQW_ERR_INVALID_ARGUMENT otherwise). Each
 * recorded call then also costs one `Histogram.record` of the SDK.
 */
export async function enableOpenTelemetry(
  services: RemotingClient | RemotingServer | readonly (RemotingClient | RemotingServer)[],
  options: OpenTelemetryOptions = {},
): Promise<OpenTelemetryBinding | undefined> {
  const list = Array.isArray(services) ? [...services] : [services as RemotingClient | RemotingServer];
  for (const service of list) {
    if (bound.has(service)) throw new InvalidArgumentError("a service can be bound to OpenTelemetry once");
  }
  const provider = options.meterProvider ?? (await globalMeterProvider());
  if (provider === undefined) return undefined;
  for (const service of list) {
    if (bound.has(service)) throw new InvalidArgumentError("a service can be bound to OpenTelemetry once");
    bound.add(service);
  }
  const extra = { ...options.attributes };
  const meter = provider.getMeter("mqwire");
  const histogram = (name: string, description: string): OtelHistogram =>
    meter.createHistogram(name, {
      description,
      unit: "milliseconds", // RemotingMetricsManager's unit, kept so exported names match
      advice: { explicitBucketBoundaries: RPC_LATENCY_BUCKETS_MS },
    });
  const served = histogram(RPC_LATENCY, "Rpc latency");
  const made = histogram(RPC_CALL_LATENCY, "Latency of the calls made, request written to response read");

  // One attribute object per row, built on its first point: no allocation per call.
  const attributesOf = new WeakMap<CallStatsRow, OtelAttributes>();
  const attributes = (row: CallStatsRow): OtelAttributes => {
    let attrs = attributesOf.get(row);
    if (attrs === undefined) {
      attrs = { ...extra, protocol_type: "remoting" };
      attrs.request_code = row.requestCode === "other" ? "other" : requestCodeLabel(row.requestCode);
      if (row.responseCode !== -1) attrs.response_code = responseCodeLabel(row.responseCode);
      attrs.is_long_polling = row.isLongPolling;
      attrs.result = row.result;
      attributesOf.set(row, attrs);
    }
    return attrs;
  };
  const sinkTo =
    (h: OtelHistogram): CallMetricsSink =>
    (row, latencyMs) =>
      h.record(latencyMs, attributes(row));
  const tables: CallMetrics[] = [];
  for (const service of list) {
    const { calls, requests } = service.callMetrics;
    calls.sink = sinkTo(made);
    requests.sink = sinkTo(served);
    tables.push(calls, requests);
  }

  const gauge = (name: string, description: string): OtelObservable =>
    meter.createObservableGauge(name, { description });
  const counter = (name: string, description: string, unit?: string): OtelObservable =>
    meter.createObservableCounter(name, unit === undefined ? { description } : { description, unit });
  const connections = gauge(CONNECTIONS, "Connections open");
  const opened = counter(CONNECTIONS_OPENED, "Connections opened");
  const bytesIn = counter(BYTES_RECEIVED, "Bytes read", "By");
  const bytesOut = counter(BYTES_SENT, "Bytes written", "By");
  const callsInFlight = gauge(CALLS_IN_FLIGHT, "Calls waiting for their response");
  const requestsInFlight = gauge(REQUESTS_IN_FLIGHT, "Requests in processing");
  const observables = [connections, opened, bytesIn, bytesOut, callsInFlight, requestsInFlight];
  const sideAttributes = {
    server: { ...extra, protocol_type: "remoting", side: "server" },
    client: { ...extra, protocol_type: "remoting", side: "client" },
  };
  const observe = (result: OtelBatchResult): void => {
    for (const side of ["server", "client"] as const) {
      const members = list.filter((s) => s instanceof RemotingServer === (side === "server"));
      if (members.length === 0) continue;
      const sums = observables.map(() => 0);
      for (const service of members) {
        const m = service.metrics();
        const values = [
          m.connections.open,
          m.connections.opened,
          m.bytes.in,
          m.bytes.out,
          m.calls.inFlight,
          m.requests.inFlight,
        ];
        for (let i = 0; i < sums.length; i++) sums[i] = (sums[i] ?? 0) + (values[i] ?? 0);
      }
      for (const [i, observable] of observables.entries()) {
        result.observe(observable, sums[i] ?? 0, sideAttributes[side]);
      }
    }
  };
  meter.addBatchObservableCallback(observe, observables);
  const servers = list.filter((s): s is RemotingServer => s instanceof RemotingServer);
  const unobserveGauges =
    options.brokerConnectionGauges === true
      ? observeBrokerConnectionGauges(meter, servers, extra)
      : undefined;

  let closed = false;
  return {
    close(): void {
      if (closed) return;
      closed = true;
      meter.removeBatchObservableCallback(observe, observables);
      unobserveGauges?.();
      for (const table of tables) table.sink = undefined;
      for (const service of list) bound.delete(service);
    },
  };
}
