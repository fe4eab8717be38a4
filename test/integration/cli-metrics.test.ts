/**
 * `mqwire serve --metrics-interval S`: a metrics() snapshot as one JSON line on stderr every S
 * seconds, while stdout keeps its contract (listening line first, stop report last).
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { test } from "node:test";
import type { MetricsSnapshot } from "../../src/index.js";
import { BIN, mqwire } from "../helpers/cli.js";

test("serve --metrics-interval prints snapshots on stderr; stdout is unchanged", async (t) => {
  const child = spawn(process.execPath, [BIN, "serve", "--port", "0", "--metrics-interval", "0.1"]);
  t.after(() => child.kill("SIGKILL"));
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => {
    stdout += d;
  });
  child.stderr.setEncoding("utf8").on("data", (d: string) => {
    stderr += d;
  });
  const addr = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no address: ${stdout}`)), 10_000);
    child.stdout.on("data", () => {
      const m = /listening on (\S+:\d+)/.exec(stdout);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
  });
  for (let i = 0; i < 3; i++) {
    const r = await mqwire(["call", addr, "--code", "100", "--body", "hi"]);
    assert.equal(r.code, 0, r.stderr);
  }
  // Wait for a snapshot that has seen the three calls.
  let snapshot: (MetricsSnapshot & { time: string }) | undefined;
  for (let i = 0; i < 100 && snapshot === undefined; i++) {
    await new Promise((r) => setTimeout(r, 50));
    snapshot = stderr
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as MetricsSnapshot & { time: string })
      .find((s) => s.requests.byCode.some((r) => r.requestCode === 100 && r.calls === 3));
  }
  assert.ok(snapshot, `no snapshot with 3 calls of code 100 on stderr: ${stderr}`);
  assert.ok(!Number.isNaN(Date.parse(snapshot.time)));
  assert.equal(snapshot.connections.opened, 3);
  const echo = snapshot.requests.byCode.find((r) => r.requestCode === 100)!;
  assert.deepEqual([echo.responseCode, echo.result, echo.errors], [0, "success", 0]);
  assert.ok(snapshot.bytes.in > 0 && snapshot.bytes.out > 0);

  child.kill("SIGTERM");
  const [code] = (await once(child, "exit")) as [number | null];
  assert.equal(code, 0);
  const lines = stdout.trim().split("\n");
  assert.match(lines[0]!, /^mqwire interop service listening on /);
  assert.equal(lines.at(-2), "mqwire interop service stopped");
  assert.equal((JSON.parse(lines.at(-1)!) as { requests: number }).requests, 3, "the stop report stays last");
  assert.equal(lines.length, 3, "no metrics on stdout");
});
