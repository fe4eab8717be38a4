/**
 * `mqwire bench NAMESRV --mode produce`: a Producer's throughput against a real cluster, measured
 * the way the RocketMQ kit's `java-client.sh bench-produce --async --inflight K` measures
 * DefaultMQProducer (the kit's BenchProduce.java), so the two print comparable figures: one send
 * first (it auto-creates the topic), a warm-up phase under the same load, then a measured phase
 * that issues sends for S seconds and waits for the last ones. messages = successful sends issued
 * in the phase, seconds = from its start to the last completion, latency per send.
 */
import { performance } from "node:perf_hooks";
import { build } from "hdr-histogram-js";
import {
  BrokerError,
  isMqwireError,
  type Message,
  Producer,
  type SerializeType,
  type TlsClientOptions,
} from "mqwire";

/** What `--mode produce` needs from the command line. */
export interface ProduceBenchOptions {
  namesrv: string;
  topic: string;
  group: string;
  /** Body bytes. */
  size: number;
  /** Sends in flight. */
  concurrency: number;
  seconds: number;
  warmupSeconds: number;
  /** Time-out of each send, retries included, in ms. */
  timeoutMs: number;
  serialize: SerializeType | undefined;
  json: boolean;
  /** `--tls` and its files; undefined for plaintext. */
  tls?: TlsClientOptions | undefined;
}

/** Pause after a failed send, so that a send failing at once does not become a busy loop. */
const ERROR_BACKOFF_MS = 10;

/**
 * The kit's `Bodies.generated(i, size)`: `mqwire-kit #i ` then xorshift64 text, so both clients
 * send the same bytes (it matters from 4 KiB on, where both compress the body).
 */
export function kitBody(index: number, size: number): Buffer {
  const body = Buffer.alloc(size);
  const head = Buffer.from(`mqwire-kit #${index} `, "ascii");
  head.copy(body, 0, 0, Math.min(head.length, size));
  const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789 ";
  const u64 = (v: bigint): bigint => BigInt.asUintN(64, v);
  let x = u64(0x9e3779b97f4a7c15n ^ u64(BigInt(index + 1) * 0xbf58476d1ce4e5b9n));
  for (let j = head.length; j < size; j++) {
    x = u64(x ^ (x << 13n));
    x ^= x >> 7n;
    x = u64(x ^ (x << 17n));
    body[j] = alphabet.charCodeAt(Number((x >> 33n) % BigInt(alphabet.length)));
  }
  return body;
}

/** The key a failure is counted under: the stable code, and the broker's response code. */
export function errorKey(err: unknown): string {
  if (err instanceof BrokerError) return `${err.code}:${err.responseCodeName ?? err.responseCode}`;
  if (isMqwireError(err)) return err.code;
  return (err as { code?: string } | undefined)?.code ?? "ERROR";
}

/** One phase's figures. */
class Phase {
  messages = 0;
  lastDoneAt = 0;
  readonly errors = new Map<string, number>();
  readonly histogram = build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 60_000_000,
    numberOfSignificantValueDigits: 3,
  });
  fail(key: string): void {
    this.errors.set(key, (this.errors.get(key) ?? 0) + 1);
  }
}

/** Keeps `concurrency` sends in flight for `durationMs`, then waits for them; returns the seconds. */
async function runPhase(
  producer: Producer,
  message: Message,
  o: ProduceBenchOptions,
  durationMs: number,
  phase: Phase,
): Promise<number> {
  const startedAt = performance.now();
  const endAt = startedAt + durationMs;
  phase.lastDoneAt = startedAt;
  const worker = async (): Promise<void> => {
    while (performance.now() < endAt) {
      const sentAt = performance.now();
      try {
        const result = await producer.send(message);
        const doneAt = performance.now();
        if (result.status === "SEND_OK") {
          phase.histogram.recordValue(Math.max(1, Math.round((doneAt - sentAt) * 1000)));
          phase.messages++;
        } else {
          phase.fail(result.status);
        }
        phase.lastDoneAt = doneAt;
      } catch (err) {
        phase.fail(errorKey(err));
        phase.lastDoneAt = performance.now();
        await new Promise((r) => setTimeout(r, ERROR_BACKOFF_MS));
      }
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, worker));
  return (phase.lastDoneAt - startedAt) / 1000;
}

/** Runs the produce benchmark and prints its figures (one JSON object last with `json`). */
export async function benchProduce(o: ProduceBenchOptions): Promise<void> {
  const producer = new Producer({
    nameServer: o.namesrv,
    group: o.group,
    sendTimeoutMs: o.timeoutMs,
    remoting: { serializeType: o.serialize, ...(o.tls ? { tls: o.tls } : {}) },
  });
  const message: Message = { topic: o.topic, body: kitBody(0, o.size) };
  let phase: Phase;
  let seconds: number;
  try {
    // One send before anything is measured: it reads the route and auto-creates the topic.
    await producer.send(message);
    if (o.warmupSeconds > 0) await runPhase(producer, message, o, o.warmupSeconds * 1000, new Phase());
    phase = new Phase();
    seconds = await runPhase(producer, message, o, o.seconds * 1000, phase);
  } finally {
    await producer.close();
  }
  let errors = 0;
  for (const n of phase.errors.values()) errors += n;
  const h = phase.histogram;
  const result = {
    mode: "produce",
    concurrency: o.concurrency,
    inflight: o.concurrency,
    size: o.size,
    seconds,
    messages: phase.messages,
    mps: seconds > 0 ? phase.messages / seconds : 0,
    p50_us: phase.messages > 0 ? h.getValueAtPercentile(50) : -1,
    p99_us: phase.messages > 0 ? h.getValueAtPercentile(99) : -1,
    max_us: phase.messages > 0 ? h.maxValue : -1,
    errors,
    errorsByCode: Object.fromEntries(phase.errors),
    compressed: o.size >= 4096,
    warmupSeconds: o.warmupSeconds,
    topic: o.topic,
  };
  if (o.json) {
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return;
  }
  const ms = (us: number): string => `${(us / 1000).toFixed(3)} ms`;
  process.stdout.write(
    [
      `mqwire bench produce → ${o.namesrv} topic ${o.topic}: ${o.concurrency} in flight, ${o.size} B bodies`,
      `messages     ${result.messages} in ${seconds.toFixed(3)} s`,
      `errors       ${errors} ${JSON.stringify(result.errorsByCode)}`,
      `messages/s   ${result.mps.toFixed(0)}`,
      `latency      p50 ${ms(result.p50_us)}  p99 ${ms(result.p99_us)}  max ${ms(result.max_us)}`,
      "",
    ].join("\n"),
  );
}
