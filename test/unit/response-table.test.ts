import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { RemotingCommand } from "../../src/codec/remoting-command.js";
import { ChannelClosedError, ErrorCodes, TimeoutError } from "../../src/errors.js";
import type { Logger } from "../../src/logger.js";
import { ResponseTable } from "../../src/remoting/response-table.js";
import { FakeClock } from "../helpers/fake-clock.js";

const noop = (): void => {};
const response = (opaque: number): RemotingCommand => RemotingCommand.createResponse(0, null, { opaque });

/** Records every settlement of the calls it creates callbacks for. */
class Recorder {
  readonly responses = new Map<number, RemotingCommand[]>();
  readonly errors = new Map<number, Error[]>();
  onResponse(opaque: number) {
    return (cmd: RemotingCommand): void => {
      this.responses.set(opaque, [...(this.responses.get(opaque) ?? []), cmd]);
    };
  }
  onError(opaque: number) {
    return (err: Error): void => {
      this.errors.set(opaque, [...(this.errors.get(opaque) ?? []), err]);
    };
  }
  add(table: ResponseTable, opaque: number, owner: object, deadlineAt: number): void {
    table.add(opaque, owner, deadlineAt, this.onResponse(opaque), this.onError(opaque));
  }
  settlements(opaque: number): number {
    return (this.responses.get(opaque)?.length ?? 0) + (this.errors.get(opaque)?.length ?? 0);
  }
}

describe("ResponseTable", () => {
  test("a response completes its call once; a second one is counted late", () => {
    const clock = new FakeClock();
    const table = new ResponseTable({ clock });
    const rec = new Recorder();
    rec.add(table, 7, {}, clock.now() + 1000);
    assert.equal(table.size, 1);
    const cmd = response(7);
    assert.equal(table.complete(cmd), true);
    assert.deepEqual(rec.responses.get(7), [cmd]);
    assert.equal(table.size, 0);
    assert.equal(table.complete(response(7)), false);
    assert.equal(table.lateResponses, 1);
    assert.equal(table.deadlineQueueLength, 0);
    // The response leaves the timer armed (no clear + set per sync call); it fires once, finds
    // nothing due, and is not re-armed.
    clock.advance(1100);
    assert.equal(rec.settlements(7), 1, "the completed call is not timed out");
    assert.equal(table.timedOut, 0);
    assert.equal(clock.timers.size, 0, "no timer is left when the table is empty");
  });

  test("a lingering timer is re-armed for a later deadline instead of firing it early", () => {
    const clock = new FakeClock();
    const table = new ResponseTable({ clock, timerResolutionMs: 0 });
    const rec = new Recorder();
    rec.add(table, 1, {}, clock.now() + 100);
    table.complete(response(1));
    rec.add(table, 2, {}, clock.now() + 300);
    clock.advance(150);
    assert.equal(rec.settlements(2), 0, "not timed out at the first call's deadline");
    assert.equal(clock.timers.size, 1, "re-armed for the second call's deadline");
    clock.advance(150);
    assert.equal(rec.errors.get(2)?.length, 1);
    assert.equal(clock.timers.size, 0);
  });

  test("a duplicate opaque or a NaN deadline is refused", () => {
    const clock = new FakeClock();
    const table = new ResponseTable({ clock });
    table.add(1, {}, clock.now() + 10, noop, noop);
    assert.throws(() => table.add(1, {}, clock.now() + 10, noop, noop), {
      code: ErrorCodes.INVALID_ARGUMENT,
    });
    assert.throws(() => table.add(2, {}, Number.NaN, noop, noop), { code: ErrorCodes.INVALID_ARGUMENT });
    assert.equal(table.size, 1);
  });

  test("a response from another owner is dropped and the call stays pending", () => {
    const clock = new FakeClock();
    const table = new ResponseTable({ clock });
    const rec = new Recorder();
    const a = {};
    rec.add(table, 3, a, clock.now() + 1000);
    assert.equal(table.complete(response(3), {}), false);
    assert.equal(table.lateResponses, 1);
    assert.equal(table.has(3), true);
    assert.equal(table.complete(response(3), a), true);
    assert.equal(rec.settlements(3), 1);
  });

  test("a call times out after its deadline, within the timer resolution", () => {
    const clock = new FakeClock();
    const table = new ResponseTable({ clock, timerResolutionMs: 10 });
    const rec = new Recorder();
    rec.add(table, 1, {}, clock.now() + 100);
    clock.advance(99);
    assert.equal(rec.settlements(1), 0);
    clock.advance(11);
    const errors = rec.errors.get(1);
    assert.equal(errors?.length, 1);
    assert.equal((errors![0] as TimeoutError).code, ErrorCodes.TIMEOUT);
    assert.equal(table.timedOut, 1);
    assert.equal(table.size, 0);
    assert.equal(clock.timers.size, 0);
    assert.equal(table.complete(response(1)), false, "a response after the time-out is late");
    assert.equal(table.lateResponses, 1);
  });

  test("each call times out no earlier than its deadline and at most the resolution after", () => {
    const clock = new FakeClock();
    const table = new ResponseTable({ clock, timerResolutionMs: 10 });
    const start = clock.now();
    const deadlines = [100, 105, 130, 131, 200];
    const firedAt: number[] = [];
    for (const [i, ttl] of deadlines.entries()) {
      const onError = (): void => {
        firedAt[i] = clock.now() - start;
      };
      table.add(i, {}, start + ttl, noop, onError);
    }
    for (let t = 0; t < 300; t++) clock.advance(1);
    deadlines.forEach((ttl, i) => {
      assert.ok(firedAt[i]! >= ttl && firedAt[i]! <= ttl + 10, `deadline ${ttl} fired at ${firedAt[i]}`);
    });
  });

  test("a call added with an earlier deadline re-arms the timer", () => {
    const clock = new FakeClock();
    const table = new ResponseTable({ clock, timerResolutionMs: 0 });
    const rec = new Recorder();
    rec.add(table, 1, {}, clock.now() + 1000);
    rec.add(table, 2, {}, clock.now() + 100);
    clock.advance(100);
    assert.equal(rec.errors.get(2)?.length, 1);
    assert.equal(rec.settlements(1), 0);
    assert.equal(clock.timers.size, 1);
    clock.advance(900);
    assert.equal(rec.errors.get(1)?.length, 1);
  });

  test("a completed call does not time out later", () => {
    const clock = new FakeClock();
    const table = new ResponseTable({ clock });
    const rec = new Recorder();
    rec.add(table, 1, {}, clock.now() + 100);
    rec.add(table, 2, {}, clock.now() + 200);
    table.complete(response(1));
    clock.advance(500);
    assert.equal(rec.settlements(1), 1);
    assert.equal(rec.errors.get(1), undefined);
    assert.equal(rec.errors.get(2)?.length, 1);
    assert.equal(table.timedOut, 1);
  });

  test("a call without a deadline never times out and arms no timer", () => {
    const clock = new FakeClock();
    const table = new ResponseTable({ clock });
    const rec = new Recorder();
    rec.add(table, 1, {}, Number.POSITIVE_INFINITY);
    assert.equal(clock.timers.size, 0);
    assert.equal(table.deadlineQueueLength, 0);
    assert.equal(table.fail(1, new Error("x")), true);
    assert.equal(rec.errors.get(1)?.length, 1);
  });

  test("createTimeoutError builds the time-out error with opaque and owner", () => {
    const clock = new FakeClock();
    const owner = { addr: "127.0.0.1:9876" };
    const seen: unknown[] = [];
    const table = new ResponseTable({
      clock,
      createTimeoutError: (opaque, o) => {
        seen.push(opaque, o);
        return new TimeoutError(`wait response on the channel <${(o as typeof owner).addr}> timeout`);
      },
    });
    const rec = new Recorder();
    rec.add(table, 9, owner, clock.now() + 50);
    clock.advance(100);
    assert.deepEqual(seen, [9, owner]);
    assert.equal((rec.errors.get(9)![0] as TimeoutError).code, ErrorCodes.TIMEOUT);
  });

  test("failAll ends every call of one owner at once and leaves the others", () => {
    const clock = new FakeClock();
    const table = new ResponseTable({ clock });
    const rec = new Recorder();
    const a = {};
    const b = {};
    for (const opaque of [1, 2, 3]) rec.add(table, opaque, a, clock.now() + 1000);
    for (const opaque of [4, 5]) rec.add(table, opaque, b, clock.now() + 1000);
    const closed = new ChannelClosedError("closed");
    assert.equal(table.failAll(a, closed), 3);
    for (const opaque of [1, 2, 3]) assert.deepEqual(rec.errors.get(opaque), [closed]);
    assert.equal(table.size, 2);
    assert.equal(table.fail(1, closed), false, "already ended");
    assert.equal(table.failAll(b, closed), 2);
    for (const opaque of [4, 5]) assert.deepEqual(rec.errors.get(opaque), [closed]);
    assert.equal(table.size, 0);
    assert.equal(table.deadlineQueueLength, 0);
    assert.equal(clock.timers.size, 0);
  });

  test("a call added by a failAll callback is not failed by it", () => {
    const clock = new FakeClock();
    const table = new ResponseTable({ clock });
    const owner = {};
    let retried = 0;
    table.add(1, owner, clock.now() + 1000, noop, () => {
      retried++;
      table.add(2, owner, clock.now() + 1000, noop, noop);
    });
    assert.equal(table.failAll(owner, new Error("closed")), 1);
    assert.equal(retried, 1);
    assert.equal(table.has(2), true);
    assert.equal(clock.timers.size, 1, "the retry's deadline is armed");
  });

  test("a throwing callback is logged and the other calls still end", () => {
    const clock = new FakeClock();
    const logged: string[] = [];
    const logger: Logger = { debug() {}, info() {}, warn() {}, error: (m) => logged.push(m) };
    const table = new ResponseTable({ clock, logger });
    const owner = {};
    let called = 0;
    for (let opaque = 0; opaque < 3; opaque++) {
      table.add(opaque, owner, clock.now() + 100, noop, () => {
        called++;
        throw new Error("bad callback");
      });
    }
    clock.advance(200);
    assert.equal(called, 3);
    assert.equal(logged.length, 3);
    assert.equal(table.size, 0);
  });

  test("tombstones are compacted once they outnumber live calls", () => {
    const clock = new FakeClock();
    const table = new ResponseTable({ clock });
    const rec = new Recorder();
    for (let i = 0; i < 5000; i++) rec.add(table, i, {}, clock.now() + 1000 + (i % 97));
    for (let i = 0; i < 4000; i++) table.complete(response(i));
    assert.equal(table.size, 1000);
    assert.ok(
      table.deadlineQueueLength <= Math.max(2 * table.size, table.size + 1024),
      `heap of ${table.deadlineQueueLength} for ${table.size} live calls`,
    );
    clock.advance(2000);
    assert.equal(table.timedOut, 1000, "only live calls time out");
    for (let i = 0; i < 5000; i++) assert.equal(rec.settlements(i), 1);
    assert.equal(table.deadlineQueueLength, 0);
  });

  test("100 000 calls with short deadlines all time out and leave nothing behind", () => {
    const clock = new FakeClock();
    const table = new ResponseTable({ clock });
    const owner = {};
    let errors = 0;
    const onResponse = (): void => {};
    const onError = (err: Error): void => {
      if ((err as TimeoutError).code === ErrorCodes.TIMEOUT) errors++;
    };
    // Deadlines out of insertion order, so the heap does real work.
    for (let i = 0; i < 100_000; i++)
      table.add(i, owner, clock.now() + 1 + ((i * 7919) % 1000), onResponse, onError);
    assert.equal(table.size, 100_000);
    assert.equal(table.deadlineQueueLength, 100_000);
    clock.advance(1100);
    assert.equal(errors, 100_000);
    assert.equal(table.timedOut, 100_000);
    assert.equal(table.size, 0);
    assert.equal(table.deadlineQueueLength, 0);
    assert.equal(clock.timers.size, 0);
  });

  test("property: every call ends exactly once, whatever the interleaving", () => {
    const op = fc.oneof(
      fc.record({
        kind: fc.constant("add" as const),
        opaque: fc.nat(20),
        ttl: fc.integer({ min: 0, max: 300 }),
      }),
      fc.record({ kind: fc.constant("complete" as const), opaque: fc.nat(20) }),
      fc.record({ kind: fc.constant("fail" as const), opaque: fc.nat(20) }),
      fc.record({ kind: fc.constant("failAll" as const), owner: fc.nat(2) }),
      fc.record({ kind: fc.constant("advance" as const), ms: fc.integer({ min: 0, max: 150 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 120 }), (ops) => {
        const clock = new FakeClock();
        const table = new ResponseTable({ clock });
        const owners = [{}, {}, {}];
        let added = 0;
        let settled = 0;
        const counts: number[] = [];
        for (const o of ops) {
          if (o.kind === "add") {
            if (table.has(o.opaque)) continue;
            const id = added++;
            counts[id] = 0;
            const done = (): void => {
              counts[id]!++;
              settled++;
            };
            table.add(o.opaque, owners[o.opaque % 3]!, clock.now() + o.ttl, done, done);
          } else if (o.kind === "complete") table.complete(response(o.opaque));
          else if (o.kind === "fail") table.fail(o.opaque, new Error("x"));
          else if (o.kind === "failAll") table.failAll(owners[o.owner]!, new Error("x"));
          else clock.advance(o.ms);
          assert.equal(table.size, added - settled);
        }
        clock.advance(1000);
        assert.equal(table.size, 0);
        assert.equal(table.deadlineQueueLength, 0);
        assert.equal(clock.timers.size, 0);
        assert.ok(counts.every((c) => c === 1));
      }),
      { numRuns: 200 },
    );
  });

  test("real timers: a 100 ms deadline fires between 100 and 150 ms", async () => {
    const table = new ResponseTable();
    const start = Date.now();
    const elapsed = await new Promise<number>((resolve, reject) => {
      const guard = setTimeout(() => reject(new Error("the time-out never fired")), 1000);
      table.add(
        1,
        {},
        start + 100,
        () => reject(new Error("unexpected response")),
        (err) => {
          clearTimeout(guard);
          if ((err as TimeoutError).code !== ErrorCodes.TIMEOUT) reject(err);
          else resolve(Date.now() - start);
        },
      );
    });
    assert.ok(elapsed >= 100 && elapsed < 150, `fired after ${elapsed} ms`);
    assert.equal(table.size, 0);
  });

  test("the context comes back with the response or the error; the settle hook runs first, once per call", () => {
    const clock = new FakeClock();
    const events: string[] = [];
    const table = new ResponseTable({ clock, settleHook: { settled: () => events.push("settle") } });
    const onResponse = (r: RemotingCommand, ctx: unknown): void => {
      events.push(`response ${r.opaque} ${String(ctx)}`);
    };
    const onError = (e: Error, ctx: unknown): void => {
      events.push(`error ${(e as { code?: string }).code ?? e.message} ${String(ctx)}`);
    };
    const a = {};
    const b = {};
    table.add(1, a, clock.now() + 100, onResponse, onError, "ctx1");
    table.add(2, a, clock.now() + 100, onResponse, onError, "ctx2");
    table.add(3, b, clock.now() + 100, onResponse, onError, "ctx3");
    table.add(4, b, clock.now() + 100, onResponse, onError, "ctx4");
    table.add(5, b, clock.now() + 50, onResponse, onError, "ctx5");
    table.complete(response(1));
    table.fail(2, new Error("send"));
    clock.advance(60);
    table.failAll(b, new Error("closed"));
    assert.deepEqual(events, [
      "settle",
      "response 1 ctx1",
      "settle",
      "error send ctx2",
      "settle",
      `error ${ErrorCodes.TIMEOUT} ctx5`,
      "settle",
      "error closed ctx3",
      "settle",
      "error closed ctx4",
    ]);
    // Late or unknown responses, and ends of calls no longer pending, settle nothing.
    events.length = 0;
    assert.equal(table.complete(response(1)), false);
    assert.equal(table.fail(3, new Error("again")), false);
    clock.advance(1000);
    assert.deepEqual(events, []);
    assert.equal(table.size, 0);
  });

  test("a refused add runs neither the settle hook nor a callback; a throwing hook skips no callback", () => {
    const clock = new FakeClock();
    const logged: string[] = [];
    const logger: Logger = { debug() {}, info() {}, warn() {}, error: (m) => logged.push(m) };
    let settles = 0;
    const table = new ResponseTable({
      clock,
      logger,
      settleHook: {
        settled: () => {
          settles++;
          throw new Error("bad hook");
        },
      },
    });
    const rec = new Recorder();
    rec.add(table, 1, {}, clock.now() + 100);
    assert.throws(() => rec.add(table, 1, {}, clock.now() + 100), { code: ErrorCodes.INVALID_ARGUMENT });
    assert.equal(settles, 0);
    table.complete(response(1));
    assert.equal(settles, 1);
    assert.equal(rec.settlements(1), 1, "the response callback ran although the settle hook threw");
    assert.equal(logged.length, 1);
  });

  test("failAll ends calls in the order they were added, whatever their opaques", () => {
    const clock = new FakeClock();
    const table = new ResponseTable({ clock });
    const owner = {};
    const order: number[] = [];
    // Opaques that share slots of the index (multiples of its 256 slots), negative, and not int32.
    const opaques = [512, 3, 256, -1, 0, 2 ** 32, -256, 1.5, Number.MAX_SAFE_INTEGER, 255];
    for (const opaque of opaques) {
      table.add(opaque, owner, clock.now() + 100, noop, () => order.push(opaque));
    }
    for (const opaque of opaques) assert.equal(table.has(opaque), true, `opaque ${opaque} is pending`);
    assert.equal(table.complete(response(256)), true);
    assert.equal(table.has(256), false);
    assert.equal(table.has(512), true, "a call sharing its slot stays");
    assert.equal(table.failAll(owner, new Error("closed")), opaques.length - 1);
    assert.deepEqual(
      order,
      opaques.filter((o) => o !== 256),
    );
    order.length = 0;
    const other = {};
    for (const opaque of opaques)
      table.add(opaque, other, Number.POSITIVE_INFINITY, noop, () => order.push(opaque));
    assert.equal(table.failAll(other, new Error("shutdown")), opaques.length);
    assert.deepEqual(order, opaques);
    assert.equal(table.size, 0);
  });

  test("property: every call ends exactly once, with opaques that collide in the index", () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant("add" as const), opaque: fc.nat(12), ttl: fc.nat(300) }),
      fc.record({ kind: fc.constant("complete" as const), opaque: fc.nat(12) }),
      fc.record({ kind: fc.constant("fail" as const), opaque: fc.nat(12) }),
      fc.record({ kind: fc.constant("failAll" as const), owner: fc.nat(1) }),
      fc.record({ kind: fc.constant("advance" as const), ms: fc.nat(150) }),
    );
    // Every 4th key shares slot 7 of the index; the others are spread and negative.
    const key = (n: number): number => (n % 4 === 0 ? 7 + 256 * n : -n);
    fc.assert(
      fc.property(fc.array(op, { maxLength: 120 }), (ops) => {
        const clock = new FakeClock();
        let settles = 0;
        const table = new ResponseTable({ clock, settleHook: { settled: () => settles++ } });
        const owners = [{}, {}];
        const ends: number[] = [];
        for (const o of ops) {
          if (o.kind === "add") {
            if (table.has(key(o.opaque))) continue;
            const id = ends.push(0) - 1;
            const done = (_: unknown, ctx: unknown): void => {
              assert.equal(ctx, id);
              ends[id]!++;
            };
            table.add(key(o.opaque), owners[o.opaque % 2]!, clock.now() + o.ttl, done, done, id);
          } else if (o.kind === "complete") table.complete(response(key(o.opaque)));
          else if (o.kind === "fail") table.fail(key(o.opaque), new Error("x"));
          else if (o.kind === "failAll") table.failAll(owners[o.owner]!, new Error("x"));
          else clock.advance(o.ms);
          assert.equal(table.size, ends.filter((n) => n === 0).length);
        }
        clock.advance(1000);
        assert.equal(table.size, 0);
        assert.ok(ends.every((n) => n === 1));
        assert.equal(settles, ends.length);
      }),
      { numRuns: 200 },
    );
  });
});
