/**
 * The client's dead-peer rule (RemotingService.onChannelIdle, reader idle) against a live server:
 * a channel that read nothing for channelMaxIdleMs while calls awaited a response is closed, but
 * a long poll held less than the idle time, and a call made late on a channel that only wrote
 * oneways, are not taken for a dead peer. The paused-server case is in the fault tests
 * (../helpers/fault-scenarios.ts, stoppedWhileCalling).
 */
import assert from "node:assert/strict";
import { describe, type TestContext, test } from "node:test";
import { ErrorCodes, InteropCode, type SocketTransport } from "../../src/index.js";
import { expectCode, request, sleep, startClient, startServer } from "../helpers/client-fixtures.js";

const IDLE_MS = 400;

/** A DELAYED_ECHO request answered after `delayMs`: a long poll held that long. */
const held = (client: ReturnType<typeof startClient>, body: string, delayMs: number) =>
  request(client, InteropCode.DELAYED_ECHO, body, { delayMs: String(delayMs) });

/** A server, and a client with IDLE_MS whose channel to it is open; `kinds` collects its idle events. */
async function connected(t: TestContext) {
  const { addr } = await startServer(t);
  const client = startClient(t, { channelMaxIdleMs: IDLE_MS });
  const kinds: string[] = [];
  client.on("idle", (_addr, _channel, kind) => kinds.push(kind));
  await client.invoke(addr, request(client, InteropCode.ECHO, "warm-up"));
  const channel = client.channelOf(addr);
  assert.ok(channel !== undefined, "the warm-up opened a channel");
  return { addr, client, kinds, channel };
}

describe("dead-peer rule", () => {
  test("long polls held under channelMaxIdleMs, back to back, keep their channel", async (t) => {
    const { addr, client, kinds, channel } = await connected(t);
    for (let i = 0; i < 4; i++) {
      const response = await client.invoke(addr, held(client, `poll${i}`, 300), { timeoutMs: 5000 });
      assert.equal(response.body?.toString(), `poll${i}`);
    }
    assert.equal(client.channelOf(addr), channel, "the same channel throughout");
    assert.deepEqual(kinds, []);
  });

  test("a call held past channelMaxIdleMs with nothing read: closed as dead, the call fails typed", async (t) => {
    const { addr, client, kinds, channel } = await connected(t);
    const startedAt = Date.now();
    const f = await expectCode(
      client.invoke(addr, held(client, "too long", 3000), { timeoutMs: 10_000 }),
      ErrorCodes.CHANNEL_CLOSED,
      startedAt,
    );
    assert.match(f.error.message, /nothing read for 400 ms while calls awaited a response/);
    assert.ok(f.elapsedMs < IDLE_MS + 1000, `closed after ${f.elapsedMs} ms`);
    assert.deepEqual(kinds, ["reader"]);
    // The next call reconnects.
    const response = await client.invoke(addr, request(client, InteropCode.ECHO, "again"));
    assert.equal(response.body?.toString(), "again");
    assert.notEqual(client.channelOf(addr), channel);
  });

  test("a call made late on a channel that only wrote oneways is not taken for a dead peer", async (t) => {
    const { addr, client, kinds, channel } = await connected(t);
    const transport = channel.engine.transport as SocketTransport;
    const readAt = transport.lastReadAt;
    // Oneways only (no answer, nothing read), so the channel is never all-idle...
    while (Date.now() - readAt < 300) {
      await client.invokeOneway(addr, request(client, InteropCode.ONEWAY_COUNT, "quiet"));
      await sleep(50);
    }
    // ...then a call pending when reader idle fires, 400 ms after the last read: it has waited
    // far less than half the idle time, so the peer is quiet, not dead.
    const response = await client.invoke(addr, held(client, "late", 250), { timeoutMs: 5000 });
    assert.equal(response.body?.toString(), "late");
    assert.equal(client.channelOf(addr), channel, "the same channel");
    assert.deepEqual(kinds, []);
  });
});
