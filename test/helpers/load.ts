/**
 * The load and shutdown harness (RELIABILITY.md, "Load and shutdown"): the echo server of
 * test/fixtures/load-server.ts in a child process, so that its RSS is measured alone, and many
 * RemotingClients in this process, each one connection with a fixed number of calls in flight.
 * Every call carries a unique body; a lane counts what it sent and how each call ended.
 */
import assert from "node:assert/strict";
import { type ChildProcessWithoutNullStreams, execFileSync, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import type { TestContext } from "node:test";
import { fileURLToPath } from "node:url";
import { isMqwireError, RemotingClient, ResponseCode, silentLogger } from "../../src/index.js";

const SERVER_SCRIPT = fileURLToPath(new URL("../fixtures/load-server.js", import.meta.url));
const ECHO = 100;
/** RocketMQ 5.3.3's version: a shutting-down server answers it GO_AWAY. */
export const NEW_VERSION = 479;
/** Below V5_3_1 (475): a client that does not understand GO_AWAY. */
export const OLD_VERSION = 0;
/** File descriptors a process needs besides its sockets (stdio, pipes, the event loop's own). */
const SPARE_FDS = 64;

/** One line the server printed. */
export interface ServerSample {
  t: number;
  rss: number;
  heapUsed: number;
  external: number;
  channels: number;
  requests: number;
}
/** What the server reports after `shutdown`. */
export interface ServerStopped {
  shutdownMs: number;
  accepted: number;
  requests: number;
  channelsLeft: number;
  successorAccepted?: number;
}

/** Reads a limit of this process from /proc/self/limits: [soft, hard] (Infinity: unlimited). */
function openFilesLimit(): [number, number] {
  const line = readFileSync("/proc/self/limits", "utf8")
    .split("\n")
    .find((l) => l.startsWith("Max open files"));
  const [soft, hard] = (line ?? "").split(/\s{2,}/).slice(1, 3);
  const parse = (v: string | undefined): number => (v === "unlimited" ? Infinity : Number(v));
  return [parse(soft), parse(hard)];
}

/**
 * Makes sure this process (and the server it spawns, which inherits the limit) may open `need`
 * files: `ulimit -n` is per process and 1,000 connections need ~1,000 descriptors on each side.
 * Node raises its soft limit to the hard one at start-up; below that, prlimit(1) raises it; above
 * the hard limit only root can, so the test fails saying so.
 */
export function ensureOpenFiles(need: number): void {
  const total = need + SPARE_FDS;
  let [soft, hard] = openFilesLimit();
  if (soft >= total) return;
  if (hard >= total) {
    try {
      execFileSync("prlimit", ["--pid", String(process.pid), `--nofile=${total}:${hard}`]);
    } catch {
      // Reported below with the limit as it stands.
    }
    [soft, hard] = openFilesLimit();
  }
  assert.ok(
    soft >= total,
    `open-files limit ${soft} (hard ${hard}) is below the ${total} this test needs: raise it ` +
      `(ulimit -n ${total}, as root for more than the hard limit) or use fewer connections`,
  );
}

/** The load server in its child process. */
export class LoadServer {
  readonly samples: ServerSample[] = [];
  /** Runs as each sample arrives (the test samples its own heap then, so the rows line up). */
  onSample: (() => void) | undefined;
  addr = "";
  readonly #child: ChildProcessWithoutNullStreams;
  readonly #waiters = new Map<string, (line: Record<string, unknown>) => void>();
  readonly #exited: Promise<void>;

  private constructor(child: ChildProcessWithoutNullStreams) {
    this.#child = child;
    this.#exited = new Promise((resolve) => child.once("exit", () => resolve()));
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      stderr += d;
    });
    child.once("exit", (code, signal) => {
      for (const [event, wake] of this.#waiters) {
        wake({ event, error: `server exited (${code ?? signal}) before "${event}": ${stderr}` });
      }
    });
    createInterface({ input: child.stdout }).on("line", (text) => {
      const line = JSON.parse(text) as Record<string, unknown>;
      if (line.event === "sample") {
        this.samples.push(line as unknown as ServerSample);
        this.onSample?.();
      }
      this.#waiters.get(line.event as string)?.(line);
      this.#waiters.delete(line.event as string);
    });
  }

  /** Spawns the server; `delayMs` delays each echo so calls are in process when it shuts down. */
  static async start(
    t: TestContext,
    options: { delayMs?: number; sampleMs?: number } = {},
  ): Promise<LoadServer> {
    const child = spawn(process.execPath, [
      "--expose-gc", // for gc lines: see heapAfterGc
      SERVER_SCRIPT,
      "--delay-ms",
      String(options.delayMs ?? 0),
      "--sample-ms",
      String(options.sampleMs ?? 1000),
    ]);
    const server = new LoadServer(child);
    t.after(() => server.close());
    const listening = await server.next("listening");
    server.addr = listening.addr as string;
    return server;
  }

  get pid(): number {
    return this.#child.pid!;
  }

  /** The next line of `event`; rejects after `ms` or when the server exits first. */
  async next(event: string, ms = 30_000): Promise<Record<string, unknown>> {
    let timer: NodeJS.Timeout | undefined;
    const line = await new Promise<Record<string, unknown>>((resolve) => {
      this.#waiters.set(event, resolve);
      timer = setTimeout(() => resolve({ event, error: `no "${event}" from the server in ${ms} ms` }), ms);
    }).finally(() => clearTimeout(timer));
    if (typeof line.error === "string") throw new Error(line.error);
    return line;
  }

  /** The server's JS heap and Buffer memory right after a full GC in it. */
  async heapAfterGc(): Promise<{ heapUsed: number; external: number }> {
    const answer = this.next("gc");
    this.#child.stdin.write("gc\n");
    const line = await answer;
    return { heapUsed: line.heapUsed as number, external: line.external as number };
  }

  /** Starts `shutdown({ graceMs })` in the server; with `successor`, a new server takes the address. */
  async shutdown(graceMs: number, successor: boolean): Promise<ServerStopped> {
    const stopped = this.next("stopped", graceMs + 30_000);
    this.#child.stdin.write(`shutdown ${graceMs}${successor ? " successor" : ""}\n`);
    return (await stopped) as unknown as ServerStopped;
  }

  /** Stops the successor (if any) and reports what it accepted. */
  async stopSuccessor(): Promise<number> {
    const stopped = this.next("successor-stopped");
    this.#child.stdin.end();
    return (await stopped).successorAccepted as number;
  }

  /** Ends the child: stdin closed, then SIGKILL if it has not exited within a second. */
  async close(): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    this.#child.stdin.end();
    const timer = setTimeout(() => this.#child.kill("SIGKILL"), 1000);
    await this.#exited;
    clearTimeout(timer);
  }
}

/** How every call of a group of clients ended. */
export interface Tally {
  /** Calls started. */
  sent: number;
  /** SUCCESS with the call's own body. */
  ok: number;
  /** Of `ok`: answered on a new connection after GO_AWAY (the response carries the copy's opaque). */
  retried: number;
  /** SUCCESS with another call's body or none: must stay 0. */
  mismatched: number;
  /** Other response codes, by code. */
  responses: Record<string, number>;
  /** Rejections, by MQW_ERR_* code ("untyped" for anything else: must stay 0). */
  errors: Record<string, number>;
  /** Calls not ended yet. */
  inFlight: number;
  /** The first error of each code, with its cause, to tell why. */
  firstErrors: Record<string, string>;
}

const bump = (counts: Record<string, number>, key: string): void => {
  counts[key] = (counts[key] ?? 0) + 1;
};

/** `connections` RemotingClients with `inFlight` calls each, until `stop()`. */
export class LoadClients {
  readonly clients: RemotingClient[];
  /** Prefix of every body, so two groups of clients never send the same one. */
  readonly tag: string;
  readonly tally: Tally = {
    sent: 0,
    ok: 0,
    retried: 0,
    mismatched: 0,
    responses: {},
    errors: {},
    inFlight: 0,
    firstErrors: {},
  };
  readonly #addr: string;
  readonly #inFlight: number;
  readonly #timeoutMs: number;
  #running = false;
  readonly #lanes: Promise<void>[] = [];

  constructor(
    addr: string,
    o: {
      connections: number;
      inFlight: number;
      version: number;
      timeoutMs?: number;
      connectTimeoutMs?: number;
      tag?: string;
    },
  ) {
    this.#addr = addr;
    this.#inFlight = o.inFlight;
    this.#timeoutMs = o.timeoutMs ?? 30_000;
    this.clients = Array.from(
      { length: o.connections },
      () =>
        new RemotingClient({
          version: o.version,
          scanNameServers: false,
          logger: silentLogger,
          connectTimeoutMs: o.connectTimeoutMs,
        }),
    );
    this.tag = o.tag ?? "c";
  }

  /** Connects every client (100 at a time: a burst of 1,000 SYNs overflows the listen backlog). */
  async connect(): Promise<void> {
    for (let i = 0; i < this.clients.length; i += 100) {
      await Promise.all(
        this.clients.slice(i, i + 100).map((c, j) => this.#call(c, `${this.tag}${i + j}:hello`)),
      );
    }
  }

  /** Starts `inFlight` lanes per client, each a call after the previous one ended. */
  start(): void {
    this.#running = true;
    this.clients.forEach((client, i) => {
      for (let lane = 0; lane < this.#inFlight; lane++)
        this.#lanes.push(this.#lane(client, `${this.tag}${i}.${lane}`));
    });
  }

  /** Lets every lane finish its call in flight and stop; then shuts the clients down. */
  async stop(): Promise<Tally> {
    this.#running = false;
    await Promise.all(this.#lanes);
    await Promise.all(this.clients.map((c) => c.shutdown()));
    return this.tally;
  }

  /** Responses that matched no pending call (a second answer to one call would land here). */
  get lateResponses(): number {
    return this.clients.reduce((n, c) => n + c.lateResponses, 0);
  }

  async #lane(client: RemotingClient, name: string): Promise<void> {
    for (let seq = 0; this.#running; seq++) {
      if (!(await this.#call(client, `${name}.${seq}`))) await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** One call with a body no other call has; false when it failed. */
  async #call(client: RemotingClient, id: string): Promise<boolean> {
    const t = this.tally;
    const body = Buffer.from(id);
    const request = client.createRequest(ECHO, { body });
    t.sent++;
    t.inFlight++;
    try {
      const response = await client.invoke(this.#addr, request, { timeoutMs: this.#timeoutMs });
      if (response.code !== ResponseCode.SUCCESS) {
        bump(t.responses, String(response.code));
        return false;
      }
      if (response.body === null || !response.body.equals(body)) {
        t.mismatched++;
        return false;
      }
      t.ok++;
      if (response.opaque !== request.opaque) t.retried++;
      return true;
    } catch (err) {
      const code = isMqwireError(err) ? err.code : `untyped:${String(err)}`;
      bump(t.errors, code);
      t.firstErrors[code] ??= `${String(err)}; cause: ${String((err as Error).cause)}`;
      return false;
    } finally {
      t.inFlight--;
    }
  }
}

/** The median of `values`. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

/** MiB with one decimal, for messages and tables. */
export const mib = (bytes: number): string => (bytes / 1024 / 1024).toFixed(1);
