// A PullConsumer on a RocketMQ cluster: reads a topic's messages as one async iterator
// (PullConsumer.messages, long polling every queue) until it has COUNT or TIMEOUT_S seconds pass,
// then commits the group's offsets, so the next run goes on where this one stopped. A group with
// no committed offset starts at each queue's first message. The name server comes from
// NAMESRV_ADDR.
//   NAMESRV_ADDR=127.0.0.1:9876 node examples/rocketmq-consumer.mjs [TOPIC] [COUNT] [GROUP]
import { PullConsumer } from "mqwire";

if (!process.env.NAMESRV_ADDR) {
  console.error("set NAMESRV_ADDR to a RocketMQ name server (host:port), see README.md");
  process.exit(2);
}
const topic = process.argv[2] ?? "MqwireExample";
const count = Number(process.argv[3] ?? 5);
const group = process.argv[4] ?? "MqwireExampleConsumer";
const timeoutS = Number(process.env.TIMEOUT_S ?? 10);

const consumer = new PullConsumer({ group });
let received = 0;
try {
  const messages = consumer.messages(topic, {
    subscription: "*", // or a tag expression: "TagA || TagB"
    whenNoCommitted: "first",
    signal: AbortSignal.timeout(timeoutS * 1000), // ends the loop; consumed offsets are committed
  });
  for await (const m of messages) {
    received++;
    const keys = m.keys.length > 0 ? ` keys ${m.keys.join(",")}` : "";
    console.log(
      `received "${m.body.toString()}": tag ${m.tags ?? "-"}${keys} queue ${m.queueId} offset ${m.queueOffset}`,
    );
    if (received === count) break; // break (or return) also commits
  }
} finally {
  await consumer.close();
}
console.log(`received ${received} of ${count} messages as group ${group}`);
console.log("rocketmq-consumer: done");
