/**
 * Faults (issue 10), long variants of test/integration/faults.test.ts: more rounds, more calls,
 * larger bodies, the 100 ms budget of the issue asserted as is. Run with
 * `npm run test:reliability` (or `node --test dist/test/reliability/` after `npm run build`);
 * RELIABILITY.md ("Faults") reports the figures.
 */
import { describe, test } from "node:test";
import { startServer } from "../helpers/client-fixtures.js";
import { nameServerBackoff, nameServerFailover } from "../helpers/fault-name-servers.js";
import { pushToNonReader } from "../helpers/fault-push.js";
import {
  killWithPendingCalls,
  restartServer,
  stoppedServer,
  stoppedWhileCalling,
} from "../helpers/fault-scenarios.js";

describe("faults, long", () => {
  test("SIGKILL with 10,000 calls pending, 5 times after a warm-up: every call fails once, each in 100 ms", async (t) => {
    // The first round runs the fail-all path and the callbacks cold (interpreted, then compiled
    // as they run): it is checked for every call failing once, not for time.
    t.diagnostic(`warm-up: ${JSON.stringify(await killWithPendingCalls(t, 10_000, 1000))}`);
    for (let round = 0; round < 5; round++) {
      t.diagnostic(JSON.stringify(await killWithPendingCalls(t, 10_000, 100)));
    }
  });

  test("SIGKILL with 100,000 calls pending: every call fails once", async (t) => {
    t.diagnostic(JSON.stringify(await killWithPendingCalls(t, 100_000, 1000)));
  });

  test("SIGSTOP with 1,000 calls pending and a 1 s idle rule, 3 times", async (t) => {
    for (let round = 0; round < 3; round++) t.diagnostic(JSON.stringify(await stoppedServer(t, 1000, 1000)));
  });

  test("SIGSTOP while calling every 50 ms, a 1 s idle rule, 3 times: found within idle + 1 s", async (t) => {
    for (let round = 0; round < 3; round++) {
      t.diagnostic(JSON.stringify(await stoppedWhileCalling(t, 1000, 50)));
    }
  });

  for (const kind of ["closed-port", "backlog-full", "never-answers"] as const) {
    for (const style of ["invokeSync", "invoke", "invokeAsync"] as const) {
      test(`name servers: a first entry that is ${kind}, ${style}, 3 times, 200 calls after`, async (t) => {
        const live = await startServer(t);
        for (let round = 0; round < 3; round++) {
          t.diagnostic(JSON.stringify(await nameServerFailover(t, kind, 200, live.addr, style)));
        }
      });
    }
  }

  test("name servers: the periodic scan retries a closed port with a growing back-off", async (t) => {
    const live = await startServer(t);
    t.diagnostic(JSON.stringify(await nameServerBackoff(t, live.addr, 4000, 50)));
  });

  test("a server killed and restarted on its port 5 times under 64 callers", async (t) => {
    t.diagnostic(
      JSON.stringify(await restartServer(t, { workers: 64, restarts: 5, downMs: 500, callsAfter: 2000 })),
    );
  });

  for (const bodyBytes of [4 * 1024, 1024 * 1024]) {
    test(`pushes of ${bodyBytes} B to a client that never reads: bounded, then refused`, async (t) => {
      const s = await startServer(t);
      t.diagnostic(JSON.stringify(await pushToNonReader(t, s.server, s.addr, bodyBytes, 3000)));
    });
  }
});
