/**
 * Every call's `timeoutMs`, client and server push alike: Infinity means no deadline, time-outs
 * past setTimeout's 2^31-1 ms are clamped and re-armed (never a TimeoutOverflowWarning, which
 * Node follows with a 1 ms timer), and negative or NaN ones are refused with
 * MQW_ERR_INVALID_ARGUMENT naming the option.
 */
import assert from "node:assert/strict";
import { describe, type TestContext, test } from "node:test";
import {
  ErrorCodes,
  InteropCode,
  type RemotingChannel,
  type RemotingClient,
  registerInteropClient,
} from "../../src/index.js";
import {
  countedCallback,
  expectCode,
  request,
  ScriptedConnector,
  startClient,
  startServer,
  type TestServer,
  waitFor,
  within,
} from "../helpers/client-fixtures.js";

/** Beyond setTimeout's largest delay (2^31-1 ms), where Node warns and fires after 1 ms. */
const OVER_TIMER_MAX_MS = 2 ** 31;
const LARGE = [OVER_TIMER_MAX_MS, Number.POSITIVE_INFINITY];
const BAD = [-1, Number.NaN];

/** Collects the TimeoutOverflowWarnings the process emits while the test runs. */
function overflowWarnings(t: TestContext): Error[] {
  const seen: Error[] = [];
  const onWarning = (warning: Error): void => {
    if (warning.name === "TimeoutOverflowWarning") seen.push(warning);
  };
  process.on("warning", onWarning);
  t.after(() => process.off("warning", onWarning));
  return seen;
}

/** A client whose every connect takes 20 ms (the review's case: the connect deadline was not clamped). */
function slowClient(t: TestContext): RemotingClient {
  return startClient(t, { connector: new ScriptedConnector(0, 20) });
}

/** A client connected to `s` that answers pushes, and its channel on the server. */
async function pushTarget(
  t: TestContext,
  s: TestServer,
): Promise<{ client: RemotingClient; channel: RemotingChannel }> {
  const client = startClient(t);
  registerInteropClient(client);
  await client.invoke(s.addr, request(client, InteropCode.ECHO));
  await waitFor(() => s.server.channels.size === 1, "the server to see the client");
  return { client, channel: [...s.server.channels][0]! };
}

describe("large time-outs", () => {
  for (const timeoutMs of LARGE) {
    test(`timeoutMs ${timeoutMs}: every client call waits out a 20 ms connect and is answered`, async (t) => {
      const warnings = overflowWarnings(t);
      const s = await startServer(t);
      let client = slowClient(t);
      const r = await within(
        client.invoke(s.addr, request(client, InteropCode.ECHO, "invoke"), { timeoutMs }),
        2000,
        "invoke",
      );
      assert.equal(r.body?.toString(), "invoke");

      client = slowClient(t);
      const sync = await within(
        client.invokeSync(s.addr, request(client, InteropCode.ECHO, "sync"), timeoutMs),
        2000,
        "invokeSync",
      );
      assert.equal(sync.body?.toString(), "sync");

      client = slowClient(t);
      const cb = countedCallback();
      client.invokeAsync(s.addr, request(client, InteropCode.ECHO, "async"), timeoutMs, cb.callback);
      await within(cb.settled, 2000, "invokeAsync's callback");
      assert.deepEqual(cb.failed, []);
      assert.equal(cb.succeeded[0]?.body?.toString(), "async");

      client = slowClient(t);
      await within(
        client.invokeOneway(s.addr, request(client, InteropCode.ONEWAY_COUNT), timeoutMs),
        2000,
        "invokeOneway",
      );
      await waitFor(() => s.onewayCount === 1, "the oneway to arrive");

      // addr null: the name-server path has its own connect wait.
      client = slowClient(t);
      client.updateNameServerAddressList([s.addr]);
      const ns = await within(
        client.invoke(null, request(client, InteropCode.ECHO, "ns"), { timeoutMs }),
        2000,
        "invoke of a name server",
      );
      assert.equal(ns.body?.toString(), "ns");
      assert.deepEqual(warnings, []);
    });

    test(`timeoutMs ${timeoutMs}: a server push is answered`, async (t) => {
      const warnings = overflowWarnings(t);
      const s = await startServer(t);
      const { channel } = await pushTarget(t, s);
      const push = s.server.createRequest(InteropCode.CLIENT_PUSH, { body: Buffer.from("p") });
      const r = await within(s.server.invoke(channel, push, { timeoutMs }), 2000, "the push");
      assert.equal(r.body?.toString(), "pong:p");
      assert.deepEqual(warnings, []);
    });
  }
});

describe("bad time-outs are refused with MQW_ERR_INVALID_ARGUMENT naming timeoutMs", () => {
  /** Asserts the call fails with MQW_ERR_INVALID_ARGUMENT and a message naming timeoutMs. */
  async function refused(call: Promise<unknown>): Promise<void> {
    const f = await expectCode(call, ErrorCodes.INVALID_ARGUMENT);
    assert.match(f.error.message, /timeoutMs/);
  }
  function asyncFailure(
    run: (callback: ReturnType<typeof countedCallback>["callback"]) => void,
  ): Promise<void> {
    const cb = countedCallback();
    run(cb.callback);
    return cb.settled.then(() => {
      assert.deepEqual(cb.succeeded, []);
      throw cb.failed[0];
    });
  }

  for (const timeoutMs of BAD) {
    test(`timeoutMs ${timeoutMs} on the client's calls`, async (t) => {
      const s = await startServer(t);
      const client = startClient(t);
      const echo = (): ReturnType<typeof request> => request(client, InteropCode.ECHO);
      await refused(client.invoke(s.addr, echo(), { timeoutMs }));
      await refused(client.invokeSync(s.addr, echo(), timeoutMs));
      await refused(asyncFailure((cb) => client.invokeAsync(s.addr, echo(), timeoutMs, cb)));
      await refused(client.invokeOneway(s.addr, echo(), timeoutMs));
      assert.equal(s.requests, 0, "nothing was sent");
    });

    test(`timeoutMs ${timeoutMs} on the server's pushes`, async (t) => {
      const s = await startServer(t);
      const { client, channel } = await pushTarget(t, s);
      const push = () => s.server.createRequest(InteropCode.CLIENT_PUSH);
      await refused(s.server.invoke(channel, push(), { timeoutMs }));
      await refused(s.server.invokeSync(channel, push(), timeoutMs));
      await refused(asyncFailure((cb) => s.server.invokeAsync(channel, push(), timeoutMs, cb)));
      await refused(s.server.invokeOneway(channel, push(), timeoutMs));
      assert.equal(s.server.pendingCalls, 0);
      assert.equal(client.requestsReceived, 0, "nothing was pushed");
    });
  }
});
