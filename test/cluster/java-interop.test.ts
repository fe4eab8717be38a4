/**
 * mqwire and RocketMQ 4.9.8's own Java client (the kit's tool) on one real broker: what mqwire
 * sends, DefaultLitePullConsumer reads, and what DefaultMQProducer sends, mqwire's PullConsumer
 * reads, with body, tags, keys and user properties intact: unicode, empty bodies (mqwire only:
 * the Java producer refuses them), 10 KiB bodies (compressed by either producer) and 4 MiB.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type Message, type MessageExt, Producer, PullConsumer } from "../../src/index.js";
import { javaClient, suiteCluster, uniqueName } from "./kit.js";

/** Printable text that compresses about as the kit's `--size` bodies do. */
function textBody(n: number, seed: number): Buffer {
  const words = ["rocket", "queue", "broker", "offset", "mqwire", "topic", "名字", "🚀", "commit", "pull"];
  const parts: string[] = [];
  let len = 0;
  let x = seed | 1;
  while (len < n) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    const w = `${words[x % words.length]}${x % 997} `;
    parts.push(w);
    len += Buffer.byteLength(w);
  }
  return Buffer.from(parts.join("")).subarray(0, n);
}

/** Reads `count` messages of a topic with mqwire from the first offset, or fails after `ms`. */
async function consumeAll(namesrv: string, topic: string, count: number, ms = 30_000): Promise<MessageExt[]> {
  const consumer = new PullConsumer({ nameServer: namesrv, group: uniqueName("ReadBack") });
  const got: MessageExt[] = [];
  try {
    const stream = consumer.messages(topic, { from: "first", signal: AbortSignal.timeout(ms) });
    for await (const m of stream) {
      got.push(m);
      if (got.length === count) break;
    }
  } finally {
    await consumer.close();
  }
  return got;
}

describe("mqwire and RocketMQ's Java client on one broker", () => {
  const { namesrv, env } = suiteCluster();
  let producer: Producer;
  before(() => {
    producer = new Producer({ nameServer: namesrv, group: uniqueName("InteropPG") });
  });
  after(() => producer.close());

  test("mqwire's producer -> Java consumer: bodies, tags, keys and properties intact", async () => {
    const topic = uniqueName("ToJava");
    const sent: Message[] = [
      {
        topic,
        body: Buffer.from("héllo wörld ✓ 日本語 🚀"),
        tags: "TagA",
        keys: ["k1", "k2"],
        properties: { color: "red", 名: "値" },
      },
      { topic, body: Buffer.alloc(0), tags: "Empty" },
      { topic, body: textBody(10 * 1024, 7), tags: "TenKiB", keys: "big" },
      { topic, body: textBody(4 * 1024 * 1024, 9), tags: "FourMiB" },
      { topic, body: Buffer.from("plain") },
    ];
    const results = [];
    for (const m of sent) results.push(await producer.send(m));
    assert.ok(results.every((r) => r.status === "SEND_OK"));

    const got = await javaClient(env, [
      "consume",
      "--namesrv",
      namesrv,
      "--topic",
      topic,
      "--group",
      uniqueName("JavaG"),
      "--count",
      String(sent.length),
      "--timeout-s",
      "60",
    ]);
    assert.equal(got.summary, `consumed ${sent.length}/${sent.length}`);
    const byId = new Map(got.lines.map((l) => [l.msgId as string, l]));
    for (const [i, m] of sent.entries()) {
      const line = byId.get(results[i]!.msgId);
      assert.ok(line !== undefined, `Java did not read message ${i} (${results[i]!.msgId})`);
      assert.equal(line.bodyBase64, Buffer.from(m.body).toString("base64"), `body of message ${i}`);
      assert.equal(line.tags ?? undefined, m.tags);
      const keys = m.keys === undefined ? undefined : typeof m.keys === "string" ? m.keys : m.keys.join(" ");
      assert.equal(line.keys ?? undefined, keys);
      const props = line.properties as Record<string, string>;
      for (const [k, v] of Object.entries(m.properties ?? {})) assert.equal(props[k], v);
      assert.equal(line.offsetMsgId, results[i]!.offsetMsgId);
      assert.equal(line.queueOffset, results[i]!.queueOffset);
    }
    // The 10 KiB and 4 MiB bodies went compressed (sysFlag bit 0), as Java's producer sends them.
    assert.equal(Number(byId.get(results[2]!.msgId)?.sysFlag) & 1, 1);
    assert.equal(Number(byId.get(results[4]!.msgId)?.sysFlag) & 1, 0);
  });

  test("Java's producer -> mqwire's consumer: unicode, properties, 10 KiB compressed and 4 MiB", async () => {
    const topic = uniqueName("FromJava");
    const runs = [
      [
        "--count",
        "3",
        "--body",
        "unicode {i} ✓ 日本語 🚀",
        "--tag",
        "TagU",
        "--keys",
        "ka,kb",
        "--property",
        "color=blue",
        "--property",
        "size=3",
      ],
      ["--count", "2", "--size", "10240", "--tag", "TagZ"],
      ["--count", "1", "--size", "4194304", "--tag", "TagBig"],
    ];
    const sent = [];
    for (const args of runs) {
      const r = await javaClient(env, ["send", "--namesrv", namesrv, "--topic", topic, ...args]);
      assert.match(r.summary, /^sent (\d+)\/\1$/);
      sent.push(...r.lines);
    }
    const got = await consumeAll(namesrv, topic, sent.length);
    assert.equal(got.length, sent.length);
    const byId = new Map(got.map((m) => [m.msgId, m]));
    for (const s of sent) {
      const m = byId.get(s.msgId as string);
      assert.ok(m !== undefined, `mqwire did not read ${s.msgId}`);
      assert.equal(m.body.toString("base64"), s.bodyBase64);
      assert.equal(m.tags, s.tags);
      assert.equal(m.keys.join(" "), s.keys ?? "");
      for (const [k, v] of Object.entries(s.properties as Record<string, string>)) {
        if (k === "WAIT") continue; // the broker drops WAIT from what it stores
        assert.equal(m.properties[k], v, `property ${k}`);
      }
      assert.equal(m.offsetMsgId, s.offsetMsgId);
      assert.equal((m.sysFlag & 1) === 1, s.compressed === true);
    }
  });
});
