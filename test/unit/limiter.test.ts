import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { MAX_TIMER_DELAY_MS } from "../../src/clock.js";
import { ErrorCodes } from "../../src/errors.js";
import { ConcurrencyLimiter, Semaphore } from "../../src/limiter.js";
import { FakeClock } from "../helpers/fake-clock.js";

type Tracked = { state: "pending" | "fulfilled" | "rejected"; reason?: unknown };
function track(promise: Promise<unknown>): Tracked {
  const t: Tracked = { state: "pending" };
  promise.then(
    () => {
      t.state = "fulfilled";
    },
    (reason) => {
      t.state = "rejected";
      t.reason = reason;
    },
  );
  return t;
}
const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function deferred(): { promise: Promise<void>; resolve: () => void; reject: (e: unknown) => void } {
  let resolve!: () => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe("Semaphore", () => {
  test("tryAcquire takes permits until none is left; release returns them", () => {
    const sem = new Semaphore({ permits: 2, clock: new FakeClock() });
    assert.equal(sem.tryAcquire(), true);
    assert.equal(sem.tryAcquire(), true);
    assert.equal(sem.tryAcquire(), false);
    assert.equal(sem.available, 0);
    sem.release();
    assert.equal(sem.available, 1);
  });

  test("release beyond the configured permits throws", () => {
    const sem = new Semaphore({ permits: 1, clock: new FakeClock() });
    assert.throws(() => sem.release(), { code: ErrorCodes.INVALID_ARGUMENT });
  });

  test("invalid options are refused", () => {
    assert.throws(() => new Semaphore({ permits: 0 }), { code: ErrorCodes.INVALID_ARGUMENT });
    assert.throws(() => new Semaphore({ permits: 1, maxWaiters: -1 }), { code: ErrorCodes.INVALID_ARGUMENT });
  });

  test("waiters get permits in FIFO order, handed over directly", async () => {
    const clock = new FakeClock();
    const sem = new Semaphore({ permits: 1, clock });
    assert.equal(sem.tryAcquire(), true);
    const order: string[] = [];
    const names = ["a", "b", "c"];
    for (const name of names) void sem.acquire(clock.now() + 1000).then(() => order.push(name));
    assert.equal(sem.waiting, 3);
    for (let i = 0; i < 3; i++) {
      sem.release();
      await flush();
      assert.equal(sem.available, 0, "the permit goes to the waiter, not the pool");
      assert.equal(sem.tryAcquire(), false, "nobody overtakes the queue");
    }
    assert.deepEqual(order, names);
    assert.equal(sem.waiting, 0);
    assert.equal(clock.timers.size, 0, "timers of served waiters are cleared");
  });

  test("acquire with a free permit resolves even with no time left", async () => {
    const clock = new FakeClock();
    const sem = new Semaphore({ permits: 1, clock });
    await sem.acquire(clock.now() - 1);
    assert.equal(sem.available, 0);
  });

  test("no permit and no time left: TooManyRequestsError (invoke too fast)", async () => {
    const clock = new FakeClock();
    const sem = new Semaphore({ permits: 1, clock });
    sem.tryAcquire();
    await assert.rejects(sem.acquire(clock.now()), { code: ErrorCodes.TOO_MANY_REQUESTS });
    assert.equal(sem.waiting, 0);
  });

  test("a waiter past its deadline rejects with TimeoutError and leaves the queue", async () => {
    const clock = new FakeClock();
    const sem = new Semaphore({ permits: 1, clock });
    sem.tryAcquire();
    const first = track(sem.acquire(clock.now() + 100));
    const second = track(sem.acquire(clock.now() + 500));
    clock.advance(99);
    await flush();
    assert.equal(first.state, "pending");
    clock.advance(1);
    await flush();
    assert.equal(first.state, "rejected");
    assert.equal((first.reason as { code: string }).code, ErrorCodes.TIMEOUT);
    assert.equal(sem.waiting, 1);
    sem.release();
    await flush();
    assert.equal(second.state, "fulfilled", "the next waiter is still served");
    assert.equal(clock.timers.size, 0);
  });

  test("a deadline beyond the longest timer delay re-arms instead of firing early", async () => {
    const clock = new FakeClock();
    const sem = new Semaphore({ permits: 1, clock });
    sem.tryAcquire();
    const waiter = track(sem.acquire(clock.now() + MAX_TIMER_DELAY_MS + 5000));
    clock.advance(MAX_TIMER_DELAY_MS);
    await flush();
    assert.equal(waiter.state, "pending");
    clock.advance(5000);
    await flush();
    assert.equal(waiter.state, "rejected");
    assert.equal((waiter.reason as { code: string }).code, ErrorCodes.TIMEOUT);
  });

  test("the wait queue is bounded: TooManyRequestsError beyond maxWaiters", async () => {
    const clock = new FakeClock();
    const sem = new Semaphore({ permits: 1, maxWaiters: 2, clock });
    sem.tryAcquire();
    void sem.acquire(clock.now() + 1000).catch(() => {});
    void sem.acquire(clock.now() + 1000).catch(() => {});
    await assert.rejects(sem.acquire(clock.now() + 1000), { code: ErrorCodes.TOO_MANY_REQUESTS });
    assert.equal(sem.waiting, 2);
  });

  test("abort rejects with the signal's reason and leaves the queue", async () => {
    const clock = new FakeClock();
    const sem = new Semaphore({ permits: 1, clock });
    sem.tryAcquire();
    const controller = new AbortController();
    const aborted = track(sem.acquire(clock.now() + 1000, controller.signal));
    const next = track(sem.acquire(clock.now() + 1000));
    const reason = new Error("stop");
    controller.abort(reason);
    await flush();
    assert.equal(aborted.state, "rejected");
    assert.equal(aborted.reason, reason);
    assert.equal(sem.waiting, 1);
    assert.equal(clock.timers.size, 1, "only the remaining waiter's timer is left");
    sem.release();
    await flush();
    assert.equal(next.state, "fulfilled");
  });

  test("an already aborted signal rejects at once without taking a permit", async () => {
    const sem = new Semaphore({ permits: 1, clock: new FakeClock() });
    const reason = new Error("gone");
    await assert.rejects(
      sem.acquire(Number.POSITIVE_INFINITY, AbortSignal.abort(reason)),
      (err) => err === reason,
    );
    assert.equal(sem.available, 1);
  });
});

describe("ConcurrencyLimiter", () => {
  test("a synchronous task runs and finishes inside tryRun", () => {
    const limiter = new ConcurrencyLimiter({ concurrency: 1 });
    let ran = 0;
    assert.equal(
      limiter.tryRun(() => {
        ran++;
        return 42;
      }),
      true,
    );
    assert.equal(ran, 1);
    assert.equal(limiter.active, 0, "no promise was involved");
    assert.equal(limiter.queued, 0);
  });

  test("async tasks beyond the concurrency queue and start in FIFO order", async () => {
    const limiter = new ConcurrencyLimiter({ concurrency: 2 });
    const gates = Array.from({ length: 5 }, () => deferred());
    const started: number[] = [];
    for (const [i, gate] of gates.entries()) {
      const task = (): Promise<void> => {
        started.push(i);
        return gate.promise;
      };
      assert.equal(limiter.tryRun(task), true);
    }
    assert.deepEqual(started, [0, 1]);
    assert.equal(limiter.active, 2);
    assert.equal(limiter.queued, 3);
    gates[1]!.resolve();
    await flush();
    assert.deepEqual(started, [0, 1, 2]);
    for (const gate of gates) gate.resolve();
    await flush();
    assert.deepEqual(started, [0, 1, 2, 3, 4]);
    assert.equal(limiter.active, 0);
  });

  test("tryRun returns false when the queue is full", () => {
    const limiter = new ConcurrencyLimiter({ concurrency: 1, maxQueue: 2 });
    const gate = deferred();
    assert.equal(
      limiter.tryRun(() => gate.promise),
      true,
    );
    assert.equal(
      limiter.tryRun(() => {}),
      true,
    );
    assert.equal(
      limiter.tryRun(() => {}),
      true,
    );
    assert.equal(
      limiter.tryRun(() => {}),
      false,
    );
    assert.equal(limiter.queued, 2);
  });

  test("throws and rejections are reported and the limiter continues", async () => {
    const errors: unknown[] = [];
    const limiter = new ConcurrencyLimiter({ concurrency: 1, onError: (e) => errors.push(e) });
    const thrown = new Error("sync");
    const rejected = new Error("async");
    limiter.tryRun(() => {
      throw thrown;
    });
    limiter.tryRun(() => Promise.reject(rejected));
    let after = 0;
    limiter.tryRun(() => {
      after++;
    });
    await flush();
    assert.deepEqual(errors, [thrown, rejected]);
    assert.equal(after, 1);
    assert.equal(limiter.active, 0);
  });

  test("saturated from the high-water mark until the low-water mark, then drain once", async () => {
    const limiter = new ConcurrencyLimiter({
      concurrency: 1,
      maxQueue: 10,
      highWaterMark: 4,
      lowWaterMark: 1,
    });
    let drains = 0;
    const unsubscribe = limiter.onDrain(() => drains++);
    const gates = Array.from({ length: 5 }, () => deferred());
    for (const gate of gates) limiter.tryRun(() => gate.promise);
    assert.equal(limiter.queued, 4);
    assert.equal(limiter.saturated, true);
    gates[0]!.resolve();
    gates[1]!.resolve();
    await flush();
    assert.equal(limiter.queued, 2);
    assert.equal(limiter.saturated, true, "hysteresis: still saturated above the low-water mark");
    assert.equal(drains, 0);
    gates[2]!.resolve();
    await flush();
    assert.equal(limiter.queued, 1);
    assert.equal(limiter.saturated, false);
    assert.equal(drains, 1);
    unsubscribe();
    for (const gate of gates) gate.resolve();
    await flush();
    assert.equal(limiter.active, 0);
    for (let i = 0; i < 5; i++) limiter.tryRun(() => deferred().promise);
    assert.equal(limiter.saturated, true);
    assert.equal(drains, 1, "an unsubscribed listener is not called");
  });

  test("a long run of queued synchronous tasks drains in one pass without recursion", async () => {
    const limiter = new ConcurrencyLimiter({ concurrency: 1, maxQueue: 20_000 });
    const gate = deferred();
    limiter.tryRun(() => gate.promise);
    let ran = 0;
    for (let i = 0; i < 20_000; i++)
      assert.equal(
        limiter.tryRun(() => {
          ran++;
        }),
        true,
      );
    gate.resolve();
    await flush();
    assert.equal(ran, 20_000);
    assert.equal(limiter.queued, 0);
    assert.equal(limiter.active, 0);
  });

  test("a task that queues work while holding the last slot sees it run when it returns", () => {
    const limiter = new ConcurrencyLimiter({ concurrency: 1 });
    const order: string[] = [];
    limiter.tryRun(() => {
      order.push("outer");
      limiter.tryRun(() => {
        order.push("inner");
      });
      order.push("outer-end");
    });
    assert.deepEqual(order, ["outer", "outer-end", "inner"]);
    assert.equal(limiter.queued, 0);
  });

  test("tryRunWith runs the runner on its pair now, or queues the pair in FIFO order with tasks", async () => {
    const gates = Array.from({ length: 4 }, () => deferred());
    const ran: string[] = [];
    const limiter = new ConcurrencyLimiter<string, number>({
      concurrency: 1,
      maxQueue: 3,
      runner: (name, i) => {
        ran.push(`${name}${i}`);
        return gates[i]!.promise;
      },
    });
    assert.equal(limiter.tryRunWith("a", 0), true);
    assert.deepEqual(ran, ["a0"], "a free slot: the runner ran inside tryRunWith");
    assert.equal(limiter.tryRunWith("b", 1), true);
    assert.equal(
      limiter.tryRun(() => {
        ran.push("task");
      }),
      true,
    );
    assert.equal(limiter.tryRunWith("c", 2), true);
    assert.equal(limiter.queued, 3);
    assert.equal(limiter.tryRunWith("d", 3), false, "the queue is full");
    assert.equal(limiter.queued, 3);
    gates[0]!.resolve();
    await flush();
    assert.deepEqual(ran, ["a0", "b1"]);
    gates[1]!.resolve();
    await flush();
    assert.deepEqual(ran, ["a0", "b1", "task", "c2"], "a synchronous task frees its slot at once");
    gates[2]!.resolve();
    await flush();
    assert.equal(limiter.active, 0);
    assert.equal(limiter.queued, 0);
  });

  test("a runner that throws or rejects is reported and frees its slot; no runner: tryRunWith throws", async () => {
    const errors: unknown[] = [];
    const boom = new Error("sync");
    const limiter = new ConcurrencyLimiter<number, number>({
      concurrency: 1,
      onError: (e) => errors.push(e),
      runner: (a, b) => {
        if (a === 0) throw boom;
        return Promise.reject(b);
      },
    });
    assert.equal(limiter.tryRunWith(0, 0), true);
    assert.equal(limiter.tryRunWith(1, 42), true);
    await flush();
    assert.deepEqual(errors, [boom, 42]);
    assert.equal(limiter.active, 0);
    assert.throws(() => new ConcurrencyLimiter().tryRunWith(1, 2), { code: ErrorCodes.INVALID_ARGUMENT });
  });

  test("invalid options are refused", () => {
    assert.throws(() => new ConcurrencyLimiter({ concurrency: 0 }), { code: ErrorCodes.INVALID_ARGUMENT });
    assert.throws(() => new ConcurrencyLimiter({ maxQueue: -1 }), { code: ErrorCodes.INVALID_ARGUMENT });
    assert.throws(() => new ConcurrencyLimiter({ highWaterMark: 4, lowWaterMark: 4 }), {
      code: ErrorCodes.INVALID_ARGUMENT,
    });
  });
});
