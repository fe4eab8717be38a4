/**
 * ChannelTable (RocketMQ's channelTables + ChannelWrapper, reference §9.1) with a fake opener and
 * mocked timers: single-flight connects, back-off growth and cap, deadlines, and remove() that
 * only drops the channel it is given.
 */
import assert from "node:assert/strict";
import { describe, type TestContext, test } from "node:test";
import { ConnectError, ErrorCodes } from "../../src/errors.js";
import type { RemotingChannel } from "../../src/remoting/channel.js";
import { backoffMs, ChannelTable } from "../../src/remoting/channel-table.js";

const T0 = 1_700_000_000_000;

/** A stand-in for a RemotingChannel: only isActive and close() matter to the table. */
interface FakeChannel {
  id: number;
  isActive: boolean;
  closes: number;
  close(): void;
}
let ids = 0;
function fakeChannel(): FakeChannel {
  return {
    id: ++ids,
    isActive: true,
    closes: 0,
    close() {
      this.closes++;
      this.isActive = false;
    },
  };
}
const asChannel = (c: FakeChannel): RemotingChannel => c as unknown as RemotingChannel;

/** An opener whose results the test decides: each open() is recorded with its settle functions. */
class FakeOpener {
  readonly calls: { addr: string; resolve(c: FakeChannel): void; reject(e: unknown): void }[] = [];
  readonly open = (addr: string): Promise<RemotingChannel> =>
    new Promise<RemotingChannel>((resolve, reject) => {
      this.calls.push({ addr, resolve: (c) => resolve(asChannel(c)), reject });
    });
}

/** Fake setTimeout and Date at T0, Math.random fixed to 0.5 (no jitter). */
function fakeTime(t: TestContext): void {
  t.mock.timers.enable({ apis: ["setTimeout", "Date"], now: T0 });
  t.mock.method(Math, "random", () => 0.5);
}

async function code(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
  } catch (err) {
    return (err as { code?: string }).code;
  }
  assert.fail("expected a rejection");
}

describe("backoffMs", () => {
  test("doubles per consecutive failure from the base", () => {
    const mid = (): number => 0.5; // jitter factor 1.0
    assert.deepEqual(
      [1, 2, 3, 4, 5].map((n) => backoffMs(n, 100, 100_000, mid)),
      [100, 200, 400, 800, 1600],
    );
    assert.equal(backoffMs(0, 100, 100_000, mid), 100);
  });

  test("is capped at maxMs before the jitter, for any failure count", () => {
    const mid = (): number => 0.5;
    assert.equal(backoffMs(10, 100, 1000, mid), 1000);
    assert.equal(backoffMs(1_000_000, 100, 1000, mid), 1000);
    assert.ok(Number.isFinite(backoffMs(Number.MAX_SAFE_INTEGER, 100, 1000, mid)));
  });

  test("jitter stays within ±20%", () => {
    for (const r of [0, 0.25, 0.5, 0.75, 0.999999]) {
      for (const n of [1, 3, 20]) {
        const exp = Math.min(1000, 100 * 2 ** (n - 1));
        const v = backoffMs(n, 100, 1000, () => r);
        assert.ok(v >= Math.floor(exp * 0.8) && v <= Math.ceil(exp * 1.2), `n=${n} r=${r}: ${v}`);
      }
    }
    assert.equal(
      backoffMs(1, 100, 1000, () => 0),
      80,
    );
  });
});

describe("ChannelTable", () => {
  test("1000 concurrent get() open one connection and all get its channel", async () => {
    const opener = new FakeOpener();
    const table = new ChannelTable(opener.open, 100, 1000);
    const gets = Array.from({ length: 1000 }, () => table.get("a:1", Date.now() + 5000));
    assert.equal(opener.calls.length, 1);
    assert.equal(table.peek("a:1"), undefined, "connecting, not connected");
    const channel = fakeChannel();
    opener.calls[0]!.resolve(channel);
    const got = await Promise.all(gets);
    assert.ok(got.every((c) => c === asChannel(channel)));
    assert.equal(table.peek("a:1"), asChannel(channel));
    // Later calls reuse it.
    assert.equal(await table.get("a:1", Date.now() + 5000), asChannel(channel));
    assert.equal(opener.calls.length, 1);
  });

  test("different addresses get different channels", async () => {
    const opener = new FakeOpener();
    const table = new ChannelTable(opener.open, 100, 1000);
    const a = table.get("a:1", Date.now() + 5000);
    const b = table.get("b:1", Date.now() + 5000);
    assert.deepEqual(
      opener.calls.map((c) => c.addr),
      ["a:1", "b:1"],
    );
    const ca = fakeChannel();
    const cb = fakeChannel();
    opener.calls[0]!.resolve(ca);
    opener.calls[1]!.resolve(cb);
    assert.equal(await a, asChannel(ca));
    assert.equal(await b, asChannel(cb));
    assert.deepEqual(table.addresses().sort(), ["a:1", "b:1"]);
    assert.equal(table.channels().length, 2);
  });

  test("a failed connect rejects every waiter with MQW_ERR_CONNECT; retries back off, growing, capped", async (t) => {
    fakeTime(t);
    const opener = new FakeOpener();
    const table = new ChannelTable(opener.open, 100, 300);
    const waiters = [table.get("a:1", T0 + 5000), table.get("a:1", T0 + 5000)];
    opener.calls[0]!.reject(new Error("ECONNREFUSED"));
    for (const w of waiters) assert.equal(await code(w), ErrorCodes.CONNECT);

    // Back-off after failure n: 100, 200, 300 (capped), 300.
    for (const [n, waitMs] of [
      [1, 100],
      [2, 200],
      [3, 300],
      [4, 300],
    ] as const) {
      assert.equal(opener.calls.length, n);
      t.mock.timers.tick(waitMs - 1);
      assert.equal(await code(table.get("a:1", Date.now() + 5000)), ErrorCodes.CONNECT);
      assert.equal(opener.calls.length, n, `no attempt inside back-off ${n}`);
      t.mock.timers.tick(1);
      const next = table.get("a:1", Date.now() + 5000);
      assert.equal(opener.calls.length, n + 1, `an attempt after back-off ${n}`);
      opener.calls[n]!.reject(new ConnectError("refused again"));
      assert.equal(await code(next), ErrorCodes.CONNECT);
    }
  });

  test("a success resets the back-off", async (t) => {
    fakeTime(t);
    const opener = new FakeOpener();
    const table = new ChannelTable(opener.open, 100, 10_000);
    for (let i = 0; i < 3; i++) {
      const p = table.get("a:1", Date.now() + 5000);
      opener.calls[i]!.reject(new Error("refused"));
      await code(p);
      t.mock.timers.tick(10_000);
    }
    const ok = table.get("a:1", Date.now() + 5000);
    const channel = fakeChannel();
    opener.calls[3]!.resolve(channel);
    await ok;
    channel.close();
    table.remove("a:1", asChannel(channel));
    // Failure after a success: the first back-off again (100 ms), not 800.
    const p = table.get("a:1", Date.now() + 5000);
    opener.calls[4]!.reject(new Error("refused"));
    await code(p);
    t.mock.timers.tick(100);
    void table.get("a:1", Date.now() + 5000).catch(() => undefined);
    assert.equal(opener.calls.length, 6);
  });

  test("a call whose deadline passes before the connect ends gets MQW_ERR_TIMEOUT; the connect goes on", async (t) => {
    fakeTime(t);
    const opener = new FakeOpener();
    const table = new ChannelTable(opener.open, 100, 1000);
    const short = table.get("a:1", T0 + 50);
    const long = table.get("a:1", T0 + 5000);
    t.mock.timers.tick(50);
    assert.equal(await code(short), ErrorCodes.TIMEOUT);
    const channel = fakeChannel();
    opener.calls[0]!.resolve(channel);
    assert.equal(await long, asChannel(channel));
    assert.equal(opener.calls.length, 1);
  });

  test("a deadline already passed and no channel: MQW_ERR_TIMEOUT", async (t) => {
    fakeTime(t);
    const opener = new FakeOpener();
    const table = new ChannelTable(opener.open, 100, 1000);
    assert.equal(await code(table.get("a:1", T0)), ErrorCodes.TIMEOUT);
  });

  test("an inactive channel is replaced by a new connect", async () => {
    const opener = new FakeOpener();
    const table = new ChannelTable(opener.open, 100, 1000);
    const first = fakeChannel();
    const p1 = table.get("a:1", Date.now() + 5000);
    opener.calls[0]!.resolve(first);
    await p1;
    first.isActive = false; // closing: no longer usable, its close event not yet seen
    assert.equal(table.peek("a:1"), undefined);
    const p2 = table.get("a:1", Date.now() + 5000);
    assert.equal(opener.calls.length, 2);
    const second = fakeChannel();
    opener.calls[1]!.resolve(second);
    assert.equal(await p2, asChannel(second));
  });

  test("backOff() after a connect: no connect until the back-off passes, then one", async (t) => {
    fakeTime(t);
    const opener = new FakeOpener();
    const table = new ChannelTable(opener.open, 100, 1000);
    const channel = fakeChannel();
    const p = table.get("a:1", T0 + 5000);
    opener.calls[0]!.resolve(channel);
    await p;
    // A call on it timed out: the caller backs the address off and closes the channel.
    table.backOff("a:1", new Error("no answer"));
    channel.close();
    table.remove("a:1", asChannel(channel));
    assert.deepEqual(table.addresses(), ["a:1"], "the back-off is kept with the address");
    t.mock.timers.tick(99);
    assert.equal(await code(table.get("a:1", Date.now() + 5000)), ErrorCodes.CONNECT);
    assert.equal(opener.calls.length, 1, "no connect within the back-off");
    t.mock.timers.tick(1);
    const again = table.get("a:1", Date.now() + 5000);
    assert.equal(opener.calls.length, 2, "a connect once it passed");
    opener.calls[1]!.resolve(fakeChannel());
    await again;
    table.backOff("b:1", new Error("unknown address: nothing to back off"));
    assert.deepEqual(table.addresses(), ["a:1"]);
  });

  test("remove() drops only the channel it is given (a stale close never drops a newer channel)", async () => {
    const opener = new FakeOpener();
    const table = new ChannelTable(opener.open, 100, 1000);
    const first = fakeChannel();
    const p1 = table.get("a:1", Date.now() + 5000);
    opener.calls[0]!.resolve(first);
    await p1;
    first.isActive = false;
    const second = fakeChannel();
    const p2 = table.get("a:1", Date.now() + 5000);
    opener.calls[1]!.resolve(second);
    await p2;
    // The old channel's close arrives late.
    table.remove("a:1", asChannel(first));
    assert.equal(table.peek("a:1"), asChannel(second));
    table.remove("a:1", asChannel(fakeChannel()));
    assert.equal(table.peek("a:1"), asChannel(second));
    table.remove("b:1", asChannel(second));
    assert.equal(table.peek("a:1"), asChannel(second));
    table.remove("a:1", asChannel(second));
    assert.equal(table.peek("a:1"), undefined);
    assert.deepEqual(table.addresses(), []);
  });

  test("close() closes the address's channel; clear() forgets everything", async () => {
    const opener = new FakeOpener();
    const table = new ChannelTable(opener.open, 100, 1000);
    const channel = fakeChannel();
    const p = table.get("a:1", Date.now() + 5000);
    opener.calls[0]!.resolve(channel);
    await p;
    table.close("b:1"); // unknown address: nothing happens
    table.close("a:1");
    assert.equal(channel.closes, 1);
    assert.equal(table.channels().length, 0);
    table.clear();
    assert.deepEqual(table.addresses(), []);
  });
});
