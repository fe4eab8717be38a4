/**
 * RemotingClient calls end to end over TCP on 127.0.0.1 (reference §5.2, §6, §9.3–9.4): responses
 * matched by opaque, each call ending exactly once (response, time-out, failFast on close, abort),
 * time-outs near their deadline, late responses dropped and counted, in-flight permits.
 */
import assert from "node:assert/strict";
import { getEventListeners } from "node:events";
import { describe, test } from "node:test";
import {
  ErrorCodes,
  InteropCode,
  RemotingCommand,
  registerInteropClient,
  type SerializeType,
} from "../../src/index.js";
import {
  closedPort,
  countedCallback,
  delayed,
  expectCode,
  failure,
  HangingConnector,
  rawServer,
  request,
  sleep,
  startClient,
  startServer,
  waitFor,
  within,
} from "../helpers/client-fixtures.js";

/** Slack allowed past a deadline: the table's 10 ms timer resolution plus a busy event loop. */
const DEADLINE_SLACK_MS = 50;

describe("responses are matched by opaque", () => {
  test("200 concurrent invokes, answered out of order, each get their own response", async (t) => {
    const s = await startServer(t);
    const client = startClient(t);
    const calls = Array.from({ length: 200 }, (_, i) => {
      // Odd calls are delayed so responses come back in another order than the requests went out.
      const req =
        i % 2 === 0
          ? request(client, InteropCode.ECHO, `body-${i}`)
          : delayed(client, 20 + (i % 7) * 5, `body-${i}`);
      return client.invoke(s.addr, req, { timeoutMs: 3000 }).then((r) => ({ i, r, opaque: req.opaque }));
    });
    const results = await Promise.all(calls);
    assert.equal(results.length, 200);
    for (const { i, r, opaque } of results) {
      assert.equal(r.code, 0);
      assert.ok(r.isResponse);
      assert.equal(r.opaque, opaque);
      assert.equal(r.body?.toString(), `body-${i}`);
    }
    assert.equal(client.pendingCalls, 0);
    assert.equal(s.connections, 1);
  });

  test("invokeSync resolves with the response", async (t) => {
    const s = await startServer(t);
    const client = startClient(t);
    const r = await client.invokeSync(s.addr, request(client, InteropCode.ECHO, "sync"), 2000);
    assert.equal(r.code, 0);
    assert.equal(r.body?.toString(), "sync");
  });

  test("invokeAsync calls operationSucceed exactly once", async (t) => {
    const s = await startServer(t);
    const client = startClient(t);
    const cb = countedCallback();
    client.invokeAsync(s.addr, request(client, InteropCode.ECHO, "async"), 2000, cb.callback);
    await within(cb.settled, 3000, "operationSucceed");
    await sleep(50);
    assert.equal(cb.succeeded.length, 1);
    assert.equal(cb.failed.length, 0);
    assert.equal(cb.succeeded[0]!.body?.toString(), "async");
  });

  test("invokeAsync calls operationFail exactly once, with MQW_ERR_TIMEOUT", async (t) => {
    const s = await startServer(t);
    const client = startClient(t);
    const cb = countedCallback();
    client.invokeAsync(s.addr, request(client, InteropCode.NEVER_REPLIES), 100, cb.callback);
    await within(cb.settled, 3000, "operationFail");
    await sleep(50);
    assert.equal(cb.succeeded.length, 0);
    assert.equal(cb.failed.length, 1);
    assert.equal((cb.failed[0] as { code?: string }).code, ErrorCodes.TIMEOUT);
  });

  test("invokeAsync to a closed port calls operationFail once with MQW_ERR_CONNECT", async (t) => {
    const client = startClient(t);
    const addr = `127.0.0.1:${await closedPort()}`;
    const cb = countedCallback();
    client.invokeAsync(addr, request(client, InteropCode.ECHO), 1000, cb.callback);
    await within(cb.settled, 3000, "operationFail");
    await sleep(20);
    assert.equal(cb.succeeded.length, 0);
    assert.equal(cb.failed.length, 1);
    assert.equal((cb.failed[0] as { code?: string }).code, ErrorCodes.CONNECT);
  });

  test("invokeOneway is written and processed, with no response expected", async (t) => {
    const s = await startServer(t);
    const client = startClient(t);
    for (let i = 0; i < 5; i++)
      await client.invokeOneway(s.addr, request(client, InteropCode.ONEWAY_COUNT), 1000);
    assert.equal(client.pendingCalls, 0);
    await waitFor(() => s.onewayCount === 5, "5 oneway requests processed");
    const r = await client.invoke(s.addr, request(client, InteropCode.READ_COUNT));
    assert.equal(r.getExt("count"), "5");
  });
});

describe("every call ends exactly once", () => {
  test("abort mid-call rejects with exactly signal.reason, at once", async (t) => {
    const s = await startServer(t);
    const client = startClient(t);
    const ac = new AbortController();
    const reason = new Error("caller gave up");
    const startedAt = Date.now();
    const call = client.invoke(s.addr, request(client, InteropCode.NEVER_REPLIES), {
      timeoutMs: 10_000,
      signal: ac.signal,
    });
    setTimeout(() => ac.abort(reason), 50);
    const f = await failure(call, startedAt);
    assert.equal(f.error, reason);
    assert.ok(f.elapsedMs < 1000, `ended after ${f.elapsedMs} ms`);
    assert.equal(client.pendingCalls, 0);
    // The channel survives an abort.
    const r = await client.invoke(s.addr, request(client, InteropCode.ECHO, "after"));
    assert.equal(r.body?.toString(), "after");
    assert.equal(s.connections, 1);
  });

  test("a pre-aborted signal rejects with exactly signal.reason and sends nothing", async (t) => {
    const s = await startServer(t);
    const client = startClient(t);
    await client.invoke(s.addr, request(client, InteropCode.ECHO)); // connect first
    const before = s.requests;
    const reason = new Error("already aborted");
    const f = await failure(
      client.invoke(s.addr, request(client, InteropCode.ECHO), { signal: AbortSignal.abort(reason) }),
    );
    assert.equal(f.error, reason);
    assert.equal(client.pendingCalls, 0);
    await sleep(30);
    assert.equal(s.requests, before);
  });

  test("abort while the connect is still in progress rejects with signal.reason at once", {}, async (t) => {
    const client = startClient(t, { connector: new HangingConnector() });
    const ac = new AbortController();
    const reason = new Error("caller gave up while connecting");
    const call = client.invoke("127.0.0.1:1", request(client, InteropCode.ECHO), {
      timeoutMs: 1000,
      signal: ac.signal,
    });
    call.catch(() => undefined);
    setTimeout(() => ac.abort(reason), 30);
    const startedAt = Date.now();
    const f = await failure(within(call, 500, "the aborted call to end"), startedAt);
    assert.equal(f.error, reason);
  });

  test("server destroying the channel fails every pending call at once with MQW_ERR_CHANNEL_CLOSED", async (t) => {
    const s = await startServer(t);
    const client = startClient(t);
    const startedAt = Date.now();
    const calls = Array.from({ length: 5 }, () =>
      failure(
        client.invoke(s.addr, request(client, InteropCode.NEVER_REPLIES), { timeoutMs: 10_000 }),
        startedAt,
      ),
    );
    await waitFor(() => s.requests === 5, "5 requests on the server");
    for (const channel of s.server.channels) channel.destroy();
    const failures = await Promise.all(calls);
    for (const f of failures) {
      assert.equal(f.error.code, ErrorCodes.CHANNEL_CLOSED);
      assert.ok(f.elapsedMs < 2000, `ended after ${f.elapsedMs} ms, not at once`);
    }
    assert.equal(client.pendingCalls, 0);
  });

  test("server shutdown (grace 0) fails every pending call at once with MQW_ERR_CHANNEL_CLOSED", async (t) => {
    const s = await startServer(t);
    const client = startClient(t);
    const startedAt = Date.now();
    const calls = [
      failure(
        client.invoke(s.addr, request(client, InteropCode.NEVER_REPLIES), { timeoutMs: 10_000 }),
        startedAt,
      ),
      failure(client.invokeSync(s.addr, request(client, InteropCode.NEVER_REPLIES), 10_000), startedAt),
      failure(
        client.invoke(s.addr, request(client, InteropCode.NEVER_REPLIES), { timeoutMs: 10_000 }),
        startedAt,
      ),
    ];
    await waitFor(() => s.requests === 3, "3 requests on the server");
    await s.server.shutdown({ graceMs: 0 });
    for (const f of await Promise.all(calls)) {
      assert.equal(f.error.code, ErrorCodes.CHANNEL_CLOSED);
      assert.ok(f.elapsedMs < 2000, `ended after ${f.elapsedMs} ms, not at once`);
    }
  });

  test("a request that cannot be encoded fails with MQW_ERR_SEND; the channel and the permit survive", async (t) => {
    const s = await startServer(t);
    const client = startClient(t, { asyncPermits: 1 });
    await client.invoke(s.addr, request(client, InteropCode.ECHO));
    const channel = client.channelOf(s.addr);
    const bad = request(client, InteropCode.ECHO);
    bad.serializeType = 7 as SerializeType;
    await expectCode(client.invoke(s.addr, bad, { timeoutMs: 1000 }), ErrorCodes.SEND);
    assert.equal(client.pendingCalls, 0);
    assert.equal(client.channelOf(s.addr), channel);
    const r = await client.invoke(s.addr, request(client, InteropCode.ECHO, "ok"), { timeoutMs: 1000 });
    assert.equal(r.body?.toString(), "ok");
  });

  test("garbage from the peer fails the pending call at once", async (t) => {
    const peer = await rawServer(t, (socket) => {
      socket.once("data", () => socket.write(Buffer.alloc(8, 0xff)));
    });
    const client = startClient(t);
    const startedAt = Date.now();
    const f = await failure(
      client.invoke(peer.addr, request(client, InteropCode.ECHO), { timeoutMs: 10_000 }),
      startedAt,
    );
    assert.equal(f.error.code, ErrorCodes.CHANNEL_CLOSED);
    assert.ok(f.elapsedMs < 2000, `ended after ${f.elapsedMs} ms`);
  });
});

describe("time-outs", () => {
  for (const timeoutMs of [100, 300]) {
    test(`a ${timeoutMs} ms call to a server that never replies times out within ${DEADLINE_SLACK_MS} ms of its deadline`, async (t) => {
      const s = await startServer(t);
      const client = startClient(t);
      await client.invoke(s.addr, request(client, InteropCode.ECHO)); // connect outside the measure
      const startedAt = Date.now();
      const f = await expectCode(
        client.invoke(s.addr, request(client, InteropCode.NEVER_REPLIES), { timeoutMs }),
        ErrorCodes.TIMEOUT,
        startedAt,
      );
      assert.ok(f.elapsedMs >= timeoutMs, `timed out early: ${f.elapsedMs} ms`);
      assert.ok(f.elapsedMs <= timeoutMs + DEADLINE_SLACK_MS, `timed out late: ${f.elapsedMs} ms`);
      assert.equal(client.pendingCalls, 0);
    });
  }

  test("a response arriving after the time-out is dropped and counted in lateResponses", async (t) => {
    const s = await startServer(t);
    const client = startClient(t);
    await client.invoke(s.addr, request(client, InteropCode.ECHO));
    const channel = client.channelOf(s.addr);
    assert.ok(channel);
    assert.equal(client.lateResponses, 0);
    await expectCode(client.invoke(s.addr, delayed(client, 200), { timeoutMs: 100 }), ErrorCodes.TIMEOUT);
    await waitFor(() => client.lateResponses === 1, "the late response");
    await sleep(30);
    assert.equal(client.lateResponses, 1);
    // invoke (the promise form) does not close the channel on a time-out.
    assert.equal(client.channelOf(s.addr), channel);
    assert.equal(s.connections, 1);
  });

  test("a response to a call that another call's opaque cannot match is never delivered twice", async (t) => {
    const s = await startServer(t);
    const client = startClient(t);
    const a = delayed(client, 150, "a");
    const callA = client.invoke(s.addr, a, { timeoutMs: 50 });
    await expectCode(callA, ErrorCodes.TIMEOUT);
    // A new call gets a new opaque: the late answer to `a` cannot complete it.
    const b = request(client, InteropCode.ECHO, "b");
    assert.notEqual(b.opaque, a.opaque);
    const rb = await client.invoke(s.addr, b);
    assert.equal(rb.body?.toString(), "b");
    await waitFor(() => client.lateResponses === 1, "the late response to a");
  });
});

describe("in-flight permits", () => {
  test("with asyncPermits 2 a third call waits for a permit and still succeeds", async (t) => {
    const s = await startServer(t);
    const client = startClient(t, { asyncPermits: 2 });
    await client.invoke(s.addr, request(client, InteropCode.ECHO));
    const startedAt = Date.now();
    const calls = [1, 2, 3].map((i) =>
      client
        .invoke(s.addr, delayed(client, 300, `p${i}`), { timeoutMs: 3000 })
        .then((r) => ({ r, at: Date.now() - startedAt })),
    );
    const results = await Promise.all(calls);
    for (const [i, { r }] of results.entries()) assert.equal(r.body?.toString(), `p${i + 1}`);
    // The third could only start once one of the first two had answered.
    assert.ok(results[2]!.at >= 550, `third answered after ${results[2]!.at} ms`);
  });

  test("waiting for a permit counts against the time-out: MQW_ERR_TIMEOUT", async (t) => {
    const s = await startServer(t);
    const client = startClient(t, { asyncPermits: 2 });
    await client.invoke(s.addr, request(client, InteropCode.ECHO));
    // Read before the calls: a deadline counts from the clock read once per synchronous run
    // (the client's reader of its clock), i.e. at the first of these calls, which a later Date.now()
    // can pass by 1 ms.
    const startedAt = Date.now();
    const held = [client.invoke(s.addr, delayed(client, 300)), client.invoke(s.addr, delayed(client, 300))];
    const f = await expectCode(
      client.invoke(s.addr, delayed(client, 10), { timeoutMs: 100 }),
      ErrorCodes.TIMEOUT,
      startedAt,
    );
    assert.ok(f.elapsedMs >= 100 && f.elapsedMs < 300, `failed after ${f.elapsedMs} ms`);
    await Promise.all(held);
  });

  test("timeoutMs 0 and no free permit: MQW_ERR_TOO_MANY_REQUESTS", async (t) => {
    const s = await startServer(t);
    const client = startClient(t, { asyncPermits: 2 });
    await client.invoke(s.addr, request(client, InteropCode.ECHO));
    const held = [client.invoke(s.addr, delayed(client, 200)), client.invoke(s.addr, delayed(client, 200))];
    await expectCode(
      client.invoke(s.addr, request(client, InteropCode.ECHO), { timeoutMs: 0 }),
      ErrorCodes.TOO_MANY_REQUESTS,
    );
    await expectCode(
      client.invokeSync(s.addr, request(client, InteropCode.ECHO), 0),
      ErrorCodes.TOO_MANY_REQUESTS,
    );
    await Promise.all(held);
    // Every permit came back.
    const after = await Promise.all(
      [1, 2].map(() => client.invoke(s.addr, request(client, InteropCode.ECHO))),
    );
    assert.equal(after.length, 2);
  });

  test("oneway permits are held while the channel is unwritable; none free: TOO_MANY_REQUESTS or TIMEOUT", async (t) => {
    const peer = await rawServer(t, (socket) => socket.pause());
    const client = startClient(t, { onewayPermits: 1 });
    // 12 MiB to a peer that does not read: more than loopback socket buffers hold, so no drain.
    const big = client.createRequest(InteropCode.ONEWAY_COUNT, { body: Buffer.alloc(12 * 1024 * 1024, 1) });
    await client.invokeOneway(peer.addr, big, 3000);
    await sleep(50);
    assert.equal(client.isChannelWritable(peer.addr), false);
    await expectCode(
      client.invokeOneway(peer.addr, request(client, InteropCode.ONEWAY_COUNT), 0),
      ErrorCodes.TOO_MANY_REQUESTS,
    );
    const startedAt = Date.now();
    const f = await expectCode(
      client.invokeOneway(peer.addr, request(client, InteropCode.ONEWAY_COUNT), 100),
      ErrorCodes.TIMEOUT,
      startedAt,
    );
    assert.ok(f.elapsedMs >= 100, `failed after ${f.elapsedMs} ms`);
    // Once the peer reads, the channel drains and the permit returns.
    for (const s of peer.sockets) s.resume();
    await client.invokeOneway(peer.addr, request(client, InteropCode.ONEWAY_COUNT), 3000);
    assert.equal(client.isChannelWritable(peer.addr), true);
  });
});

describe("call options, hooks and pushed requests", () => {
  test("defaultTimeoutMs applies when a call names no time-out; a negative one is refused", async (t) => {
    const s = await startServer(t);
    const client = startClient(t, { defaultTimeoutMs: 100 });
    // Connects with a time-out of its own: on a loaded machine a connect can take over 100 ms.
    await client.invoke(s.addr, request(client, InteropCode.ECHO), { timeoutMs: 5_000 });
    const startedAt = Date.now();
    const f = await expectCode(
      client.invoke(s.addr, request(client, InteropCode.NEVER_REPLIES)),
      ErrorCodes.TIMEOUT,
      startedAt,
    );
    assert.ok(
      f.elapsedMs >= 100 && f.elapsedMs <= 100 + DEADLINE_SLACK_MS,
      `timed out after ${f.elapsedMs} ms`,
    );
    await expectCode(
      client.invoke(s.addr, request(client, InteropCode.ECHO), { timeoutMs: -1 }),
      ErrorCodes.INVALID_ARGUMENT,
    );
  });

  test("abort releases the permit; abort while waiting for a permit rejects with the reason", async (t) => {
    const s = await startServer(t);
    const client = startClient(t, { asyncPermits: 1 });
    await client.invoke(s.addr, request(client, InteropCode.ECHO));
    const ac1 = new AbortController();
    const held = client.invoke(s.addr, request(client, InteropCode.NEVER_REPLIES), {
      timeoutMs: 10_000,
      signal: ac1.signal,
    });
    const ac2 = new AbortController();
    const waiting = client.invoke(s.addr, request(client, InteropCode.ECHO), {
      timeoutMs: 10_000,
      signal: ac2.signal,
    });
    const reason2 = new Error("tired of waiting");
    setTimeout(() => ac2.abort(reason2), 30);
    assert.equal((await failure(waiting)).error, reason2);
    const reason1 = new Error("give the permit back");
    ac1.abort(reason1);
    assert.equal((await failure(held)).error, reason1);
    // The only permit is free again: a call with no time to wait gets it.
    const r = await client.invoke(s.addr, request(client, InteropCode.ECHO, "free"), { timeoutMs: 1000 });
    assert.equal(r.body?.toString(), "free");
  });

  test("a call's abort listener is removed however the call ends: response, time-out or failure", async (t) => {
    const s = await startServer(t);
    const client = startClient(t);
    await client.invoke(s.addr, request(client, InteropCode.ECHO));
    const signal = new AbortController().signal;
    const r = await client.invoke(s.addr, request(client, InteropCode.ECHO, "x"), { signal });
    assert.equal(r.body?.toString(), "x");
    assert.equal(getEventListeners(signal, "abort").length, 0, "after a response");
    await expectCode(
      client.invoke(s.addr, request(client, InteropCode.NEVER_REPLIES), { signal, timeoutMs: 50 }),
      ErrorCodes.TIMEOUT,
    );
    assert.equal(getEventListeners(signal, "abort").length, 0, "after a time-out");
    const bad = request(client, InteropCode.ECHO);
    bad.serializeType = 7 as SerializeType;
    await expectCode(client.invoke(s.addr, bad, { signal }), ErrorCodes.SEND);
    assert.equal(getEventListeners(signal, "abort").length, 0, "after a failed write");
    assert.equal(client.pendingCalls, 0);
  });

  test("asyncPermits 1: every way a call ends gives its permit back exactly once", async (t) => {
    const s = await startServer(t);
    const client = startClient(t, { asyncPermits: 1 });
    await client.invoke(s.addr, request(client, InteropCode.ECHO));
    const ends: string[] = [];
    for (let round = 0; round < 3; round++) {
      // Each call needs the only permit at once (timeoutMs 0 would refuse a wait).
      const cb = countedCallback();
      client.invokeAsync(s.addr, request(client, InteropCode.ECHO), 1000, cb.callback);
      await within(cb.settled, 3000, "invokeAsync");
      ends.push(`async ${cb.succeeded.length}/${cb.failed.length}`);
      await expectCode(
        client.invoke(s.addr, request(client, InteropCode.NEVER_REPLIES), { timeoutMs: 30 }),
        ErrorCodes.TIMEOUT,
      );
      const bad = request(client, InteropCode.ECHO);
      bad.serializeType = 7 as SerializeType;
      await expectCode(client.invoke(s.addr, bad), ErrorCodes.SEND);
      const r = await client.invokeSync(s.addr, request(client, InteropCode.ECHO, `r${round}`), 1000);
      ends.push(r.body!.toString());
    }
    assert.deepEqual(ends, ["async 1/0", "r0", "async 1/0", "r1", "async 1/0", "r2"]);
    // Two permits would let both of these in; one lets the second wait, then fail fast.
    const held = client.invoke(s.addr, delayed(client, 100), { timeoutMs: 1000 });
    await expectCode(
      client.invoke(s.addr, request(client, InteropCode.ECHO), { timeoutMs: 0 }),
      ErrorCodes.TOO_MANY_REQUESTS,
    );
    await held;
  });

  test("RPC hooks run before every call and after successful ones only", async (t) => {
    const s = await startServer(t);
    const client = startClient(t);
    const seen: string[] = [];
    client.registerRpcHook({
      doBeforeRequest: (addr, req) => {
        seen.push(`before ${req.code} ${addr === s.addr}`);
        req.setExt("signed", "yes");
      },
      doAfterResponse: (_addr, req, res) => {
        seen.push(`after ${req.code} ${res?.code}`);
      },
    });
    const r = await client.invoke(s.addr, request(client, InteropCode.ECHO));
    assert.equal(r.getExt("signed"), "yes");
    await expectCode(
      client.invoke(s.addr, request(client, InteropCode.NEVER_REPLIES), { timeoutMs: 50 }),
      ErrorCodes.TIMEOUT,
    );
    assert.deepEqual(seen, ["before 100 true", "after 100 0", "before 102 true"]);
  });

  test("the client answers requests the server pushes on its channel", async (t) => {
    const s = await startServer(t);
    const client = startClient(t);
    registerInteropClient(client);
    const r = await client.invoke(s.addr, request(client, InteropCode.PUSH, "hello"), { timeoutMs: 2000 });
    assert.equal(r.code, 0);
    assert.equal(r.getExt("pushResponseCode"), "0");
    assert.equal(r.body?.toString(), "pong:hello");
  });
});

test("a request object is matched only by its own opaque (responses carry it back)", async (t) => {
  const s = await startServer(t);
  const client = startClient(t);
  const req = RemotingCommand.createRequest(InteropCode.ECHO, { body: Buffer.from("x") });
  const r = await client.invoke(s.addr, req);
  assert.equal(r.opaque, req.opaque);
});
