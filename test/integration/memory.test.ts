import assert from "node:assert/strict";
import { once } from "node:events";
import type { Duplex } from "node:stream";
import { describe, test } from "node:test";
import { ErrorCodes } from "../../src/errors.js";
import {
  createMemoryPair,
  defaultMemoryNetwork,
  MemoryAcceptor,
  MemoryConnector,
  MemoryNetwork,
} from "../../src/transport/memory.js";
import { SocketTransport } from "../../src/transport/socket-transport.js";

/** Waits for one event; rejects after `ms` so a callback that never comes fails the test. */
function next(emitter: NodeJS.EventEmitter, event: string, ms = 2000): Promise<unknown[]> {
  return once(emitter, event, { signal: AbortSignal.timeout(ms) });
}

function collect(d: Duplex): { bytes: () => Buffer } {
  const parts: Buffer[] = [];
  d.on("data", (c: Buffer) => parts.push(c));
  return { bytes: () => Buffer.concat(parts) };
}

describe("memory pair", () => {
  test("carries bytes both ways, delivered asynchronously", async () => {
    const [a, b] = createMemoryPair();
    const atB = collect(b);
    const atA = collect(a);
    a.write(Buffer.from("ping"));
    await Promise.resolve();
    assert.equal(atB.bytes().length, 0, "not delivered inside write() or its microtasks");
    await next(b, "data");
    assert.equal(atB.bytes().toString(), "ping");
    b.write(Buffer.from("pong"));
    await next(a, "data");
    assert.equal(atA.bytes().toString(), "pong");
    const closed = Promise.all([next(a, "close"), next(b, "close")]);
    a.destroy();
    await closed;
  });

  test("back-pressure: a paused reader fills the writer; resume drains it", async () => {
    const [a, b] = createMemoryPair({ highWaterMarkBytes: 1024 });
    b.pause();
    const chunk = Buffer.alloc(512, 7);
    let written = 0;
    let ok = true;
    for (let i = 0; i < 100 && ok; i++) {
      ok = a.write(chunk);
      written += chunk.length;
      await new Promise((r) => setImmediate(r));
    }
    assert.equal(ok, false, "write() returned false: the peer's buffer and ours are full");
    await new Promise((r) => setTimeout(r, 20));
    assert.ok(a.writableLength > 0, "output stays queued while the peer does not read");
    const received = collect(b);
    const drained = next(a, "drain");
    b.resume();
    await drained;
    a.end();
    await next(b, "end");
    assert.equal(received.bytes().length, written);
  });

  test("end() reaches the peer as end-of-stream; both sides close", async () => {
    const [a, b] = createMemoryPair();
    b.resume();
    a.resume();
    const ended = next(b, "end");
    const closed = Promise.all([next(a, "close"), next(b, "close")]);
    a.end(Buffer.from("bye"));
    await ended;
    await closed;
  });

  test("allowHalfOpen keeps the peer writable after end", async () => {
    const [a, b] = createMemoryPair({ allowHalfOpen: true });
    const atA = collect(a);
    b.resume();
    a.end();
    await next(b, "end");
    b.end(Buffer.from("late reply"));
    await next(a, "end");
    assert.equal(atA.bytes().toString(), "late reply");
  });

  test("destroy() reaches the peer; the peer's later writes fail with ECONNRESET", async () => {
    const [a, b] = createMemoryPair({ allowHalfOpen: true });
    b.resume();
    const bEnded = next(b, "end");
    a.destroy();
    await bEnded;
    const err = next(b, "error");
    b.write(Buffer.from("into the void"));
    const [e] = (await err) as [NodeJS.ErrnoException];
    assert.equal(e.code, "ECONNRESET");
  });

  test("destroying a side with a blocked peer write resets the peer", async () => {
    const [a, b] = createMemoryPair({ highWaterMarkBytes: 16 });
    a.pause();
    b.write(Buffer.alloc(64));
    await new Promise((r) => setTimeout(r, 10));
    const err = next(b, "error");
    a.destroy();
    const [e] = (await err) as [NodeJS.ErrnoException];
    assert.equal(e.code, "ECONNRESET");
  });

  test("invalid highWaterMarkBytes throws MQW_ERR_INVALID_ARGUMENT", () => {
    assert.throws(() => createMemoryPair({ highWaterMarkBytes: 0 }), { code: ErrorCodes.INVALID_ARGUMENT });
  });
});

describe("MemoryNetwork", () => {
  test("listen, connect, talk; names identify both ends", async () => {
    const net = new MemoryNetwork();
    const accepted: SocketTransport[] = [];
    const listener = await new MemoryAcceptor(net).listen("memory://broker", (d) => {
      const t = new SocketTransport(d);
      accepted.push(t);
      t.on("data", (c) => t.write([c])); // echo
    });
    assert.equal(listener.address, "memory://broker");
    assert.equal(listener.port, 0);
    const client = new SocketTransport(await new MemoryConnector(net).open("memory://broker"));
    assert.equal(accepted.length, 1);
    assert.equal(client.remoteAddress, "memory://broker");
    assert.match(client.localAddress, /^memory:\/\/broker#\d+$/);
    assert.equal(accepted[0]!.remoteAddress, client.localAddress);
    client.write([Buffer.from("hello")]);
    const [echo] = (await next(client, "data")) as [Buffer];
    assert.equal(echo.toString(), "hello");
    const closed = next(client, "close");
    client.end();
    const [err] = await closed;
    assert.equal(err, undefined);
    await listener.close();
  });

  test("connect to an unknown name rejects with MQW_ERR_CONNECT", async () => {
    const net = new MemoryNetwork();
    await assert.rejects(new MemoryConnector(net).open("memory://nobody"), { code: ErrorCodes.CONNECT });
  });

  test("duplicate listen throws MQW_ERR_INVALID_ARGUMENT; close frees the name", async () => {
    const net = new MemoryNetwork();
    const acceptor = new MemoryAcceptor(net);
    const l = await acceptor.listen("memory://x", () => {});
    await assert.rejects(
      acceptor.listen("memory://x", () => {}),
      { code: ErrorCodes.INVALID_ARGUMENT },
    );
    await l.close();
    await assert.rejects(new MemoryConnector(net).open("memory://x"), { code: ErrorCodes.CONNECT });
    const again = await acceptor.listen("memory://x", () => {});
    await again.close();
  });

  test("networks are independent; the default one is a separate instance", async () => {
    const a = new MemoryNetwork();
    const l = await new MemoryAcceptor(a).listen("memory://only-a", () => {});
    await assert.rejects(new MemoryConnector(new MemoryNetwork()).open("memory://only-a"), {
      code: ErrorCodes.CONNECT,
    });
    await assert.rejects(new MemoryConnector(defaultMemoryNetwork).open("memory://only-a"), {
      code: ErrorCodes.CONNECT,
    });
    await l.close();
  });

  test("AbortSignal: connect rejects with the signal's reason", async () => {
    const net = new MemoryNetwork();
    let accepted = 0;
    const l = await new MemoryAcceptor(net).listen("memory://s", () => accepted++);
    const reason = new Error("stop");
    await assert.rejects(
      new MemoryConnector(net).open("memory://s", AbortSignal.abort(reason)),
      (e) => e === reason,
    );
    const ac = new AbortController();
    const p = new MemoryConnector(net).open("memory://s", ac.signal);
    ac.abort(reason);
    await assert.rejects(p, (e) => e === reason);
    assert.equal(accepted, 0);
    await l.close();
  });

  test("non-memory addresses are refused with MQW_ERR_INVALID_ARGUMENT", async () => {
    const net = new MemoryNetwork();
    await assert.rejects(new MemoryConnector(net).open("127.0.0.1:1"), { code: ErrorCodes.INVALID_ARGUMENT });
    await assert.rejects(
      new MemoryAcceptor(net).listen("/tmp/x.sock", () => {}),
      {
        code: ErrorCodes.INVALID_ARGUMENT,
      },
    );
  });
});
