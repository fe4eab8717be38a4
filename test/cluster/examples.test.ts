/**
 * The RocketMQ examples (examples/rocketmq-*.mjs) run as a user runs them, against the suite's
 * cluster given as NAMESRV_ADDR: the route query, then a producer and a consumer on a topic of
 * their own. Each exits 0 and prints what it did.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { describe, test } from "node:test";
import { repoRoot } from "../helpers/vectors.js";
import { suiteCluster, uniqueName } from "./kit.js";

/** `node examples/<name> ...args` with NAMESRV_ADDR set; its stdout lines once it exited 0. */
function runExample(name: string, args: string[], env: NodeJS.ProcessEnv): Promise<string[]> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [join(repoRoot(), "examples", name), ...args],
      { env, timeout: 60_000 },
      (err, stdout, stderr) => {
        if (err !== null) reject(new Error(`${name} failed:\n${stdout}\n${stderr}`, { cause: err }));
        else resolve(stdout.trim().split("\n"));
      },
    );
  });
}

function assertLines(lines: string[], expected: RegExp[]): void {
  for (const e of expected)
    assert.ok(
      lines.some((l) => e.test(l)),
      `missing ${e} in:\n${lines.join("\n")}`,
    );
}

describe("the RocketMQ examples against a real cluster", () => {
  const { namesrv } = suiteCluster();
  const env = { ...process.env, NAMESRV_ADDR: namesrv };

  test("rocketmq-route.mjs: cluster info, TOPIC_NOT_EXIST, a created topic and its route", async () => {
    const topic = uniqueName("ExampleRoute");
    const lines = await runExample("rocketmq-route.mjs", [topic], env);
    assertLines(lines, [
      /^cluster DefaultCluster: broker broker-a, master at 127\.0\.0\.1:\d+$/,
      new RegExp(`^route of ${topic}_missing: TOPIC_NOT_EXIST \\(17\\)$`),
      new RegExp(`^topic ${topic} created on 127\\.0\\.0\\.1:\\d+$`),
      new RegExp(`^route of ${topic}: broker-a has 4 write and 4 read queues, perm 6$`),
      /^rocketmq-route: done$/,
    ]);
  });

  test("rocketmq-producer.mjs then rocketmq-consumer.mjs: what was sent is received once", {
    timeout: 120_000,
  }, async () => {
    const topic = uniqueName("ExampleTopic");
    const group = uniqueName("ExampleGroup");
    const sent = await runExample("rocketmq-producer.mjs", [topic, "3"], env);
    assert.equal(
      sent.filter((l) => /^sent "hello \d": SEND_OK broker-a queue \d offset \d+ msgId [0-9A-F]{32}$/.test(l))
        .length,
      3,
    );
    assertLines(sent, [/^sent a batch of 2: SEND_OK queue \d msgIds [0-9A-F]{32},[0-9A-F]{32}$/]);

    const received = await runExample("rocketmq-consumer.mjs", [topic, "5", group], env);
    const bodies = received.flatMap((l) => /^received "([^"]+)": /.exec(l)?.[1] ?? []).sort();
    assert.deepEqual(bodies, ["batch a", "batch b", "hello 0", "hello 1", "hello 2"]);
    assertLines(received, [/^received "hello 0": tag TagA keys order-0 queue \d offset \d+$/]);
    assertLines(received, [new RegExp(`^received 5 of 5 messages as group ${group}$`)]);

    // The group committed its offsets: a second run finds nothing new.
    const again = await runExample("rocketmq-consumer.mjs", [topic, "5", group], { ...env, TIMEOUT_S: "3" });
    assertLines(again, [new RegExp(`^received 0 of 5 messages as group ${group}$`)]);
  });
});
