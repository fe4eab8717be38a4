/**
 * The protocol engine over real transports: TCP on 127.0.0.1 port 0 and the in-memory pair, with
 * the real RocketMQ codec negotiated against the line test codec.
 */
import assert from "node:assert/strict";
import net from "node:net";
import type { Duplex } from "node:stream";
import { after, before, describe, test } from "node:test";
import type { Codec } from "../../src/codec/codec.js";
import { RemotingCommand } from "../../src/codec/remoting-command.js";
import { encodeFrame, rocketmqCodec } from "../../src/codec/rocketmq-codec.js";
import type { FrameHandler } from "../../src/engine/frame-handler.js";
import { ProtocolEngine, type ProtocolEngineOptions } from "../../src/engine/protocol-engine.js";
import { ErrorCodes, isMqwireError } from "../../src/errors.js";
import { silentLogger } from "../../src/logger.js";
import { createMemoryPair } from "../../src/transport/memory.js";
import { SocketTransport } from "../../src/transport/socket-transport.js";
import { TcpAcceptor, TcpConnector } from "../../src/transport/tcp.js";
import type { IdleKind, Listener } from "../../src/transport/transport.js";
import { lineCodec } from "../helpers/line-codec.js";

type Frame = string | RemotingCommand;
const WAIT_MS = 3_000;

/** Rejects when `promise` has not settled within `ms`: a callback that never comes fails the test. */
function within<T>(promise: Promise<T>, what: string, ms = WAIT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** A handler that collects frames and lets tests await them and the close. */
class Collector<F> implements FrameHandler<F> {
  readonly frames: F[] = [];
  readonly closes: (Error | undefined)[] = [];
  saturated = false;
  onFrameHook: ((frame: F) => void) | undefined;
  #waiters: { count: number; resolve: () => void }[] = [];
  #closed!: () => void;
  readonly closed = new Promise<void>((resolve) => {
    this.#closed = resolve;
  });

  onFrame(frame: F): void {
    this.frames.push(frame);
    this.onFrameHook?.(frame);
    this.#waiters = this.#waiters.filter((w) => {
      if (this.frames.length < w.count) return true;
      w.resolve();
      return false;
    });
  }
  onClose(error: Error | undefined): void {
    this.closes.push(error);
    this.#closed();
  }
  onIdle(_kind: IdleKind): void {}
  isSaturated(): boolean {
    return this.saturated;
  }
  /** Resolves once `count` frames have arrived in total. */
  frameCount(count: number): Promise<void> {
    if (this.frames.length >= count) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ count, resolve }));
  }
}

function engineOver<F>(duplex: Duplex, options: ProtocolEngineOptions<F>, handler = new Collector<F>()) {
  const transport = new SocketTransport(duplex);
  const engine = new ProtocolEngine<F>(transport, { logger: silentLogger, ...options });
  engine.start(handler);
  return { engine, handler, transport };
}

/** The server side: negotiates line vs RocketMQ and answers each frame. */
function serverOptions(extra: Partial<ProtocolEngineOptions<Frame>> = {}): ProtocolEngineOptions<Frame> {
  return { codecs: [lineCodec, rocketmqCodec] as Codec<Frame>[], ...extra };
}

function answering(engine: ProtocolEngine<Frame>, handler: Collector<Frame>): void {
  handler.onFrameHook = (frame) => {
    if (typeof frame === "string") engine.send(frame.toUpperCase());
    else {
      const response = RemotingCommand.createResponse(0, `ok ${frame.code}`);
      response.opaque = frame.opaque;
      engine.send(response);
    }
  };
}

describe("ProtocolEngine over TCP", () => {
  let listener: Listener;
  const servers: { engine: ProtocolEngine<Frame>; handler: Collector<Frame> }[] = [];
  let nextServer: ((s: (typeof servers)[number]) => void) | undefined;
  let serverOpts = serverOptions();
  const connector = new TcpConnector();

  before(async () => {
    listener = await new TcpAcceptor().listen("127.0.0.1:0", (duplex) => {
      const { engine, handler } = engineOver<Frame>(duplex, serverOpts);
      answering(engine, handler);
      servers.push({ engine, handler });
      nextServer?.({ engine, handler });
    });
  });
  after(async () => {
    for (const s of servers) s.engine.destroy();
    await listener.close();
  });

  /** Resolves with the server engine of the next accepted connection. */
  const accepted = () =>
    within(
      new Promise<(typeof servers)[number]>((resolve) => {
        nextServer = resolve;
      }),
      "accept",
    );

  test("negotiates RocketMQ and answers a request with the same opaque", async () => {
    const server = accepted();
    const client = engineOver<RemotingCommand>(await connector.open(listener.address), {
      codecs: [rocketmqCodec],
      negotiate: false,
    });
    const request = RemotingCommand.createRequest(105, {
      extFields: { topic: "T" },
      body: Buffer.from("hi"),
    });
    client.engine.send(request);
    await within(client.handler.frameCount(1), "response");
    const response = client.handler.frames[0]!;
    assert.equal(response.opaque, request.opaque);
    assert.equal(response.isResponse, true);
    assert.equal(response.remark, "ok 105");
    const s = await server;
    assert.equal(s.engine.codec, rocketmqCodec);
    assert.equal((s.handler.frames[0] as RemotingCommand).extFields?.get("topic"), "T");
    assert.equal(s.engine.remoteAddress, client.engine.localAddress);
    client.engine.close();
    await within(Promise.all([client.handler.closed, s.handler.closed]), "close");
    assert.equal(client.handler.closes.length, 1);
    assert.equal(s.handler.closes.length, 1);
  });

  test("negotiates the line codec on the same port", async () => {
    const server = accepted();
    const client = engineOver<string>(await connector.open(listener.address), {
      codecs: [lineCodec],
      negotiate: false,
    });
    for (const word of ["alpha", "beta", "gamma"]) client.engine.send(word);
    await within(client.handler.frameCount(3), "line answers");
    assert.deepEqual(client.handler.frames, ["ALPHA", "BETA", "GAMMA"]);
    assert.equal((await server).engine.codec, lineCodec);
    client.engine.destroy();
  });

  test("an unknown protocol is closed with MQW_ERR_NEGOTIATION", async () => {
    const server = accepted();
    const socket = net.connect(listener.port, "127.0.0.1");
    const socketClosed = new Promise<void>((resolve) => socket.on("close", () => resolve()));
    socket.on("error", () => {});
    socket.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    const s = await server;
    await within(s.handler.closed, "server close");
    assert.ok(isMqwireError(s.handler.closes[0], ErrorCodes.NEGOTIATION));
    await within(socketClosed, "client socket close");
  });

  test("a peer that sends 3 bytes and stops is closed at the handshake deadline", async () => {
    serverOpts = serverOptions({ handshakeTimeoutMs: 100 });
    try {
      const server = accepted();
      const socket = net.connect(listener.port, "127.0.0.1");
      socket.on("error", () => {});
      const socketClosed = new Promise<void>((resolve) => socket.on("close", () => resolve()));
      socket.write(Buffer.from([0, 0, 0]));
      const s = await server;
      await within(s.handler.closed, "handshake deadline");
      assert.ok(isMqwireError(s.handler.closes[0], ErrorCodes.NEGOTIATION));
      await within(socketClosed, "client socket close");
    } finally {
      serverOpts = serverOptions();
    }
  });

  test("a malformed frame closes only its connection", async () => {
    const serverA = accepted();
    const a = engineOver<RemotingCommand>(await connector.open(listener.address), {
      codecs: [rocketmqCodec],
      negotiate: false,
    });
    a.engine.send(RemotingCommand.createRequest(1));
    const sa = await serverA;
    const serverB = accepted();
    const b = engineOver<RemotingCommand>(await connector.open(listener.address), {
      codecs: [rocketmqCodec],
      negotiate: false,
    });
    b.engine.send(RemotingCommand.createRequest(2));
    const sb = await serverB;
    await within(Promise.all([a.handler.frameCount(1), b.handler.frameCount(1)]), "first answers");
    // A length field of 2 is below RocketMQ's minimum of 4 (NettyDecoder closes the channel).
    a.transport.write([Buffer.from([0, 0, 0, 2, 0, 0])]);
    await within(Promise.all([sa.handler.closed, a.handler.closed]), "bad connection closed");
    assert.ok(isMqwireError(sa.handler.closes[0], ErrorCodes.MALFORMED_FRAME));
    b.engine.send(RemotingCommand.createRequest(3));
    await within(b.handler.frameCount(2), "answer on the good connection");
    assert.equal(b.handler.frames[1]!.remark, "ok 3");
    assert.equal(sb.handler.closes.length, 0);
    b.engine.destroy();
  });
});

describe("ProtocolEngine over the memory pair", () => {
  test("RocketMQ frames written one byte at a time arrive whole and in order", async () => {
    const [clientEnd, serverEnd] = createMemoryPair();
    const server = engineOver<Frame>(serverEnd, serverOptions());
    const requests = [1, 2, 3].map((code) =>
      RemotingCommand.createRequest(code, { remark: `r${code}`, body: Buffer.alloc(code * 10, code) }),
    );
    const bytes = Buffer.concat(requests.map(encodeFrame));
    for (let i = 0; i < bytes.length; i++) clientEnd.write(bytes.subarray(i, i + 1));
    await within(server.handler.frameCount(3), "three frames");
    assert.equal(server.engine.codec, rocketmqCodec);
    const got = server.handler.frames as RemotingCommand[];
    assert.deepEqual(
      got.map((c) => [c.code, c.opaque, c.remark, c.body?.length]),
      requests.map((c) => [c.code, c.opaque, c.remark, c.body?.length]),
    );
    server.engine.destroy();
  });

  test("saturation pauses reading until resumeReading", async () => {
    const [clientEnd, serverEnd] = createMemoryPair();
    const server = engineOver<Frame>(serverEnd, serverOptions());
    const client = engineOver<RemotingCommand>(clientEnd, { codecs: [rocketmqCodec], negotiate: false });
    server.handler.saturated = true;
    client.engine.send(RemotingCommand.createRequest(1));
    await within(server.handler.frameCount(1), "first frame");
    assert.equal(server.engine.isReadPaused, true);
    client.engine.send(RemotingCommand.createRequest(2));
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    assert.equal(server.handler.frames.length, 1, "no frame is read while paused");
    server.handler.saturated = false;
    server.engine.resumeReading();
    await within(server.handler.frameCount(2), "frame after resume");
    assert.equal(server.engine.isReadPaused, false);
    client.engine.destroy();
    await within(server.handler.closed, "server close");
  });

  test("send() reports back-pressure and drain follows", async () => {
    const [clientEnd, serverEnd] = createMemoryPair();
    const server = engineOver<Frame>(serverEnd, serverOptions());
    const client = engineOver<RemotingCommand>(clientEnd, { codecs: [rocketmqCodec], negotiate: false });
    const drained = within(new Promise<void>((resolve) => client.engine.once("drain", resolve)), "drain");
    let sent = 0;
    while (client.engine.send(RemotingCommand.createRequest(7, { body: Buffer.alloc(32 * 1024) }))) sent++;
    assert.equal(client.engine.isWritable, false);
    await drained;
    assert.equal(client.engine.isWritable, true);
    await within(server.handler.frameCount(sent + 1), "every frame");
    client.engine.destroy();
  });
});
