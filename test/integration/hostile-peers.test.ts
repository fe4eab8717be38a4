/**
 * Hostile peers against a live server, the short run of `npm test` (issue 10; the long run is
 * test/reliability/hostile-peers.test.ts): 4 good clients make echo calls back to back, alone and
 * then while 100 hostile connections send refused frames, drip bytes or say nothing. Every hostile
 * connection is closed by the server (frame rules, handshake deadline), the good clients see no
 * error, and their slowest call stays bounded. Figures: RELIABILITY.md, "Hostile input and limits".
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { describeGood, describeHostile, hostileScenario } from "../helpers/hostile-peers.js";

const HANDSHAKE_TIMEOUT_MS = 500;
/** Generous: a loaded 2-core CI machine, where the baseline max itself reaches tens of ms. */
const MAX_CALL_MS = 1_000;
/**
 * Time a close may come after the handshake deadline: accept and timers run late on a starved
 * machine (1.9 s once, at load average 10 with a benchmark running alongside).
 */
const SLACK_MS = 3_000;

test("100 hostile connections: all closed by the server, good clients see no error and no cliff", async (t) => {
  const figures = await hostileScenario(t, {
    slots: { garbage: 60, drip: 20, silent: 20 },
    baselineMs: 1_500,
    hostileMs: 2_500,
    handshakeTimeoutMs: HANDSHAKE_TIMEOUT_MS,
    // 8 bytes of prefix need 4 s, past the run: only the handshake deadline can close a dripper
    // (after negotiation nothing would: RELIABILITY.md, "Known gaps").
    dripMs: 500,
    seed: 20_261_212,
  });
  const { baseline, underAttack, peers } = figures;
  t.diagnostic(describeGood("alone", baseline));
  t.diagnostic(describeGood("under attack", underAttack));
  t.diagnostic(describeHostile(peers));
  assert.equal(baseline.errors, 0, baseline.firstError);
  assert.equal(underAttack.errors, 0, underAttack.firstError);
  assert.ok(underAttack.calls > 100, `only ${underAttack.calls} calls under attack`);
  assert.ok(underAttack.max < MAX_CALL_MS, describeGood("under attack", underAttack));
  for (const kind of ["garbage", "drip", "silent"] as const) {
    assert.ok(peers[kind].closedByServer > 0, `${kind}: ${describeHostile(peers)}`);
  }
  // Garbage is refused at once (or, under 8 bytes, at the handshake deadline); the slow ones at
  // the handshake deadline, not later. The slack is for a loaded machine.
  assert.ok(peers.garbage.closedByServer > 100, describeHostile(peers));
  for (const kind of ["garbage", "drip", "silent"] as const) {
    assert.ok(peers[kind].maxLifeMs < HANDSHAKE_TIMEOUT_MS + SLACK_MS, describeHostile(peers));
  }
  for (const kind of ["drip", "silent"] as const) {
    assert.ok(peers[kind].closedByServer >= 20, describeHostile(peers));
  }
  assert.equal(figures.channelsAfter, 4, "only the good clients' channels are left");
});
