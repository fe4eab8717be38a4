/**
 * `npm run test:cluster`: the tests that need a real RocketMQ cluster. With MQWIRE_NAMESRV set it
 * uses that name server; otherwise it starts the kit (ROCKETMQ_KIT, default ../shared/rocketmq) on
 * free ports, runs every test/cluster/*.test.js against it with node's test runner, and stops what
 * it started by PID, whatever the tests did. Exit status: the test runner's.
 */
import { spawn } from "node:child_process";
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type KitCluster, startKit } from "./kit.js";

const here = dirname(fileURLToPath(import.meta.url));

async function main(): Promise<number> {
  const only = process.argv.slice(2);
  const files = readdirSync(here)
    .filter((f) => f.endsWith(".test.js"))
    .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
    .map((f) => join(here, f));
  let cluster: KitCluster | undefined;
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (process.env.MQWIRE_NAMESRV === undefined || process.env.MQWIRE_NAMESRV === "") {
    const started = Date.now();
    cluster = await startKit();
    Object.assign(env, cluster.env, { MQWIRE_NAMESRV: cluster.namesrv, MQWIRE_BROKER: cluster.broker });
    process.stdout.write(
      `cluster: name server ${cluster.namesrv}, broker ${cluster.broker} (${Date.now() - started} ms)\n`,
    );
  }
  const stopOnSignal = (): void => {
    void cluster?.stop().finally(() => process.exit(130));
  };
  process.once("SIGINT", stopOnSignal).once("SIGTERM", stopOnSignal);
  try {
    return await new Promise<number>((resolve, reject) => {
      // One file at a time: the files share one broker, and timing-sensitive cases (long polling)
      // should not compete with a 10,000-message run.
      const child = spawn(process.execPath, ["--test", "--test-concurrency=1", ...files], {
        env,
        stdio: "inherit",
      });
      child.on("error", reject);
      child.on("close", (code) => resolve(code ?? 1));
    });
  } finally {
    await cluster?.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(
      `test:cluster: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    if (err instanceof Error && err.cause !== undefined)
      process.stderr.write(`cause: ${String(err.cause)}\n`);
    process.exit(1);
  },
);
