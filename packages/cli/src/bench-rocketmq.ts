/**
 * `mqwire bench NAMESRV --mode produce | consume`: the options and defaults of the two RocketMQ
 * modes, which measure a Producer or a PullConsumer against a real cluster with the same method
 * and defaults as the RocketMQ kit's `java-client.sh bench-produce` and `bench-consume`.
 */
import type { Command } from "commander";
import { InvalidArgumentError, type SerializeType, type TlsClientOptions } from "mqwire";
import { benchConsume } from "./bench-consume.js";
import { nonNegative, positive } from "./bench-options.js";
import { benchProduce } from "./bench-produce.js";

/** The produce window, in seconds (bench-produce's default). */
const DEFAULT_PRODUCE_SECONDS = 5;
/** The longest consume run, in seconds (bench-consume's default). */
const DEFAULT_CONSUME_SECONDS = 10;
/** bench-consume's idle limit after the first message, in seconds. */
const DEFAULT_IDLE_SECONDS = 3;
/** bench-consume's pull batch (the kit's consumers set 32). */
const DEFAULT_PULL_BATCH = 32;
/** bench-produce's producer group. */
const DEFAULT_PRODUCER_GROUP = "mqwire_bench_producer";

/** Adds the options only the RocketMQ modes read. */
export function withRocketmqOptions(command: Command): Command {
  return command
    .option("-n, --namesrv <addr>", "produce, consume: the name server, when not given as [addr]")
    .option("--topic <topic>", "produce, consume: the topic")
    .option(
      "--group <group>",
      `produce: the producer group (${DEFAULT_PRODUCER_GROUP}); consume: the group, required`,
    )
    .option("--count <n>", "consume: stop after this many messages", positive("count"))
    .option(
      "--idle-s <s>",
      `consume: stop once nothing came for this long after the first message (0: never; ${DEFAULT_IDLE_SECONDS})`,
      nonNegative("idle-s"),
    )
    .option("--pull-batch <n>", `consume: messages per pull (${DEFAULT_PULL_BATCH})`, positive("pull-batch"));
}

/** Runs mode produce or consume with the options commander parsed. */
export async function benchRocketmq(
  mode: "produce" | "consume",
  addr: string | undefined,
  opts: Record<string, unknown>,
  tls?: TlsClientOptions,
): Promise<void> {
  const namesrv = addr ?? (opts.namesrv as string | undefined) ?? process.env.NAMESRV_ADDR;
  if (namesrv === undefined || namesrv === "")
    throw new InvalidArgumentError(`--mode ${mode} needs a name server: NAMESRV or -n`);
  const topic = opts.topic as string | undefined;
  if (topic === undefined) throw new InvalidArgumentError(`--mode ${mode} needs --topic`);
  const serialize = opts.serialize as SerializeType | undefined;
  const json = opts.json === true;
  if (mode === "consume") {
    const group = opts.group as string | undefined;
    if (group === undefined)
      throw new InvalidArgumentError("--mode consume needs --group (a new group reads from the start)");
    await benchConsume({
      namesrv,
      topic,
      group,
      seconds: (opts.seconds as number | undefined) ?? DEFAULT_CONSUME_SECONDS,
      count: Math.floor((opts.count as number | undefined) ?? 0),
      idleSeconds: (opts.idleS as number | undefined) ?? DEFAULT_IDLE_SECONDS,
      pullBatch: Math.floor((opts.pullBatch as number | undefined) ?? DEFAULT_PULL_BATCH),
      serialize,
      json,
      tls,
    });
    return;
  }
  const size = opts.size as number;
  if (!Number.isInteger(size) || size < 1) {
    throw new InvalidArgumentError("--size must be an integer >= 1 (RocketMQ refuses empty bodies)");
  }
  await benchProduce({
    namesrv,
    topic,
    group: (opts.group as string | undefined) ?? DEFAULT_PRODUCER_GROUP,
    size,
    concurrency: Math.floor(opts.concurrency as number),
    seconds: (opts.seconds as number | undefined) ?? DEFAULT_PRODUCE_SECONDS,
    warmupSeconds: Math.max(0, (opts.warmup as number) || 0),
    timeoutMs: opts.timeoutMs as number,
    serialize,
    json,
    tls,
  });
}
