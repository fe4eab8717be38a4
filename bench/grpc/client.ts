/**
 * The grpc baseline load client: @grpc/grpc-js unary calls to the echo of bench/lib/grpc-echo.ts,
 * `concurrency` calls in flight on each of `connections` channels, each completed call replaced
 * by a new one at once (a closed loop, like the raw client's). sync is the same with one call in
 * flight. gRPC has no oneway call, so the orchestrator never asks for that mode.
 *
 * Usage: node dist/bench/grpc/client.js HOST:PORT --mode sync|async --concurrency N
 *        --connections C --seconds S --warmup W --size B
 */
import { performance } from "node:perf_hooks";
import * as grpc from "@grpc/grpc-js";
import { ECHO_CHANNEL_OPTIONS, ECHO_PATH, identity } from "../lib/grpc-echo.js";
import { parseLoadOptions } from "../lib/load-options.js";
import { failAndExit, Measurement, printResultAndExit } from "../lib/measurement.js";

let running = true;

/** Keeps calls in flight on one channel: each completion issues the next call. */
function drive(client: grpc.Client, payload: Buffer, measurement: Measurement): void {
  const bytesPerCall = 2 * payload.length;
  const issue = (): void => {
    const sentAt = performance.now();
    client.makeUnaryRequest(ECHO_PATH, identity, identity, payload, (err) => {
      if (measurement.recording) {
        if (err) measurement.errors++;
        else measurement.record((performance.now() - sentAt) * 1000, bytesPerCall);
      }
      if (running) issue();
    });
  };
  issue();
}

function waitForReady(client: grpc.Client): Promise<void> {
  return new Promise((resolve, reject) => {
    client.waitForReady(Date.now() + 10_000, (err) => (err ? reject(err) : resolve()));
  });
}

async function main(): Promise<void> {
  const options = parseLoadOptions(process.argv.slice(2));
  if (options.mode === "oneway") throw new Error("gRPC has no oneway call");
  const payload = Buffer.alloc(options.sizeBytes, 0x5a);
  // grpc-js shares one connection among channels to the same target unless each channel has a
  // pool of its own: a local subchannel pool gives every client its own HTTP/2 connection.
  const clients = Array.from(
    { length: options.connections },
    () =>
      new grpc.Client(`${options.host}:${options.port}`, grpc.credentials.createInsecure(), {
        ...ECHO_CHANNEL_OPTIONS,
        "grpc.use_local_subchannel_pool": 1,
      }),
  );
  await Promise.all(clients.map(waitForReady));
  const measurement = new Measurement(options);
  measurement.start(() => {
    running = false;
    printResultAndExit(measurement.result());
  });
  for (const client of clients) {
    for (let i = 0; i < options.concurrency; i++) drive(client, payload, measurement);
  }
}

main().catch(failAndExit);
