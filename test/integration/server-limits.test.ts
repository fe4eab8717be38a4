/**
 * The server's limits reached over real sockets (issue 10, "Hostile input and limits"):
 * maxConnections (a connection beyond it is closed at accept, logged and counted), maxHeaderBytes
 * and maxExtFields (a frame over either closes its connection; the others go on). maxFrameBytes:
 * test/integration/server-lifecycle.test.ts ("exception then close on a frame too large after a
 * valid one"); a processor's maxQueue (SYSTEM_BUSY [OVERLOAD]): test/integration/server-dispatch.test.ts
 * ("queue full: the third request gets SYSTEM_BUSY [OVERLOAD]...").
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { encodeFrame } from "../../src/codec/rocketmq-codec.js";
import {
  ErrorCodes,
  InteropCode,
  type Logger,
  RemotingCommand,
  RemotingServer,
  ResponseCode,
  registerInteropService,
} from "../../src/index.js";
import {
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_MAX_EXT_FIELDS,
  DEFAULT_MAX_HEADER_BYTES,
} from "../../src/options.js";
import { makeClient, RawPeer, sleep, startServer, waitFor } from "../helpers/remoting.js";

const ECHO = InteropCode.ECHO;

function recordingLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  return { warnings, debug() {}, info() {}, warn: (m: string) => warnings.push(m), error() {} };
}

describe("maxConnections", () => {
  test("a connection beyond the limit is closed at accept, logged and counted; a freed slot is reused", async (t) => {
    const logger = recordingLogger();
    const { server, addr } = await startServer(t, { maxConnections: 3, logger, handshakeTimeoutMs: 60_000 });
    const held = [
      await RawPeer.connect(t, addr),
      await RawPeer.connect(t, addr),
      await RawPeer.connect(t, addr),
    ];
    await waitFor(() => server.channels.size === 3, "3 channels");
    const refused = await RawPeer.connect(t, addr);
    await refused.whenClosed();
    assert.equal(server.refusedConnections, 1);
    assert.equal(server.channels.size, 3);
    assert.ok(
      logger.warnings.some((w) => w.includes("refusing connection") && w.includes("maxConnections (3)")),
      logger.warnings.join("\n"),
    );
    // Silent peers hold their slots until the handshake deadline: a good client is refused too.
    const client = makeClient(t, { connectTimeoutMs: 1_000 });
    await assert.rejects(client.invoke(addr, RemotingCommand.createRequest(ECHO), { timeoutMs: 1_000 }));
    assert.equal(server.refusedConnections, 2);
    held[0]!.socket.destroy();
    await waitFor(() => server.channels.size === 2, "a freed slot");
    registerInteropService(server);
    const response = await client.invoke(addr, RemotingCommand.createRequest(ECHO), { timeoutMs: 2_000 });
    assert.equal(response.code, ResponseCode.SUCCESS);
    assert.equal(server.refusedConnections, 2);
    for (const peer of held.slice(1)) assert.equal(peer.closed, false, "held connections stay open");
  });

  test("defaults, and bad values refused with MQW_ERR_INVALID_ARGUMENT", () => {
    assert.equal(new RemotingServer().options.maxConnections, DEFAULT_MAX_CONNECTIONS);
    assert.equal(new RemotingServer().options.maxHeaderBytes, DEFAULT_MAX_HEADER_BYTES);
    assert.equal(new RemotingServer().options.maxExtFields, DEFAULT_MAX_EXT_FIELDS);
    for (const bad of [
      { maxConnections: 0 },
      { maxConnections: 1.5 },
      { maxHeaderBytes: 20 },
      { maxHeaderBytes: 0x100_0000 },
      { maxExtFields: -1 },
    ]) {
      assert.throws(
        () => new RemotingServer(bad),
        { code: ErrorCodes.INVALID_ARGUMENT },
        JSON.stringify(bad),
      );
    }
  });
});

describe("maxHeaderBytes and maxExtFields over the wire", () => {
  const cases: [string, object, (n: number) => RemotingCommand][] = [
    [
      "maxExtFields",
      { maxExtFields: 4 },
      (n) => {
        const extFields: Record<string, string> = {};
        for (let i = 0; i < n; i++) extFields[`k${i}`] = "v";
        return RemotingCommand.createRequest(ECHO, { extFields });
      },
    ],
    [
      "maxHeaderBytes",
      { maxHeaderBytes: 380 },
      (n) => RemotingCommand.createRequest(ECHO, { remark: "r".repeat(n * 60) }),
    ],
  ];
  for (const [name, options, request] of cases) {
    test(`${name}: a request within the limit is answered; one over it closes only its connection`, async (t) => {
      const { server, addr } = await startServer(t, options, registerInteropService);
      const other = makeClient(t);
      assert.equal(
        (await other.invoke(addr, RemotingCommand.createRequest(ECHO))).code,
        ResponseCode.SUCCESS,
      );
      const peer = await RawPeer.connect(t, addr);
      peer.send(request(4));
      assert.equal((await peer.frame(0)).command.code, ResponseCode.SUCCESS);
      peer.send(request(5));
      await peer.whenClosed();
      assert.equal(peer.frames.length, 1, "no reply to the refused frame");
      await sleep(10);
      assert.equal(
        (await other.invoke(addr, RemotingCommand.createRequest(ECHO))).code,
        ResponseCode.SUCCESS,
      );
      assert.equal(server.channels.size, 1);
    });
  }
});

describe("frameTimeoutMs", () => {
  test("a peer dripping a frame is closed at the frame deadline though every byte resets idle; others go on", async (t) => {
    const logger = recordingLogger();
    const { server, addr } = await startServer(
      t,
      { frameTimeoutMs: 400, channelMaxIdleMs: 60_000, logger },
      registerInteropService,
    );
    const frame = encodeFrame(RemotingCommand.createRequest(ECHO, { remark: "drip".repeat(20) }));
    const dripper = await RawPeer.connect(t, addr);
    // The first 8 bytes choose the codec at once; the rest comes a byte every 50 ms (4 s in all).
    dripper.write(frame.subarray(0, 8));
    let sent = 8;
    const timer = setInterval(() => {
      if (sent < frame.length && !dripper.socket.destroyed) dripper.write(frame.subarray(sent, ++sent));
    }, 50);
    t.after(() => clearInterval(timer));
    const started = Date.now();
    const steady = await RawPeer.connect(t, addr);
    steady.send(RemotingCommand.createRequest(ECHO));
    assert.equal((await steady.frame(0)).command.code, ResponseCode.SUCCESS);
    await dripper.whenClosed();
    const closedAfterMs = Date.now() - started;
    assert.ok(sent < frame.length, "the whole frame arrived: the deadline never fired");
    assert.ok(closedAfterMs < 3_000, `closed after ${closedAfterMs} ms`);
    assert.ok(
      logger.warnings.some((w) => w.includes("frame deadline")),
      logger.warnings.join("\n"),
    );
    steady.send(RemotingCommand.createRequest(ECHO));
    assert.equal((await steady.frame(1)).command.code, ResponseCode.SUCCESS);
    assert.equal(server.channels.size, 1);
  });

  test("frames that keep completing never trip it, however long the connection lives", async (t) => {
    const { addr } = await startServer(t, { frameTimeoutMs: 200 }, registerInteropService);
    const peer = await RawPeer.connect(t, addr);
    // Each frame arrives in two halves 50 ms apart, for 1.2 s: every frame is within its deadline.
    for (let i = 0; i < 12; i++) {
      const frame = encodeFrame(RemotingCommand.createRequest(ECHO));
      peer.write(frame.subarray(0, 10));
      await sleep(50);
      peer.write(frame.subarray(10));
      assert.equal((await peer.frame(i)).command.code, ResponseCode.SUCCESS);
      await sleep(50);
    }
  });
});
