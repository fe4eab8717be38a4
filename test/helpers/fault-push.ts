/**
 * The server-push fault scenario of issue 10 (see ./fault-scenarios.ts): a client that never
 * reads while the server pushes.
 */
import assert from "node:assert/strict";
import { type EventEmitter, once } from "node:events";
import net from "node:net";
import type { TestContext } from "node:test";
import { setImmediate as yieldToLoop } from "node:timers/promises";
import {
  ErrorCodes,
  encodeFrame,
  InteropCode,
  type RemotingCommand,
  type RemotingServer,
  type SocketTransport,
} from "../../src/index.js";
import { waitFor } from "./client-fixtures.js";
import { roundMs as round } from "./fault-process.js";

/** Figures of {@link pushToNonReader}. */
export interface PushFigures {
  bodyBytes: number;
  /** Pushes written before the channel turned unwritable (the kernel's buffers took the rest). */
  acceptedPushes: number;
  /** Most bytes queued in the process for the channel after it turned unwritable. */
  maxQueuedBytes: number;
  /** Pushes refused while unwritable; the median and slowest refusal, in ms. */
  refused: number;
  medianRefusalMs: number;
  slowestRefusalMs: number;
}

/** The server's high-water mark (SocketTransport's default, Netty's 64 KiB). */
const HIGH_WATER_MARK_BYTES = 64 * 1024;

/**
 * A raw client sends one request, then never reads while the server pushes `bodyBytes` bodies:
 * once the kernel's buffers are full the channel turns unwritable, further pushes (oneway,
 * invoke, invokeAsync) fail at once with MQW_ERR_TOO_MANY_REQUESTS, and the bytes queued in
 * the process stay under the high-water mark plus one frame.
 */
export async function pushToNonReader(
  t: TestContext,
  server: RemotingServer,
  addr: string,
  bodyBytes: number,
  refusals: number,
): Promise<PushFigures> {
  const i = addr.lastIndexOf(":");
  const socket = net.connect({ host: addr.slice(0, i), port: Number(addr.slice(i + 1)) });
  socket.on("error", () => undefined);
  t.after(() => socket.destroy());
  await new Promise((resolve) => socket.once("connect", resolve));
  socket.pause(); // never reads again
  const hello = server.createRequest(InteropCode.ECHO, { body: Buffer.from("hello") });
  socket.write(encodeFrame(hello));
  await waitFor(() => server.channels.size === 1 && server.requestsReceived >= 1, "the raw client's channel");
  const channel = [...server.channels][0]!;
  const transport = channel.engine.transport as SocketTransport;
  const body = Buffer.alloc(bodyBytes, 0x61);
  const push = (): RemotingCommand => server.createRequest(InteropCode.CLIENT_PUSH, { body });
  // Oneways, waiting for each drain, until the kernel's buffers are full: then no drain comes.
  let acceptedPushes = 0;
  const limit = Math.ceil((256 * 1024 * 1024) / bodyBytes);
  while (acceptedPushes < limit) {
    if (!channel.isWritable && !(await drained(channel.engine, 300))) break;
    await server.invokeOneway(channel, push(), 1000);
    acceptedPushes++;
  }
  assert.equal(channel.isWritable, false, `still writable after ${acceptedPushes} pushes`);
  const frameBytes = encodeFrame(push()).length;
  let maxQueuedBytes = transport.queuedBytes;
  const refusalMs: number[] = [];
  const refusedWith = async (kind: string, call: () => Promise<unknown>): Promise<void> => {
    const startedAt = performance.now();
    let code: string | undefined;
    try {
      await call();
    } catch (err) {
      code = (err as { code?: string }).code;
    }
    refusalMs.push(performance.now() - startedAt);
    assert.equal(code, ErrorCodes.TOO_MANY_REQUESTS, `${kind} to an unwritable channel`);
    maxQueuedBytes = Math.max(maxQueuedBytes, transport.queuedBytes);
  };
  const kinds: [string, () => Promise<unknown>][] = [
    ["invokeOneway", () => server.invokeOneway(channel, push(), 1000)],
    ["invoke", () => server.invoke(channel, push(), { timeoutMs: 1000 })],
    [
      "invokeAsync",
      () =>
        new Promise((resolve, reject) =>
          server.invokeAsync(channel, push(), 1000, { operationSucceed: resolve, operationFail: reject }),
        ),
    ],
  ];
  for (let n = 0; n < refusals; n++) {
    const [kind, call] = kinds[n % kinds.length]!;
    await refusedWith(kind, call);
    if (n % 16 === 0) await yieldToLoop();
  }
  assert.ok(
    maxQueuedBytes <= HIGH_WATER_MARK_BYTES + frameBytes,
    `${maxQueuedBytes} bytes queued (high-water mark ${HIGH_WATER_MARK_BYTES} + a frame of ${frameBytes})`,
  );
  refusalMs.sort((a, b) => a - b);
  const medianRefusalMs = refusalMs[refusalMs.length >> 1]!;
  const slowestRefusalMs = refusalMs.at(-1)!;
  // At once: never the push's 1000 ms time-out nor a permit wait (a loaded machine may stall
  // one refusal for a scheduling quantum or a GC, hence the median).
  assert.ok(medianRefusalMs < 5, `refusals took ${medianRefusalMs} ms (median)`);
  assert.ok(slowestRefusalMs < 500, `a refusal took ${slowestRefusalMs} ms`);
  assert.ok(channel.isActive, "the channel stays open: only the pushes are refused");
  return {
    bodyBytes,
    acceptedPushes,
    maxQueuedBytes,
    refused: refusals,
    medianRefusalMs: round(medianRefusalMs),
    slowestRefusalMs: round(slowestRefusalMs),
  };
}

/** True when `emitter` emits drain within `ms`. */
async function drained(emitter: EventEmitter, ms: number): Promise<boolean> {
  try {
    await once(emitter, "drain", { signal: AbortSignal.timeout(ms) });
    return true;
  } catch {
    return false;
  }
}
