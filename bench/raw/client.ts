/**
 * The raw baseline load client: node:net and the frames of bench/lib/raw-frame.ts, as fast as
 * Node allows, so that it is the ceiling the other implementations are measured against.
 *
 * - async: `concurrency` requests in flight on each of `connections` sockets. Responses arrive in
 *   order, so send times sit in a ring and are matched FIFO. Every response received in a read
 *   is replaced by a new request, all of them in ONE write (a slice of a pre-built batch for
 *   small bodies; one writev of header + shared body references for large ones).
 * - sync: the same with one request in flight (RocketMQ's invokeSync blocks its caller).
 * - oneway: frames written as fast as the socket takes them (`concurrency` frames per write),
 *   honouring back-pressure. The window closes with one request whose response proves every
 *   earlier frame was delivered, so frames/s is what the server received, not what sat in buffers.
 *
 * Latency is taken once per read and once per write (performance.now(), microsecond resolution):
 * every response in a read arrived at the same moment, every request in a write left at one.
 *
 * Usage: node dist/bench/raw/client.js HOST:PORT --mode sync|async|oneway --concurrency N
 *        --connections C --seconds S --warmup W --size B
 */
import * as net from "node:net";
import { performance } from "node:perf_hooks";
import { type LoadOptions, parseLoadOptions } from "../lib/load-options.js";
import { failAndExit, Measurement, printResultAndExit } from "../lib/measurement.js";
import {
  buildFrameBatch,
  FrameCounter,
  KIND_ONEWAY,
  KIND_REQUEST,
  LARGE_BODY_BYTES,
  RAW_HEADER_BYTES,
  writeRawHeader,
} from "../lib/raw-frame.js";

/** Oneway batches written per event-loop turn before yielding (so the window timer can fire). */
const ONEWAY_BATCHES_PER_TURN = 64;

let running = true;

/** One socket with `concurrency` requests kept in flight. */
class PipelinedConnection {
  private readonly counter = new FrameCounter();
  /** Send times of the requests in flight, oldest at `head` (a ring of `concurrency` slots). */
  private readonly sentAt: Float64Array;
  private head = 0;
  private tail = 0;
  private readonly frameBytes: number;
  /** Bytes per completed call, both directions, for the bytes/s figures. */
  private readonly bytesPerCall: number;

  constructor(
    private readonly socket: net.Socket,
    private readonly options: LoadOptions,
    private readonly measurement: Measurement,
    /** Small bodies: `concurrency` request frames back to back. Large: one header frame. */
    private readonly batch: Buffer,
    /** Large bodies only: the body every request shares by reference. */
    private readonly largeBody: Buffer | undefined,
  ) {
    this.sentAt = new Float64Array(options.concurrency);
    this.frameBytes = RAW_HEADER_BYTES + options.sizeBytes;
    this.bytesPerCall = 2 * options.sizeBytes;
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
  }

  start(): void {
    this.send(this.options.concurrency);
  }

  private onData(chunk: Buffer): void {
    const completed = this.counter.push(chunk);
    if (completed === 0) return;
    const now = performance.now();
    const m = this.measurement;
    const slots = this.sentAt.length;
    for (let i = 0; i < completed; i++) {
      if (m.recording) m.record((now - this.sentAt[this.head]!) * 1000, this.bytesPerCall);
      this.head = this.head + 1 === slots ? 0 : this.head + 1;
    }
    if (running) this.send(completed);
  }

  /** Sends `count` requests in one write and notes their common send time. */
  private send(count: number): void {
    const now = performance.now();
    const slots = this.sentAt.length;
    for (let i = 0; i < count; i++) {
      this.sentAt[this.tail] = now;
      this.tail = this.tail + 1 === slots ? 0 : this.tail + 1;
    }
    if (this.largeBody === undefined) {
      this.socket.write(this.batch.subarray(0, count * this.frameBytes));
      return;
    }
    this.socket.cork();
    for (let i = 0; i < count; i++) {
      this.socket.write(this.batch);
      this.socket.write(this.largeBody);
    }
    this.socket.uncork();
  }
}

/** Writes oneway frames until the window closes, then confirms delivery with one request. */
function runOneway(socket: net.Socket, options: LoadOptions, measurement: Measurement): void {
  const batch = buildFrameBatch(KIND_ONEWAY, options.sizeBytes, options.concurrency);
  const bytesPerBatch = options.concurrency * options.sizeBytes;
  const pump = (): void => {
    for (let i = 0; i < ONEWAY_BATCHES_PER_TURN && running; i++) {
      if (measurement.recording) {
        measurement.requests += options.concurrency;
        measurement.bytes += bytesPerBatch;
      }
      if (!socket.write(batch)) {
        socket.once("drain", pump);
        return;
      }
    }
    if (running) setImmediate(pump);
  };
  measurement.start(() => {
    running = false;
    // The server handles frames in order: the barrier's response means all frames arrived.
    const counter = new FrameCounter();
    socket.on("data", (chunk: Buffer) => {
      if (counter.push(chunk) > 0) printResultAndExit(measurement.result(performance.now()));
    });
    socket.write(buildFrameBatch(KIND_REQUEST, options.sizeBytes, 1));
  });
  pump();
}

function connect(options: LoadOptions): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: options.host, port: options.port, noDelay: true });
    socket.once("connect", () => resolve(socket));
    socket.once("error", reject);
  });
}

async function main(): Promise<void> {
  const options = parseLoadOptions(process.argv.slice(2));
  if (options.mode === "oneway" && options.connections > 1) {
    throw new Error("oneway mode measures one connection");
  }
  const measurement = new Measurement(options);
  const sockets = await Promise.all(Array.from({ length: options.connections }, () => connect(options)));
  for (const socket of sockets) {
    socket.on("error", (err) => failAndExit(err));
    socket.on("close", () => running && failAndExit(new Error("server closed the connection")));
  }
  if (options.mode === "oneway") {
    runOneway(sockets[0]!, options, measurement);
    return;
  }
  let batch: Buffer;
  let body: Buffer | undefined;
  if (options.sizeBytes >= LARGE_BODY_BYTES) {
    // Copying a 1 MiB body into a batch would cost more than sending it: header + shared body.
    batch = Buffer.allocUnsafe(RAW_HEADER_BYTES);
    writeRawHeader(batch, 0, KIND_REQUEST, options.sizeBytes);
    body = Buffer.alloc(options.sizeBytes, 0x5a);
  } else {
    batch = buildFrameBatch(KIND_REQUEST, options.sizeBytes, options.concurrency);
  }
  const connections = sockets.map((s) => new PipelinedConnection(s, options, measurement, batch, body));
  measurement.start(() => {
    running = false;
    printResultAndExit(measurement.result());
  });
  for (const connection of connections) connection.start();
}

main().catch(failAndExit);
