// Admin calls on a RocketMQ cluster: the brokers the name server knows, a topic created on every
// master, and the topic's route (queues and broker addresses), as `mqadmin clusterList`,
// `updateTopic` and `topicRoute` show them. The name server comes from NAMESRV_ADDR.
//   NAMESRV_ADDR=127.0.0.1:9876 node examples/rocketmq-route.mjs [TOPIC]
import { Admin, BrokerError } from "mqwire";

if (!process.env.NAMESRV_ADDR) {
  console.error("set NAMESRV_ADDR to a RocketMQ name server (host:port), see README.md");
  process.exit(2);
}
const topic = process.argv[2] ?? "MqwireExample";
const admin = new Admin(); // nameServer: env NAMESRV_ADDR, as RocketMQ's tools read it

try {
  const cluster = await admin.clusterInfo();
  for (const [name, brokers] of Object.entries(cluster.clusterAddrTable)) {
    for (const brokerName of brokers) {
      const master = cluster.brokerAddrTable[brokerName]?.brokerAddrs["0"];
      console.log(`cluster ${name}: broker ${brokerName}, master at ${master}`);
    }
  }

  // A topic nobody created has no route: the name server answers TOPIC_NOT_EXIST.
  try {
    await admin.route(`${topic}_missing`);
  } catch (err) {
    if (!(err instanceof BrokerError)) throw err;
    console.log(`route of ${topic}_missing: ${err.responseCodeName} (${err.responseCode})`);
  }

  const createdOn = await admin.createTopic(topic, { readQueueNums: 4, writeQueueNums: 4 });
  console.log(`topic ${topic} created on ${createdOn.join(", ")}`);

  // The broker registers the topic with the name servers before it answers, so the route is there.
  const route = await admin.route(topic);
  for (const q of route.queueDatas) {
    console.log(
      `route of ${topic}: ${q.brokerName} has ${q.writeQueueNums} write and ${q.readQueueNums} read queues, perm ${q.perm}`,
    );
  }
  for (const b of route.brokerDatas)
    console.log(`route of ${topic}: ${b.brokerName} master ${b.brokerAddrs["0"]}`);
} finally {
  await admin.close();
}
console.log("rocketmq-route: done");
