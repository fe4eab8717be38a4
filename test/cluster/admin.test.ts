/**
 * Admin calls against the real RocketMQ 4.9.8 name server and broker: route, cluster info (always
 * in fastjson's dialect on the wire), topic creation, topic stats, and broker errors as typed
 * BrokerErrors naming RocketMQ's response code.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Admin, BrokerError, ErrorCodes, Producer, ResponseCode } from "../../src/index.js";
import { suiteCluster, uniqueName } from "./kit.js";

/** Every object key in a value, at any depth. */
function allKeys(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) for (const v of value) allKeys(v, out);
  else if (value !== null && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) {
      out.push(k);
      allKeys(v, out);
    }
  }
  return out;
}

describe("Admin against a real cluster", () => {
  const { namesrv } = suiteCluster();
  let admin: Admin;
  before(() => {
    admin = new Admin({ nameServer: namesrv });
  });
  after(() => admin.close());

  test("cluster info names the broker by cluster, with its master address under key '0'", async () => {
    const info = await admin.clusterInfo();
    assert.deepEqual(info.clusterAddrTable.DefaultCluster, ["broker-a"]);
    const broker = info.brokerAddrTable["broker-a"];
    assert.ok(broker !== undefined);
    assert.match(broker.brokerAddrs["0"] ?? "", /^127\.0\.0\.1:\d+$/);
    // The wire body has unquoted integer keys; what reaches the user is plain JSON.
    assert.deepEqual(JSON.parse(JSON.stringify(info)), info);
    assert.ok(allKeys(info).every((k) => typeof k === "string"));
  });

  test("the route of TBW102 has the template's 8 queues and the broker's address", async () => {
    const route = await admin.route("TBW102");
    assert.equal(route.queueDatas.length, 1);
    assert.equal(route.queueDatas[0]?.writeQueueNums, 8);
    assert.equal(route.queueDatas[0]?.perm, 7);
    const info = await admin.clusterInfo();
    assert.equal(route.brokerDatas[0]?.brokerAddrs["0"], info.brokerAddrTable["broker-a"]?.brokerAddrs["0"]);
  });

  test("the route comes in standard JSON: at version 409, and asked for at an older version", async () => {
    for (const version of [409, 300]) {
      const old = new Admin({ nameServer: namesrv, remoting: { version } });
      const bodies: string[] = [];
      old.client.remoting.registerRpcHook({
        doBeforeRequest: () => undefined,
        doAfterResponse: (_addr, request, response) => {
          if (request.code === 105) bodies.push(response?.body?.toString() ?? "");
        },
      });
      try {
        const route = await old.route("TBW102");
        assert.ok(route.brokerDatas[0]?.brokerAddrs["0"] !== undefined);
        assert.equal(bodies.length, 1);
        assert.doesNotThrow(() => JSON.parse(bodies[0]!), `version ${version}: ${bodies[0]}`);
      } finally {
        await old.close();
      }
    }
  });

  test("an unknown topic's route rejects with BrokerError TOPIC_NOT_EXIST (17)", async () => {
    const err = await admin.route(uniqueName("NoSuchTopic")).then(
      () => assert.fail("resolved"),
      (e: unknown) => e,
    );
    assert.ok(err instanceof BrokerError);
    assert.equal(err.code, ErrorCodes.BROKER);
    assert.equal(err.responseCode, ResponseCode.TOPIC_NOT_EXIST);
    assert.equal(err.responseCodeName, "TOPIC_NOT_EXIST");
    assert.match(err.remark ?? "", /No topic route info/);
  });

  test("createTopic makes a routable topic with the queue counts asked for; stats follow sends", async () => {
    const topic = uniqueName("AdminCreate");
    const brokers = await admin.createTopic(topic, { readQueueNums: 3, writeQueueNums: 3 });
    assert.equal(brokers.length, 1);
    const route = await admin.route(topic);
    assert.equal(route.queueDatas[0]?.readQueueNums, 3);
    assert.equal(route.queueDatas[0]?.writeQueueNums, 3);
    assert.equal(route.queueDatas[0]?.perm, 6);
    assert.ok((await admin.topics()).includes(topic));

    const producer = new Producer({ nameServer: namesrv, group: uniqueName("AdminPG") });
    try {
      for (let i = 0; i < 6; i++) await producer.send({ topic, body: Buffer.from(`m${i}`) });
    } finally {
      await producer.close();
    }
    const stats = await admin.topicStats(topic);
    assert.deepEqual(
      stats.queues.map((q) => q.queueId),
      [0, 1, 2],
    );
    assert.equal(
      stats.queues.reduce((sum, q) => sum + q.maxOffset - q.minOffset, 0),
      6,
    );
  });

  test("a body over the broker's maxMessageSize is refused with BrokerError MESSAGE_ILLEGAL (13)", async () => {
    const topic = uniqueName("TooLarge");
    await admin.createTopic(topic, { readQueueNums: 1, writeQueueNums: 1 });
    // Random bytes do not compress, so the stored body stays over 4 MiB; the client's own limit
    // is raised so that the broker is the one to refuse.
    const producer = new Producer({
      nameServer: namesrv,
      group: uniqueName("BigPG"),
      maxMessageBytes: 8 << 20,
    });
    try {
      const err = await producer.send({ topic, body: randomBytes((4 << 20) + 1024) }).then(
        () => assert.fail("resolved"),
        (e: unknown) => e,
      );
      assert.ok(err instanceof BrokerError, String(err));
      assert.equal(err.responseCode, ResponseCode.MESSAGE_ILLEGAL);
      assert.equal(err.responseCodeName, "MESSAGE_ILLEGAL");
    } finally {
      await producer.close();
    }
  });
});

function randomBytes(n: number): Buffer {
  const out = Buffer.allocUnsafe(n);
  let x = 0x9e3779b9;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}
