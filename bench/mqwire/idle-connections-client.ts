/**
 * The client of the idle-connections scenario (bench/lib/mqwire-hooks.ts): opens `--connections`
 * TCP connections to a server of the interop service, each completing one ECHO call so that the
 * server has negotiated the protocol and built its whole per-connection state, then holds them all
 * open and idle until told to stop. It runs in its own process so that its file descriptors do not
 * count against the server's (or the orchestrator's) `ulimit -n`.
 *
 * Raw node:net sockets rather than RemotingClient: a RemotingClient holds one channel per address
 * (RocketMQ's NettyRemotingClient channelTables), so it cannot open 10,000 connections to one server.
 * Each socket writes one frame from encodeFrame and reads the reply frame whole.
 *
 *   node dist/bench/mqwire/idle-connections-client.js HOST:PORT --connections N
 *        [--window W] [--serialize json|rocketmq] [--exit]
 *
 * Prints one JSON line once every connection has its reply:
 * {"established": N, "elapsedMs": T}. Then it holds the connections until a `stop` line on stdin,
 * the end of stdin (its orchestrator is gone), or SIGTERM/SIGINT; `--exit` closes them at once
 * instead (a warm-up run). Exits 1 with a message on stderr if any connection fails.
 */
import { fstatSync } from "node:fs";
import * as net from "node:net";
import { parseArgs } from "node:util";
import {
  decodeFrame,
  encodeFrame,
  InteropCode,
  parseSerializeType,
  RemotingCommand,
  ResponseCode,
} from "../../src/index.js";

/** Connects in progress at once: well under the server's listen backlog (Node's default 511). */
const DEFAULT_WINDOW = 256;
/** Longest a single connect + call may take before the run fails, ms. */
const CALL_TIMEOUT_MS = 30_000;

function fail(message: string): never {
  process.stderr.write(`idle-connections-client: ${message}\n`);
  process.exit(1);
}

function parseOptions(argv: string[]) {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      connections: { type: "string" },
      window: { type: "string", default: String(DEFAULT_WINDOW) },
      serialize: { type: "string", default: "rocketmq" },
      exit: { type: "boolean", default: false },
    },
  });
  const target = positionals[0];
  const colon = target?.lastIndexOf(":") ?? -1;
  if (target === undefined || colon <= 0) fail("usage: HOST:PORT --connections N");
  const port = Number(target.slice(colon + 1));
  const connections = Number(values.connections);
  const window = Number(values.window);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) fail(`bad port in ${target}`);
  if (!Number.isInteger(connections) || connections < 1) fail("--connections must be an integer >= 1");
  if (!Number.isInteger(window) || window < 1) fail("--window must be an integer >= 1");
  return {
    host: target.slice(0, colon).replace(/^\[(.*)\]$/, "$1"),
    port,
    connections,
    window,
    serializeType: parseSerializeType(values.serialize!),
    exitWhenEstablished: values.exit!,
  };
}

/** Why a whole reply of `frameBytes` is not the SUCCESS response expected, or undefined. */
function checkReply(whole: Buffer, frameBytes: number): Error | undefined {
  if (whole.length > frameBytes) return new Error(`${whole.length - frameBytes} unexpected bytes`);
  try {
    const reply = decodeFrame(whole);
    if (reply.isResponse && reply.code === ResponseCode.SUCCESS) return undefined;
    return new Error(`unexpected reply: ${reply}`);
  } catch (err) {
    return err as Error;
  }
}

/**
 * Connects, writes `frame`, and resolves with the socket once the whole reply frame is read and
 * is a SUCCESS response. The socket is left open with an error listener, so a server that dies
 * later cannot crash this process.
 */
function openOne(host: string, port: number, frame: Buffer): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port, noDelay: true });
    const chunks: Buffer[] = [];
    let received = 0;
    let done = false;
    const finish = (err?: Error): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.off("data", onData);
      if (err === undefined) resolve(socket);
      else {
        socket.destroy();
        reject(err);
      }
    };
    const timer = setTimeout(
      () => finish(new Error(`no reply within ${CALL_TIMEOUT_MS} ms`)),
      CALL_TIMEOUT_MS,
    );
    // Once per connection, not on a hot path: a concat of the reply's chunks is fine here.
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
      received += chunk.length;
      if (received < 4) return;
      const whole = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
      const frameBytes = 4 + whole.readUInt32BE(0);
      if (received < frameBytes) return;
      finish(checkReply(whole, frameBytes));
    };
    socket.on("data", onData);
    socket.on("error", (err) => finish(err));
    socket.once("close", () => finish(new Error("closed before the reply")));
    socket.once("connect", () => socket.write(frame));
  });
}

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  const sockets: net.Socket[] = [];
  const startedAt = performance.now();
  let next = 0;
  // `window` workers, each opening connections one after another until all are open.
  const worker = async (): Promise<void> => {
    while (next < o.connections) {
      next++;
      // A fresh opaque per connection, as a real client would send.
      const request = RemotingCommand.createRequest(InteropCode.ECHO, { serializeType: o.serializeType });
      sockets.push(await openOne(o.host, o.port, encodeFrame(request)));
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(o.window, o.connections) }, worker));
  } catch (err) {
    fail(`connection ${sockets.length + 1} of ${o.connections} failed: ${(err as Error).message}`);
  }
  const elapsedMs = Math.round(performance.now() - startedAt);
  process.stdout.write(`${JSON.stringify({ established: sockets.length, elapsedMs })}\n`);

  const stop = (): void => {
    for (const socket of sockets) socket.destroy();
    process.exit(0);
  };
  if (o.exitWhenEstablished) {
    stop();
    return;
  }
  // A server that closes a held connection makes the measurement wrong: say so, and stop.
  for (const socket of sockets) {
    socket.once("close", () => fail("the server closed a held connection"));
  }
  process.on("SIGTERM", stop).on("SIGINT", stop);
  if (fstatSync(0).isFIFO()) {
    process.stdin.setEncoding("utf8");
    process.stdin.on("data", (text: string) => /^stop\s*$/m.test(text) && stop());
    process.stdin.on("end", stop);
  }
}

main().catch((err) => fail(err instanceof Error ? err.message : String(err)));
