/**
 * mqwire to mqwire through a real broker: 10,000 messages produced and consumed back, none lost
 * and none duplicated; consumer offsets kept by the broker across a consumer restart; tag
 * subscriptions; a batch send; long polling.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  Admin,
  headers,
  type MessageExt,
  Producer,
  PullConsumer,
  parseConsumerIdList,
  RequestCode,
  ResponseCode,
} from "../../src/index.js";
import { suiteCluster, uniqueName } from "./kit.js";

async function take(consumer: PullConsumer, topic: string, count: number, ms: number): Promise<MessageExt[]> {
  const got: MessageExt[] = [];
  if (count === 0) return got;
  for await (const m of consumer.messages(topic, {
    signal: AbortSignal.timeout(ms),
    whenNoCommitted: "first",
  })) {
    got.push(m);
    if (got.length === count) break;
  }
  return got;
}

describe("mqwire producer and consumer through a real broker", () => {
  const { namesrv } = suiteCluster();
  let producer: Producer;
  let admin: Admin;
  before(() => {
    producer = new Producer({ nameServer: namesrv, group: uniqueName("RoundTripPG") });
    admin = new Admin({ nameServer: namesrv });
  });
  after(async () => {
    await producer.close();
    await admin.close();
  });

  test("10,000 messages: all consumed once; offsets survive a consumer restart", {
    timeout: 180_000,
  }, async () => {
    const topic = uniqueName("TenThousand");
    const total = 10_000;
    // The first send auto-creates the topic through TBW102 (4 queues), as Java's producer does.
    const first = await producer.send({ topic, body: Buffer.from("m0"), keys: "0" });
    assert.equal(first.status, "SEND_OK");
    let next = 1;
    const worker = async (): Promise<void> => {
      while (next < total) {
        const i = next++;
        await producer.send({ topic, body: Buffer.from(`m${i}`), keys: String(i) });
      }
    };
    await Promise.all(Array.from({ length: 64 }, worker));
    const route = await admin.route(topic);
    assert.equal(route.queueDatas[0]?.writeQueueNums, 4);

    const group = uniqueName("TenThousandG");
    const firstHalf = new PullConsumer({ nameServer: namesrv, group });
    const a = await take(firstHalf, topic, 6_000, 60_000);
    await firstHalf.close();
    assert.equal(a.length, 6_000);

    // A new consumer of the same group goes on from the offsets the first one committed.
    const secondHalf = new PullConsumer({ nameServer: namesrv, group });
    const b = await take(secondHalf, topic, 4_000, 60_000);
    // Nothing is left: a further wait finds no message.
    const rest = await take(secondHalf, topic, 1, 3_000);
    await secondHalf.close();
    assert.equal(b.length, 4_000);
    assert.equal(rest.length, 0);

    const bodies = new Set([...a, ...b].map((m) => m.body.toString()));
    assert.equal(bodies.size, total, "duplicates");
    for (let i = 0; i < total; i++) assert.ok(bodies.has(`m${i}`), `m${i} lost`);

    const stats = await admin.consumeStats(group, topic);
    assert.equal(
      stats.queues.reduce((sum, q) => sum + q.brokerOffset - q.consumerOffset, 0),
      0,
    );
  });

  test("every queue's offset is kept, for each of 100 groups that read a topic once", {
    timeout: 120_000,
  }, async () => {
    // A broker creates a group's offset table with a get-then-put on its thread pool, so
    // commits sent at once for one group's first queues lost one queue's offset in about 1 of
    // 100 groups; the stream commits one broker's queues one after another.
    const topic = uniqueName("FirstCommit");
    await producer.send({ topic, body: Buffer.from("create") });
    for (let i = 1; i < 8; i++) await producer.send({ topic, body: Buffer.from(`f${i}`) });
    const consumer = new PullConsumer({ nameServer: namesrv, group: uniqueName("FirstCommitProbe") });
    const queues = await consumer.queues(topic);
    const ends = await Promise.all(queues.map((q) => consumer.maxOffset(q)));
    await consumer.close();
    const total = ends.reduce((a, b) => a + b, 0);
    assert.equal(total, 8);
    const groups = Array.from({ length: 100 }, (_, i) => uniqueName(`FirstCommitG${i}`));
    const lost: string[] = [];
    for (const group of groups) {
      const reader = new PullConsumer({ nameServer: namesrv, group });
      assert.equal((await take(reader, topic, total, 30_000)).length, total);
      const committed = await Promise.all(queues.map((q) => reader.committedOffset(q)));
      await reader.close();
      if (committed.some((offset, i) => offset !== ends[i])) lost.push(`${group}: ${committed}`);
    }
    assert.deepEqual(lost, []);
  });

  test("a tag subscription gets only its tags", async () => {
    const topic = uniqueName("Tags");
    for (let i = 0; i < 12; i++)
      await producer.send({ topic, body: Buffer.from(`t${i}`), tags: ["A", "B", "C"][i % 3]! });
    const consumer = new PullConsumer({ nameServer: namesrv, group: uniqueName("TagsG") });
    const got: MessageExt[] = [];
    for await (const m of consumer.messages(topic, {
      subscription: "A || C",
      from: "first",
      signal: AbortSignal.timeout(4_000),
    })) {
      got.push(m);
    }
    await consumer.close();
    assert.equal(got.length, 8);
    assert.ok(got.every((m) => m.tags === "A" || m.tags === "C"));
  });

  test("a batch is stored as separate messages in one queue", async () => {
    const topic = uniqueName("Batch");
    await producer.send({ topic, body: Buffer.from("create") });
    const batch = Array.from({ length: 5 }, (_, i) => ({
      topic,
      body: Buffer.from(`b${i}`),
      keys: `bk${i}`,
      properties: { n: String(i) },
    }));
    const result = await producer.sendBatch(batch);
    assert.equal(result.status, "SEND_OK");
    assert.equal(result.msgId.split(",").length, 5);
    const consumer = new PullConsumer({ nameServer: namesrv, group: uniqueName("BatchG") });
    const pulled = await consumer.pull(result.queue, result.queueOffset, { maxMessages: 32 });
    await consumer.close();
    assert.equal(pulled.status, "FOUND");
    assert.deepEqual(
      pulled.messages.slice(0, 5).map((m) => [m.body.toString(), m.keys[0], m.properties.n, m.msgId]),
      batch.map((_, i) => [`b${i}`, `bk${i}`, String(i), result.msgId.split(",")[i]]),
    );
  });

  test("sendOneway: written without a reply, stored all the same", async () => {
    const topic = uniqueName("Oneway");
    await admin.createTopic(topic, { readQueueNums: 2, writeQueueNums: 2 });
    for (let i = 0; i < 10; i++) await producer.sendOneway({ topic, body: Buffer.from(`o${i}`) });
    const consumer = new PullConsumer({ nameServer: namesrv, group: uniqueName("OnewayG") });
    const got = await take(consumer, topic, 10, 10_000);
    await consumer.close();
    assert.deepEqual(
      got.map((m) => m.body.toString()).sort(),
      Array.from({ length: 10 }, (_, i) => `o${i}`).sort(),
    );
  });

  test("the consumer's heartbeat makes the broker list it in its group; close() unregisters it", async () => {
    const topic = uniqueName("Members");
    await producer.send({ topic, body: Buffer.from("x") });
    const group = uniqueName("MembersG");
    const consumer = new PullConsumer({ nameServer: namesrv, group });
    const [queue] = await consumer.queues(topic);
    await consumer.pull(queue!, 0);
    const broker = consumer.client.routes.brokerAddr(queue!.brokerName)!;
    const list = async (): Promise<string[]> => {
      const response = await admin.client.call(
        broker,
        {
          code: RequestCode.GET_CONSUMER_LIST_BY_GROUP,
          header: headers.GetConsumerListByGroupRequestHeader,
          values: { consumerGroup: group },
        },
        { accept: [ResponseCode.SUCCESS, ResponseCode.SYSTEM_ERROR] },
      );
      return response.code === ResponseCode.SUCCESS ? parseConsumerIdList(response.body!) : [];
    };
    assert.deepEqual(await list(), [consumer.client.clientId]);
    await consumer.close();
    assert.deepEqual(await list(), []);
  });

  test("a long poll returns as soon as a message arrives, and NO_NEW_MSG after the hold", async () => {
    const topic = uniqueName("LongPoll");
    await admin.createTopic(topic, { readQueueNums: 1, writeQueueNums: 1 });
    const consumer = new PullConsumer({ nameServer: namesrv, group: uniqueName("LongPollG") });
    try {
      const [queue] = await consumer.queues(topic);
      const empty = await consumer.pull(queue!, 0, { suspendMs: 1_000 });
      assert.equal(empty.status, "NO_NEW_MSG");
      const started = Date.now();
      const pulling = consumer.pull(queue!, 0, { suspendMs: 15_000 });
      await new Promise((r) => setTimeout(r, 300));
      await producer.send({ topic, body: Buffer.from("wake") });
      const found = await pulling;
      assert.equal(found.status, "FOUND");
      assert.equal(found.messages[0]?.body.toString(), "wake");
      assert.ok(Date.now() - started < 10_000, "the broker held the pull past the message's arrival");
    } finally {
      await consumer.close();
    }
  });
});
