/** The README's runnable example (examples/call-styles.mjs) runs and prints what it promises. */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";
import { repoRoot } from "../helpers/vectors.js";

test("examples/call-styles.mjs: every call style works end to end", async () => {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [join(repoRoot(), "examples", "call-styles.mjs")],
    {
      timeout: 20_000,
    },
  );
  const lines = stdout.trim().split("\n");
  for (const expected of [
    "invoke: 0 ok hello",
    "invokeSync: 0 { k: 'v' }",
    "invokeAsync: 0",
    "deferred: later",
    "refused: 16 bad token",
    "time-out: MQW_ERR_TIMEOUT",
    "push: client got news",
    "oneways counted: 3",
  ]) {
    assert.ok(lines.includes(expected), `missing "${expected}" in:\n${stdout}`);
  }
});
