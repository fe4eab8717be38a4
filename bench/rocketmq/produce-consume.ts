/**
 * `npm run bench:rocketmq`: mqwire's Producer and PullConsumer against RocketMQ 4.9.8's Java
 * client on a real broker. Starts a cluster from the kit (test/cluster/kit.ts), runs both clients
 * alternately in every scenario, writes the section of BENCHMARKS.md (./report.ts) and stops the
 * cluster by PID, on failure and on SIGINT/SIGTERM too.
 *
 *   npm run bench:rocketmq                               3 rounds, 5 s windows → BENCHMARKS.md
 *   node dist/bench/rocketmq/produce-consume.js --rounds 1 --seconds 2 --fill-messages 20000 --out /tmp/rmq.md
 */
import { loadavg } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Admin } from "../../src/index.js";
import { kitDir, startKit } from "../../test/cluster/kit.js";
import { repoRoot } from "../../test/helpers/vectors.js";
import { machineInfo } from "../lib/machine.js";
import {
  CLIENTS,
  type ClientName,
  renderSection,
  type Scenario,
  type ScenarioOutcome,
  writeSection,
} from "./report.js";
import { type ClientRun, killCurrentClient, runClient } from "./run-client.js";

const SCENARIOS: readonly Scenario[] = [
  { id: "produce-128B-64", kind: "produce", size: 128, inflight: 64, what: "128 B, 64 in flight" },
  { id: "produce-1KiB-64", kind: "produce", size: 1024, inflight: 64, what: "1 KiB, 64 in flight" },
  { id: "produce-128B-1", kind: "produce", size: 128, inflight: 1, what: "128 B, 1 in flight (sync-ish)" },
  { id: "consume-128B", kind: "consume", size: 128, inflight: 0, what: "drain of 128 B messages" },
];

/** Slack over a run's own length before it is killed, in ms (JVM start, a slow broker). */
const RUN_SLACK_MS = 90_000;
/** The fill of the consume topic: runs of this many seconds, at most this many runs. */
const FILL_CHUNK_SECONDS = 3;
const MAX_FILL_CHUNKS = 20;
/** A consume run's own limit, in seconds; it ends at the message count well before. */
const CONSUME_LIMIT_SECONDS = 120;

const { values } = parseArgs({
  options: {
    rounds: { type: "string", default: "3" },
    seconds: { type: "string", default: "5" },
    warmup: { type: "string", default: "1" },
    /** Messages in the consume scenarios' topic, at least. */
    "fill-messages": { type: "string", default: "300000" },
    out: { type: "string" },
  },
});
const rounds = Number(values.rounds);
const seconds = Number(values.seconds);
const warmup = Number(values.warmup);
const fillMessages = Number(values["fill-messages"]);
const ROOT = repoRoot();
const MQWIRE = join(ROOT, "packages", "cli", "bin", "mqwire.js");
const JAVA = join(kitDir(), "bin", "java-client.sh");

function mqwireArgs(namesrv: string, args: readonly string[]): string[] {
  return [MQWIRE, "bench", namesrv, ...args, "--json"];
}

function produceArgs(client: ClientName, s: Scenario, topic: string, namesrv: string): [string, string[]] {
  const common = [
    "--topic",
    topic,
    "--size",
    `${s.size}`,
    "--seconds",
    `${seconds}`,
    "--warmup",
    `${warmup}`,
  ];
  if (client === "java")
    return [JAVA, ["bench-produce", ...common, "--async", "--inflight", `${s.inflight}`]];
  return [
    process.execPath,
    mqwireArgs(namesrv, ["--mode", "produce", ...common, "--concurrency", `${s.inflight}`]),
  ];
}

function consumeArgs(
  client: ClientName,
  topic: string,
  group: string,
  count: number,
  ns: string,
): [string, string[]] {
  const common = [
    "--topic",
    topic,
    "--group",
    group,
    "--count",
    `${count}`,
    "--seconds",
    `${CONSUME_LIMIT_SECONDS}`,
  ];
  if (client === "java") return [JAVA, ["bench-consume", ...common]];
  return [process.execPath, mqwireArgs(ns, ["--mode", "consume", ...common])];
}

/** Messages in a topic: the sum over its queues. */
async function countMessages(admin: Admin, topic: string): Promise<number> {
  const stats = await admin.topicStats(topic);
  return stats.queues.reduce((n, q) => n + q.maxOffset - q.minOffset, 0);
}

/**
 * Fills a topic with at least `fillMessages` messages of 128 B, in runs of mqwire's producer (the
 * quicker one) of a few seconds each, so that a busy machine gets a longer fill, not a smaller drain.
 */
async function fill(namesrv: string, topic: string): Promise<number> {
  const args = ["--mode", "produce", "--topic", topic, "--size", "128", "--seconds", `${FILL_CHUNK_SECONDS}`];
  const admin = new Admin({ nameServer: namesrv });
  try {
    let count = 0;
    for (let chunk = 0; chunk < MAX_FILL_CHUNKS && count < fillMessages; chunk++) {
      await runClient(
        process.execPath,
        mqwireArgs(namesrv, [...args, "--warmup", "0"]),
        process.env,
        RUN_SLACK_MS,
      );
      count = await countMessages(admin, topic);
    }
    return count;
  } finally {
    await admin.close();
  }
}

function describe(run: ClientRun): string {
  const r = run.result;
  const latency =
    r.p50_us === undefined ? `first ${r.firstMessageMs} ms` : `p50 ${r.p50_us} µs p99 ${r.p99_us} µs`;
  return `${Math.round(Number(r.mps))} msg/s, ${r.messages} messages, ${latency}, errors ${r.errors ?? 0}, CPU ${run.cpuSeconds.toFixed(2)} s`;
}

async function main(): Promise<void> {
  const machine = machineInfo();
  const loadAtStart = loadavg()[0]!;
  const started = Date.now();
  const kit = await startKit();
  const onSignal = (): void => {
    killCurrentClient();
    void kit.stop().finally(() => process.exit(130));
  };
  process.once("SIGINT", onSignal).once("SIGTERM", onSignal);
  const outcomes: ScenarioOutcome[] = SCENARIOS.map((scenario) => ({
    scenario,
    runs: { java: [], mqwire: [] },
    failures: { java: [], mqwire: [] },
  }));
  let consumeMessages = 0;
  try {
    process.stdout.write(`cluster: name server ${kit.namesrv}, broker ${kit.broker}\n`);
    const consumeTopic = `BenchDrain_${Date.now().toString(36)}`;
    if (SCENARIOS.some((s) => s.kind === "consume")) {
      consumeMessages = await fill(kit.namesrv, consumeTopic);
      process.stdout.write(`consume topic ${consumeTopic}: ${consumeMessages} messages\n`);
    }
    for (let round = 0; round < rounds; round++) {
      // Flip the order every round, so drift and a warmer broker reach both clients alike.
      const order: ClientName[] = round % 2 === 0 ? [...CLIENTS] : [...CLIENTS].reverse();
      for (const o of outcomes) {
        for (const client of order) {
          const s = o.scenario;
          const tag = `${s.id}-${client}-${round}`.replace(/[^A-Za-z0-9_-]/g, "_");
          const [command, args] =
            s.kind === "produce"
              ? produceArgs(client, s, `BenchP_${tag}`, kit.namesrv)
              : consumeArgs(client, consumeTopic, `BenchG_${tag}`, consumeMessages, kit.namesrv);
          const limitMs =
            (s.kind === "produce" ? seconds + warmup : CONSUME_LIMIT_SECONDS) * 1000 + RUN_SLACK_MS;
          try {
            const run = await runClient(command, args, kit.env, limitMs);
            o.runs[client].push(run);
            process.stdout.write(`round ${round + 1}/${rounds} ${s.id} ${client}: ${describe(run)}\n`);
          } catch (err) {
            o.failures[client].push(err instanceof Error ? err.message : String(err));
            process.stdout.write(`round ${round + 1}/${rounds} ${s.id} ${client}: FAILED ${String(err)}\n`);
          }
        }
      }
    }
  } finally {
    await kit.stop();
  }
  const section = renderSection(outcomes, machine, {
    rounds,
    seconds,
    warmupSeconds: warmup,
    consumeMessages,
    command: "npm run bench:rocketmq",
    loadAverage: [loadAtStart, loadavg()[0]!],
  });
  const out = values.out ?? join(ROOT, "BENCHMARKS.md");
  writeSection(out, section);
  process.stdout.write(`\n${section}\n\nwrote ${out} in ${Math.round((Date.now() - started) / 1000)} s\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(
    `bench:rocketmq: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exit(1);
});
