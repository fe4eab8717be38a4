/**
 * One clock: a client given a fake `clock` computes every deadline from it (call, permit wait,
 * connect), so its calls time out when that clock is advanced, and never while only real time
 * passes. Sockets are real; only "now" and the deadline timers are fake.
 */
import assert from "node:assert/strict";
import type { Duplex } from "node:stream";
import { describe, type TestContext, test } from "node:test";
import {
  ErrorCodes,
  isMqwireError,
  RemotingClient,
  type RemotingClientOptions,
  RemotingCommand,
  silentLogger,
} from "../../src/index.js";
import { FakeClock } from "../helpers/fake-clock.js";
import { counted, sleep, startServer } from "../helpers/remoting.js";

const ECHO = 1;
const NEVER = 2;

async function setup(t: TestContext, options: RemotingClientOptions = {}) {
  const { addr } = await startServer(t, {}, (server) => {
    server.registerProcessor(ECHO, () => RemotingCommand.createResponse(0));
    server.registerProcessor(NEVER, () => new Promise<RemotingCommand>(() => {}));
  });
  const clock = new FakeClock();
  const client = new RemotingClient({ scanNameServers: false, logger: silentLogger, clock, ...options });
  t.after(() => client.shutdown());
  // Connected before the clock matters: the calls below find a live channel.
  await client.invoke(addr, client.createRequest(ECHO), { timeoutMs: 1000 });
  return { addr, clock, client };
}

/** Settles to the error `promise` rejects with, or to "pending" after a short real wait. */
async function stateOf(promise: Promise<unknown>): Promise<unknown> {
  return Promise.race([
    promise.then(
      () => "resolved",
      (err: unknown) => err,
    ),
    sleep(50).then(() => "pending"),
  ]);
}

function assertTimeout(outcome: unknown): void {
  assert.ok(isMqwireError(outcome, ErrorCodes.TIMEOUT), `expected MQW_ERR_TIMEOUT, got ${String(outcome)}`);
}

describe("a client on a fake clock", () => {
  test("invoke times out when the fake clock passes its deadline, not before", async (t) => {
    const { addr, clock, client } = await setup(t);
    const call = client.invoke(addr, client.createRequest(NEVER), { timeoutMs: 1000 });
    assert.equal(await stateOf(call), "pending", "real time alone must not time it out");
    clock.advance(999);
    assert.equal(await stateOf(call), "pending");
    clock.advance(100);
    assertTimeout(await stateOf(call));
  });

  test("invokeSync and invokeAsync read the same clock", async (t) => {
    const { addr, clock, client } = await setup(t, { closeSocketIfTimeout: false });
    const sync = client.invokeSync(addr, client.createRequest(NEVER), 500);
    const failed = counted<[Error]>();
    client.invokeAsync(addr, client.createRequest(NEVER), 500, { operationFail: failed });
    assert.equal(await stateOf(sync), "pending");
    assert.equal(failed.calls.length, 0);
    clock.advance(600);
    assertTimeout(await stateOf(sync));
    assert.equal(failed.calls.length, 1);
    assertTimeout(failed.calls[0]?.[0]);
  });

  test("a permit wait counts against the call's deadline on the fake clock", async (t) => {
    const { addr, clock, client } = await setup(t, { asyncPermits: 1 });
    const held = client.invoke(addr, client.createRequest(NEVER), { timeoutMs: 10_000 });
    const waiting = client.invoke(addr, client.createRequest(ECHO), { timeoutMs: 300 });
    assert.equal(await stateOf(waiting), "pending");
    clock.advance(300);
    assertTimeout(await stateOf(waiting));
    clock.advance(10_000);
    assertTimeout(await stateOf(held));
  });

  test("a connect that never ends times out on the fake clock", async (t) => {
    const clock = new FakeClock();
    const client = new RemotingClient({
      scanNameServers: false,
      logger: silentLogger,
      clock,
      connector: { open: () => new Promise<Duplex>(() => {}) },
    });
    t.after(() => client.shutdown());
    const call = client.invoke("10.0.0.1:9876", client.createRequest(ECHO), { timeoutMs: 200 });
    assert.equal(await stateOf(call), "pending");
    clock.advance(200);
    assertTimeout(await stateOf(call));
  });
});
