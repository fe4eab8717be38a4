/**
 * `mqwire bench NAMESRV --mode produce | consume` against the suite's broker, as a user runs it:
 * a short produce run whose messages a consume run then drains with a new group.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { mqwire } from "../helpers/cli.js";
import { suiteCluster, uniqueName } from "./kit.js";

/** The JSON object a `--json` run prints last. */
function lastJson(stdout: string): Record<string, unknown> {
  const last = stdout.trim().split("\n").at(-1) ?? "";
  return JSON.parse(last) as Record<string, unknown>;
}

describe("mqwire bench against a real broker", () => {
  const { namesrv } = suiteCluster();

  test("produce for 2 s, then consume reads every message it sent", { timeout: 90_000 }, async () => {
    const topic = uniqueName("BenchCli");
    const produced = await mqwire(
      ["bench", namesrv, "--mode", "produce", "--topic", topic, "--seconds", "2", "--warmup", "0", "--json"],
      "",
      40_000,
    );
    assert.equal(produced.code, 0, produced.stderr);
    const p = lastJson(produced.stdout);
    assert.equal(p.mode, "produce");
    assert.equal(p.concurrency, 64);
    assert.equal(p.size, 128);
    assert.ok((p.messages as number) > 0, `messages ${p.messages}`);
    assert.equal(p.errors, 0, JSON.stringify(p.errorsByCode));
    assert.ok(
      (p.mps as number) > 0 && (p.p50_us as number) > 0 && (p.p99_us as number) >= (p.p50_us as number),
    );

    // -n instead of the positional; a new group starts from the first offset.
    const consumed = await mqwire(
      [
        "bench",
        "-n",
        namesrv,
        "--mode",
        "consume",
        "--topic",
        topic,
        "--group",
        uniqueName("BenchCliG"),
      ].concat(["--seconds", "30", "--idle-s", "2", "--json"]),
      "",
      60_000,
    );
    assert.equal(consumed.code, 0, consumed.stderr);
    const c = lastJson(consumed.stdout);
    assert.equal(c.mode, "consume");
    assert.equal(c.errors, 0);
    // The topic holds the sends of the window plus the first send that created it.
    assert.equal(c.messages, (p.messages as number) + 1);
    assert.ok((c.mps as number) > 0 && (c.firstMessageMs as number) >= 0);
  });
});
