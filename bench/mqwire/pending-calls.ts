/**
 * The pending-calls scenario (bench/lib/mqwire-hooks.ts): the heap one RemotingClient needs per
 * call waiting for a response, whether every such call ends by its time-out, and whether the heap
 * returns to its baseline afterwards. Run with --expose-gc:
 *
 *   node --expose-gc dist/bench/mqwire/pending-calls.js [--calls N] [--timeout-ms T]
 *        [--serialize json|rocketmq] [--warmup-calls W]
 *
 * The server is a bare node:net listener in this process that reads and discards every byte and
 * never answers. It reads (rather than leaving bytes in the kernel) so that the client's socket
 * write queue empties: the heap measured is then the pending-call state, not unsent requests.
 *
 * Steps: connect; a warm-up round of W calls with a short time-out (so the invoke, time-out and
 * error paths are compiled and their feedback allocated before the baseline); gc(), heap0; N
 * invokeAsync calls of time-out T; wait until the server has read every request byte; gc(),
 * heap1; wait until every call has settled; gc() twice, heap2. Prints one JSON line:
 * {"heapBytesPerPendingCall": (heap1-heap0)/N, "settledFraction": timeouts/N,
 *  "heapResidualBytesPerCall": max(0, heap2-heap0)/N, "calls": N, ...diagnostics}.
 *
 * One callback object serves every call, so the figure is mqwire's own cost per call: a caller
 * that allocates a closure per call adds that closure's size on top.
 */
import * as net from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import {
  ErrorCodes,
  InteropCode,
  type InvokeCallback,
  isMqwireError,
  parseSerializeType,
  RemotingClient,
} from "../../src/index.js";

const DEFAULT_CALLS = 100_000;
const DEFAULT_TIMEOUT_MS = 2_000;
const DEFAULT_WARMUP_CALLS = 2_000;
/** Time-out of the warm-up calls, ms: long enough to be registered before they expire. */
const WARMUP_TIMEOUT_MS = 200;
/** How long after their deadline all calls must have settled, ms, before the run gives up. */
const SETTLE_GRACE_MS = 10_000;
/** Polling period while waiting for the server to read every request byte, ms. */
const POLL_MS = 10;

function fail(message: string): never {
  process.stderr.write(`pending-calls: ${message}\n`);
  process.exit(1);
}

function positiveInt(name: string, text: string | undefined): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) fail(`--${name} must be an integer >= 1, got ${text}`);
  return n;
}

const gc = (globalThis as { gc?: () => void }).gc ?? fail("run with node --expose-gc");

/** heapUsed after full collections (two: the first may leave garbage its finalizers made). */
function heapAfterGc(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

/** Counts how calls end. One object for every call (see the file TSDoc). */
class Outcomes implements InvokeCallback {
  timeouts = 0;
  otherErrors = 0;
  responses = 0;
  firstOtherError: string | undefined;
  #waiting = 0;
  #onAllSettled: (() => void) | undefined;

  get settled(): number {
    return this.timeouts + this.otherErrors + this.responses;
  }
  operationSucceed(): void {
    this.responses++;
    this.#check();
  }
  operationFail(error: Error): void {
    if (isMqwireError(error, ErrorCodes.TIMEOUT)) this.timeouts++;
    else {
      this.otherErrors++;
      this.firstOtherError ??= `${(error as { code?: string }).code ?? error.name}: ${error.message}`;
    }
    this.#check();
  }
  /** Resolves true once `count` calls have settled, false after `timeoutMs`. */
  waitFor(count: number, timeoutMs: number): Promise<boolean> {
    this.#waiting = count;
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.#onAllSettled = () => {
        clearTimeout(timer);
        resolve(true);
      };
      this.#check();
    });
  }
  #check(): void {
    if (this.#onAllSettled !== undefined && this.settled >= this.#waiting) {
      const done = this.#onAllSettled;
      this.#onAllSettled = undefined;
      done();
    }
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      calls: { type: "string", default: String(DEFAULT_CALLS) },
      "timeout-ms": { type: "string", default: String(DEFAULT_TIMEOUT_MS) },
      "warmup-calls": { type: "string", default: String(DEFAULT_WARMUP_CALLS) },
      serialize: { type: "string", default: "rocketmq" },
    },
  });
  const calls = positiveInt("calls", values.calls);
  const timeoutMs = positiveInt("timeout-ms", values["timeout-ms"]);
  const warmupCalls = positiveInt("warmup-calls", values["warmup-calls"]);
  const serializeType = parseSerializeType(values.serialize!);

  // The server that never answers: it reads and drops every byte, counting them.
  let bytesReceived = 0;
  const server = net.createServer((socket) => {
    socket.on("data", (chunk: Buffer) => {
      bytesReceived += chunk.length;
    });
    socket.on("error", () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const addr = `127.0.0.1:${(server.address() as net.AddressInfo).port}`;

  // Permits for every call at once: RocketMQ's default (65,535) would queue the rest in acquire.
  const client = new RemotingClient({
    serializeType,
    scanNameServers: false,
    asyncPermits: Math.max(calls, warmupCalls),
  });
  if (!(await client.isAddressReachable(addr))) fail(`cannot connect to ${addr}`);
  const transport = client.channelOf(addr)!.engine.transport;
  /** Resolves once the server has read every byte the client handed to its socket. */
  const allRead = async (): Promise<void> => {
    await new Promise((resolve) => setImmediate(resolve)); // The per-tick flush has run.
    while (bytesReceived < transport.bytesWritten) await sleep(POLL_MS);
  };
  const issue = (n: number, callTimeoutMs: number, outcomes: Outcomes): void => {
    for (let i = 0; i < n; i++) {
      client.invokeAsync(addr, client.createRequest(InteropCode.ECHO), callTimeoutMs, outcomes);
    }
  };

  const warmup = new Outcomes();
  issue(warmupCalls, WARMUP_TIMEOUT_MS, warmup);
  if (!(await warmup.waitFor(warmupCalls, WARMUP_TIMEOUT_MS + SETTLE_GRACE_MS))) {
    fail(`warm-up: ${warmup.settled} of ${warmupCalls} calls settled`);
  }
  await allRead();
  const heap0 = heapAfterGc();

  const outcomes = new Outcomes();
  const issuedAt = performance.now();
  issue(calls, timeoutMs, outcomes);
  const issueMs = performance.now() - issuedAt;
  await allRead();
  const pendingAtMeasure = client.pendingCalls;
  const heap1 = heapAfterGc();
  const measuredAtMs = performance.now() - issuedAt;

  const allSettled = await outcomes.waitFor(calls, timeoutMs + SETTLE_GRACE_MS);
  const settledAtMs = performance.now() - issuedAt;
  // Let anything the last callbacks scheduled run before the final collection.
  await new Promise((resolve) => setImmediate(resolve));
  const heap2 = heapAfterGc();

  await client.shutdown();
  server.close();
  const result = {
    heapBytesPerPendingCall: (heap1 - heap0) / calls,
    settledFraction: outcomes.timeouts / calls,
    heapResidualBytesPerCall: Math.max(0, heap2 - heap0) / calls,
    calls,
    timeoutMs,
    // Diagnostics: a measurement taken after some calls expired would under-count.
    pendingAtMeasure,
    allSettled,
    otherErrors: outcomes.otherErrors,
    firstOtherError: outcomes.firstOtherError,
    responses: outcomes.responses,
    issueMs: Math.round(issueMs),
    measuredAtMs: Math.round(measuredAtMs),
    settledAtMs: Math.round(settledAtMs),
    heap0,
    heap1,
    heap2,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(0);
}

main().catch((err) => fail(err instanceof Error ? (err.stack ?? err.message) : String(err)));
