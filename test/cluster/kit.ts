/**
 * The RocketMQ kit (a real Apache RocketMQ 4.9.8 name server and broker, see the kit's README):
 * start and stop a cluster by its run directory, and drive RocketMQ's own Java client. Used by the
 * cluster suite's runner and by tests that need a cluster of their own (two brokers, a killed
 * broker). Nothing here kills by name: the kit's stop.sh signals only the PIDs of its RMQ_RUN.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { repoRoot } from "../helpers/vectors.js";

const run = promisify(execFile);

/** The kit's folder: env ROCKETMQ_KIT, else ../shared/rocketmq beside the repository. */
export function kitDir(): string {
  return resolve(process.env.ROCKETMQ_KIT ?? join(repoRoot(), "../shared/rocketmq"));
}

/** A running cluster: its addresses and the run directory that owns its processes. */
export interface KitCluster {
  namesrv: string;
  broker: string;
  /** broker-b's address when started with two brokers. */
  brokerB: string | undefined;
  /** The environment the kit's scripts need to address this cluster (RMQ_RUN, NAMESRV_ADDR). */
  env: NodeJS.ProcessEnv;
  /** Stops the cluster by PID (fast: KILL; the store is discarded). */
  stop(): Promise<void>;
}

const READY = /^READY namesrv (\S+) broker (\S+)(?: broker-b (\S+))?$/m;

/** Starts a cluster on free ports in a new run directory; resolves once the kit prints READY. */
export async function startKit(options: { brokers?: 1 | 2; brokerConf?: string } = {}): Promise<KitCluster> {
  const kit = kitDir();
  if (!existsSync(join(kit, "bin", "start.sh"))) {
    throw new Error(`RocketMQ kit not found at ${kit}: set ROCKETMQ_KIT or MQWIRE_NAMESRV`);
  }
  const rmqRun = mkdtempSync(join(tmpdir(), "mqwire-rmq-"));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    RMQ_RUN: rmqRun,
    RMQ_CLEAN: "1",
    NAMESRV_PORT: "0",
    BROKER_PORT: "0",
    RMQ_BROKERS: String(options.brokers ?? 1),
  };
  if (options.brokerConf !== undefined) env.RMQ_BROKER_CONF_EXTRA = options.brokerConf;
  const stop = async (): Promise<void> => {
    await run(join(kit, "bin", "stop.sh"), [], { env: { ...env, RMQ_STOP_FAST: "1" }, timeout: 60_000 });
    rmSync(rmqRun, { recursive: true, force: true });
  };
  let stdout: string;
  try {
    ({ stdout } = await run(join(kit, "bin", "start.sh"), [], { env, timeout: 180_000 }));
  } catch (err) {
    // start.sh stops what it started on failure; the run directory holds its logs.
    throw new Error(`the RocketMQ kit did not start (logs in ${rmqRun})`, { cause: err });
  }
  const ready = READY.exec(stdout);
  if (ready === null) {
    await stop();
    throw new Error(`start.sh printed no READY line:\n${stdout}`);
  }
  const namesrv = ready[1]!;
  env.NAMESRV_ADDR = namesrv;
  return { namesrv, broker: ready[2]!, brokerB: ready[3], env, stop };
}

/** What `java-client.sh` printed: one JSON object per line, then the summary line (send, consume). */
export interface JavaClientResult {
  lines: Record<string, unknown>[];
  summary: string;
}

/** Runs the kit's Java client (RocketMQ 4.9.8's DefaultMQProducer / DefaultLitePullConsumer). */
export async function javaClient(
  env: NodeJS.ProcessEnv,
  args: readonly string[],
  timeoutMs = 120_000,
): Promise<JavaClientResult> {
  const { stdout } = await run(join(kitDir(), "bin", "java-client.sh"), args, {
    env,
    timeout: timeoutMs,
    maxBuffer: 256 << 20,
  });
  const text = stdout.trim().split("\n");
  const last = text.at(-1) ?? "";
  const hasSummary = !last.startsWith("{");
  const lines = (hasSummary ? text.slice(0, -1) : text).filter((l) => l !== "").map((l) => JSON.parse(l));
  return { lines, summary: hasSummary ? last : "" };
}

/** The cluster the suite runner started (or MQWIRE_NAMESRV names), as the tests see it. */
export interface SuiteCluster {
  namesrv: string;
  /** Environment for the kit's scripts (RMQ_RUN, NAMESRV_ADDR). */
  env: NodeJS.ProcessEnv;
}

/** The suite's cluster, from the environment the runner sets. Throws when there is none. */
export function suiteCluster(): SuiteCluster {
  const namesrv = process.env.MQWIRE_NAMESRV;
  if (namesrv === undefined || namesrv === "") {
    throw new Error("no cluster: run the cluster suite with `npm run test:cluster` (or set MQWIRE_NAMESRV)");
  }
  return { namesrv, env: { ...process.env, NAMESRV_ADDR: namesrv } };
}

/** A topic name no earlier run has used. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${Math.floor(Math.random() * 36 ** 4).toString(36)}`;
}
