/**
 * Faults (issue 10), short variants: each scenario of ../helpers/fault-*.ts over real
 * sockets against a server in a child process, about 12 s in all. The long variants run in
 * test/reliability/faults.test.ts; RELIABILITY.md ("Faults") reports the figures.
 */
import { describe, test } from "node:test";
import { startServer } from "../helpers/client-fixtures.js";
import { nameServerFailover } from "../helpers/fault-name-servers.js";
import { pushToNonReader } from "../helpers/fault-push.js";
import {
  killWithPendingCalls,
  restartServer,
  stoppedServer,
  stoppedWhileCalling,
} from "../helpers/fault-scenarios.js";

describe("faults", () => {
  test("SIGKILL with 10,000 calls pending: each fails once with MQW_ERR_CHANNEL_CLOSED, at once", async (t) => {
    // The issue asks for 100 ms (the long variant asserts it on each of 5 rounds after a warm-up
    // round); here it is the process's first, cold, and npm test runs beside other suites on a
    // loaded machine (360 ms seen at load 18), so it allows 1 s.
    t.diagnostic(JSON.stringify(await killWithPendingCalls(t, 10_000, 1000)));
  });

  test("a SIGSTOPped server is closed by the idle rule, its calls fail, and SIGCONT brings it back", async (t) => {
    t.diagnostic(JSON.stringify(await stoppedServer(t, 100, 300)));
  });

  test("a SIGSTOPped server called every 50 ms is found dead within idle + 1 s of the last read", async (t) => {
    t.diagnostic(JSON.stringify(await stoppedWhileCalling(t, 500, 50)));
  });

  const deadKinds = {
    "closed-port": "a closed port is passed over at once and retried only after its back-off",
    "backlog-full": "a full accept queue (the connect hangs) is passed over at the connect time-out",
    "never-answers":
      "a server that never answers is left after the first call's time-out and backs off as a refused one",
  } as const;
  for (const [kind, what] of Object.entries(deadKinds) as [keyof typeof deadKinds, string][]) {
    test(`name servers: ${what}`, async (t) => {
      const live = await startServer(t);
      t.diagnostic(JSON.stringify(await nameServerFailover(t, kind, 20, live.addr)));
    });
  }
  for (const style of ["invoke", "invokeAsync"] as const) {
    test(`name servers: ${style} calls leave a server that never answers after one time-out, and back it off`, async (t) => {
      const live = await startServer(t);
      t.diagnostic(JSON.stringify(await nameServerFailover(t, "never-answers", 20, live.addr, style)));
    });
  }

  test("a server killed and restarted on its port: the client reconnects, no answer is lost or misrouted", async (t) => {
    t.diagnostic(
      JSON.stringify(await restartServer(t, { workers: 16, restarts: 1, downMs: 200, callsAfter: 500 })),
    );
  });

  test("pushes to a client that never reads: bounded by the high-water mark, then refused at once", async (t) => {
    const s = await startServer(t);
    t.diagnostic(JSON.stringify(await pushToNonReader(t, s.server, s.addr, 64 * 1024, 300)));
  });
});
