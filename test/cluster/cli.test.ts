/**
 * The RocketMQ commands of the CLI against the real RocketMQ 4.9.8 kit, run as a user runs them
 * (child processes): route, cluster and topic admin print plain JSON (the name server's unquoted
 * integer keys never come through); `mqwire send` is read by RocketMQ's Java consumer and the
 * Java producer's messages by `mqwire consume`; consume commits its offsets at the count, at
 * SIGTERM and at the time-out, so the group's next run goes on where the last stopped; broker
 * errors exit 1 naming the response code, bad usage exits 2.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { describe, test } from "node:test";
import { BIN, mqwire } from "../helpers/cli.js";
import { javaClient, suiteCluster, uniqueName } from "./kit.js";

/** A number or other bare token in object-key position: fastjson's dialect, not JSON. */
const UNQUOTED_KEY = /[{,]\s*-?\d+\s*:/;

/** One consumed message as `mqwire consume` prints it. */
interface ConsumedLine {
  topic: string;
  tags: string | null;
  keys: string[];
  properties: Record<string, string>;
  queue: { brokerName: string; queueId: number };
  queueOffset: number;
  msgId: string;
  offsetMsgId: string;
  bornTimestamp: number;
  storeTimestamp: number;
  body: string;
  bodyEncoding: "utf8" | "base64";
}

const jsonLines = <T>(stdout: string): T[] =>
  stdout
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as T);

describe("mqwire's RocketMQ commands against a real cluster", () => {
  const { namesrv, env } = suiteCluster();
  /** The CLI with `-n` given, as most tests run it. */
  const cli = (args: string[], timeoutMs = 60_000) => mqwire([...args, "-n", namesrv], "", timeoutMs);

  test('route and cluster print standard JSON; the master\'s address is under key "0"', async () => {
    const cluster = await cli(["cluster"]);
    assert.equal(cluster.code, 0, cluster.stderr);
    assert.doesNotMatch(cluster.stdout, UNQUOTED_KEY);
    const info = JSON.parse(cluster.stdout);
    assert.deepEqual(info.clusterAddrTable.DefaultCluster, ["broker-a"]);
    const master = info.brokerAddrTable["broker-a"].brokerAddrs["0"];
    assert.match(master, /^127\.0\.0\.1:\d+$/);

    const route = await cli(["route", "TBW102"]);
    assert.equal(route.code, 0, route.stderr);
    assert.doesNotMatch(route.stdout, UNQUOTED_KEY);
    const data = JSON.parse(route.stdout);
    assert.equal(data.brokerDatas[0].brokerAddrs["0"], master);
    assert.equal(data.queueDatas[0].writeQueueNums, 8);
  });

  test("NAMESRV_ADDR stands in for -n, and ';'-separated lists are taken", async () => {
    // The child inherits this process's environment when it is spawned.
    const saved = process.env.NAMESRV_ADDR;
    process.env.NAMESRV_ADDR = namesrv;
    let fromEnv: Awaited<ReturnType<typeof mqwire>>;
    try {
      fromEnv = await mqwire(["cluster"], "", 30_000);
    } finally {
      if (saved === undefined) delete process.env.NAMESRV_ADDR;
      else process.env.NAMESRV_ADDR = saved;
    }
    assert.equal(fromEnv.code, 0, fromEnv.stderr);
    const list = await mqwire(["cluster", "-n", `${namesrv};${namesrv}`], "", 30_000);
    assert.equal(list.code, 0, list.stderr);
    assert.deepEqual(JSON.parse(list.stdout), JSON.parse(fromEnv.stdout));
  });

  test("topic create -c -r -w -p, then route, topic list and topic stats see it", async () => {
    const topic = uniqueName("CliCreate");
    const created = await cli([
      "topic",
      "create",
      topic,
      "-c",
      "DefaultCluster",
      "-r",
      "3",
      "-w",
      "3",
      "-p",
      "6",
    ]);
    assert.equal(created.code, 0, created.stderr);
    const out = JSON.parse(created.stdout);
    assert.equal(out.topic, topic);
    assert.equal(out.brokers.length, 1);
    assert.match(out.brokers[0], /^127\.0\.0\.1:\d+$/);

    const route = JSON.parse((await cli(["route", topic])).stdout);
    assert.deepEqual(
      route.queueDatas.map((q: { readQueueNums: number; writeQueueNums: number; perm: number }) => [
        q.readQueueNums,
        q.writeQueueNums,
        q.perm,
      ]),
      [[3, 3, 6]],
    );
    const list = await cli(["topic", "list"]);
    assert.equal(list.code, 0, list.stderr);
    assert.ok(list.stdout.split("\n").includes(topic), "topic list names it");
    const stats = await cli(["topic", "stats", topic]);
    assert.equal(stats.code, 0, stats.stderr);
    const queues = JSON.parse(stats.stdout).queues as { queueId: number; maxOffset: number }[];
    assert.deepEqual(
      queues.map((q) => [q.queueId, q.maxOffset]),
      [
        [0, 0],
        [1, 0],
        [2, 0],
      ],
    );

    // -b names one broker: the same topic again, on the master's address.
    const byBroker = await cli(["topic", "create", topic, "-b", out.brokers[0], "-r", "3", "-w", "3"]);
    assert.equal(byBroker.code, 0, byBroker.stderr);
    assert.deepEqual(JSON.parse(byBroker.stdout).brokers, out.brokers);
  });

  test("mqwire send -> RocketMQ's Java consumer: body, tag, keys, properties", async () => {
    const topic = uniqueName("CliSend");
    const sent = await cli([
      "send",
      topic,
      "--body",
      "héllo {i}",
      "--tag",
      "TagC",
      "--key",
      "k1",
      "--key",
      "k2",
      "--property",
      "color=blue",
      "--property",
      "eq=a=b",
      "--count",
      "3",
    ]);
    assert.equal(sent.code, 0, sent.stderr);
    const results = jsonLines<{ status: string; msgId: string; queue: { topic: string } }>(sent.stdout);
    assert.equal(results.length, 3);
    for (const r of results) {
      assert.equal(r.status, "SEND_OK");
      assert.equal(r.queue.topic, topic);
    }

    const got = await javaClient(env, [
      "consume",
      "--namesrv",
      namesrv,
      "--topic",
      topic,
      "--group",
      uniqueName("CliJavaG"),
      "--count",
      "3",
      "--timeout-s",
      "60",
    ]);
    assert.equal(got.summary, "consumed 3/3");
    const byId = new Map(got.lines.map((l) => [l.msgId as string, l]));
    for (const [i, r] of results.entries()) {
      const line = byId.get(r.msgId);
      assert.ok(line !== undefined, `Java did not read message ${i}`);
      assert.equal(Buffer.from(line.bodyBase64 as string, "base64").toString(), `héllo ${i}`);
      assert.equal(line.tags, "TagC");
      assert.equal(line.keys, "k1 k2");
      const props = line.properties as Record<string, string>;
      assert.equal(props.color, "blue");
      assert.equal(props.eq, "a=b");
    }
  });

  test("RocketMQ's Java producer -> mqwire consume --count N --from-beginning", async () => {
    const topic = uniqueName("CliJavaSend");
    const args = ["--tag", "TagJ", "--keys", "ka,kb", "--property", "size=3"];
    const sent = await javaClient(env, [
      "send",
      "--namesrv",
      namesrv,
      "--topic",
      topic,
      "--count",
      "4",
      "--body",
      "java {i} ✓",
      ...args,
    ]);
    assert.equal(sent.summary, "sent 4/4");
    // A binary body too: it comes out as base64.
    const binary = Buffer.from([0xff, 0x00, 0xfe]);
    const sentBinary = await javaClient(env, [
      "send",
      "--namesrv",
      namesrv,
      "--topic",
      topic,
      "--body-base64",
      binary.toString("base64"),
    ]);
    assert.equal(sentBinary.summary, "sent 1/1");

    const r = await cli([
      "consume",
      topic,
      "--group",
      uniqueName("CliG"),
      "--count",
      "5",
      "--from-beginning",
      "--timeout-s",
      "60",
    ]);
    assert.equal(r.code, 0, r.stderr);
    const got = jsonLines<ConsumedLine>(r.stdout);
    assert.equal(got.length, 5);
    const byId = new Map(got.map((m) => [m.msgId, m]));
    for (const s of sent.lines) {
      const m = byId.get(s.msgId as string);
      assert.ok(m !== undefined, `mqwire did not print ${s.msgId}`);
      assert.equal(m.bodyEncoding, "utf8");
      assert.equal(Buffer.from(m.body).toString("base64"), s.bodyBase64);
      assert.equal(m.tags, "TagJ");
      assert.deepEqual(m.keys, ["ka", "kb"]);
      assert.equal(m.properties.size, "3");
      assert.equal(m.topic, topic);
      assert.equal(m.offsetMsgId, s.offsetMsgId);
      assert.deepEqual(m.queue, { brokerName: s.brokerName, queueId: s.queueId });
      assert.equal(m.queueOffset, s.queueOffset);
      assert.ok(m.storeTimestamp >= m.bornTimestamp - 1000 && m.bornTimestamp > 0);
    }
    const bin = byId.get(sentBinary.lines[0]!.msgId as string);
    assert.deepEqual([bin?.body, bin?.bodyEncoding], [binary.toString("base64"), "base64"]);
  });

  test("consume twice with one group: the second run goes on where the first stopped", async () => {
    const topic = uniqueName("CliResume");
    const group = uniqueName("CliResumeG");
    const sent = await cli(["send", topic, "--body", "m{i}", "--count", "7"]);
    assert.equal(sent.code, 0, sent.stderr);

    // No committed offset and no --from-beginning: the group starts at the first offset.
    const first = await cli(["consume", topic, "-g", group, "--count", "3", "--timeout-s", "60"]);
    assert.equal(first.code, 0, first.stderr);
    const second = await cli(["consume", topic, "-g", group, "--count", "4", "--timeout-s", "60"]);
    assert.equal(second.code, 0, second.stderr);
    const bodies = [...jsonLines<ConsumedLine>(first.stdout), ...jsonLines<ConsumedLine>(second.stdout)].map(
      (m) => m.body,
    );
    assert.equal(bodies.length, 7);
    assert.deepEqual(bodies.sort(), ["m0", "m1", "m2", "m3", "m4", "m5", "m6"]);

    // Nothing left: the time-out stops it (exit 0 without --count), and `offsets` shows no lag.
    const third = await cli(["consume", topic, "-g", group, "--timeout-s", "2"]);
    assert.equal(third.code, 0, third.stderr);
    assert.equal(third.stdout, "");
    const offsets = await cli(["offsets", group, "--topic", topic]);
    assert.equal(offsets.code, 0, offsets.stderr);
    const progress = JSON.parse(offsets.stdout);
    assert.equal(progress.lag, 0);
    assert.equal(
      progress.queues.reduce((n: number, q: { consumerOffset: number }) => n + q.consumerOffset, 0),
      7,
    );

    // --count not reached within --timeout-s: exit 1, and what it did print is committed.
    await cli(["send", topic, "--body", "late", "--count", "1"]);
    const short = await cli(["consume", topic, "-g", group, "--count", "2", "--timeout-s", "3"]);
    assert.equal(short.code, 1);
    assert.match(short.stderr, /1 of 2/);
    assert.deepEqual(
      jsonLines<ConsumedLine>(short.stdout).map((m) => m.body),
      ["late"],
    );
    assert.equal(JSON.parse((await cli(["offsets", group, "--topic", topic])).stdout).lag, 0);
  });

  test("SIGTERM stops consume with exit 0 and commits what it printed", async () => {
    const topic = uniqueName("CliSignal");
    const group = uniqueName("CliSignalG");
    assert.equal((await cli(["send", topic, "--body", "s{i}", "--count", "4"])).code, 0);
    const child = spawn(process.execPath, [BIN, "consume", topic, "-g", group, "-n", namesrv]);
    let out = "";
    let err = "";
    child.stdout.setEncoding("utf8");
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      err += d;
    });
    const four = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no 4 lines in 60 s: ${out}`)), 60_000);
      child.stdout.on("data", (d: string) => {
        out += d;
        if (out.split("\n").length > 4) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    const exited = once(child, "exit");
    await four;
    child.kill("SIGTERM");
    const [code] = (await exited) as [number | null];
    assert.equal(code, 0, `stderr: ${err}`);
    assert.equal(jsonLines<ConsumedLine>(out).length, 4);
    assert.equal(JSON.parse((await cli(["offsets", group, "--topic", topic])).stdout).lag, 0);
  });

  test("a broker error exits 1 naming the response code; bad usage exits 2", async () => {
    const missing = uniqueName("CliMissing");
    const r = await cli(["route", missing]);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, "");
    const lines = r.stderr.trim().split("\n");
    assert.equal(lines.length, 1, r.stderr);
    assert.match(
      lines[0]!,
      new RegExp(`^mqwire: TOPIC_NOT_EXIST \\(17\\) from ${namesrv.replaceAll(".", "\\.")}: .*${missing}`),
    );

    const noNameServer = await mqwire(["cluster", "-n", "no-port"], "", 30_000);
    assert.equal(noNameServer.code, 2);
    assert.match(noNameServer.stderr, /not host:port/);
    const both = await cli(["topic", "create", missing, "-c", "DefaultCluster", "-b", "127.0.0.1:1"]);
    assert.equal(both.code, 2);
    const noBody = await cli(["send", missing]);
    assert.equal(noBody.code, 2);
    assert.match(noBody.stderr, /--body/);
    const noGroup = await cli(["consume", missing]);
    assert.equal(noGroup.code, 2);
  });
});
