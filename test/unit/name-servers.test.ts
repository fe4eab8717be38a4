/**
 * NameServers (RocketMQ's namesrv selection, reference §9.2) with fake links and an injected
 * random: shuffle on change, round robin from a random start, sticky while the chosen channel is
 * active, fail-over, the reachability scan and its timer.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ConnectError, ErrorCodes } from "../../src/errors.js";
import type { RemotingChannel } from "../../src/remoting/channel.js";
import { NameServers } from "../../src/remoting/name-servers.js";

/** Fake links: `up` addresses connect, others fail; peek sees channels not marked closed. */
class FakeLinks {
  readonly up = new Set<string>();
  readonly connects: string[] = [];
  readonly closes: string[] = [];
  readonly backOffs: string[] = [];
  readonly channels = new Map<string, { addr: string; isActive: boolean }>();
  /** When set, connect() waits for this gate (to hold a scan or a selection in flight). */
  gate: Promise<void> | undefined;

  readonly links = {
    connect: async (addr: string, _deadlineAt: number): Promise<RemotingChannel> => {
      this.connects.push(addr);
      if (this.gate) await this.gate;
      if (!this.up.has(addr)) throw new ConnectError(`refused ${addr}`);
      const existing = this.channels.get(addr);
      if (existing?.isActive) return existing as unknown as RemotingChannel;
      const channel = { addr, isActive: true };
      this.channels.set(addr, channel);
      return channel as unknown as RemotingChannel;
    },
    peek: (addr: string): RemotingChannel | undefined => {
      const c = this.channels.get(addr);
      return c?.isActive ? (c as unknown as RemotingChannel) : undefined;
    },
    close: (addr: string): void => {
      this.closes.push(addr);
      const c = this.channels.get(addr);
      if (c) c.isActive = false;
    },
    backOff: (addr: string): void => {
      this.backOffs.push(addr);
    },
  };
}

/** A random() returning `values` in turn, then 0. */
function sequence(...values: number[]): () => number {
  let i = 0;
  return () => values[i++] ?? 0;
}

/** Fisher–Yates as NameServers does it, to predict the shuffled order. */
function expectedShuffle(items: string[], random: () => number): string[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

const FAR = (): number => Date.now() + 60_000;
const ADDRS = ["a:1", "b:1", "c:1", "d:1"];

async function code(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
  } catch (err) {
    return (err as { code?: string }).code;
  }
  assert.fail("expected a rejection");
}

describe("NameServers", () => {
  test("an empty list: MQW_ERR_CONNECT", async () => {
    const f = new FakeLinks();
    const ns = new NameServers(f.links);
    assert.equal(await code(ns.channel(FAR())), ErrorCodes.CONNECT);
    assert.deepEqual(f.connects, []);
  });

  test("a changed list is shuffled with the injected random; an unchanged one is left alone", () => {
    const f = new FakeLinks();
    const shuffleRandoms = [0.9, 0.1, 0.6];
    const ns = new NameServers(f.links, sequence(0.3, ...shuffleRandoms, 0.2, 0.7, 0.4));
    ns.update(ADDRS);
    assert.deepEqual(ns.list, expectedShuffle(ADDRS, sequence(...shuffleRandoms)));
    const before = ns.list;
    ns.update([...ADDRS].reverse());
    assert.deepEqual(ns.list, before, "same members: no reshuffle");
    ns.update([...ADDRS, "a:1"]);
    assert.deepEqual(ns.list, before, "duplicates do not make a change");
    ns.update(["a:1", "b:1"]);
    assert.deepEqual([...ns.list].sort(), ["a:1", "b:1"]);
  });

  test("selection is round robin from the random start; each address tried once per call", async () => {
    for (const start of [0, 0.5, 0.999]) {
      const f = new FakeLinks();
      const ns = new NameServers(f.links, sequence(start));
      ns.update(ADDRS);
      const list = ns.list;
      const first = Math.floor(start * 999);
      assert.equal(await code(ns.channel(FAR())), ErrorCodes.CONNECT);
      const expected = [1, 2, 3, 4].map((k) => list[(first + k) % list.length]);
      assert.deepEqual(f.connects, expected, `start ${first}`);
      // The next call goes on from where the index stopped.
      f.connects.length = 0;
      assert.equal(await code(ns.channel(FAR())), ErrorCodes.CONNECT);
      assert.deepEqual(
        f.connects,
        [5, 6, 7, 8].map((k) => list[(first + k) % list.length]),
      );
    }
  });

  test("fail-over: the first reachable address in round-robin order is chosen", async () => {
    const f = new FakeLinks();
    const ns = new NameServers(f.links, sequence(0));
    ns.update(ADDRS);
    const list = ns.list; // start 0: tries list[1], list[2], ...
    f.up.add(list[3]!);
    const channel = await ns.channel(FAR());
    assert.equal((channel as unknown as { addr: string }).addr, list[3]);
    assert.deepEqual(f.connects, [list[1], list[2], list[3]]);
    assert.equal(ns.chosen, list[3]);
    assert.deepEqual(ns.available, [list[3]]);
  });

  test("sticky while peek() returns the chosen channel; moves on once it is gone", async () => {
    const f = new FakeLinks();
    for (const a of ADDRS) f.up.add(a);
    const ns = new NameServers(f.links, sequence(0));
    ns.update(ADDRS);
    const list = ns.list;
    await ns.channel(FAR());
    const chosen = ns.chosen;
    assert.equal(chosen, list[1]);
    for (let i = 0; i < 10; i++) await ns.channel(FAR());
    assert.equal(f.connects.length, 1, "no connect while the chosen channel is active");
    assert.equal(ns.chosen, chosen);
    // The chosen channel closes: RocketMQ rotates to the next index.
    f.channels.get(chosen!)!.isActive = false;
    await ns.channel(FAR());
    assert.equal(ns.chosen, list[2]);
    assert.equal(f.connects.length, 2);
  });

  test("a deadline already passed: MQW_ERR_TIMEOUT, nothing dialled", async () => {
    const f = new FakeLinks();
    const ns = new NameServers(f.links, sequence(0));
    ns.update(ADDRS);
    assert.equal(await code(ns.channel(Date.now() - 1)), ErrorCodes.TIMEOUT);
    assert.deepEqual(f.connects, []);
  });

  test("dropping the chosen address closes it and clears the choice; available is pruned", async () => {
    const f = new FakeLinks();
    for (const a of ADDRS) f.up.add(a);
    const ns = new NameServers(f.links, sequence(0));
    ns.update(ADDRS);
    await ns.scan(1000);
    assert.deepEqual([...ns.available].sort(), [...ADDRS].sort());
    await ns.channel(FAR());
    const chosen = ns.chosen!;
    const rest = ADDRS.filter((a) => a !== chosen);
    ns.update(rest);
    assert.equal(ns.chosen, undefined);
    assert.deepEqual(f.closes, [chosen]);
    assert.deepEqual([...ns.available].sort(), [...rest].sort());
    // Dropping another (not chosen) address closes nothing.
    await ns.channel(FAR());
    const chosen2 = ns.chosen!;
    ns.update([chosen2]);
    assert.deepEqual(f.closes, [chosen]);
    assert.equal(ns.chosen, chosen2);
  });

  test("timedOut() backs the address off and drops it from the available list", async () => {
    const f = new FakeLinks();
    for (const a of ADDRS) f.up.add(a);
    const ns = new NameServers(f.links, sequence(0));
    ns.update(ADDRS);
    await ns.scan(1000);
    await ns.channel(FAR());
    const chosen = ns.chosen!;
    ns.timedOut(chosen, new Error("no answer"));
    assert.deepEqual(f.backOffs, [chosen]);
    assert.deepEqual([...ns.available].sort(), ADDRS.filter((a) => a !== chosen).sort());
  });

  test("scan() keeps the reachable addresses and forgets the others", async () => {
    const f = new FakeLinks();
    f.up.add("a:1");
    f.up.add("c:1");
    const ns = new NameServers(f.links, sequence(0));
    ns.update(ADDRS);
    await ns.scan(1000);
    assert.deepEqual([...ns.available].sort(), ["a:1", "c:1"]);
    f.up.delete("a:1");
    f.channels.get("a:1")!.isActive = false;
    f.up.add("d:1");
    await ns.scan(1000);
    assert.deepEqual([...ns.available].sort(), ["c:1", "d:1"]);
  });

  test("startScan() scans at once and then every period until stopScan()", async (t) => {
    t.mock.timers.enable({ apis: ["setTimeout"] });
    const f = new FakeLinks();
    const ns = new NameServers(f.links, sequence(0));
    ns.update(["a:1", "b:1"]);
    ns.startScan(100, 50);
    const flush = async (): Promise<void> => {
      for (let i = 0; i < 10; i++) await Promise.resolve();
    };
    t.mock.timers.tick(0);
    await flush();
    assert.equal(f.connects.length, 2);
    t.mock.timers.tick(99);
    await flush();
    assert.equal(f.connects.length, 2);
    t.mock.timers.tick(1);
    await flush();
    assert.equal(f.connects.length, 4);
    ns.stopScan();
    t.mock.timers.tick(1000);
    await flush();
    assert.equal(f.connects.length, 4);
  });

  test("stopScan() then startScan() while a scan is in flight keeps one scan loop", {}, async (t) => {
    t.mock.timers.enable({ apis: ["setTimeout"] });
    const f = new FakeLinks();
    const ns = new NameServers(f.links, sequence(0));
    ns.update(["a:1"]);
    let open!: () => void;
    f.gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    const flush = async (): Promise<void> => {
      for (let i = 0; i < 10; i++) await Promise.resolve();
    };
    ns.startScan(100, 50);
    t.mock.timers.tick(0); // scan 1 starts and waits at the gate
    await flush();
    ns.stopScan();
    ns.startScan(100, 50);
    f.gate = undefined;
    open(); // scan 1 ends while the new loop's timer is armed
    await flush();
    t.mock.timers.tick(0); // the new loop's first scan
    await flush();
    const base = f.connects.length;
    for (let i = 0; i < 5; i++) {
      t.mock.timers.tick(100);
      await flush();
    }
    ns.stopScan();
    assert.equal(f.connects.length - base, 5, "one connect per period for one address");
  });

  test("concurrent first calls are single-flight: one connect, one choice", {}, async () => {
    const f = new FakeLinks();
    for (const a of ADDRS) f.up.add(a);
    const ns = new NameServers(f.links, sequence(0));
    ns.update(ADDRS);
    const channels = await Promise.all(Array.from({ length: 10 }, () => ns.channel(FAR())));
    assert.equal(new Set(channels).size, 1);
    assert.equal(f.connects.length, 1);
  });
});
