import assert from "node:assert/strict";
import { once } from "node:events";
import type { Duplex } from "node:stream";
import { describe, test } from "node:test";
import type { Clock } from "../../src/clock.js";
import { ErrorCodes, SendError } from "../../src/errors.js";
import { createMemoryPair } from "../../src/transport/memory.js";
import { COALESCE_COPY_MAX_BYTES, SocketTransport } from "../../src/transport/socket-transport.js";
import { TcpAcceptor, TcpConnector } from "../../src/transport/tcp.js";
import type { IdleKind } from "../../src/transport/transport.js";

/** Waits for one event; rejects after `ms` so a callback that never comes fails the test. */
function next(emitter: NodeJS.EventEmitter, event: string, ms = 3000): Promise<unknown[]> {
  return once(emitter, event, { signal: AbortSignal.timeout(ms) });
}
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Two connected raw Duplexes: [client, server]. */
type PairFactory = () => Promise<[Duplex, Duplex]>;

/** TCP over 127.0.0.1; with `zeroCopyReads` the client end reads through `onread` (read-buffers.ts). */
function tcpPairFactory(zeroCopyReads: boolean): PairFactory {
  return async () => {
    let accept!: (d: Duplex) => void;
    const accepted = new Promise<Duplex>((r) => (accept = r));
    const listener = await new TcpAcceptor().listen("127.0.0.1:0", (d) => accept(d));
    const client = await new TcpConnector({}, { zeroCopyReads }).open(listener.address);
    const server = await accepted;
    await listener.close();
    return [client, server];
  };
}
const tcpPair = tcpPairFactory(false);
const tcpOnreadPair = tcpPairFactory(true);
const memoryPair: PairFactory = async () => createMemoryPair();

/** Counts _write and _writev calls on a Duplex (the "underlying writes"). */
function countWrites(d: Duplex): { count: () => number } {
  let n = 0;
  const self = d as unknown as Record<string, (...args: unknown[]) => unknown>;
  for (const name of ["_write", "_writev"]) {
    const orig = self[name];
    if (typeof orig !== "function") continue;
    self[name] = function (this: unknown, ...args: unknown[]) {
      n++;
      return orig.apply(this, args);
    };
  }
  return { count: () => n };
}

for (const [kind, makePair] of [
  ["tcp", tcpPair],
  ["tcp with onread reads", tcpOnreadPair],
  ["memory", memoryPair],
] as const) {
  describe(`SocketTransport over ${kind}`, () => {
    test("byte counters and activity times match what the peer got", async () => {
      const [c, s] = await makePair();
      const client = new SocketTransport(c);
      const server = new SocketTransport(s);
      const createdAt = client.lastWriteAt;
      let serverGot = 0;
      let clientGot = 0;
      server.on("data", (chunk) => {
        serverGot += chunk.length;
        server.write([chunk.subarray(0, 1)]); // reply one byte per chunk
      });
      client.on("data", (chunk) => (clientGot += chunk.length));
      let sent = 0;
      for (let i = 0; i < 20; i++) {
        const frame = [Buffer.alloc(10, i), Buffer.alloc(100 * i, i)];
        client.write(frame);
        sent += 10 + 100 * i;
        if (i % 3 === 0) await tick();
      }
      await sleep(5);
      while (serverGot < sent) await next(server, "data");
      const closes = Promise.all([next(client, "close"), next(server, "close")]);
      await sleep(20);
      client.end();
      const [[ce], [se]] = await closes;
      assert.equal(ce, undefined);
      assert.equal(se, undefined);
      assert.equal(client.bytesWritten, sent);
      assert.equal(server.bytesRead, sent);
      assert.equal(serverGot, sent);
      assert.equal(server.bytesWritten, clientGot);
      assert.equal(client.bytesRead, clientGot);
      assert.ok(clientGot > 0);
      assert.ok(client.lastWriteAt >= createdAt);
      assert.ok(server.lastReadAt >= createdAt);
      assert.ok(client.lastReadAt >= client.lastWriteAt - 1000);
    });

    test("addresses are named", async () => {
      const [c, s] = await makePair();
      const client = new SocketTransport(c);
      const server = new SocketTransport(s);
      assert.ok(client.remoteAddress.length > 0);
      assert.equal(client.remoteAddress, server.localAddress);
      assert.equal(client.localAddress, server.remoteAddress);
      if (kind === "tcp") assert.match(client.remoteAddress, /^127\.0\.0\.1:\d+$/);
      const closed = next(server, "close");
      client.destroy();
      await closed;
    });

    test("N frames written in one tick leave in ONE underlying write", async () => {
      const [c, s] = await makePair();
      const spy = countWrites(c);
      const client = new SocketTransport(c);
      const server = new SocketTransport(s);
      let got = 0;
      server.on("data", (chunk) => (got += chunk.length));
      // Small batch: copied into one buffer.
      for (let i = 0; i < 50; i++) client.write([Buffer.alloc(8, 1), Buffer.alloc(20, 2)]);
      assert.equal(spy.count(), 0, "nothing leaves inside write()");
      await tick();
      assert.equal(spy.count(), 1);
      while (got < 50 * 28) await next(server, "data");
      // Chunks above the copy limit: written as they are, still one writev under cork.
      const big = Buffer.alloc(COALESCE_COPY_MAX_BYTES + 1, 3);
      for (let i = 0; i < 10; i++) client.write([Buffer.alloc(4, 4), big]);
      await tick();
      assert.equal(spy.count(), 2);
      // Two ticks: two writes.
      client.write([Buffer.alloc(3)]);
      await tick();
      client.write([Buffer.alloc(3)]);
      await tick();
      while (got < 50 * 28 + 10 * (4 + big.length) + 6) await next(server, "data");
      assert.equal(spy.count(), 4);
      assert.equal(got, client.bytesWritten);
      const closed = next(server, "close");
      client.end();
      await closed;
    });

    test("a batch mixing small and large chunks arrives intact and in order, in one write", async () => {
      const [c, s] = await makePair();
      const spy = countWrites(c);
      const client = new SocketTransport(c);
      const server = new SocketTransport(s);
      const received: Buffer[] = [];
      server.on("data", (chunk) => received.push(Buffer.from(chunk)));
      // Runs of small chunks (copied together) between large ones (written as they are).
      const sizes = [3, 40, COALESCE_COPY_MAX_BYTES + 1, 7, 5000, 1, 2, COALESCE_COPY_MAX_BYTES, 9000, 4];
      const chunks = sizes.map((n, i) => Buffer.alloc(n, i + 1));
      client.write(chunks.slice(0, 4));
      client.write(chunks.slice(4));
      await tick();
      assert.equal(spy.count(), 1);
      const total = sizes.reduce((a, b) => a + b, 0);
      while (received.reduce((a, b) => a + b.length, 0) < total) await next(server, "data");
      assert.deepEqual(Buffer.concat(received), Buffer.concat(chunks));
      const closed = next(server, "close");
      client.end();
      await closed;
    });

    test("claims (FrameSink) from two connections interleaved in one tick, past a slab, arrive intact", async () => {
      const [c1, s1] = await makePair();
      const [c2, s2] = await makePair();
      const a = new SocketTransport(c1);
      const b = new SocketTransport(c2);
      const got: Buffer[][] = [[], []];
      new SocketTransport(s1).on("data", (chunk) => got[0]!.push(Buffer.from(chunk)));
      const peerB = new SocketTransport(s2);
      peerB.on("data", (chunk) => got[1]!.push(Buffer.from(chunk)));
      try {
        const sent: Buffer[][] = [[], []];
        // 300 claims each of 1..400 bytes, alternating connections, appends in between, and
        // claims above the slab limit: more than one 64 KiB slab, runs broken by the other side.
        let seed = 7;
        const rand = (n: number): number => {
          seed = (seed * 1103515245 + 12345) & 0x7fffffff;
          return seed % n;
        };
        for (let i = 0; i < 600; i++) {
          const side = i % 2;
          const t = side === 0 ? a : b;
          const n = i % 97 === 0 ? 9000 + rand(3000) : 1 + rand(400);
          const piece = Buffer.alloc(n, (i * 31) & 0xff);
          const at = t.claim(n);
          t.claimBuffer.set(piece, at);
          sent[side]!.push(piece);
          if (i % 5 === 0) {
            const extra = Buffer.alloc(1 + rand(2 * COALESCE_COPY_MAX_BYTES), i & 0xff);
            t.append(extra);
            sent[side]!.push(extra);
          }
        }
        const want = sent.map((parts) => Buffer.concat(parts));
        const total = (k: number): number => got[k]!.reduce((x, y) => x + y.length, 0);
        while (total(0) < want[0]!.length) await next(s1 as NodeJS.EventEmitter, "data");
        while (total(1) < want[1]!.length) await next(peerB, "data");
        // equals(), not deepEqual: a diff of two 200 KB buffers takes minutes to print.
        assert.ok(Buffer.concat(got[0]!).equals(want[0]!), "connection A's bytes differ");
        assert.ok(Buffer.concat(got[1]!).equals(want[1]!), "connection B's bytes differ");
        assert.equal(a.bytesWritten, want[0]!.length);
        // After end(), claimed bytes go nowhere.
        const closed = next(peerB, "close");
        b.end();
        const at = b.claim(10);
        b.claimBuffer.fill(1, at, at + 10);
        await closed;
        assert.equal(total(1), want[1]!.length);
        a.end();
      } finally {
        // A failed assertion must not leave sockets open (the runner would wait for them).
        for (const d of [c1, s1, c2, s2]) d.destroy();
      }
    });

    test("idle: reader, writer and all fire and repeat while inactive", async () => {
      const [c, s] = await makePair();
      const client = new SocketTransport(c, { idle: { readerIdleMs: 60 } });
      const server = new SocketTransport(s);
      const kinds: IdleKind[] = [];
      client.on("idle", (k) => kinds.push(k));
      await next(client, "idle", 1000);
      await next(client, "idle", 1000);
      assert.deepEqual(kinds, ["reader", "reader"]);
      // The server keeps writing every 15 ms: the client is not reader-idle, it is writer-idle.
      client.setIdle({ readerIdleMs: 150, writerIdleMs: 50 });
      kinds.length = 0;
      const pump = setInterval(() => server.write([Buffer.from("x")]), 15);
      await sleep(200);
      clearInterval(pump);
      assert.ok(kinds.includes("writer"), `writer idle fired: ${kinds}`);
      assert.ok(!kinds.includes("reader"), `reader idle did not fire: ${kinds}`);
      client.setIdle({ allIdleMs: 50 });
      const [k] = await next(client, "idle", 1000);
      assert.equal(k, "all");
      const closed = next(client, "close");
      server.destroy();
      await closed;
      kinds.length = 0;
      await sleep(120);
      assert.deepEqual(kinds, [], "no idle events after close");
    });

    test("back-pressure: a peer that stops reading turns isWritable false; drain after it resumes", async () => {
      const [c, s] = await makePair();
      const client = new SocketTransport(c, {
        writeHighWaterMarkBytes: 64 * 1024,
        writeLowWaterMarkBytes: 32 * 1024,
      });
      const server = new SocketTransport(s);
      let got = 0;
      server.on("data", (chunk) => (got += chunk.length));
      server.pause();
      let drains = 0;
      client.on("drain", () => drains++);
      const chunk = Buffer.alloc(32 * 1024, 9);
      let sent = 0;
      // One chunk per tick: the flag can only turn false when the stream itself stops taking data.
      for (let i = 0; i < 4096 && client.isWritable; i++) {
        assert.equal(client.write([chunk]), client.isWritable);
        sent += chunk.length;
        await tick();
      }
      assert.equal(client.isWritable, false, `isWritable false after ${sent} bytes`);
      assert.ok(client.queuedBytes > 32 * 1024);
      await sleep(30);
      assert.equal(drains, 0);
      const drained = next(client, "drain", 5000);
      server.resume();
      await drained;
      assert.equal(drains, 1);
      assert.equal(client.isWritable, true);
      assert.ok(client.queuedBytes < 32 * 1024);
      while (got < sent) await next(server, "data");
      assert.equal(got, sent);
      const closed = next(server, "close");
      client.end();
      await closed;
    });

    test("bounded close: a peer that never reads nor ends is destroyed after the grace", async () => {
      const [c, s] = await makePair();
      s.pause(); // the raw peer neither reads nor ends
      s.on("error", () => {});
      const client = new SocketTransport(c);
      client.write([Buffer.alloc(1000)]);
      const t0 = Date.now();
      const closed = next(client, "close", 2000);
      client.end(200);
      assert.equal(client.isClosed, true);
      assert.equal(client.write([Buffer.alloc(1)]), false, "no writes after end()");
      const [err] = (await closed) as [Error & { code?: string }];
      assert.ok(Date.now() - t0 >= 180, "not before the grace");
      assert.equal(err?.code, ErrorCodes.TIMEOUT);
      s.destroy();
    });

    test("close fires exactly once; destroy(err) reports err; writes after close are no-ops", async () => {
      const [c, s] = await makePair();
      const client = new SocketTransport(c);
      const server = new SocketTransport(s);
      const closes: Array<Error | undefined> = [];
      client.on("close", (e) => closes.push(e));
      const serverClosed = next(server, "close");
      const reason = new SendError("bye");
      client.destroy(reason);
      client.destroy(new Error("second"));
      client.end();
      await next(client, "close");
      await serverClosed;
      await sleep(20);
      assert.deepEqual(closes, [reason]);
      assert.equal(client.isClosed, true);
      assert.equal(client.write([Buffer.from("x")]), false);
      assert.equal(client.isWritable, false);
    });

    test("peer end gives an orderly close(undefined) on both sides", async () => {
      const [c, s] = await makePair();
      const client = new SocketTransport(c);
      const server = new SocketTransport(s);
      const both = Promise.all([next(client, "close"), next(server, "close")]);
      server.end();
      const [[ce], [se]] = await both;
      assert.equal(ce, undefined);
      assert.equal(se, undefined);
    });

    test("errors on the stream end in close(error), never an unhandled 'error'", async () => {
      const [c, s] = await makePair();
      const client = new SocketTransport(c);
      const server = new SocketTransport(s);
      const closed = next(client, "close");
      c.emit("error", Object.assign(new Error("boom"), { code: "EPIPE" }));
      const [err] = (await closed) as [NodeJS.ErrnoException];
      assert.equal(err.code, "EPIPE");
      server.destroy();
    });

    test("pause() stops data; resume() restarts it", async () => {
      const [c, s] = await makePair();
      const client = new SocketTransport(c);
      const server = new SocketTransport(s);
      let got = 0;
      client.on("data", (chunk) => (got += chunk.length));
      client.pause();
      server.write([Buffer.alloc(100)]);
      await sleep(40);
      assert.equal(got, 0);
      client.resume();
      await next(client, "data");
      assert.equal(got, 100);
      const closed = next(server, "close");
      client.destroy();
      await closed;
    });
  });
}

describe("SocketTransport options", () => {
  test("invalid water marks throw MQW_ERR_INVALID_ARGUMENT", () => {
    const [a] = createMemoryPair();
    assert.throws(() => new SocketTransport(a, { writeHighWaterMarkBytes: -1 }), {
      code: ErrorCodes.INVALID_ARGUMENT,
    });
    assert.throws(() => new SocketTransport(a, { writeHighWaterMarkBytes: 10, writeLowWaterMarkBytes: 20 }), {
      code: ErrorCodes.INVALID_ARGUMENT,
    });
  });

  test("no timer outlives the connection (idle timer and end deadline are cleared on close)", async () => {
    const live = new Set<unknown>();
    const clock: Clock = {
      now: Date.now,
      setTimeout(fn, ms) {
        const h = setTimeout(() => {
          live.delete(h);
          fn();
        }, ms);
        live.add(h);
        return h;
      },
      clearTimeout(h) {
        live.delete(h);
        clearTimeout(h as NodeJS.Timeout);
      },
    };
    const [a, b] = createMemoryPair();
    const t = new SocketTransport(a, { clock, idle: { readerIdleMs: 10_000, writerIdleMs: 20_000 } });
    const peer = new SocketTransport(b);
    assert.equal(live.size, 1, "one idle timer for all kinds");
    const closed = next(t, "close");
    t.end(10_000);
    assert.equal(live.size, 2, "idle timer + end deadline");
    await closed;
    assert.equal(live.size, 0);
    t.setIdle({ allIdleMs: 5 });
    assert.equal(live.size, 0, "setIdle after close arms nothing");
    peer.destroy();
  });

  test("wrapping an already destroyed stream closes once", async () => {
    const [a] = createMemoryPair();
    a.destroy();
    await tick();
    const t = new SocketTransport(a);
    const [err] = await next(t, "close");
    assert.equal(err, undefined);
  });
});
