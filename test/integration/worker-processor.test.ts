/**
 * A CPU-heavy processor in a worker pool leaves the event loop (the network driver) free: echo
 * latency on another connection stays low while it runs. The control case runs the same work on
 * the event loop and shows the stall the pool avoids, so the test can fail.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { RemotingClient, RemotingCommand, RemotingServer, WorkerPoolProcessor } from "../../src/index.js";
import { spin } from "../fixtures/heavy-worker.js";

const HEAVY = 300;
const HEAVY_INLINE = 301;
const ECHO = 100;
const SPIN_MS = 300;

async function echoLatenciesWhile(
  client: RemotingClient,
  addr: string,
  work: Promise<unknown>,
): Promise<number[]> {
  const latencies: number[] = [];
  let done = false;
  void work.finally(() => {
    done = true;
  });
  while (!done) {
    const started = performance.now();
    const reply = await client.invoke(addr, client.createRequest(ECHO), { timeoutMs: 5000 });
    assert.equal(reply.code, 0);
    latencies.push(performance.now() - started);
    await new Promise((r) => setTimeout(r, 5));
  }
  return latencies;
}

describe("worker-pool processor", () => {
  let server: RemotingServer;
  let addr: string;
  let heavyClient: RemotingClient;
  let echoClient: RemotingClient;

  before(async () => {
    server = new RemotingServer({ listen: ["127.0.0.1:0"] });
    server.registerProcessor(
      HEAVY,
      new WorkerPoolProcessor({
        filename: new URL("../fixtures/heavy-worker.js", import.meta.url),
        maxThreads: 2,
      }),
    );
    server.registerProcessor(HEAVY_INLINE, () => {
      spin(SPIN_MS);
      return RemotingCommand.createResponse(0, "done");
    });
    server.registerProcessor(ECHO, () => RemotingCommand.createResponse(0, "ok"));
    await server.start();
    addr = server.addresses[0]!;
    heavyClient = new RemotingClient({ scanNameServers: false });
    echoClient = new RemotingClient({ scanNameServers: false });
    // Warm up: connections open and one worker thread started.
    await heavyClient.invoke(addr, heavyClient.createRequest(HEAVY, { extFields: { spinMs: "1" } }));
    await echoClient.invoke(addr, echoClient.createRequest(ECHO));
  });

  after(async () => {
    await heavyClient.shutdown();
    await echoClient.shutdown();
    await server.shutdown({ graceMs: 0 });
  });

  test("heavy work in workers: replies carry the worker's result, echoes stay fast", async () => {
    const heavy = Promise.all(
      [1, 2].map(() =>
        heavyClient.invoke(
          addr,
          heavyClient.createRequest(HEAVY, { extFields: { spinMs: String(SPIN_MS) } }),
          {
            timeoutMs: 10_000,
          },
        ),
      ),
    );
    const latencies = await echoLatenciesWhile(echoClient, addr, heavy);
    for (const reply of await heavy) {
      assert.equal(reply.code, 0);
      assert.equal(reply.remark, "done");
      assert.ok(Number(reply.getExt("iterations")) > 0);
    }
    assert.ok(latencies.length >= 10, `only ${latencies.length} echoes during ${SPIN_MS} ms of work`);
    assert.ok(Math.max(...latencies) < 150, `echo stalled: max ${Math.max(...latencies).toFixed(0)} ms`);
  });

  test("control: the same work on the event loop stalls echoes", async () => {
    const heavy = heavyClient.invoke(addr, heavyClient.createRequest(HEAVY_INLINE), { timeoutMs: 10_000 });
    const latencies = await echoLatenciesWhile(echoClient, addr, heavy);
    assert.ok(Math.max(...latencies) >= SPIN_MS / 2, `max ${Math.max(...latencies).toFixed(0)} ms`);
  });
});
