/**
 * RocketMQ 5's broker connection gauges on an mqwire server playing a broker: mqwire's own
 * Producer and PullConsumer, and a raw RemotingClient speaking as a RocketMQ 5 Node.js client,
 * send their real HEART_BEAT bodies; the OpenTelemetry SDK's reader (not a mock) reads the gauges.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { MeterProvider, MetricReader, type ResourceMetrics } from "@opentelemetry/sdk-metrics";
import {
  CONSUMER_CONNECTIONS,
  enableOpenTelemetry,
  encodeHeartbeatData,
  LanguageCode,
  PRODUCER_CONNECTIONS,
  Producer,
  PullConsumer,
  RemotingClient,
  RemotingCommand,
  RemotingServer,
  RequestCode,
  ResponseCode,
} from "../../src/index.js";
import { waitFor } from "../helpers/client-fixtures.js";

class OnDemandReader extends MetricReader {
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

/** Nobody listens there: the clients below talk to the server by address, never to a name server. */
const NO_NAME_SERVER = "127.0.0.1:9";
/** RocketMQ 5.3.3's MQVersion ordinal. */
const V5_3_3 = 479;

/** A broker's heartbeat processors: SUCCESS, except NO_PERMISSION for a heartbeat naming "Refused". */
async function startBroker(): Promise<RemotingServer> {
  const server = new RemotingServer();
  server.registerProcessor(RequestCode.HEART_BEAT, (request) =>
    RemotingCommand.createResponse(
      request.body?.includes("Refused") ? ResponseCode.NO_PERMISSION : ResponseCode.SUCCESS,
    ),
  );
  server.registerProcessor(RequestCode.UNREGISTER_CLIENT, () =>
    RemotingCommand.createResponse(ResponseCode.SUCCESS),
  );
  await server.start();
  return server;
}

/** Each point of gauge `name` as its attributes plus `value`, sorted for comparison. */
function points(collected: ResourceMetrics, name: string): Record<string, unknown>[] {
  const found = collected.scopeMetrics.flatMap((s) => s.metrics).find((m) => m.descriptor.name === name);
  return (found?.dataPoints ?? [])
    .map((p) => ({ ...p.attributes, value: p.value }))
    .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
}

/** [label, value] of each point of gauge `name`, sorted. */
function values(collected: ResourceMetrics, name: string, label: string): [unknown, unknown][] {
  return points(collected, name).map((p) => [p[label], p.value]);
}

test("producer and consumer connections come from heartbeats and go with their channels", async (t) => {
  const server = await startBroker();
  const addr = server.addresses[0]!;
  const reader = new OnDemandReader();
  const provider = new MeterProvider({ readers: [reader] });
  const binding = await enableOpenTelemetry(server, {
    meterProvider: provider,
    attributes: { cluster: "DefaultCluster" },
    brokerConnectionGauges: true,
  });
  assert.ok(binding);
  const producer = new Producer({ group: "OrderProducer", nameServer: NO_NAME_SERVER });
  const consumer = new PullConsumer({ group: "OrderConsumer", nameServer: NO_NAME_SERVER });
  const node = new RemotingClient({
    scanNameServers: false,
    language: LanguageCode.NODE_JS,
    version: V5_3_3,
  });
  t.after(async () => {
    binding.close();
    await provider.shutdown();
    await Promise.all([producer.close(), consumer.close(), node.shutdown()]);
    await server.shutdown({ graceMs: 0 });
  });

  // Java-style clients (language JAVA, version V4_9_8): their heartbeats as they send them.
  await producer.client.heartbeatTo(addr);
  consumer.subscribe("Orders", "TagA || TagB");
  await consumer.client.heartbeatTo(addr);
  // A RocketMQ 5 client: a producer group and a pop consumer in a system group.
  const heartbeat = (body: Buffer): RemotingCommand => node.createRequest(RequestCode.HEART_BEAT, { body });
  const nodeHeartbeat = encodeHeartbeatData({
    clientID: "127.0.0.1@node",
    producerDataSet: [{ groupName: "NodeProducer" }],
    consumerDataSet: [
      {
        groupName: "CID_RMQ_SYS_TRANS",
        consumeType: "CONSUME_POP",
        messageModel: "CLUSTERING",
        consumeFromWhere: "CONSUME_FROM_LAST_OFFSET",
        subscriptionDataSet: [],
        unitMode: false,
      },
    ],
  });
  assert.equal((await node.invoke(addr, heartbeat(nodeHeartbeat))).code, ResponseCode.SUCCESS);
  // Refused by the server: a broker registers nothing for it.
  const refused = encodeHeartbeatData({
    clientID: "127.0.0.1@node",
    producerDataSet: [{ groupName: "RefusedProducer" }],
    consumerDataSet: [],
  });
  assert.equal((await node.invoke(addr, heartbeat(refused))).code, ResponseCode.NO_PERMISSION);
  // Not a heartbeat body at all: nothing to count, and no harm done.
  assert.equal((await node.invoke(addr, heartbeat(Buffer.from("ping")))).code, ResponseCode.SUCCESS);

  let { resourceMetrics } = await reader.collect();
  const base = { cluster: "DefaultCluster", protocol_type: "remoting" };
  assert.deepEqual(points(resourceMetrics, PRODUCER_CONNECTIONS), [
    // OrderProducer and CLIENT_INNER_PRODUCER: a broker counts each group of a channel.
    { ...base, language: "java", version: "v4_9_8", value: 2 },
    { ...base, language: "node_js", version: "v5_3_3", value: 1 },
  ]);
  assert.deepEqual(points(resourceMetrics, CONSUMER_CONNECTIONS), [
    {
      ...base,
      consumer_group: "CID_RMQ_SYS_TRANS",
      language: "node_js",
      version: "v5_3_3",
      consume_mode: "pop",
      is_system: true,
      value: 1,
    },
    {
      ...base,
      consumer_group: "OrderConsumer",
      language: "java",
      version: "v4_9_8",
      consume_mode: "pull",
      is_system: false,
      value: 1,
    },
  ]);

  // UNREGISTER_CLIENT takes the group off its channel; the channel's other group stays. A label
  // set whose connections are gone reads 0 (the JS SDK would keep its last value otherwise).
  const unregister = node.createRequest(RequestCode.UNREGISTER_CLIENT, {
    extFields: { clientID: "127.0.0.1@node", producerGroup: "NodeProducer" },
  });
  assert.equal((await node.invoke(addr, unregister)).code, ResponseCode.SUCCESS);
  ({ resourceMetrics } = await reader.collect());
  assert.deepEqual(values(resourceMetrics, PRODUCER_CONNECTIONS, "language"), [
    ["java", 2],
    ["node_js", 0],
  ]);
  assert.deepEqual(values(resourceMetrics, CONSUMER_CONNECTIONS, "consumer_group"), [
    ["CID_RMQ_SYS_TRANS", 1],
    ["OrderConsumer", 1],
  ]);

  // Closing clients close their channels: their classification goes with them.
  await producer.close();
  await node.shutdown();
  await waitFor(() => server.metrics().connections.open === 1, "the server to see two channels close");
  ({ resourceMetrics } = await reader.collect());
  assert.deepEqual(values(resourceMetrics, PRODUCER_CONNECTIONS, "language"), [
    ["java", 0],
    ["node_js", 0],
  ]);
  assert.deepEqual(values(resourceMetrics, CONSUMER_CONNECTIONS, "consumer_group"), [
    ["CID_RMQ_SYS_TRANS", 0],
    ["OrderConsumer", 1],
  ]);
  await consumer.close();
  await waitFor(() => server.metrics().connections.open === 0, "the server to see the last channel close");
  ({ resourceMetrics } = await reader.collect());
  assert.deepEqual(values(resourceMetrics, CONSUMER_CONNECTIONS, "consumer_group"), [
    ["CID_RMQ_SYS_TRANS", 0],
    ["OrderConsumer", 0],
  ]);
});

test("without brokerConnectionGauges there are no broker gauges; close() stops classifying", async (t) => {
  const server = await startBroker();
  const addr = server.addresses[0]!;
  const reader = new OnDemandReader();
  const provider = new MeterProvider({ readers: [reader] });
  const first = new Producer({ group: "OrderProducer", nameServer: NO_NAME_SERVER });
  const second = new Producer({ group: "AuditProducer", nameServer: NO_NAME_SERVER });
  t.after(async () => {
    await provider.shutdown();
    await Promise.all([first.close(), second.close()]);
    await server.shutdown({ graceMs: 0 });
  });
  const plain = await enableOpenTelemetry(server, { meterProvider: provider });
  assert.ok(plain);
  await first.client.heartbeatTo(addr);
  let { resourceMetrics } = await reader.collect();
  assert.deepEqual(points(resourceMetrics, PRODUCER_CONNECTIONS), []);
  plain.close();

  // Bound again with the gauges: heartbeats count from then on.
  const gauges = await enableOpenTelemetry(server, { meterProvider: provider, brokerConnectionGauges: true });
  assert.ok(gauges);
  ({ resourceMetrics } = await reader.collect());
  assert.deepEqual(points(resourceMetrics, PRODUCER_CONNECTIONS), []);
  await first.client.heartbeatTo(addr);
  ({ resourceMetrics } = await reader.collect());
  assert.deepEqual(values(resourceMetrics, PRODUCER_CONNECTIONS, "language"), [["java", 2]]);

  // After close() nothing is classified or observed: the SDK keeps the last value it read.
  gauges.close();
  await second.client.heartbeatTo(addr);
  ({ resourceMetrics } = await reader.collect());
  assert.deepEqual(values(resourceMetrics, PRODUCER_CONNECTIONS, "language"), [["java", 2]]);
});
