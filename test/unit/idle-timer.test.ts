import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Clock } from "../../src/clock.js";
import { ErrorCodes } from "../../src/errors.js";
import { IdleTimer } from "../../src/transport/idle-timer.js";
import type { IdleKind } from "../../src/transport/transport.js";

/** A hand-driven clock: timers run only inside advance(), in deadline order. */
class FakeClock implements Clock {
  t = 1_000_000;
  #nextId = 1;
  readonly timers = new Map<number, { at: number; fn: () => void }>();
  /** Every delay ever passed to setTimeout. */
  readonly delays: number[] = [];
  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, delayMs: number): unknown {
    const id = this.#nextId++;
    this.delays.push(delayMs);
    this.timers.set(id, { at: this.t + delayMs, fn });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      let next: [number, { at: number; fn: () => void }] | undefined;
      for (const entry of this.timers)
        if (entry[1].at <= end && (!next || entry[1].at < next[1].at)) next = entry;
      if (!next) break;
      this.timers.delete(next[0]);
      this.t = Math.max(this.t, next[1].at);
      next[1].fn();
    }
    this.t = end;
  }
}

function setup(options: ConstructorParameters<typeof IdleTimer>[2]) {
  const clock = new FakeClock();
  const activity = { lastReadAt: clock.t, lastWriteAt: clock.t };
  const events: Array<[IdleKind, number]> = [];
  const timer = new IdleTimer(activity, (kind) => events.push([kind, clock.t - start]), options, clock);
  const start = clock.t;
  return { clock, activity, events, timer, start };
}

describe("IdleTimer", () => {
  test("reader idle fires after the threshold, then once per further full period", () => {
    const { clock, events, timer } = setup({ readerIdleMs: 100 });
    timer.start();
    clock.advance(99);
    assert.deepEqual(events, []);
    clock.advance(1);
    assert.deepEqual(events, [["reader", 100]]);
    clock.advance(99);
    assert.equal(events.length, 1, "not again before a full period");
    clock.advance(1);
    assert.deepEqual(events, [
      ["reader", 100],
      ["reader", 200],
    ]);
  });

  test("activity restarts the period, computed from last-activity times", () => {
    const { clock, activity, events, timer } = setup({ readerIdleMs: 100 });
    timer.start();
    clock.advance(60);
    activity.lastReadAt = clock.t; // a read at 60: nothing touches the timer
    clock.advance(99); // t=159: the wake-up at 100 saw the read and re-armed for 160
    assert.deepEqual(events, []);
    clock.advance(1);
    assert.deepEqual(events, [["reader", 160]]);
    // Activity after a firing: the next one counts from that activity.
    clock.advance(30);
    activity.lastReadAt = clock.t; // t=190
    clock.advance(99);
    assert.equal(events.length, 1);
    clock.advance(1);
    assert.deepEqual(events.at(-1), ["reader", 290]);
  });

  test("writer idle watches writes only; all idle watches both", () => {
    const { clock, activity, events, timer } = setup({ writerIdleMs: 50, allIdleMs: 80 });
    timer.start();
    // Keep reading every 10 ms: writer idle still fires, all idle must not.
    for (let i = 0; i < 10; i++) {
      clock.advance(10);
      activity.lastReadAt = clock.t;
    }
    assert.deepEqual(events, [
      ["writer", 50],
      ["writer", 100],
    ]);
    clock.advance(80); // no more activity: all idle at 100 + 80
    assert.deepEqual(events.at(-1), ["all", 180]);
  });

  test("one timer at a time, no timer work per activity", () => {
    const { clock, activity, timer } = setup({ readerIdleMs: 100, writerIdleMs: 70, allIdleMs: 300 });
    timer.start();
    const armed = clock.delays.length;
    for (let i = 0; i < 1000; i++) {
      activity.lastReadAt = clock.t + i;
      activity.lastWriteAt = clock.t + i;
    }
    assert.equal(clock.delays.length, armed, "activity alone arms nothing");
    for (let i = 0; i < 50; i++) {
      clock.advance(37);
      assert.ok(clock.timers.size <= 1, "never more than one pending timer");
    }
    assert.equal(clock.timers.size, 1);
  });

  test("wakes at the earliest deadline over the enabled kinds", () => {
    const { clock, timer } = setup({ readerIdleMs: 100, writerIdleMs: 70, allIdleMs: 300 });
    timer.start();
    assert.deepEqual(clock.delays, [70]);
  });

  test("stop() clears the timer and ends events; start() re-arms", () => {
    const { clock, events, timer } = setup({ allIdleMs: 20 });
    timer.start();
    assert.equal(clock.timers.size, 1);
    assert.ok(timer.isRunning);
    timer.stop();
    timer.stop();
    assert.equal(clock.timers.size, 0);
    assert.equal(timer.isRunning, false);
    clock.advance(1000);
    assert.deepEqual(events, []);
    timer.start();
    clock.advance(20);
    assert.equal(events.length, 1);
  });

  test("a handler that stops the timer gets no further kinds and leaves no timer", () => {
    const clock = new FakeClock();
    const activity = { lastReadAt: clock.t, lastWriteAt: clock.t };
    const kinds: IdleKind[] = [];
    const timer = new IdleTimer(
      activity,
      (kind) => {
        kinds.push(kind);
        timer.stop();
      },
      { readerIdleMs: 10, writerIdleMs: 10, allIdleMs: 10 },
      clock,
    );
    timer.start();
    clock.advance(100);
    assert.deepEqual(kinds, ["reader"]);
    assert.equal(clock.timers.size, 0);
  });

  test("setOptions replaces thresholds and restarts periods", () => {
    const { clock, events, timer } = setup({ readerIdleMs: 100 });
    timer.start();
    clock.advance(50);
    timer.setOptions({ readerIdleMs: 30 });
    assert.equal(clock.timers.size, 1);
    clock.advance(29);
    assert.deepEqual(events, []);
    clock.advance(1);
    assert.deepEqual(events, [["reader", 80]]);
    timer.setOptions({});
    assert.equal(clock.timers.size, 0, "all kinds disabled: no timer");
  });

  test("all thresholds 0: start() arms nothing", () => {
    const { clock, timer } = setup({});
    timer.start();
    assert.equal(clock.timers.size, 0);
    assert.equal(timer.isRunning, false);
  });

  test("huge thresholds are clamped to the largest setTimeout delay", () => {
    const { clock, timer } = setup({ allIdleMs: 10 * 2 ** 31 });
    timer.start();
    assert.deepEqual(clock.delays, [2 ** 31 - 1]);
  });

  test("invalid thresholds throw MQW_ERR_INVALID_ARGUMENT", () => {
    const clock = new FakeClock();
    const a = { lastReadAt: 0, lastWriteAt: 0 };
    for (const bad of [{ readerIdleMs: -1 }, { writerIdleMs: 1.5 }, { allIdleMs: Number.NaN }]) {
      assert.throws(() => new IdleTimer(a, () => {}, bad, clock), { code: ErrorCodes.INVALID_ARGUMENT });
    }
  });
});
