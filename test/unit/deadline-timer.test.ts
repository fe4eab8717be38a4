/**
 * DeadlineTimer, the one rule for every deadline (grpc-js src/deadline.ts): setTimeout never gets
 * more than 2^31-1 ms, a timer that fires early re-arms, Infinity arms nothing. On a fake clock.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { DeadlineTimer, MAX_TIMER_DELAY_MS } from "../../src/clock.js";
import { FakeClock } from "../helpers/fake-clock.js";

/** The delays handed to setTimeout, in order. */
function recordDelays(clock: FakeClock): number[] {
  const delays: number[] = [];
  const setTimeout = clock.setTimeout.bind(clock);
  clock.setTimeout = (callback, delayMs) => {
    delays.push(delayMs);
    return setTimeout(callback, delayMs);
  };
  return delays;
}

describe("DeadlineTimer", () => {
  test("a deadline past 2^31-1 ms is reached by a clamped timer that re-arms", () => {
    const clock = new FakeClock();
    const delays = recordDelays(clock);
    let fired = 0;
    const timer = new DeadlineTimer(clock.now() + 2 ** 31 + 5, () => fired++, clock);
    assert.deepEqual(delays, [MAX_TIMER_DELAY_MS]);
    clock.advance(MAX_TIMER_DELAY_MS);
    assert.equal(fired, 0, "fired before its deadline");
    assert.deepEqual(delays, [MAX_TIMER_DELAY_MS, 6]);
    assert.equal(timer.isArmed, true);
    clock.advance(6);
    assert.equal(fired, 1);
    assert.equal(timer.isArmed, false);
    assert.equal(clock.timers.size, 0);
  });

  test("a timer that fires before the clock reaches the deadline re-arms for the rest", () => {
    const clock = new FakeClock();
    const delays = recordDelays(clock);
    let fired = 0;
    new DeadlineTimer(clock.now() + 100, () => fired++, clock);
    clock.time += 97; // Date.now lags the timer clock by 3 ms when the timer fires
    const [id, entry] = [...clock.timers][0]!;
    clock.timers.delete(id);
    entry.callback();
    assert.equal(fired, 0);
    assert.deepEqual(delays, [100, 3]);
    clock.advance(3);
    assert.equal(fired, 1);
  });

  test("Infinity is no deadline: no timer at all", () => {
    const clock = new FakeClock();
    let fired = 0;
    const timer = new DeadlineTimer(Number.POSITIVE_INFINITY, () => fired++, clock);
    assert.equal(clock.timers.size, 0);
    assert.equal(timer.isArmed, false);
    clock.advance(MAX_TIMER_DELAY_MS * 2);
    timer.cancel();
    assert.equal(fired, 0);
  });

  test("a deadline already passed fires on the next timer turn; cancel is idempotent", () => {
    const clock = new FakeClock();
    let fired = 0;
    const past = new DeadlineTimer(clock.now() - 10, () => fired++, clock);
    assert.equal(fired, 0, "never synchronously");
    clock.advance(0);
    assert.equal(fired, 1);
    past.cancel();
    const cancelled = new DeadlineTimer(clock.now() + 10, () => fired++, clock);
    cancelled.cancel();
    cancelled.cancel();
    clock.advance(20);
    assert.equal(fired, 1);
    assert.equal(clock.timers.size, 0);
  });
});
