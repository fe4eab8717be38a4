/**
 * `mqwire bench NAMESRV --mode consume`: how fast a PullConsumer drains a topic, measured the way
 * the RocketMQ kit's `java-client.sh bench-consume` measures DefaultLitePullConsumer (the kit's
 * BenchConsume.java): a group reads every queue from its first offset until S seconds pass, N
 * messages arrive, or nothing arrives for I seconds after the first message. mps = messages /
 * drainSeconds, where the drain runs from the first message to the last, so start-up (reported
 * as firstMessageMs) and the idle wait at the end are not counted.
 */
import { performance } from "node:perf_hooks";
import { type Logger, PullConsumer, type SerializeType, type TlsClientOptions } from "mqwire";

/** What `--mode consume` needs from the command line. */
export interface ConsumeBenchOptions {
  namesrv: string;
  topic: string;
  group: string;
  /** Longest run, in seconds. */
  seconds: number;
  /** Stop after this many messages; 0: no limit. */
  count: number;
  /** Stop when nothing arrived for this long after the first message, in seconds; 0: never. */
  idleSeconds: number;
  /** Messages per pull (the Java tool's --pull-batch). */
  pullBatch: number;
  serialize: SerializeType | undefined;
  json: boolean;
  /** `--tls` and its files; undefined for plaintext. */
  tls?: TlsClientOptions | undefined;
}

/** How often the idle limit is checked, in ms. */
const IDLE_CHECK_MS = 20;

/** Runs the consume benchmark and prints its figures (one JSON object last with `json`). */
export async function benchConsume(o: ConsumeBenchOptions): Promise<void> {
  const stop = new AbortController();
  let failedPulls = 0;
  // A failed pull is retried by the stream; the benchmark only counts it.
  const countFailures: Logger = {
    debug() {},
    info() {},
    warn: () => void failedPulls++,
    error: () => void failedPulls++,
  };
  let messages = 0;
  let firstAt = -1;
  let lastAt = -1;
  // As the Java tool's t0: before the consumer starts, so firstMessageMs includes the start-up.
  const startedAt = performance.now();
  const deadline = setTimeout(() => stop.abort(), o.seconds * 1000);
  const idle =
    o.idleSeconds > 0
      ? setInterval(() => {
          if (lastAt >= 0 && performance.now() - lastAt >= o.idleSeconds * 1000) stop.abort();
        }, IDLE_CHECK_MS)
      : undefined;
  const consumer = new PullConsumer({
    nameServer: o.namesrv,
    group: o.group,
    remoting: { serializeType: o.serialize, ...(o.tls ? { tls: o.tls } : {}) },
  });
  try {
    const stream = consumer.messages(o.topic, {
      from: "first",
      maxMessagesPerPull: o.pullBatch,
      signal: stop.signal,
      logger: countFailures,
    });
    for await (const _ of stream) {
      const now = performance.now();
      if (firstAt < 0) firstAt = now;
      lastAt = now;
      if (++messages === o.count) break;
    }
  } finally {
    clearTimeout(deadline);
    clearInterval(idle);
    await consumer.close();
  }
  const drainSeconds = firstAt >= 0 ? (lastAt - firstAt) / 1000 : 0;
  const result = {
    mode: "consume",
    messages,
    mps: drainSeconds > 0 ? messages / drainSeconds : 0,
    drainSeconds,
    firstMessageMs: firstAt >= 0 ? Math.round(firstAt - startedAt) : -1,
    seconds: o.seconds,
    pullBatch: o.pullBatch,
    errors: failedPulls,
    errorsByCode: failedPulls > 0 ? { PULL_FAILED: failedPulls } : {},
    topic: o.topic,
    group: o.group,
  };
  if (o.json) {
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return;
  }
  process.stdout.write(
    [
      `mqwire bench consume ← ${o.namesrv} topic ${o.topic}, group ${o.group}, ${o.pullBatch} per pull`,
      `messages     ${messages} in ${drainSeconds.toFixed(3)} s (first after ${result.firstMessageMs} ms)`,
      `errors       ${failedPulls} failed pulls`,
      `messages/s   ${result.mps.toFixed(0)}`,
      "",
    ].join("\n"),
  );
}
