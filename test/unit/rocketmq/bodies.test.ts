import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import fc from "fast-check";
import {
  BodyFieldError,
  buildSubscriptionData,
  type ConsumeQueueStats,
  encodeHeartbeatData,
  type HeartbeatData,
  JsonDialectError,
  javaStringHashCode,
  parseClusterInfo,
  parseConsumerIdList,
  parseConsumeStats,
  parseHeartbeatData,
  parseTopicList,
  parseTopicRouteData,
  parseTopicStatsTable,
  type TopicRouteData,
} from "../../../src/rocketmq/bodies.js";
import { repoRoot } from "../../helpers/vectors.js";

const FIXTURES = join(repoRoot(), "test/fixtures/rocketmq");

function body(name: string): Buffer {
  const c = JSON.parse(readFileSync(join(FIXTURES, "bodies", `${name}.json`), "utf8")) as { body: string };
  return Buffer.from(c.body, "utf8");
}

function bytes(text: string): Buffer {
  return Buffer.from(text, "utf8");
}

function throwsField(fn: () => unknown, field: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof BodyFieldError, String(err));
    assert.equal(err.code, "MQW_ERR_PROTOCOL");
    assert.equal(err.field, field);
    return true;
  });
}

function throwsProtocol(fn: () => unknown): void {
  assert.throws(fn, (err: { code?: string }) => err.code === "MQW_ERR_PROTOCOL");
}

const ADDR = "127.0.0.1:31564";
const BROKER_A = { cluster: "DefaultCluster", brokerName: "broker-a", brokerAddrs: { "0": ADDR } };

describe("TopicRouteData (105)", () => {
  const route: TopicRouteData = {
    queueDatas: [{ brokerName: "broker-a", readQueueNums: 4, writeQueueNums: 4, perm: 6, topicSysFlag: 0 }],
    brokerDatas: [BROKER_A],
    filterServerTable: {},
  };
  for (const name of ["route-v400", "route-v400-standard", "route-v409", "route-v409-standard"]) {
    test(`${name} parses to the same route`, () => {
      assert.deepEqual(parseTopicRouteData(body(name)), route);
    });
  }

  test("TBW102, the auto-create template: perm 7, 8 queues", () => {
    assert.deepEqual(parseTopicRouteData(body("route-tbw102-v400")).queueDatas, [
      { brokerName: "broker-a", readQueueNums: 8, writeQueueNums: 8, perm: 7, topicSysFlag: 0 },
    ]);
  });

  test("a master and a slave: each broker id a string key", () => {
    const text =
      '{"brokerDatas":[{"brokerAddrs":{0:"a:1",1:"b:2"},"brokerName":"x","cluster":"c"}],"queueDatas":[]}';
    assert.deepEqual(parseTopicRouteData(bytes(text)), {
      queueDatas: [],
      brokerDatas: [{ cluster: "c", brokerName: "x", brokerAddrs: { "0": "a:1", "1": "b:2" } }],
      filterServerTable: {},
    });
  });

  test("orderTopicConf and filter servers when present", () => {
    const text =
      '{"orderTopicConf":"broker-a:4","brokerDatas":[],"queueDatas":[],"filterServerTable":{"a:1":["f:1","f:2"]}}';
    assert.deepEqual(parseTopicRouteData(bytes(text)), {
      orderTopicConf: "broker-a:4",
      queueDatas: [],
      brokerDatas: [],
      filterServerTable: { "a:1": ["f:1", "f:2"] },
    });
  });

  test("a wrong shape names the field", () => {
    throwsField(() => parseTopicRouteData(bytes("[]")), "TopicRouteData");
    throwsField(() => parseTopicRouteData(bytes('{"brokerDatas":[]}')), "TopicRouteData.queueDatas");
    throwsField(
      () =>
        parseTopicRouteData(
          bytes(
            '{"brokerDatas":[],"queueDatas":[{"brokerName":"b","perm":"6","readQueueNums":1,"topicSysFlag":0,"writeQueueNums":1}]}',
          ),
        ),
      "TopicRouteData.queueDatas[0].perm",
    );
    throwsField(
      () =>
        parseTopicRouteData(
          bytes('{"queueDatas":[],"brokerDatas":[{"brokerName":"b","cluster":"c","brokerAddrs":{0:1}}]}'),
        ),
      'TopicRouteData.brokerDatas[0].brokerAddrs["0"]',
    );
    throwsField(
      () =>
        parseTopicRouteData(
          bytes('{"queueDatas":[],"brokerDatas":[{"brokerName":"b","cluster":"c","brokerAddrs":{"m":"a"}}]}'),
        ),
      "TopicRouteData.brokerDatas[0].brokerAddrs",
    );
    throwsField(
      () =>
        parseTopicRouteData(
          bytes(
            '{"brokerDatas":[],"queueDatas":[{"brokerName":"b","perm":6,"readQueueNums":4294967296,"topicSysFlag":0,"writeQueueNums":1}]}',
          ),
        ),
      "TopicRouteData.queueDatas[0].readQueueNums",
    );
  });

  test("an empty or non-JSON body is a ProtocolError", () => {
    throwsProtocol(() => parseTopicRouteData(new Uint8Array(0)));
    assert.throws(() => parseTopicRouteData(bytes("{0:")), JsonDialectError);
  });
});

describe("ClusterInfo (106)", () => {
  for (const name of ["cluster-info", "cluster-info-v400"]) {
    test(`${name}: integer broker ids as string keys`, () => {
      const info = parseClusterInfo(body(name));
      assert.deepEqual(info, {
        brokerAddrTable: { "broker-a": BROKER_A },
        clusterAddrTable: { DefaultCluster: ["broker-a"] },
      });
      assert.equal(info.brokerAddrTable["broker-a"]?.brokerAddrs["0"], ADDR);
    });
  }

  test("master and slave ids, and a wrong shape", () => {
    const text =
      '{"brokerAddrTable":{"b":{"brokerAddrs":{0:"m:1",1:"s:1"},"brokerName":"b","cluster":"c"}},"clusterAddrTable":{"c":["b"]}}';
    assert.deepEqual(parseClusterInfo(bytes(text)).brokerAddrTable.b?.brokerAddrs, {
      "0": "m:1",
      "1": "s:1",
    });
    throwsField(
      () => parseClusterInfo(bytes('{"brokerAddrTable":{},"clusterAddrTable":{"c":"b"}}')),
      'ClusterInfo.clusterAddrTable["c"]',
    );
    throwsField(() => parseClusterInfo(bytes('{"clusterAddrTable":{}}')), "ClusterInfo.brokerAddrTable");
  });
});

const queue = (queueId: number) => ({ topic: "MqwDialect", brokerName: "broker-a", queueId });
const TIMESTAMPS = [1796535987764, 1796535987771, 1796535987777, 1796535987790];

describe("TopicStatsTable (202)", () => {
  test("object keys become flat queue entries in MessageQueue order", () => {
    assert.deepEqual(parseTopicStatsTable(body("topic-stats")), {
      queues: [0, 1, 2, 3].map((id) => ({
        ...queue(id),
        minOffset: 0,
        maxOffset: id === 3 ? 2 : 1,
        lastUpdateTimestamp: TIMESTAMPS[id],
      })),
    });
  });

  test("standard JSON keys (BrowserCompatible) parse the same; wrong shapes name the field", () => {
    const key = JSON.stringify(JSON.stringify({ brokerName: "b", queueId: 1, topic: "T" }));
    const std = `{"offsetTable":{${key}:{"lastUpdateTimestamp":5,"maxOffset":"9007199254740993","minOffset":0}}}`;
    throwsField(() => parseTopicStatsTable(bytes(std)), `TopicStatsTable.offsetTable[${key}].maxOffset`);
    const ok = std.replace('"9007199254740993"', "7");
    assert.deepEqual(parseTopicStatsTable(bytes(ok)).queues, [
      { topic: "T", brokerName: "b", queueId: 1, minOffset: 0, maxOffset: 7, lastUpdateTimestamp: 5 },
    ]);
    throwsField(
      () => parseTopicStatsTable(bytes('{"offsetTable":{"x":{}}}')),
      'TopicStatsTable.offsetTable["x"]',
    );
    throwsField(
      () => parseTopicStatsTable(bytes('{"offsetTable":{{"brokerName":"b","topic":"T"}:{}}}')),
      'TopicStatsTable.offsetTable["{\\"brokerName\\":\\"b\\",\\"topic\\":\\"T\\"}"] key.queueId',
    );
    assert.deepEqual(parseTopicStatsTable(bytes('{"offsetTable":{}}')), { queues: [] });
  });
});

describe("ConsumeStats (208)", () => {
  const stats = (offsets: [number, number][]): ConsumeQueueStats[] =>
    offsets.map(([brokerOffset, consumerOffset], id) => ({
      ...queue(id),
      brokerOffset,
      consumerOffset,
      lastTimestamp: TIMESTAMPS[id] as number,
    }));

  test("idle group: every message consumed", () => {
    assert.deepEqual(parseConsumeStats(body("consume-stats-idle")), {
      consumeTps: 0.175,
      queues: stats([
        [1, 1],
        [1, 1],
        [1, 1],
        [2, 2],
      ]),
    });
    assert.deepEqual(
      parseConsumeStats(body("consume-stats-all-topics")).queues,
      stats([
        [1, 1],
        [1, 1],
        [1, 1],
        [2, 2],
      ]),
    );
  });

  test("active group: a double consumeTps and a lag of one per queue", () => {
    const s = parseConsumeStats(body("consume-stats-active"));
    assert.equal(s.consumeTps, 0.11666666666666667);
    assert.deepEqual(
      s.queues,
      stats([
        [2, 1],
        [2, 1],
        [2, 1],
        [3, 2],
      ]),
    );
  });

  test("null consumeTps (Java NaN) reads 0; RocketMQ 5's pullOffset is kept", () => {
    const text =
      '{"consumeTps":null,"offsetTable":{{"brokerName":"b","queueId":0,"topic":"T"}:{"brokerOffset":3,"consumerOffset":1,"lastTimestamp":0,"pullOffset":2}}}';
    assert.deepEqual(parseConsumeStats(bytes(text)), {
      consumeTps: 0,
      queues: [
        {
          topic: "T",
          brokerName: "b",
          queueId: 0,
          brokerOffset: 3,
          consumerOffset: 1,
          lastTimestamp: 0,
          pullOffset: 2,
        },
      ],
    });
    throwsField(
      () => parseConsumeStats(bytes('{"consumeTps":"1","offsetTable":{}}')),
      "ConsumeStats.consumeTps",
    );
  });
});

describe("TopicList (206) and consumer id lists (38)", () => {
  test("topic list", () => {
    const topics = parseTopicList(body("topic-list"));
    assert.equal(topics.length, 10);
    assert.ok(topics.includes("TBW102") && topics.includes("%RETRY%MqwDialectGroup"));
    assert.deepEqual(parseTopicList(bytes('{"brokerAddr":"a:1"}')), []);
    throwsField(() => parseTopicList(bytes('{"topicList":[1]}')), "TopicList.topicList[0]");
  });

  test("consumer ids: the Java lite pull consumer's, from the broker and from the reference sample", () => {
    assert.deepEqual(parseConsumerIdList(body("consumer-list")), ["192.0.2.2@8196#318910804540@STREAM"]);
    const lines = readFileSync(join(FIXTURES, "java-heartbeat.jsonl"), "utf8").trim().split("\n");
    const sample = lines.map((l) => JSON.parse(l) as { kind: string; requestCode: number; body?: string });
    const response = sample.find((s) => s.kind === "response" && s.requestCode === 38);
    assert.deepEqual(parseConsumerIdList(bytes(response?.body ?? "")), [
      "127.0.0.1@fixture-litepull-mxbcn982@STREAM",
    ]);
    throwsProtocol(() => parseConsumerIdList(body("consumer-list-none")));
    throwsField(() => parseConsumerIdList(bytes("{}")), "GetConsumerListByGroupResponseBody.consumerIdList");
  });
});

describe("HeartbeatData (34)", () => {
  test("byte for byte what the Java lite pull consumer sent", () => {
    const lines = readFileSync(join(FIXTURES, "java-heartbeat.jsonl"), "utf8").trim().split("\n");
    const request = lines
      .map((l) => JSON.parse(l) as { kind: string; code: number; body: string; bodyLength: number })
      .find((s) => s.kind === "request" && s.code === 34);
    assert.ok(request);
    const encoded = encodeHeartbeatData(JSON.parse(request.body) as HeartbeatData);
    assert.equal(encoded.length, request.bodyLength);
    assert.equal(encoded.toString("utf8"), request.body);
  });

  test("the body a real broker accepted, and whose client id GET_CONSUMER_LIST_BY_GROUP then listed", () => {
    const capture = JSON.parse(readFileSync(join(FIXTURES, "bodies", "heartbeat-mqwire.json"), "utf8")) as {
      heartbeatBody: string;
      frames: { code: number; opaque: number; body: string }[];
    };
    const data: HeartbeatData = {
      clientID: "127.0.0.1@mqwire-dialect-test",
      producerDataSet: [{ groupName: "CLIENT_INNER_PRODUCER" }],
      consumerDataSet: [
        {
          groupName: "MqwHeartbeatGroup",
          consumeType: "CONSUME_ACTIVELY",
          messageModel: "CLUSTERING",
          consumeFromWhere: "CONSUME_FROM_FIRST_OFFSET",
          subscriptionDataSet: [buildSubscriptionData("MqwDialect", "TagA || TagB", 1796536000000)],
          unitMode: false,
        },
      ],
    };
    assert.equal(encodeHeartbeatData(data).toString("utf8"), capture.heartbeatBody);
    const heartbeatAnswer = capture.frames.find((f) => f.opaque === 1);
    assert.equal(heartbeatAnswer?.code, 0);
    const list = capture.frames.find((f) => f.opaque === 2);
    assert.deepEqual(parseConsumerIdList(bytes(list?.body ?? "")), [data.clientID]);
  });

  test("strings escaped as fastjson escapes them; a lone surrogate as Java's '?'", () => {
    const text = encodeHeartbeatData({
      clientID: 'a"\u0001\ud800',
      producerDataSet: [],
      consumerDataSet: [],
    }).toString();
    assert.equal(text, '{"clientID":"a\\"\\u0001?","consumerDataSet":[],"producerDataSet":[]}');
  });

  test("a field outside RocketMQ's enums or types is an invalid argument naming it", () => {
    const bad = (patch: Record<string, unknown>) =>
      ({
        clientID: "c",
        producerDataSet: [],
        consumerDataSet: [
          {
            groupName: "g",
            consumeType: "CONSUME_PASSIVELY",
            messageModel: "BROADCASTING",
            consumeFromWhere: "CONSUME_FROM_TIMESTAMP",
            subscriptionDataSet: [buildSubscriptionData("T", "*", 1)],
            unitMode: false,
            ...patch,
          },
        ],
      }) as unknown as HeartbeatData;
    assert.ok(encodeHeartbeatData(bad({})).length > 0);
    for (const patch of [
      { consumeType: "PUSH" },
      { messageModel: "x" },
      { unitMode: 0 },
      { groupName: null },
    ]) {
      assert.throws(
        () => encodeHeartbeatData(bad(patch)),
        (err: { code?: string }) => err.code === "MQW_ERR_INVALID_ARGUMENT",
      );
    }
  });
});

describe("parseHeartbeatData (34, as a broker reads it)", () => {
  test("the Java lite pull consumer's body, and encode's output read back", () => {
    const lines = readFileSync(join(FIXTURES, "java-heartbeat.jsonl"), "utf8").trim().split("\n");
    const request = lines
      .map((l) => JSON.parse(l) as { kind: string; code: number; body: string })
      .find((s) => s.kind === "request" && s.code === 34);
    assert.ok(request);
    const data = parseHeartbeatData(bytes(request.body));
    assert.deepEqual(data, JSON.parse(request.body));
    assert.equal(data.consumerDataSet[0]?.consumeType, "CONSUME_ACTIVELY");
    assert.deepEqual(data.producerDataSet, [{ groupName: "CLIENT_INNER_PRODUCER" }]);
    assert.deepEqual(parseHeartbeatData(encodeHeartbeatData(data)), data);
  });

  test("RocketMQ 5's: a pop consumer, a lite heartbeat without subscriptions, Java's defaults", () => {
    const body = bytes(
      '{"clientID":"c@1","consumerDataSet":[{"consumeFromWhere":"CONSUME_FROM_LAST_OFFSET",' +
        '"consumeType":"CONSUME_POP","groupName":"g","messageModel":"CLUSTERING"}],' +
        '"heartbeatFingerprint":-12345,"withoutSub":true}',
    );
    assert.deepEqual(parseHeartbeatData(body), {
      clientID: "c@1",
      producerDataSet: [],
      consumerDataSet: [
        {
          groupName: "g",
          consumeType: "CONSUME_POP",
          messageModel: "CLUSTERING",
          consumeFromWhere: "CONSUME_FROM_LAST_OFFSET",
          subscriptionDataSet: [],
          unitMode: false,
        },
      ],
    });
    const sub = parseHeartbeatData(
      bytes(
        '{"clientID":"c","consumerDataSet":[{"consumeFromWhere":"CONSUME_FROM_LAST_OFFSET",' +
          '"consumeType":"CONSUME_PASSIVELY","groupName":"g","messageModel":"BROADCASTING",' +
          '"subscriptionDataSet":[{"topic":"T","subString":"*"}]}]}',
      ),
    ).consumerDataSet[0]?.subscriptionDataSet[0];
    assert.deepEqual(sub, {
      classFilterMode: false,
      topic: "T",
      subString: "*",
      tagsSet: [],
      codeSet: [],
      subVersion: 0,
      expressionType: "TAG",
    });
  });

  test("a field missing or of the wrong type is a BodyFieldError naming it", () => {
    throwsField(() => parseHeartbeatData(bytes("{}")), "HeartbeatData.clientID");
    throwsField(
      () => parseHeartbeatData(bytes('{"clientID":"c","producerDataSet":[{}]}')),
      "HeartbeatData.producerDataSet[0].groupName",
    );
    throwsField(
      () =>
        parseHeartbeatData(
          bytes('{"clientID":"c","consumerDataSet":[{"groupName":"g","consumeType":"PUSH"}]}'),
        ),
      "HeartbeatData.consumerDataSet[0].consumeType",
    );
    throwsField(
      () => parseHeartbeatData(bytes('{"clientID":"c","producerDataSet":{}}')),
      "HeartbeatData.producerDataSet",
    );
    throwsProtocol(() => parseHeartbeatData(bytes("not json")));
  });
});

describe("buildSubscriptionData (FilterAPI)", () => {
  test("Java's String.hashCode, 32-bit", () => {
    assert.equal(javaStringHashCode(""), 0);
    assert.equal(javaStringHashCode("hello"), 99162322);
    assert.equal(javaStringHashCode("TagA"), 2598919); // as the broker logged it
    assert.equal(javaStringHashCode("Aa"), javaStringHashCode("BB"));
    assert.equal(javaStringHashCode("polygenelubricants"), -2147483648);
    assert.equal(javaStringHashCode("😀"), 0xd83d * 31 + 0xde00);
  });

  test("hashCode matches the definition for random strings", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 30 }), (s) => {
        let h = 0n;
        for (let i = 0; i < s.length; i++) h = h * 31n + BigInt(s.charCodeAt(i));
        assert.equal(javaStringHashCode(s), Number(BigInt.asIntN(32, h)));
      }),
      { seed: 0x5eed, numRuns: 300 },
    );
  });

  test("*, empty, tags, Java trim and split", () => {
    assert.deepEqual(buildSubscriptionData("T", "*", 7), {
      classFilterMode: false,
      topic: "T",
      subString: "*",
      tagsSet: [],
      codeSet: [],
      subVersion: 7,
      expressionType: "TAG",
    });
    assert.equal(buildSubscriptionData("T", "", 7).subString, "*");
    const s = buildSubscriptionData("T", " a ||b|| a |||\u00a0c||", 7);
    assert.equal(s.subString, " a ||b|| a |||\u00a0c||");
    assert.deepEqual(s.tagsSet, ["a", "b", "|\u00a0c"]);
    assert.deepEqual(s.codeSet, s.tagsSet.map(javaStringHashCode));
    assert.deepEqual(buildSubscriptionData("T", "  ", 7).tagsSet, []);
    assert.ok(Math.abs(buildSubscriptionData("T", "*").subVersion - Date.now()) < 60_000);
    assert.throws(
      () => buildSubscriptionData("T", "||||"),
      (err: { code?: string }) => err.code === "MQW_ERR_INVALID_ARGUMENT",
    );
  });
});
