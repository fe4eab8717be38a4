/**
 * `metrics()` on a server and a client after calls over real sockets, and the same figures
 * through OpenTelemetry's SDK (a real MeterProvider and MetricReader, not a mock) under RocketMQ
 * 5's names and labels.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { metrics as otelMetrics } from "@opentelemetry/api";
import {
  type DataPoint,
  type Histogram,
  MeterProvider,
  MetricReader,
  type ResourceMetrics,
} from "@opentelemetry/sdk-metrics";
import {
  CONNECTIONS,
  ErrorCodes,
  enableOpenTelemetry,
  isMqwireError,
  RemotingClient,
  RemotingCommand,
  RemotingServer,
  RPC_CALL_LATENCY,
  RPC_LATENCY,
} from "../../src/index.js";

/** A reader collected on demand (the SDK's MetricReader; collect() runs every callback). */
class OnDemandReader extends MetricReader {
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

/** SEND_MESSAGE, PULL_MESSAGE and QUERY_MESSAGE: codes with RocketMQ names, as labels show. */
const ECHO = 10;
const NOT_FOUND = 11;
const SILENT = 12;
/** PULL_MESSAGE and RocketMQ 5's POP_MESSAGE, held by the processor before their reply. */
const HELD_PULL = 11;
const HELD_POP = 200050;

async function startPair(): Promise<{ server: RemotingServer; client: RemotingClient; addr: string }> {
  const server = new RemotingServer();
  server.registerProcessor(ECHO, (request) =>
    RemotingCommand.createResponse(0, null, { body: request.body }),
  );
  server.registerProcessor(NOT_FOUND, async () => RemotingCommand.createResponse(17, "no such topic"));
  server.registerProcessor(SILENT, () => new Promise<never>(() => {}));
  await server.start();
  const client = new RemotingClient({ scanNameServers: false });
  return { server, client, addr: server.addresses[0]! };
}

/** Calls of every outcome: 20 echoes, 3 TOPIC_NOT_EXIST, 1 time-out, 2 oneways. */
async function traffic(client: RemotingClient, addr: string): Promise<void> {
  for (let i = 0; i < 20; i++) {
    await client.invoke(addr, client.createRequest(ECHO, { body: Buffer.from(`hello ${i}`) }));
  }
  for (let i = 0; i < 3; i++) await client.invoke(addr, client.createRequest(NOT_FOUND));
  await assert.rejects(client.invoke(addr, client.createRequest(SILENT), { timeoutMs: 30 }), (err) =>
    isMqwireError(err, ErrorCodes.TIMEOUT),
  );
  await client.invokeOneway(addr, client.createRequest(ECHO));
  await client.invokeOneway(addr, client.createRequest(ECHO));
  // One more round trip: the server has then read (and counted) both oneways.
  await client.invoke(addr, client.createRequest(ECHO));
}

function row<T extends { requestCode: unknown; result: string; responseCode: unknown }>(
  rows: T[],
  requestCode: number,
  result: string,
  responseCode: number | null,
): T {
  const found = rows.find(
    (r) => r.requestCode === requestCode && r.result === result && r.responseCode === responseCode,
  );
  assert.ok(found, `no row ${requestCode}/${result}/${responseCode} in ${JSON.stringify(rows)}`);
  return found;
}

describe("metrics() after calls over TCP", () => {
  let pair: Awaited<ReturnType<typeof startPair>>;
  before(async () => {
    pair = await startPair();
    await traffic(pair.client, pair.addr);
  });
  after(async () => {
    await pair.client.shutdown();
    await pair.server.shutdown({ graceMs: 0 });
  });

  test("the client: its calls by code, response code and result, with latencies", () => {
    const m = pair.client.metrics();
    assert.deepEqual(m.connections, { open: 1, opened: 1 });
    assert.equal(m.calls.inFlight, 0);
    const echo = row(m.calls.byCode, ECHO, "success", 0);
    assert.equal(echo.calls, 21);
    assert.equal(echo.errors, 0);
    assert.ok(echo.latencyMs.p50 > 0 && echo.latencyMs.p50 <= echo.latencyMs.p99);
    assert.ok(echo.latencyMs.p99 <= echo.latencyMs.max);
    const notFound = row(m.calls.byCode, NOT_FOUND, "success", 17);
    assert.deepEqual([notFound.calls, notFound.errors], [3, 3]);
    const timeout = row(m.calls.byCode, SILENT, "timeout", null);
    assert.deepEqual([timeout.calls, timeout.errors], [1, 1]);
    assert.ok(timeout.latencyMs.max >= 30, `a 30 ms time-out took ${timeout.latencyMs.max} ms`);
    assert.equal(row(m.calls.byCode, ECHO, "oneway", null).calls, 2);
    assert.deepEqual(m.requests.byCode, [], "the client served nothing");
  });

  test("the server: requests served with their processing time; bytes mirror the client's", () => {
    const m = pair.server.metrics();
    const c = pair.client.metrics();
    assert.deepEqual(m.connections, { open: 1, opened: 1 });
    assert.equal(m.requests.inFlight, 1, "the silent request is still in process");
    assert.equal(row(m.requests.byCode, ECHO, "success", 0).calls, 21);
    assert.equal(row(m.requests.byCode, ECHO, "oneway", 0).calls, 2);
    const notFound = row(m.requests.byCode, NOT_FOUND, "success", 17);
    assert.deepEqual([notFound.calls, notFound.errors], [3, 3]);
    assert.equal(
      m.requests.byCode.find((r) => r.requestCode === SILENT),
      undefined,
      "a request not answered yet is not counted",
    );
    assert.ok(c.bytes.out > 0 && c.bytes.in > 0);
    assert.deepEqual(m.bytes, { in: c.bytes.out, out: c.bytes.in });
    assert.doesNotThrow(() => JSON.stringify(m));
  });

  test("closed connections keep their bytes and leave the open count", async () => {
    const before = pair.client.metrics().bytes;
    pair.client.closeChannels([pair.addr]);
    const open = (): number =>
      pair.server.metrics().connections.open + pair.client.metrics().connections.open;
    for (let i = 0; i < 100 && open() > 0; i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.deepEqual(pair.client.metrics().connections, { open: 0, opened: 1 });
    assert.deepEqual(pair.server.metrics().connections, { open: 0, opened: 1 });
    assert.deepEqual(pair.client.metrics().bytes, before);
  });
});

test("metrics: false keeps the rows empty and still counts connections and bytes", async (t) => {
  assert.throws(
    () => new RemotingClient({ metrics: "yes" as unknown as boolean }),
    (err) => isMqwireError(err, ErrorCodes.INVALID_ARGUMENT),
  );
  const server = new RemotingServer({ metrics: false });
  server.registerProcessor(ECHO, (request) =>
    RemotingCommand.createResponse(0, null, { body: request.body }),
  );
  await server.start();
  const client = new RemotingClient({ scanNameServers: false, metrics: false });
  t.after(async () => {
    await client.shutdown();
    await server.shutdown({ graceMs: 0 });
  });
  const addr = server.addresses[0]!;
  await client.invoke(addr, client.createRequest(ECHO));
  await client.invokeOneway(addr, client.createRequest(ECHO));
  await client.invoke(addr, client.createRequest(ECHO));
  for (const m of [client.metrics(), server.metrics()]) {
    assert.deepEqual([m.calls.byCode, m.requests.byCode], [[], []]);
    assert.deepEqual(m.connections, { open: 1, opened: 1 });
    assert.ok(m.bytes.in > 0 && m.bytes.out > 0);
  }
});

function histogramPoints(collected: ResourceMetrics, name: string): DataPoint<Histogram>[] {
  const points: DataPoint<Histogram>[] = [];
  for (const scope of collected.scopeMetrics) {
    for (const metric of scope.metrics) {
      if (metric.descriptor.name === name) points.push(...(metric.dataPoints as DataPoint<Histogram>[]));
    }
  }
  return points;
}

describe("enableOpenTelemetry with the OpenTelemetry SDK", () => {
  test("rocketmq_rpc_latency and the call histogram carry RocketMQ's labels and buckets", async (t) => {
    const { server, client, addr } = await startPair();
    const reader = new OnDemandReader();
    const provider = new MeterProvider({ readers: [reader] });
    const binding = await enableOpenTelemetry([server, client], {
      meterProvider: provider,
      attributes: { cluster: "DefaultCluster" },
    });
    assert.ok(binding);
    t.after(async () => {
      binding.close();
      await provider.shutdown();
      await client.shutdown();
      await server.shutdown({ graceMs: 0 });
    });
    await traffic(client, addr);
    const { resourceMetrics, errors } = await reader.collect();
    assert.deepEqual(errors, []);

    const served = histogramPoints(resourceMetrics, RPC_LATENCY);
    const echo = served.find(
      (p) => p.attributes.request_code === "send_message" && p.attributes.result === "success",
    );
    assert.ok(echo, `no send_message point in ${JSON.stringify(served.map((p) => p.attributes))}`);
    assert.deepEqual(echo.attributes, {
      cluster: "DefaultCluster",
      protocol_type: "remoting",
      request_code: "send_message",
      response_code: "success",
      is_long_polling: false,
      result: "success",
    });
    assert.equal(echo.value.count, 21);
    assert.deepEqual(echo.value.buckets.boundaries, [1, 3, 5, 7, 10, 100, 1000, 2000, 3000]);
    const notFound = served.find((p) => p.attributes.request_code === "pull_message");
    assert.equal(notFound?.attributes.response_code, "topic_not_exist");
    assert.equal(notFound?.value.count, 3);
    const oneway = served.find((p) => p.attributes.result === "oneway");
    assert.equal(oneway?.value.count, 2);

    const made = histogramPoints(resourceMetrics, RPC_CALL_LATENCY);
    const timeout = made.find((p) => p.attributes.result === "timeout");
    assert.ok(timeout, "the timed-out call is a point of the call histogram");
    assert.equal(timeout.attributes.request_code, "query_message");
    assert.equal("response_code" in timeout.attributes, false, "no response, no response_code");
    assert.ok((timeout.value.max ?? 0) >= 30);

    const gauges = resourceMetrics.scopeMetrics
      .flatMap((s) => s.metrics)
      .find((m) => m.descriptor.name === CONNECTIONS);
    assert.deepEqual(gauges?.dataPoints.map((p) => [p.attributes.side, p.value]).sort(), [
      ["client", 1],
      ["server", 1],
    ]);
  });

  test("a held request is long polling: is_long_polling true in its point and its row", async (t) => {
    const server = new RemotingServer();
    // PULL_MESSAGE held as examples/long-polling.mjs holds it: no response now, channel.respond later.
    server.registerProcessor(HELD_PULL, (request, channel) => {
      setTimeout(() => channel.respond(request, RemotingCommand.createResponse(19, "nothing new")), 20);
      return null;
    });
    // POP_MESSAGE held in a pending Promise: the processor marks the request itself.
    server.registerProcessor(HELD_POP, async (request) => {
      request.suspended = true;
      await new Promise((r) => setTimeout(r, 20));
      return RemotingCommand.createResponse(0);
    });
    server.registerProcessor(ECHO, (request) =>
      RemotingCommand.createResponse(0, null, { body: request.body }),
    );
    await server.start();
    const client = new RemotingClient({ scanNameServers: false });
    const reader = new OnDemandReader();
    const provider = new MeterProvider({ readers: [reader] });
    const binding = await enableOpenTelemetry(server, { meterProvider: provider });
    assert.ok(binding);
    t.after(async () => {
      binding.close();
      await provider.shutdown();
      await client.shutdown();
      await server.shutdown({ graceMs: 0 });
    });
    const addr = server.addresses[0]!;
    for (let i = 0; i < 2; i++) {
      assert.equal((await client.invoke(addr, client.createRequest(HELD_PULL))).code, 19);
      assert.equal((await client.invoke(addr, client.createRequest(HELD_POP))).code, 0);
      assert.equal((await client.invoke(addr, client.createRequest(ECHO))).code, 0);
    }

    const { resourceMetrics } = await reader.collect();
    const byCode = new Map(
      histogramPoints(resourceMetrics, RPC_LATENCY).map((p) => [p.attributes.request_code, p]),
    );
    assert.deepEqual(byCode.get("pull_message")?.attributes, {
      protocol_type: "remoting",
      request_code: "pull_message",
      response_code: "pull_not_found",
      is_long_polling: true,
      result: "success",
    });
    assert.equal(byCode.get("pull_message")?.value.count, 2);
    assert.ok((byCode.get("pull_message")?.value.min ?? 0) >= 15, "the hold is its latency");
    assert.equal(byCode.get("pop_message")?.attributes.is_long_polling, true);
    assert.equal(byCode.get("send_message")?.attributes.is_long_polling, false);
    assert.equal(byCode.size, 3, "one point per code: held and immediate never share one");

    const rows = server.metrics().requests.byCode;
    assert.deepEqual(
      rows.map((r) => [r.requestCode, r.isLongPolling, r.calls]),
      [
        [HELD_PULL, true, 2],
        [HELD_POP, true, 2],
        [ECHO, false, 2],
      ],
    );
    assert.ok(
      client.metrics().calls.byCode.every((r) => !r.isLongPolling),
      "calls made are never long polling",
    );
  });

  test("without a meterProvider the global one is used; close() stops recording", async (t) => {
    const { server, client, addr } = await startPair();
    const reader = new OnDemandReader();
    const provider = new MeterProvider({ readers: [reader] });
    otelMetrics.setGlobalMeterProvider(provider);
    t.after(async () => {
      otelMetrics.disable();
      await provider.shutdown();
      await client.shutdown();
      await server.shutdown({ graceMs: 0 });
    });
    const binding = await enableOpenTelemetry(server);
    assert.ok(binding);
    await assert.rejects(enableOpenTelemetry(server), (err) =>
      isMqwireError(err, ErrorCodes.INVALID_ARGUMENT),
    );
    await client.invoke(addr, client.createRequest(ECHO));
    binding.close();
    await client.invoke(addr, client.createRequest(ECHO));
    const { resourceMetrics } = await reader.collect();
    const points = histogramPoints(resourceMetrics, RPC_LATENCY);
    assert.deepEqual(
      points.map((p) => p.value.count),
      [1],
    );
    assert.equal(server.metrics().requests.byCode[0]?.calls, 2, "metrics() counts on after close()");
  });
});
