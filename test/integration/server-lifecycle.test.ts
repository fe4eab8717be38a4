/**
 * End to end, over real sockets: a RemotingServer's life (RocketMQ `NettyRemotingServer`,
 * reference §7, §10): channel events (connect, close, exception, idle), where it listens (port 0,
 * several addresses, Unix, memory://), graceful and immediate shutdown, and read back-pressure
 * against a peer that sends without reading.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import {
  ErrorCodes,
  encodeFrame,
  InteropCode,
  type RemotingChannel,
  RemotingCommand,
  RemotingServer,
  ResponseCode,
  registerInteropService,
  type SocketTransport,
  silentLogger,
} from "../../src/index.js";
import {
  acceptedChannel,
  counted,
  deferred,
  makeClient,
  nextEvent,
  onlyChannel,
  RawPeer,
  sleep,
  startServer,
  WAIT_MS,
  waitFor,
  withTimeout,
} from "../helpers/remoting.js";

const ECHO = InteropCode.ECHO;
/** A peer newer than RocketMQ 5.3.1 (V5_3_3's ordinal): it gets GO_AWAY during a shutdown. */
const VERSION_5_3_3 = 479;

const echoRequest = (init: { body?: Buffer; extFields?: Record<string, string>; version?: number } = {}) =>
  RemotingCommand.createRequest(ECHO, init);
const delayed = (delayMs: number) =>
  RemotingCommand.createRequest(InteropCode.DELAYED_ECHO, { extFields: { delayMs: String(delayMs) } });

/** The error a rejected promise carries, or fails when it resolves. */
async function rejection(promise: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await promise;
  } catch (err) {
    return err as Error & { code?: string };
  }
  assert.fail("expected the promise to reject");
}

describe("channel events", () => {
  test("connect on accept, with the client socket's local address as remote address", async (t) => {
    const { server, addr } = await startServer(t, {}, registerInteropService);
    const connected = nextEvent<[string, RemotingChannel]>(server, "connect");
    const peer = await RawPeer.connect(t, addr);
    const [remote, channel] = await connected;
    const expected = `${peer.socket.localAddress}:${peer.socket.localPort}`;
    assert.equal(remote, expected);
    assert.equal(channel.remoteAddress, expected);
    assert.equal(channel.localAddress, addr);
    assert.ok(server.channels.has(channel));
  });

  test("close when the client disconnects, with no exception; the channel leaves the registry", async (t) => {
    const { server, addr } = await startServer(t, {}, registerInteropService);
    const exception = counted();
    server.on("exception", exception);
    const peer = await RawPeer.connect(t, addr);
    const channel = await acceptedChannel(server);
    const closed = nextEvent<[string, RemotingChannel]>(server, "close");
    peer.socket.end();
    const [remote, closedChannel] = await closed;
    assert.equal(closedChannel, channel);
    assert.equal(remote, channel.remoteAddress);
    assert.equal(server.channels.size, 0);
    assert.equal(channel.isActive, false);
    assert.equal(exception.count, 0);
  });

  const malformed: [string, () => Buffer, readonly string[]][] = [
    // "PRI " read as a length is 1347569956 (reference §1.1, upstream #6784, #8086).
    ["an HTTP/2 preface", () => Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), [ErrorCodes.NEGOTIATION]],
    [
      "a length above maxFrameBytes",
      () => Buffer.from([0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 4]),
      [ErrorCodes.NEGOTIATION, ErrorCodes.FRAME_TOO_LARGE],
    ],
  ];
  for (const [name, bytes, codes] of malformed) {
    test(`exception then close on ${name}; another client keeps working`, async (t) => {
      const { server, addr } = await startServer(t, {}, registerInteropService);
      const client = makeClient(t);
      assert.equal((await client.invoke(addr, echoRequest())).code, ResponseCode.SUCCESS);
      const events: string[] = [];
      let error: (Error & { code?: string }) | undefined;
      server.on("exception", (_addr, _channel, err) => {
        events.push("exception");
        error = err;
      });
      server.on("close", () => events.push("close"));
      const peer = await RawPeer.connect(t, addr);
      peer.write(bytes());
      await peer.whenClosed();
      await waitFor(() => events.length >= 2, "exception and close");
      assert.deepEqual(events, ["exception", "close"]);
      assert.ok(codes.includes(error?.code ?? ""), `error code ${error?.code}`);
      assert.equal(peer.frames.length, 0, "no error reply is sent (RocketMQ closes silently)");
      assert.equal((await client.invoke(addr, echoRequest())).code, ResponseCode.SUCCESS);
      assert.equal(server.channels.size, 1);
    });
  }

  test("exception then close on a frame too large after a valid one", async (t) => {
    const { server, addr } = await startServer(t, { maxFrameBytes: 1024 }, registerInteropService);
    const peer = await RawPeer.connect(t, addr);
    peer.send(echoRequest());
    await peer.frame(0);
    const events: string[] = [];
    let error: (Error & { code?: string }) | undefined;
    server.on("exception", (_a, _c, err) => {
      events.push("exception");
      error = err;
    });
    server.on("close", () => events.push("close"));
    peer.send(echoRequest({ body: Buffer.alloc(2048) }));
    await peer.whenClosed();
    await waitFor(() => events.length >= 2, "exception and close");
    assert.deepEqual(events, ["exception", "close"]);
    assert.equal(error?.code, ErrorCodes.FRAME_TOO_LARGE);
    assert.equal(peer.frames.length, 1);
  });

  test("exception then close on an unknown serialize type", async (t) => {
    const { server, addr } = await startServer(t, {}, registerInteropService);
    const peer = await RawPeer.connect(t, addr);
    peer.send(echoRequest());
    await peer.frame(0);
    const exception = counted<[string, RemotingChannel, Error & { code?: string }]>();
    server.on("exception", exception);
    const frame = Buffer.from([0, 0, 0, 6, 5, 0, 0, 2, 0x7b, 0x7d]); // type byte 5
    peer.write(frame);
    await peer.whenClosed();
    await exception.called(1);
    assert.equal(exception.calls[0]![2].code, ErrorCodes.MALFORMED_FRAME);
  });

  test("exception then close when the client resets the connection", async (t) => {
    const { server, addr } = await startServer(t, {}, registerInteropService);
    const peer = await RawPeer.connect(t, addr);
    peer.send(echoRequest());
    await peer.frame(0);
    const events: string[] = [];
    server.on("exception", (_a, _c, err) => events.push(`exception:${(err as { code?: string }).code}`));
    server.on("close", () => events.push("close"));
    peer.socket.resetAndDestroy();
    await waitFor(() => events.length >= 2, "exception and close");
    assert.deepEqual(events, ["exception:ECONNRESET", "close"]);
  });

  test("a call on a channel the peer reset fails with MQW_ERR_CHANNEL_CLOSED caused by the reset", async (t) => {
    const { server, addr } = await startServer(t, {}, registerInteropService);
    const peer = await RawPeer.connect(t, addr);
    peer.send(echoRequest());
    await peer.frame(0);
    const channel = onlyChannel(server);
    const closed = nextEvent(server, "close");
    peer.socket.resetAndDestroy();
    await closed;
    const resetCause = (err: unknown) => ((err as Error).cause as { code?: string } | undefined)?.code;
    const refused = channel.trySend(echoRequest());
    assert.equal((refused as { code?: string } | undefined)?.code, ErrorCodes.CHANNEL_CLOSED);
    assert.equal(resetCause(refused), "ECONNRESET");
    await assert.rejects(server.invoke(channel, echoRequest(), { timeoutMs: 1000 }), (err) => {
      assert.equal((err as { code?: string }).code, ErrorCodes.CHANNEL_CLOSED);
      assert.equal(resetCause(err), "ECONNRESET");
      return true;
    });
  });

  test("a connection that sends nothing is closed after handshakeTimeoutMs", async (t) => {
    const { server, addr } = await startServer(t, { handshakeTimeoutMs: 100 }, registerInteropService);
    const exception = counted<[string, RemotingChannel, Error & { code?: string }]>();
    server.on("exception", exception);
    const peer = await RawPeer.connect(t, addr);
    await peer.whenClosed();
    await exception.called(1);
    assert.equal(exception.calls[0]![2].code, ErrorCodes.NEGOTIATION);
    assert.equal(server.channels.size, 0);
  });

  test("a request written one byte at a time is answered", async (t) => {
    const { addr } = await startServer(t, {}, registerInteropService);
    const peer = await RawPeer.connect(t, addr);
    const request = echoRequest({ body: Buffer.from("slowly"), extFields: { k: "v" } });
    const bytes = encodeFrame(request);
    for (let i = 0; i < bytes.length; i++) {
      peer.write(bytes.subarray(i, i + 1));
      if (i < 12) await sleep(2); // spans negotiation: the first 8 bytes arrive one read at a time
    }
    const frame = await peer.frame(0);
    assert.equal(frame.command.opaque, request.opaque);
    assert.equal(frame.command.body?.toString(), "slowly");
  });

  test("idle: no traffic for channelMaxIdleMs emits idle and closes the channel", async (t) => {
    const { server, addr } = await startServer(t, { channelMaxIdleMs: 200 }, registerInteropService);
    const peer = await RawPeer.connect(t, addr);
    peer.send(echoRequest());
    await peer.frame(0);
    const lastTrafficAt = Date.now();
    const idle = nextEvent<[string, RemotingChannel]>(server, "idle");
    const close = nextEvent<[string, RemotingChannel]>(server, "close");
    const [remote, channel] = await idle;
    assert.ok(Date.now() - lastTrafficAt >= 150, "idle fired before channelMaxIdleMs");
    assert.equal(remote, channel.remoteAddress);
    await close;
    await peer.whenClosed();
    assert.equal(server.channels.size, 0);
  });

  test("idle: a channel with traffic every 50 ms is not idle at 200 ms", async (t) => {
    const { server, addr } = await startServer(t, { channelMaxIdleMs: 200 }, registerInteropService);
    const idle = counted();
    server.on("idle", idle);
    const peer = await RawPeer.connect(t, addr);
    for (let i = 0; i < 10; i++) {
      peer.send(echoRequest());
      await sleep(50);
    }
    assert.equal(idle.count, 0);
    assert.equal(peer.closed, false);
    assert.equal(peer.frames.length, 10);
  });
});

describe("listening", () => {
  test("port 0 is replaced by the real port in addresses and port", async (t) => {
    const { server, addr } = await startServer(t, {}, registerInteropService);
    assert.ok(server.port > 0);
    assert.equal(addr, `127.0.0.1:${server.port}`);
    assert.equal((await makeClient(t).invoke(addr, echoRequest())).code, ResponseCode.SUCCESS);
  });

  test("two TCP addresses and a Unix socket at once, each served", async (t) => {
    const dir = await mkdtemp(join(tmpdir(), "mqwire-server-"));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const path = join(dir, "server.sock");
    const { server } = await startServer(
      t,
      { listen: ["127.0.0.1:0", "127.0.0.1:0", path] },
      registerInteropService,
    );
    const [a, b, unix] = server.addresses;
    assert.equal(server.addresses.length, 3);
    assert.notEqual(a, b);
    assert.equal(unix, path);
    const client = makeClient(t);
    for (const addr of [a!, b!, unix!]) {
      const r = await client.invoke(addr, echoRequest({ body: Buffer.from(addr) }));
      assert.equal(r.body?.toString(), addr);
    }
    assert.equal(server.channels.size, 3);
  });

  test("listen() adds an address to a running server", async (t) => {
    const { server } = await startServer(t, {}, registerInteropService);
    const more = await server.listen("127.0.0.1:0");
    assert.equal(server.addresses.length, 2);
    assert.equal((await makeClient(t).invoke(more, echoRequest())).code, ResponseCode.SUCCESS);
  });

  test("a memory:// address serves a client on the default memory network", async (t) => {
    const name = `memory://server-lifecycle-${process.pid}-${Date.now()}`;
    const { server } = await startServer(t, { listen: [name] }, registerInteropService);
    assert.deepEqual(server.addresses, [name]);
    const r = await makeClient(t).invoke(name, echoRequest({ body: Buffer.from("mem") }));
    assert.equal(r.body?.toString(), "mem");
  });

  test("a busy address fails start() with MQW_ERR_INVALID_ARGUMENT; start() twice too", async (t) => {
    const { server, addr } = await startServer(t);
    const second = new RemotingServer({ listen: [addr], logger: silentLogger });
    assert.equal((await rejection(second.start())).code, ErrorCodes.INVALID_ARGUMENT);
    assert.equal((await rejection(server.start())).code, ErrorCodes.INVALID_ARGUMENT);
  });
});

describe("shutdown", () => {
  const inProcess = (server: RemotingServer) => () =>
    server.channels.size === 1 && onlyChannel(server).pendingRequests === 1;

  test("graceful: the request in process is answered, new connections are refused, then all closes", async (t) => {
    const { server, addr } = await startServer(t, {}, registerInteropService);
    const client = makeClient(t);
    const slow = client.invoke(addr, delayed(300));
    slow.catch(() => {}); // awaited below; a rejection meanwhile must not go unhandled
    await waitFor(inProcess(server), "request in process");
    const clientClosed = nextEvent(client, "close");
    const stopping = server.shutdown({ graceMs: 2000 });
    // New connections are refused from the moment shutdown starts.
    const late = makeClient(t);
    const refused = await rejection(late.invoke(addr, echoRequest(), { timeoutMs: 1000 }));
    assert.ok(
      [ErrorCodes.CONNECT, ErrorCodes.CHANNEL_CLOSED, ErrorCodes.SEND].includes(refused.code as never),
      `late connection: ${refused.code}`,
    );
    const response = await slow;
    assert.equal(response.code, ResponseCode.SUCCESS);
    assert.equal(response.getExt("delayMs"), "300");
    await withTimeout(stopping, WAIT_MS, "shutdown");
    await clientClosed;
  });

  test("shutdown() resolves only once every channel has closed", {}, async (t) => {
    const { server, addr } = await startServer(t, {}, registerInteropService);
    const client = makeClient(t);
    const order: string[] = [];
    const slow = client.invoke(addr, delayed(100)).then(
      () => order.push("response"),
      (err: { code?: string }) => order.push(`error:${err.code}`),
    );
    await waitFor(inProcess(server), "request in process");
    await withTimeout(server.shutdown({ graceMs: 2000 }), WAIT_MS, "shutdown");
    order.push("shutdown");
    assert.equal(server.channels.size, 0, "a channel outlived shutdown()");
    await slow;
    assert.deepEqual(order, ["response", "shutdown"]);
  });

  test("a second shutdown() call resolves no earlier than the first", {}, async (t) => {
    const { server, addr } = await startServer(t, {}, registerInteropService);
    const client = makeClient(t);
    const call = client.invoke(addr, delayed(200)).catch(() => null);
    await waitFor(inProcess(server), "request in process");
    const order: string[] = [];
    const first = server.shutdown({ graceMs: 2000 }).then(() => order.push("first"));
    const second = server.shutdown().then(() => order.push("second"));
    await withTimeout(Promise.all([first, second]), WAIT_MS, "both shutdowns");
    await call;
    assert.equal(order[0], "first");
  });

  test("graceful: during the grace, peers newer than 5.3.1 get GO_AWAY, older ones are refused by a close", async (t) => {
    // RocketMQ serves older peers until its wait ends, then drops what they have in process; mqwire
    // takes nothing new from them, so that everything it took is answered (RELIABILITY.md, "Load
    // and shutdown"). The refused request is never processed: the close fails it on the client.
    const processed = counted();
    const { server, addr } = await startServer(t, {}, (s) => {
      registerInteropService(s);
      s.registerProcessor(ECHO, (request) => {
        processed();
        return RemotingCommand.createResponse(ResponseCode.SUCCESS, null, { body: request.body });
      });
    });
    const newPeer = await RawPeer.connect(t, addr);
    const oldPeer = await RawPeer.connect(t, addr);
    const slow = delayed(300);
    oldPeer.send(slow);
    await waitFor(
      () => server.channels.size === 2 && [...server.channels].some((c) => c.pendingRequests === 1),
      "request in process",
    );
    const stopping = server.shutdown({ graceMs: 2000 });
    await sleep(20);
    const newer = echoRequest({ version: VERSION_5_3_3 });
    const older = echoRequest({ version: 0 });
    newPeer.send(newer);
    oldPeer.send(older);
    const goAway = await newPeer.frame(0);
    assert.equal(goAway.command.opaque, newer.opaque);
    assert.equal(goAway.command.code, ResponseCode.GO_AWAY);
    // The request taken before the shutdown is answered, the one after it is not, then the close.
    await oldPeer.whenClosed();
    assert.deepEqual(
      oldPeer.frames.map((f) => [f.command.opaque, f.command.code]),
      [[slow.opaque, ResponseCode.SUCCESS]],
    );
    assert.equal(processed.count, 0, "a request that came during the shutdown was processed");
    // The newer peer's channel is left to it (it leaves after GO_AWAY, as an mqwire client does):
    // the shutdown ends when it closes, long before the grace.
    await sleep(100);
    assert.equal(newPeer.closed, false, "the server closed a channel whose peer understands GO_AWAY");
    newPeer.socket.end();
    await withTimeout(stopping, 1000, "shutdown after the last peer left");
  });

  test("a grace above setTimeout's 2^31-1 ms range still waits for the request in process", async (t) => {
    // Node fires a longer setTimeout after 1 ms: the shutdown closed the channel under the call.
    const { server, addr } = await startServer(t, {}, registerInteropService);
    const client = makeClient(t);
    const slow = client.invoke(addr, delayed(200));
    slow.catch(() => {});
    await waitFor(inProcess(server), "request in process");
    const stopping = server.shutdown({ graceMs: 2 ** 31 });
    const response = await withTimeout(slow, WAIT_MS, "the call in process");
    assert.equal(response.code, ResponseCode.SUCCESS);
    await withTimeout(stopping, WAIT_MS, "shutdown");
  });

  test("shutdown() ends within graceMs when a request outlives it; a bad graceMs is refused", async (t) => {
    const gate = deferred();
    t.after(() => gate.resolve());
    const { server, addr } = await startServer(t, {}, (s) =>
      s.registerProcessor(1, async () => {
        await gate.promise;
        return RemotingCommand.createResponse(ResponseCode.SUCCESS);
      }),
    );
    assert.equal((await rejection(server.shutdown({ graceMs: -1 }))).code, ErrorCodes.INVALID_ARGUMENT);
    const client = makeClient(t);
    const failed = rejection(client.invoke(addr, RemotingCommand.createRequest(1), { timeoutMs: 10_000 }));
    await waitFor(inProcess(server), "request in process");
    const begin = performance.now();
    await withTimeout(server.shutdown({ graceMs: 300 }), WAIT_MS, "shutdown");
    const elapsedMs = performance.now() - begin;
    // Timers fire a little late: a few ms over the grace is the clock, not a second wait.
    assert.ok(elapsedMs >= 290 && elapsedMs < 300 + 50, `shutdown took ${elapsedMs} ms, grace 300 ms`);
    assert.equal(
      (await withTimeout(failed, 1000, "the pending call to fail")).code,
      ErrorCodes.CHANNEL_CLOSED,
    );
  });

  test("graceMs 0: closes at once; the pending call fails at once with MQW_ERR_CHANNEL_CLOSED", async (t) => {
    // A processor held by a gate the test opens at its end (a 5 s timer would outlive the test).
    const gate = deferred();
    t.after(() => gate.resolve());
    const { server, addr } = await startServer(t, {}, (s) =>
      s.registerProcessor(1, async () => {
        await gate.promise;
        return RemotingCommand.createResponse(ResponseCode.SUCCESS);
      }),
    );
    const client = makeClient(t);
    const failed = rejection(client.invoke(addr, RemotingCommand.createRequest(1), { timeoutMs: 10_000 }));
    await waitFor(inProcess(server), "request in process");
    await withTimeout(server.shutdown({ graceMs: 0 }), 1000, "shutdown");
    // Not at the call's 10 s time-out: failFast on channel close (reference §6.8).
    const error = await withTimeout(failed, 1000, "the pending call to fail");
    assert.equal(error.code, ErrorCodes.CHANNEL_CLOSED);
  });

  test("a pushed call still waiting on the client fails when the server shuts down", async (t) => {
    const { server, addr } = await startServer(t, {}, registerInteropService);
    const client = makeClient(t);
    client.registerProcessor(InteropCode.CLIENT_PUSH, () => null);
    await client.invoke(addr, echoRequest());
    const push = rejection(
      server.invoke(onlyChannel(server), RemotingCommand.createRequest(InteropCode.CLIENT_PUSH), {
        timeoutMs: 10_000,
      }),
    );
    await sleep(20);
    await withTimeout(server.shutdown({ graceMs: 0 }), 1000, "shutdown");
    const error = await withTimeout(push, 1000, "the push to fail");
    assert.equal(error.code, ErrorCodes.CHANNEL_CLOSED);
  });
});

describe("read back-pressure", () => {
  test("a channel with channelMaxPendingRequests in process stops reading until half are done", async (t) => {
    const MAX = 4;
    const COUNT = 12;
    const gate = deferred();
    t.after(() => gate.resolve());
    const started = counted();
    const { server, addr } = await startServer(t, { channelMaxPendingRequests: MAX }, (s) =>
      s.registerProcessor(ECHO, async (request) => {
        started();
        await gate.promise;
        return RemotingCommand.createResponse(ResponseCode.SUCCESS, null, { opaque: request.opaque });
      }),
    );
    const peer = await RawPeer.connect(t, addr);
    // One frame per write and a pause between, so each arrives in its own read.
    for (let i = 0; i < COUNT; i++) {
      peer.send(echoRequest());
      await sleep(5);
    }
    await sleep(50);
    const channel = onlyChannel(server);
    assert.equal(channel.engine.isReadPaused, true);
    // MAX exactly when every frame came in its own read; a coalesced read may add one or two.
    assert.ok(
      channel.pendingRequests >= MAX && channel.pendingRequests < COUNT,
      `${channel.pendingRequests}`,
    );
    assert.equal(started.count, channel.pendingRequests);
    gate.resolve();
    await peer.frame(COUNT - 1);
    assert.equal(started.count, COUNT);
    assert.equal(channel.pendingRequests, 0);
    assert.equal(channel.engine.isReadPaused, false);
  });

  test("a peer that sends 20 MiB without reading: the server stops reading, its output stays bounded", async (t) => {
    const MiB = 1024 * 1024;
    const COUNT = 20;
    const { server, addr } = await startServer(t, {}, registerInteropService);
    const peer = await RawPeer.connect(t, addr);
    peer.socket.pause();
    const requests = Array.from({ length: COUNT }, (_, i) =>
      RemotingCommand.createRequest(ECHO, { body: Buffer.alloc(MiB, i) }),
    );
    for (const r of requests) peer.send(r);
    await waitFor(() => server.channels.size === 1, "the server channel");
    const channel = onlyChannel(server);
    const transport = channel.engine.transport as SocketTransport;
    let maxQueued = 0;
    let sawPaused = false;
    const sample = (): void => {
      maxQueued = Math.max(maxQueued, transport.queuedBytes);
      sawPaused ||= channel.engine.isReadPaused;
    };
    // The peak is right after a write (before the per-tick flush): measure there, and poll too.
    const write = transport.write;
    transport.write = (chunks) => {
      const writable = write.call(transport, chunks);
      sample();
      return writable;
    };
    const sampler = setInterval(sample, 1);
    t.after(() => clearInterval(sampler));
    // Let the server go as far as it can: until it stops reading for a while.
    let lastRead = -1;
    while (transport.bytesRead !== lastRead) {
      lastRead = transport.bytesRead;
      await sleep(100);
    }
    clearInterval(sampler);
    sample();
    assert.ok(sawPaused, "the server paused reading");
    assert.ok(
      transport.bytesRead < COUNT * MiB,
      `server read ${transport.bytesRead} of ${COUNT * MiB} bytes`,
    );
    assert.ok(maxQueued < 4 * MiB, `server queued ${maxQueued} bytes of output`);
    peer.socket.resume();
    await peer.frame(COUNT - 1, 10_000);
    assert.deepEqual(
      peer.frames.map((f) => f.command.opaque),
      requests.map((r) => r.opaque),
    );
    assert.ok(peer.frames.every((f, i) => f.command.body?.length === MiB && f.command.body[0] === i));
    assert.equal(channel.engine.isReadPaused, false);
  });
});
