/**
 * Live hostile input (issue 10): a RemotingServer serving well-behaved clients while hundreds of
 * hostile connections send refused bytes, drip a frame one byte at a time (from the first byte, or
 * after a valid 8-byte prefix has chosen the codec), or connect and send nothing. The hostile peers run in a worker thread (this same file), so the server's event loop
 * carries only the server and the good clients, as it would in production; the good clients'
 * latency is measured alone first, then under the hostile load, in the same run.
 */
import assert from "node:assert/strict";
import net from "node:net";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import fc from "fast-check";
import { DEFAULT_MAX_EXT_FIELDS, DEFAULT_MAX_HEADER_BYTES } from "../../src/codec/codec.js";
import { RemotingCommand } from "../../src/codec/remoting-command.js";
import { encodeFrame } from "../../src/codec/rocketmq-codec.js";
import { silentLogger } from "../../src/logger.js";
import { RemotingClient } from "../../src/remoting/remoting-client.js";
import { RemotingServer } from "../../src/remoting/remoting-server.js";
import { formatAddress } from "../../src/transport/address.js";
import { checkDecoder, hostileInput } from "./hostile-input.js";

/**
 * What the hostile peers do, per connection slot. `drip` sends a frame a byte at a time from the
 * start, so only the handshake deadline can close it; `negotiated-drip` sends the first 8 bytes at
 * once, which chooses the codec and ends the handshake, and then drips: only the frame deadline
 * (`frameTimeoutMs`) can close it.
 */
export type HostileKind = "garbage" | "drip" | "negotiated-drip" | "silent";

export const HOSTILE_KINDS: readonly HostileKind[] = ["garbage", "drip", "negotiated-drip", "silent"];

/** Settings of the hostile side. */
export interface HostileConfig {
  port: number;
  /** Concurrent hostile connections of each kind; a closed one is replaced at once. */
  slots: Record<HostileKind, number>;
  durationMs: number;
  /** Time between two bytes of a `drip` peer. */
  dripMs: number;
  /** Time between two bytes of a `negotiated-drip` peer, after its first 8. */
  negotiatedDripMs: number;
  seed: number;
}

/** How the hostile connections of one kind ended. */
export interface KindFigures {
  /** Connections opened. */
  opened: number;
  /** Closed by the server (the rest were still open when the run ended, and closed by us). */
  closedByServer: number;
  /** Longest time from connect to the server's close, in ms. */
  maxLifeMs: number;
  /**
   * Each connection the server closed: its local address ("127.0.0.1:port", the server's remote
   * address for it) and when (`Date.now()`, one clock for all threads), so the scenario can pair
   * it with the reason the server gave even when a later connection reused the port.
   */
  closes: ServerClose[];
}

/** A close seen by a hostile peer, or given by the server. */
export interface ServerClose {
  address: string;
  at: number;
}

export type HostileSummary = Record<HostileKind, KindFigures>;

// ------------------------------------------------------------------------ the worker side

/** Refused inputs to send: fast-check's hostile inputs that the server's decoder refuses. */
function refusedPayloads(seed: number, count: number): Buffer[] {
  const limits = {
    maxFrameBytes: 16 * 1024 * 1024,
    maxHeaderBytes: DEFAULT_MAX_HEADER_BYTES,
    maxExtFields: DEFAULT_MAX_EXT_FIELDS,
  };
  const out: Buffer[] = [];
  for (const input of fc.sample(hostileInput, { seed, numRuns: count * 4 })) {
    if (checkDecoder(input, limits).reason !== undefined) out.push(input.bytes);
    if (out.length === count) break;
  }
  return out;
}

async function runHostile(config: HostileConfig, ready: () => void): Promise<HostileSummary> {
  const payloads = refusedPayloads(config.seed, 500);
  ready();
  const drip = encodeFrame(new RemotingCommand({ code: 1, opaque: 1, remark: "drip" }));
  // Long enough that dripping the rest outlasts any frame deadline the scenarios set.
  const negotiatedDrip = encodeFrame(new RemotingCommand({ code: 1, opaque: 1, remark: "drip".repeat(20) }));
  const figures = {} as HostileSummary;
  const open = new Set<net.Socket>();
  const endAt = Date.now() + config.durationMs;
  let next = 0;

  function connect(kind: HostileKind): void {
    if (Date.now() >= endAt) return;
    const f = figures[kind];
    f.opened++;
    const startedAt = Date.now();
    const socket = net.connect(config.port, "127.0.0.1");
    open.add(socket);
    let timer: NodeJS.Timeout | undefined;
    let ours = false;
    let localAddress = "";
    socket.on("error", () => {}); // ECONNRESET / EPIPE: the server closing on us is the point
    socket.on("close", () => {
      clearInterval(timer);
      open.delete(socket);
      if (ours) return;
      f.closedByServer++;
      f.maxLifeMs = Math.max(f.maxLifeMs, Date.now() - startedAt);
      f.closes.push({ address: localAddress, at: Date.now() });
      // Garbage peers reconnect after a pause (a connect storm would measure the kernel, not
      // the frame rules); the slow ones at once.
      if (kind === "garbage") setTimeout(() => connect(kind), 20);
      else connect(kind);
    });
    (socket as { stopHostile?: () => void }).stopHostile = () => {
      ours = true;
      socket.destroy();
    };
    socket.on("connect", () => {
      // Read at connect: once closed, the socket no longer knows its port.
      localAddress = formatAddress(socket.localAddress ?? "", socket.localPort ?? 0);
      if (kind === "garbage") {
        socket.write(payloads[next++ % payloads.length]!);
      } else if (kind === "drip") {
        let i = 0;
        timer = setInterval(() => {
          if (i < drip.length) socket.write(drip.subarray(i, ++i));
        }, config.dripMs);
      } else if (kind === "negotiated-drip") {
        let i = 8;
        socket.write(negotiatedDrip.subarray(0, i));
        timer = setInterval(() => {
          if (i < negotiatedDrip.length) socket.write(negotiatedDrip.subarray(i, ++i));
        }, config.negotiatedDripMs);
      }
    });
  }

  for (const kind of HOSTILE_KINDS) {
    figures[kind] = { opened: 0, closedByServer: 0, maxLifeMs: 0, closes: [] };
    for (let i = 0; i < config.slots[kind]; i++) connect(kind);
  }
  await new Promise((resolve) => setTimeout(resolve, config.durationMs));
  for (const socket of [...open]) (socket as { stopHostile?: () => void }).stopHostile!();
  return figures;
}

if (!isMainThread && (workerData as { hostilePeers?: HostileConfig } | null)?.hostilePeers) {
  runHostile((workerData as { hostilePeers: HostileConfig }).hostilePeers, () =>
    parentPort!.postMessage("ready"),
  ).then(
    (summary) => parentPort!.postMessage(summary),
    (err: unknown) => {
      throw err;
    },
  );
}

/**
 * Runs the hostile peers in a worker thread: `ready` once their payloads are made and the first
 * connections start, `done` with their figures when `durationMs` has passed.
 */
export function runHostilePeers(config: HostileConfig): {
  ready: Promise<void>;
  done: Promise<HostileSummary>;
} {
  const worker = new Worker(new URL(import.meta.url), { workerData: { hostilePeers: config } });
  let onReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => {
    onReady = resolve;
  });
  const done = new Promise<HostileSummary>((resolve, reject) => {
    worker.on("message", (message: "ready" | HostileSummary) => {
      if (message === "ready") return onReady();
      resolve(message);
      void worker.terminate();
    });
    worker.once("error", reject);
  });
  return { ready, done };
}

// ------------------------------------------------------------------------ the good clients

/** Latency figures of the good clients over one phase, in ms. */
export interface GoodFigures {
  calls: number;
  errors: number;
  p50: number;
  p99: number;
  max: number;
  firstError?: string;
}

/** Code of the echo processor the scenario's server registers. */
export const ECHO_CODE = 1001;

/**
 * `clients` each calling ECHO on `addr` back to back for `durationMs`; every call's latency and
 * every error counted.
 */
export async function goodLoad(
  clients: RemotingClient[],
  addr: string,
  durationMs: number,
): Promise<GoodFigures> {
  const latencies: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  const endAt = performance.now() + durationMs;
  const body = Buffer.alloc(64, 1);
  await Promise.all(
    clients.map(async (client) => {
      while (performance.now() < endAt) {
        const started = performance.now();
        try {
          const response = await client.invoke(addr, RemotingCommand.createRequest(ECHO_CODE, { body }), {
            timeoutMs: 5_000,
          });
          assert.equal(response.code, 0);
          latencies.push(performance.now() - started);
        } catch (err) {
          errors++;
          firstError ??= String(err);
        }
      }
    }),
  );
  latencies.sort((a, b) => a - b);
  const at = (q: number): number =>
    latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  return { calls: latencies.length, errors, p50: at(0.5), p99: at(0.99), max: at(1), firstError };
}

/**
 * The p99 the good clients may reach under attack: 5 times their p99 alone, or 50 ms above it,
 * whichever is larger. Relative, because the baseline measured just before in the same process
 * carries the machine's own load; the 50 ms floor keeps a baseline of a few ms from making one
 * scheduler stall of a loaded machine a failure, while a jump to hundreds of ms still fails.
 */
export function p99Bound(baseline: GoodFigures): number {
  return Math.max(5 * baseline.p99, baseline.p99 + 50);
}

/** One line of figures for the test log and RELIABILITY.md. */
export function describeGood(phase: string, g: GoodFigures): string {
  return `${phase}: ${g.calls} calls, ${g.errors} errors, p50 ${g.p50.toFixed(2)} ms, p99 ${g.p99.toFixed(2)} ms, max ${g.max.toFixed(2)} ms`;
}

export function describeHostile(h: HostileSummary): string {
  return HOSTILE_KINDS.map(
    (k) =>
      `${k}: ${h[k].opened} opened, ${h[k].closedByServer} closed by the server (longest ${h[k].maxLifeMs} ms)`,
  ).join("; ");
}

// ------------------------------------------------------------------------ the scenario

/** Settings of one live run. */
export interface ScenarioSettings {
  slots: Record<HostileKind, number>;
  baselineMs: number;
  hostileMs: number;
  handshakeTimeoutMs: number;
  /** The server's `frameTimeoutMs`. */
  frameTimeoutMs: number;
  dripMs: number;
  negotiatedDripMs: number;
  seed: number;
}

/** How many of one kind's closes the server gave each reason: a `FrameErrorReason`, or an error code. */
export type CloseReasons = Record<string, number>;

/** Figures of one live run. */
export interface ScenarioFigures {
  baseline: GoodFigures;
  underAttack: GoodFigures;
  peers: HostileSummary;
  /** Why the server closed the hostile connections, by kind. */
  reasons: Record<HostileKind, CloseReasons>;
  /** Connections the server still held once the hostile peers were gone (the good clients'). */
  channelsAfter: number;
}

/** The reason a server's `exception` event gives for a close: `reason` of a frame error, else the code. */
function reasonOf(error: Error): string {
  const e = error as { reason?: unknown; code?: unknown };
  return String(e.reason ?? e.code ?? error.name);
}

/**
 * Pairs each peer-side close with the server's close of the same address nearest in time (the
 * server's comes first, by the time the FIN takes to arrive), and counts the reasons by kind. A
 * close the server gave no reason for counts as "none".
 */
function pairReasons(
  peers: HostileSummary,
  serverCloses: Map<string, (ServerClose & { reason: string })[]>,
): Record<HostileKind, CloseReasons> {
  const out = {} as Record<HostileKind, CloseReasons>;
  for (const kind of HOSTILE_KINDS) {
    const tally: CloseReasons = {};
    for (const close of peers[kind].closes) {
      const candidates = serverCloses.get(close.address) ?? [];
      let best = -1;
      for (let i = 0; i < candidates.length; i++) {
        const gap = Math.abs(candidates[i]!.at - close.at);
        if (best < 0 || gap < Math.abs(candidates[best]!.at - close.at)) best = i;
      }
      const reason = best < 0 ? "none" : candidates.splice(best, 1)[0]!.reason;
      tally[reason] = (tally[reason] ?? 0) + 1;
    }
    out[kind] = tally;
  }
  return out;
}

/**
 * Each slow kind was closed by the rule meant for it, every time the server closed one: the
 * handshake deadline (a NegotiationError) for peers that never finish 8 bytes, the frame deadline
 * for those past negotiation.
 */
export function assertClosedByTheirRules(
  reasons: Record<HostileKind, CloseReasons>,
  peers: HostileSummary,
): void {
  assert.deepEqual(
    reasons["negotiated-drip"],
    { "frame-deadline": peers["negotiated-drip"].closedByServer },
    describeReasons(reasons),
  );
  for (const kind of ["drip", "silent"] as const) {
    assert.deepEqual(
      reasons[kind],
      { MQW_ERR_NEGOTIATION: peers[kind].closedByServer },
      describeReasons(reasons),
    );
  }
}

export function describeReasons(reasons: Record<HostileKind, CloseReasons>): string {
  return HOSTILE_KINDS.map(
    (k) =>
      `${k}: ${
        Object.entries(reasons[k])
          .map(([reason, n]) => `${reason} ${n}`)
          .join(", ") || "-"
      }`,
  ).join("; ");
}

/**
 * Starts a server (echo processor, `handshakeTimeoutMs`, `frameTimeoutMs`) and 4 good clients;
 * measures the clients alone for `baselineMs`, then with the hostile peers for `hostileMs`.
 */
export async function hostileScenario(
  t: { after(fn: () => unknown): void },
  settings: ScenarioSettings,
): Promise<ScenarioFigures> {
  const server = new RemotingServer({
    listen: ["127.0.0.1:0"],
    logger: silentLogger,
    handshakeTimeoutMs: settings.handshakeTimeoutMs,
    frameTimeoutMs: settings.frameTimeoutMs,
  });
  const serverCloses = new Map<string, (ServerClose & { reason: string })[]>();
  server.on("exception", (address, _channel, error) => {
    const list = serverCloses.get(address) ?? [];
    list.push({ address, at: Date.now(), reason: reasonOf(error) });
    serverCloses.set(address, list);
  });
  server.registerProcessor(ECHO_CODE, (request) =>
    RemotingCommand.createResponse(0, null, { body: request.body }),
  );
  await server.start();
  t.after(() => server.shutdown({ graceMs: 0 }));
  const addr = server.addresses[0]!;
  const clients = Array.from({ length: 4 }, () => {
    const client = new RemotingClient({ scanNameServers: false, logger: silentLogger });
    t.after(() => client.shutdown());
    return client;
  });
  await goodLoad(clients, addr, 200); // connect and warm up
  const baseline = await goodLoad(clients, addr, settings.baselineMs);
  const peers = runHostilePeers({
    port: server.port,
    slots: settings.slots,
    durationMs: settings.hostileMs,
    dripMs: settings.dripMs,
    negotiatedDripMs: settings.negotiatedDripMs,
    seed: settings.seed,
  });
  await peers.ready;
  const underAttack = await goodLoad(clients, addr, settings.hostileMs);
  const summary = await peers.done;
  // The hostile sockets the worker closed at the end leave the server within a moment.
  const deadline = Date.now() + 5_000;
  while (server.channels.size > clients.length && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return {
    baseline,
    underAttack,
    peers: summary,
    reasons: pairReasons(summary, serverCloses),
    channelsAfter: server.channels.size,
  };
}
