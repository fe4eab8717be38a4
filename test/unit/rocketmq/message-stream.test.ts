/**
 * How a message stream commits: a broker runs offset commits on a thread pool and creates a
 * group's offset table with a get-then-put, so commits to one broker must never overlap (two at
 * once can lose a queue's first commit, as the cluster suite saw). The consumer here is a
 * recording double: what it checks is the stream's own sequencing, which a real broker shows
 * only now and then.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import type { MessageExt } from "../../../src/rocketmq/message-decoder.js";
import { MessageStream } from "../../../src/rocketmq/message-stream.js";
import type { PullConsumer, PullOptions, PullResult } from "../../../src/rocketmq/pull-consumer.js";
import type { MessageQueue } from "../../../src/rocketmq/topic-route.js";

const TOPIC = "T";
const QUEUES: MessageQueue[] = [
  { topic: TOPIC, brokerName: "broker-a", queueId: 0 },
  { topic: TOPIC, brokerName: "broker-a", queueId: 1 },
  { topic: TOPIC, brokerName: "broker-a", queueId: 2 },
  { topic: TOPIC, brokerName: "broker-b", queueId: 0 },
];

/** Each queue holds `perQueue` messages; commits take a few ms and are recorded. */
class RecordingConsumer {
  readonly commits: { broker: string; queueId: number; offset: number }[] = [];
  readonly inFlight = new Map<string, number>();
  maxInFlightPerBroker = 0;
  constructor(readonly perQueue: number) {}

  subscribe(): void {}
  async queues(): Promise<MessageQueue[]> {
    return QUEUES;
  }
  async committedOffset(): Promise<number | undefined> {
    return undefined;
  }
  async minOffset(): Promise<number> {
    return 0;
  }
  async pull(queue: MessageQueue, offset: number, options: PullOptions): Promise<PullResult> {
    if (offset < this.perQueue) {
      const messages = Array.from({ length: this.perQueue - offset }, (_, i) => message(queue, offset + i));
      return {
        status: "FOUND",
        nextBeginOffset: this.perQueue,
        minOffset: 0,
        maxOffset: this.perQueue,
        messages,
      };
    }
    await sleep(60_000, undefined, { signal: options.signal });
    throw new Error("unreachable");
  }
  async commitOffset(queue: MessageQueue, offset: number): Promise<void> {
    const now = (this.inFlight.get(queue.brokerName) ?? 0) + 1;
    this.inFlight.set(queue.brokerName, now);
    this.maxInFlightPerBroker = Math.max(this.maxInFlightPerBroker, now);
    await sleep(5);
    this.inFlight.set(queue.brokerName, now - 1);
    this.commits.push({ broker: queue.brokerName, queueId: queue.queueId, offset });
  }
}

function message(queue: MessageQueue, offset: number): MessageExt {
  return { topic: queue.topic, queueId: queue.queueId, queueOffset: offset } as MessageExt;
}

test("commits to one broker never overlap, a periodic commit and the final one included", async () => {
  const consumer = new RecordingConsumer(2);
  const stream = new MessageStream(consumer as unknown as PullConsumer, TOPIC, {
    from: "first",
    commitIntervalMs: 60_000,
  });
  let read = 0;
  for await (const _ of stream) {
    read++;
    // A commit in the middle, still running when the loop ends and return() commits again.
    if (read === 5) void stream.commit();
    if (read === 8) break;
  }
  assert.equal(consumer.maxInFlightPerBroker, 1);
  const last = new Map<string, number>();
  for (const c of consumer.commits) {
    const key = `${c.broker}#${c.queueId}`;
    assert.ok((last.get(key) ?? 0) < c.offset, `${key} committed ${c.offset} after ${last.get(key)}`);
    last.set(key, c.offset);
  }
  assert.deepEqual([...last].sort(), [
    ["broker-a#0", 2],
    ["broker-a#1", 2],
    ["broker-a#2", 2],
    ["broker-b#0", 2],
  ]);
  assert.deepEqual(
    stream.queues.map((q) => q.committedOffset),
    [2, 2, 2, 2],
  );
});

test("a failed commit stops neither the other queues nor the next commit", async () => {
  const consumer = new RecordingConsumer(1);
  const commitOffset = consumer.commitOffset.bind(consumer);
  let failures = 1;
  consumer.commitOffset = async (queue, offset) => {
    if (failures > 0 && queue.brokerName === "broker-a" && queue.queueId === 0) {
      failures--;
      throw new Error("broker down");
    }
    return commitOffset(queue, offset);
  };
  const stream = new MessageStream(consumer as unknown as PullConsumer, TOPIC, { from: "first" });
  let read = 0;
  // for-await's break awaits return(), whose commit fails for one queue: the loop throws that.
  await assert.rejects(async () => {
    for await (const _ of stream) if (++read === 4) break;
  }, /broker down/);
  assert.deepEqual(
    stream.queues.map((q) => q.committedOffset),
    [0, 1, 1, 1],
  );
  await stream.commit();
  assert.deepEqual(
    stream.queues.map((q) => q.committedOffset),
    [1, 1, 1, 1],
  );
  assert.equal(consumer.maxInFlightPerBroker, 1);
});
