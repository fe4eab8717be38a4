/**
 * Two brokers, one killed mid-run (the kit's broker.sh, KILL by PID): the producer's cached route
 * still names the dead broker, and a send that picks one of its queues is retried at once on a
 * queue of the other broker, as RocketMQ 4.9.8's Java producer does (see the kit's README, "What
 * RocketMQ 4.9.8's Java producer did when a broker died"). A consumer reads both brokers' queues.
 * This file starts a cluster of its own.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { type MessageExt, Producer, PullConsumer, type SendResult } from "../../src/index.js";
import { type KitCluster, kitDir, startKit, uniqueName } from "./kit.js";

const run = promisify(execFile);

describe("a producer and a consumer across two brokers", () => {
  let cluster: KitCluster;
  before(async () => {
    cluster = await startKit({ brokers: 2 });
  });
  after(() => cluster?.stop());

  test("sends spread over both brokers, survive one being killed, and are all read back", {
    timeout: 120_000,
  }, async () => {
    const topic = uniqueName("Failover");
    const producer = new Producer({ nameServer: cluster.namesrv, group: uniqueName("FailoverPG") });
    const results: SendResult[] = [];
    try {
      for (let i = 0; i < 20; i++)
        results.push(await producer.send({ topic, body: Buffer.from(`before${i}`) }));
      const brokersBefore = new Set(results.map((r) => r.queue.brokerName));
      assert.deepEqual([...brokersBefore].sort(), ["broker-a", "broker-b"]);

      await run(join(kitDir(), "bin", "broker.sh"), ["kill", "broker-a"], {
        env: cluster.env,
        timeout: 60_000,
      });
      // The producer's route (cached for 30 s) still names broker-a.
      const after: SendResult[] = [];
      for (let i = 0; i < 20; i++) after.push(await producer.send({ topic, body: Buffer.from(`after${i}`) }));
      assert.ok(after.every((r) => r.status === "SEND_OK" && r.queue.brokerName === "broker-b"));
      results.push(...after);
    } finally {
      await producer.close();
    }

    await run(join(kitDir(), "bin", "broker.sh"), ["start", "broker-a"], {
      env: cluster.env,
      timeout: 120_000,
    });
    const consumer = new PullConsumer({ nameServer: cluster.namesrv, group: uniqueName("FailoverG") });
    const got: MessageExt[] = [];
    try {
      for await (const m of consumer.messages(topic, {
        from: "first",
        signal: AbortSignal.timeout(30_000),
      })) {
        got.push(m);
        if (got.length === results.length) break;
      }
    } finally {
      await consumer.close();
    }
    assert.deepEqual(got.map((m) => m.msgId).sort(), results.map((r) => r.msgId).sort());
    assert.deepEqual([...new Set(got.map((m) => m.brokerName))].sort(), ["broker-a", "broker-b"]);
  });
});
