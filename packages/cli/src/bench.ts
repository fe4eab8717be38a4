/**
 * `mqwire bench`: the load generator users run against any server of the interop service. Without
 * HOST:PORT it starts `mqwire serve` in a child process on loopback, never in its own event loop,
 * so the figures are a client's and a server's, as in production.
 *
 * Modes: async keeps `concurrency` calls in flight on each of `connections` connections (echo,
 * code 100); sync keeps one (RocketMQ's invokeSync blocks its caller); oneway writes code 104
 * frames as fast as the channel takes them and closes the window with a read of the server's
 * counter (code 105), whose answer proves every earlier frame arrived: frames/s is what the server
 * received. The last stdout line with --json is one JSON object (rps, p50Us, p90Us, p99Us, p999Us,
 * maxUs, requests, errors, errorsByCode, bytes, cpuUserUs, cpuSystemUs, seconds, warmupSeconds).
 *
 * Modes produce and consume take a RocketMQ name server instead and measure a Producer or a
 * PullConsumer the way RocketMQ's Java client is measured (./bench-produce.ts, ./bench-consume.ts).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { performance } from "node:perf_hooks";
import cliProgress from "cli-progress";
import type { Command } from "commander";
import {
  InteropCode,
  InvalidArgumentError,
  oncePerRun,
  parseSerializeType,
  RemotingClient,
  type RemotingCommand,
  type SerializeType,
  type TlsClientOptions,
} from "mqwire";
import { positive } from "./bench-options.js";
import { benchRocketmq, withRocketmqOptions } from "./bench-rocketmq.js";
import { Window } from "./bench-window.js";
import { serializeFlag } from "./client-flags.js";
import { exitTwoOnUsageError, runAction } from "./exit-codes.js";
import { addTlsClientFlags, tlsClientOptions } from "./tls-flags.js";

type Mode = "sync" | "async" | "oneway";
const MODES = ["sync", "async", "oneway", "produce", "consume"] as const;

/** The measured window of the interop modes, in seconds. */
const DEFAULT_SECONDS = 5;

/** Oneway batches written per event-loop turn at most (the raw baseline's client uses 64 too). */
const ONEWAY_BATCHES_PER_TURN = 64;

interface BenchOptions {
  mode: Mode;
  concurrency: number;
  connections: number;
  seconds: number;
  warmup: number;
  size: number;
  serialize: SerializeType;
  json: boolean;
  timeoutMs: number;
  /** `--tls` and its files; undefined for plaintext. */
  tls: TlsClientOptions | undefined;
}

/**
 * performance.now() once per synchronous run: the responses of one socket read completed at the
 * same moment, and the calls they start leave in one write. The raw baseline's client takes its
 * timestamps the same way, once per read and once per write, and a reading per call showed in
 * this generator's profile.
 */
const runNow = oncePerRun(() => performance.now());

/**
 * One call slot of the async mode: its own InvokeCallback, reused for every call it makes, so the
 * load generator allocates nothing per call beyond the request (a closure pair and a callback
 * object per call were ~25% of the generator's allocations in a sampling heap profile, garbage
 * that the raw baseline's client does not make either).
 */
class AsyncSlot {
  #startedAt = 0;
  readonly #bytesPerCall: number;
  /** The requests' init, made once: createRequest copies from it and keeps nothing. */
  readonly #init: { body: Buffer };
  constructor(
    private readonly client: RemotingClient,
    private readonly addr: string,
    private readonly o: BenchOptions,
    private readonly w: Window,
    body: Buffer,
  ) {
    this.#bytesPerCall = 2 * o.size;
    this.#init = { body };
  }
  fire(): void {
    if (!this.w.running) return;
    this.#startedAt = runNow();
    const request = this.client.createRequest(InteropCode.ECHO, this.#init);
    this.client.invokeAsync(this.addr, request, this.o.timeoutMs, this);
  }
  operationSucceed(r: RemotingCommand): void {
    if (r.code === 0) this.w.record(this.#startedAt, this.#bytesPerCall, runNow());
    else this.w.fail({ code: `RESPONSE_${r.code}` });
    this.fire();
  }
  operationFail(err: Error): void {
    this.w.fail(err);
    // Back off a little so a dead server does not become a busy loop.
    setTimeout(() => this.fire(), 10);
  }
}

function runAsync(client: RemotingClient, addr: string, o: BenchOptions, w: Window, body: Buffer): void {
  for (let i = 0; i < o.concurrency; i++) new AsyncSlot(client, addr, o, w, body).fire();
}

async function runSync(
  client: RemotingClient,
  addr: string,
  o: BenchOptions,
  w: Window,
  body: Buffer,
): Promise<void> {
  const bytesPerCall = 2 * o.size;
  const init = { body }; // one init for every request: createRequest keeps nothing of it
  while (w.running) {
    const startedAt = performance.now();
    try {
      const r = await client.invokeSync(addr, client.createRequest(InteropCode.ECHO, init), o.timeoutMs);
      if (r.code === 0) w.record(startedAt, bytesPerCall);
      else w.fail({ code: `RESPONSE_${r.code}` });
    } catch (err) {
      w.fail(err);
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}

/** Oneway frames until the window closes; the frames the server counted in the window go to `w.requests`. */
async function runOneway(
  client: RemotingClient,
  addr: string,
  o: BenchOptions,
  w: Window,
  body: Buffer,
): Promise<void> {
  const readCount = async (reset: boolean): Promise<number> => {
    const r = await client.invoke(
      addr,
      client.createRequest(InteropCode.READ_COUNT, reset ? { extFields: { reset: "true" } } : {}),
      { timeoutMs: o.timeoutMs },
    );
    return Number(r.getExt("count"));
  };
  await readCount(true);
  const onFail = (err: unknown): void => w.fail(err);
  let watched: Promise<void> | undefined;
  const init = { body }; // one init for every frame, as the async slots do
  let windowOpen = false;
  while (w.running) {
    if (w.recording && !windowOpen) {
      windowOpen = true;
      await readCount(true); // frames of the warm-up do not count
      w.openedAt = performance.now();
    }
    // Batches of `concurrency` frames while the channel takes them, as the raw baseline's client
    // writes (up to 64 batches a turn): mqwire coalesces a turn's frames into one write.
    for (let b = 0; b < ONEWAY_BATCHES_PER_TURN && client.isChannelWritable(addr); b++) {
      for (let i = 0; i < o.concurrency; i++) {
        const sent = client.invokeOneway(
          addr,
          client.createRequest(InteropCode.ONEWAY_COUNT, init),
          o.timeoutMs,
        );
        // One handler per distinct promise: a written frame's promise is one shared settled
        // promise, and a `.catch` on it per frame was a derived promise and a microtask each.
        if (sent !== watched) {
          watched = sent;
          sent.catch(onFail);
        }
      }
    }
    // Yield to the event loop so writes flush and timers fire; wait while the channel is full.
    await new Promise((r) => setImmediate(r));
    while (!client.isChannelWritable(addr) && w.running) await new Promise((r) => setTimeout(r, 1));
  }
  const delivered = await readCount(false);
  w.requests = delivered;
  w.bytes = delivered * o.size;
}

async function startLocalServer(serialize: SerializeType): Promise<{ addr: string; child: ChildProcess }> {
  const script = process.argv[1];
  if (script === undefined) throw new Error("cannot start `mqwire serve`: no script path in process.argv");
  const child = spawn(
    process.execPath,
    [script, "serve", "--port", "0", "--serialize", serialize === 1 ? "rocketmq" : "json"],
    {
      stdio: ["pipe", "pipe", "inherit"],
    },
  );
  let out = "";
  const stdout = child.stdout;
  if (stdout === null) throw new Error("`mqwire serve` has no stdout pipe");
  stdout.setEncoding("utf8");
  const addr = await new Promise<string>((resolve, reject) => {
    stdout.on("data", (d: string) => {
      out += d;
      const m = /listening on (\S+:\d+)/.exec(out);
      if (m?.[1] !== undefined) resolve(m[1]);
    });
    child.once("exit", (code) => reject(new Error(`mqwire serve exited with ${code}`)));
  });
  return { addr, child };
}

async function bench(target: string | undefined, o: BenchOptions): Promise<void> {
  const local = target === undefined ? await startLocalServer(o.serialize) : undefined;
  const addr = target ?? local?.addr ?? "";
  const body = Buffer.alloc(o.size, 0x5a);
  const w = new Window();
  const connections = o.mode === "oneway" ? 1 : o.connections;
  const clients = Array.from(
    { length: connections },
    () =>
      new RemotingClient({
        serializeType: o.serialize,
        scanNameServers: false,
        ...(o.tls ? { tls: o.tls } : {}),
      }),
  );
  try {
    for (const c of clients)
      await c.invoke(addr, c.createRequest(InteropCode.ECHO), { timeoutMs: o.timeoutMs });
    const bar =
      process.stdout.isTTY && !o.json
        ? new cliProgress.SingleBar(
            { format: "{bar} {value}/{total} s | {rps} req/s | errors {errors}", hideCursor: true },
            cliProgress.Presets.shades_classic,
          )
        : undefined;
    const loops: Promise<void>[] = [];
    for (const c of clients) {
      if (o.mode === "async") runAsync(c, addr, o, w, body);
      else if (o.mode === "sync") loops.push(runSync(c, addr, o, w, body));
      else loops.push(runOneway(c, addr, o, w, body));
    }
    await new Promise((r) => setTimeout(r, o.warmup * 1000));
    w.open();
    bar?.start(o.seconds, 0, { rps: 0, errors: 0 });
    const ticker = bar
      ? setInterval(() => {
          const elapsed = (performance.now() - w.openedAt) / 1000;
          let errors = 0;
          for (const n of w.errors.values()) errors += n;
          bar.update(Math.min(o.seconds, Math.round(elapsed)), {
            rps: Math.round(w.requests / Math.max(elapsed, 0.001)),
            errors,
          });
        }, 250)
      : undefined;
    await new Promise((r) => setTimeout(r, o.seconds * 1000));
    const closedAt = performance.now();
    w.running = false;
    clearInterval(ticker);
    bar?.stop();
    await Promise.all(loops);
    const result = w.result(o.mode === "oneway" ? performance.now() : closedAt, o.warmup);
    if (o.json) {
      process.stdout.write(`${JSON.stringify(result)}\n`);
    } else {
      const f = (us: unknown) => `${((us as number) / 1000).toFixed(3)} ms`;
      process.stdout.write(
        [
          `mqwire bench ${o.mode} → ${addr}: ${connections} connection(s) × ${o.mode === "sync" ? 1 : o.concurrency} in flight, ${o.size} B bodies`,
          `requests     ${result.requests}`,
          `errors       ${result.errors} ${JSON.stringify(result.errorsByCode)}`,
          `requests/s   ${(result.rps as number).toFixed(0)}`,
          o.mode === "oneway"
            ? "latency      (oneway: none)"
            : `latency      p50 ${f(result.p50Us)}  p90 ${f(result.p90Us)}  p99 ${f(result.p99Us)}  p99.9 ${f(result.p999Us)}  max ${f(result.maxUs)}`,
          "",
        ].join("\n"),
      );
    }
  } finally {
    await Promise.all(clients.map((c) => c.shutdown()));
    if (local) {
      local.child.kill("SIGTERM");
      await once(local.child, "exit");
    }
  }
}

export function registerBench(program: Command): void {
  const command = program
    .command("bench")
    .description(
      "load generator against a server of the interop service (default: one started on loopback), " +
        "or a RocketMQ producer or consumer against a name server (--mode produce | consume)",
    )
    .argument(
      "[addr]",
      "HOST:PORT of the server (produce, consume: of the name server); omitted: start `mqwire serve` in a child process",
    )
    .option("--mode <mode>", "sync | async | oneway | produce | consume", "async")
    .option(
      "--concurrency <n>",
      "calls in flight per connection (async, produce), frames per batch (oneway)",
      positive("concurrency"),
      64,
    )
    .option("--connections <n>", "connections (one client each)", positive("connections"), 1)
    .option(
      "--seconds <s>",
      "length of the measured window (default 5; consume: longest run, default 10)",
      positive("seconds"),
    )
    .option("--warmup <s>", "load before the window opens, not measured", (v) => Number(v), 1)
    .option("--size <bytes>", "request (produce: message) body size", (v) => Number(v), 128)
    .option("--serialize <type>", "json | rocketmq", serializeFlag)
    .option("--timeout-ms <ms>", "time-out of each call", positive("timeout-ms"), 10_000)
    .option("--json", "print one JSON object as the last line");
  // Usage errors (a bad flag, a half cert/key pair, a missing --topic) are InvalidArgumentErrors:
  // runAction makes them exit 2, anything else 1.
  exitTwoOnUsageError(addTlsClientFlags(withRocketmqOptions(command))).action(
    (addr: string | undefined, opts: Record<string, unknown>) =>
      runAction(command, () => runBench(addr, opts)),
  );
}

/** Checks the flags commander parsed and runs the mode they name. */
async function runBench(addr: string | undefined, opts: Record<string, unknown>): Promise<void> {
  const mode = opts.mode as (typeof MODES)[number];
  if (!MODES.includes(mode)) throw new InvalidArgumentError(`--mode must be ${MODES.join(", ")}`);
  const tls = tlsClientOptions(opts);
  if (mode === "produce" || mode === "consume") {
    await benchRocketmq(mode, addr, opts, tls);
    return;
  }
  // The server bench starts itself is plaintext.
  if (tls !== undefined && addr === undefined)
    throw new InvalidArgumentError("--tls needs the server's [addr]");
  const size = opts.size as number;
  if (!Number.isInteger(size) || size < 0) throw new InvalidArgumentError("--size must be an integer >= 0");
  await bench(addr, {
    mode,
    concurrency: Math.floor(opts.concurrency as number),
    connections: Math.floor(opts.connections as number),
    seconds: (opts.seconds as number | undefined) ?? DEFAULT_SECONDS,
    warmup: Math.max(0, (opts.warmup as number) || 0),
    size,
    serialize: (opts.serialize as SerializeType | undefined) ?? parseSerializeType("json"),
    json: opts.json === true,
    timeoutMs: opts.timeoutMs as number,
    tls,
  });
}
