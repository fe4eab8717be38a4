// A Producer on a RocketMQ cluster: sends a few messages with a tag, keys and a user property, and
// one batch, and prints where the broker stored each (SendResult). A topic that does not exist yet
// is created by the broker from TBW102 at the first send, as with Java's DefaultMQProducer.
// The name server comes from NAMESRV_ADDR.
//   NAMESRV_ADDR=127.0.0.1:9876 node examples/rocketmq-producer.mjs [TOPIC] [COUNT]
import { Producer } from "mqwire";

if (!process.env.NAMESRV_ADDR) {
  console.error("set NAMESRV_ADDR to a RocketMQ name server (host:port), see README.md");
  process.exit(2);
}
const topic = process.argv[2] ?? "MqwireExample";
const count = Number(process.argv[3] ?? 3);
const producer = new Producer({ group: "MqwireExampleProducer" });

try {
  for (let i = 0; i < count; i++) {
    const result = await producer.send({
      topic,
      body: Buffer.from(`hello ${i}`),
      tags: "TagA",
      keys: [`order-${i}`],
      properties: { source: "examples/rocketmq-producer.mjs" },
    });
    const { brokerName, queueId } = result.queue;
    console.log(
      `sent "hello ${i}": ${result.status} ${brokerName} queue ${queueId} offset ${result.queueOffset} msgId ${result.msgId}`,
    );
  }
  // A batch: one request, stored as separate messages in one queue.
  const batch = ["batch a", "batch b"].map((text) => ({ topic, body: Buffer.from(text), tags: "TagB" }));
  const result = await producer.sendBatch(batch);
  console.log(
    `sent a batch of ${batch.length}: ${result.status} queue ${result.queue.queueId} msgIds ${result.msgId}`,
  );
} finally {
  await producer.close();
}
console.log("rocketmq-producer: done");
