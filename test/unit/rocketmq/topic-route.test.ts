/**
 * Routes to queues (topicRouteData2TopicPublishInfo / SubscribeInfo), the TBW102 template for a
 * topic not created yet, and the route table: single flight, refresh, the last route kept when
 * the name server cannot be reached.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { TopicRouteData } from "../../../src/rocketmq/bodies.js";
import {
  publishQueues,
  RouteTable,
  subscribeQueues,
  templateRoute,
} from "../../../src/rocketmq/topic-route.js";

function route(): TopicRouteData {
  return {
    queueDatas: [
      { brokerName: "broker-b", readQueueNums: 2, writeQueueNums: 3, perm: 6, topicSysFlag: 0 },
      { brokerName: "broker-a", readQueueNums: 4, writeQueueNums: 4, perm: 6, topicSysFlag: 0 },
      { brokerName: "broker-c", readQueueNums: 2, writeQueueNums: 2, perm: 4, topicSysFlag: 0 },
      { brokerName: "broker-d", readQueueNums: 1, writeQueueNums: 1, perm: 6, topicSysFlag: 0 },
    ],
    brokerDatas: [
      { cluster: "c", brokerName: "broker-a", brokerAddrs: { "0": "10.0.0.1:10911", "1": "10.0.0.2:10911" } },
      { cluster: "c", brokerName: "broker-b", brokerAddrs: { "0": "10.0.0.3:10911" } },
      { cluster: "c", brokerName: "broker-c", brokerAddrs: { "0": "10.0.0.4:10911" } },
      // A broker with a slave only: no writable queue, as Java skips it.
      { cluster: "c", brokerName: "broker-d", brokerAddrs: { "1": "10.0.0.5:10911" } },
    ],
    filterServerTable: {},
  };
}

describe("topic route", () => {
  test("publish queues: writable, with a master, in broker name order", () => {
    const queues = publishQueues("T", route());
    assert.deepEqual(
      queues.map((q) => `${q.brokerName}#${q.queueId}`),
      ["broker-a#0", "broker-a#1", "broker-a#2", "broker-a#3", "broker-b#0", "broker-b#1", "broker-b#2"],
    );
    assert.ok(queues.every((q) => q.topic === "T"));
  });

  test("subscribe queues: every readable queue data, by read queue count", () => {
    const queues = subscribeQueues("T", route());
    assert.deepEqual(
      queues.map((q) => `${q.brokerName}#${q.queueId}`),
      [
        "broker-a#0",
        "broker-a#1",
        "broker-a#2",
        "broker-a#3",
        "broker-b#0",
        "broker-b#1",
        "broker-c#0",
        "broker-c#1",
        "broker-d#0",
      ],
    );
  });

  test("the template route caps each broker's queues at defaultTopicQueueNums", () => {
    const t = templateRoute(route(), 2);
    assert.deepEqual(
      t.queueDatas.map((q) => [q.readQueueNums, q.writeQueueNums]),
      [
        [2, 2],
        [2, 2],
        [2, 2],
        [1, 1],
      ],
    );
    assert.equal(publishQueues("New", t).length, 4);
  });

  test("the route table fetches once for concurrent readers, and again on refresh", async () => {
    let fetches = 0;
    const table = new RouteTable(async () => {
      fetches++;
      await new Promise((r) => setTimeout(r, 5));
      return route();
    }, 60_000);
    const [a, b] = await Promise.all([table.get("T"), table.get("T")]);
    assert.equal(fetches, 1);
    assert.equal(a, b);
    await table.get("T");
    assert.equal(fetches, 1);
    await table.get("T", { refresh: true });
    assert.equal(fetches, 2);
    assert.equal(table.brokerAddr("broker-a"), "10.0.0.1:10911");
    assert.equal(table.brokerAddr("broker-a", "1"), "10.0.0.2:10911");
    assert.deepEqual(table.masterAddrs().sort(), ["10.0.0.1:10911", "10.0.0.3:10911", "10.0.0.4:10911"]);
  });

  test("a failed refresh keeps the last route; a failed first fetch rejects; a missing topic is undefined", async () => {
    let mode: "ok" | "fail" | "missing" = "ok";
    const table = new RouteTable(async () => {
      if (mode === "fail") throw new Error("name server down");
      return mode === "missing" ? undefined : route();
    }, 60_000);
    const first = await table.get("T");
    mode = "fail";
    assert.equal(await table.get("T", { refresh: true }), first);
    await assert.rejects(table.get("Other"), /name server down/);
    mode = "missing";
    assert.equal(await table.get("Gone"), undefined);
    assert.deepEqual(table.topics, ["T"]);
  });
});
