import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, mock, test } from "node:test";
import type { Codec, SniffResult } from "../../src/codec/codec.js";
import type { FrameHandler } from "../../src/engine/frame-handler.js";
import { ProtocolEngine, type ProtocolEngineOptions } from "../../src/engine/protocol-engine.js";
import { ErrorCodes, isMqwireError } from "../../src/errors.js";
import type { Logger } from "../../src/logger.js";
import { DEFAULT_CLOSE_GRACE_MS } from "../../src/options.js";
import type { IdleKind } from "../../src/transport/transport.js";
import { FakeTransport } from "../helpers/fake-transport.js";
import { lineBytes, lineCodec } from "../helpers/line-codec.js";

/** A FrameHandler that records every call. */
class RecordingHandler implements FrameHandler<string> {
  readonly frames: string[] = [];
  readonly closes: (Error | undefined)[] = [];
  readonly idles: IdleKind[] = [];
  saturated = false;
  onFrameHook: ((frame: string) => void) | undefined;
  onFrame(frame: string): void {
    this.frames.push(frame);
    this.onFrameHook?.(frame);
  }
  onClose(error: Error | undefined): void {
    this.closes.push(error);
  }
  onIdle(kind: IdleKind): void {
    this.idles.push(kind);
  }
  isSaturated(): boolean {
    return this.saturated;
  }
}

/** A logger that keeps lines per level. */
function recordingLogger(): Logger & { lines: Record<string, string[]> } {
  const lines: Record<string, string[]> = { debug: [], info: [], warn: [], error: [] };
  const at = (level: string) => (m: string) => void lines[level]!.push(m);
  return { lines, debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}

/** RocketMQ's sniff shape without the real codec: "need-more" below 8 bytes. */
const framedCodec: Codec<string> = {
  ...lineCodec,
  name: "framed",
  sniff(head: Buffer): SniffResult {
    if (head.length < 8) return "need-more";
    return head[0] === 0 ? "yes" : "no";
  },
};

function setup(options: Partial<ProtocolEngineOptions<string>> = {}, closeSync = false) {
  const transport = new FakeTransport({ closeSync });
  const logger = recordingLogger();
  const engine = new ProtocolEngine<string>(transport, { codecs: [lineCodec], logger, ...options });
  const handler = new RecordingHandler();
  engine.start(handler);
  return { transport, engine, handler, logger };
}

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));
const hasCode = (code: string) => (err: unknown) => isMqwireError(err) && err.code === code;

describe("ProtocolEngine: decoding", () => {
  test("frames split at every byte boundary arrive whole and in order", () => {
    const bytes = lineBytes("one", "two", "three");
    for (const negotiate of [false, true]) {
      for (let a = 0; a <= bytes.length; a++) {
        for (let b = a; b <= bytes.length; b++) {
          const { transport, handler, engine } = setup({ negotiate });
          transport.receive(bytes.subarray(0, a));
          transport.receive(bytes.subarray(a, b));
          transport.receive(bytes.subarray(b));
          assert.deepEqual(handler.frames, ["one", "two", "three"], `negotiate ${negotiate} split ${a}/${b}`);
          assert.equal(handler.closes.length, 0);
          assert.equal(engine.codec, lineCodec);
        }
      }
    }
  });

  test("negotiation picks the codec whose sniff says yes, and emits negotiated", () => {
    const { transport, engine, handler } = setup({ codecs: [framedCodec, lineCodec] });
    let negotiated: Codec<string> | undefined;
    engine.on("negotiated", (c) => {
      negotiated = c;
    });
    assert.equal(engine.codec, undefined);
    transport.receive(Buffer.from("L"));
    assert.equal(engine.codec, undefined);
    transport.receive(Buffer.from(":hi\nL:there\n"));
    assert.equal(engine.codec, lineCodec);
    assert.equal(negotiated, lineCodec);
    assert.deepEqual(handler.frames, ["hi", "there"]);
  });

  test("all codecs saying no closes with MQW_ERR_NEGOTIATION, logged with the remote address", async () => {
    const { transport, engine, handler, logger } = setup({ codecs: [lineCodec, framedCodec] });
    transport.receive(Buffer.from("GET / HTTP/1.1\r\n"));
    assert.equal(handler.closes.length, 1);
    assert.ok(hasCode(ErrorCodes.NEGOTIATION)(handler.closes[0]));
    assert.equal(transport.destroyed, true);
    assert.equal(transport.destroyError, handler.closes[0]);
    assert.equal(engine.isClosed, true);
    assert.ok(logger.lines.warn!.some((l) => l.includes(transport.remoteAddress)));
    await tick();
    assert.equal(transport.closeCount, 1);
    assert.equal(handler.closes.length, 1);
  });

  test("a malformed frame closes only that connection", () => {
    const bad = setup();
    const good = setup();
    bad.transport.receive(Buffer.from("L:ok\nXX:bad\nL:never\n"));
    good.transport.receive(lineBytes("a"));
    assert.equal(bad.handler.closes.length, 1);
    assert.ok(hasCode(ErrorCodes.MALFORMED_FRAME)(bad.handler.closes[0]));
    assert.equal(bad.transport.destroyed, true);
    assert.ok(bad.logger.lines.warn!.some((l) => l.includes(bad.transport.remoteAddress)));
    // Bytes after the error are not decoded.
    bad.transport.receive(lineBytes("later"));
    assert.ok(!bad.handler.frames.includes("later"));
    good.transport.receive(lineBytes("b"));
    assert.deepEqual(good.handler.frames, ["a", "b"]);
    assert.equal(good.handler.closes.length, 0);
    assert.equal(good.transport.destroyed, false);
  });

  test("a frame above maxFrameBytes closes with MQW_ERR_FRAME_TOO_LARGE", () => {
    const { transport, handler } = setup({ maxFrameBytes: 8 });
    transport.receive(lineBytes("0123456789"));
    assert.equal(handler.closes.length, 1);
    assert.ok(hasCode(ErrorCodes.FRAME_TOO_LARGE)(handler.closes[0]));
  });

  test("an onFrame that throws is logged and closes the connection with that error", () => {
    const { transport, handler, logger } = setup();
    const boom = new Error("boom");
    handler.onFrameHook = (f) => {
      if (f === "2") throw boom;
    };
    transport.receive(lineBytes("1", "2", "3"));
    assert.deepEqual(handler.frames, ["1", "2"]);
    assert.deepEqual(handler.closes, [boom]);
    assert.equal(transport.destroyError, boom);
    assert.equal(logger.lines.error!.length, 1);
  });

  test("a handler that destroys the engine inside onFrame gets no more frames", () => {
    const { transport, engine, handler } = setup();
    handler.onFrameHook = () => engine.destroy();
    transport.receive(lineBytes("1", "2"));
    assert.deepEqual(handler.frames, ["1"]);
    assert.deepEqual(handler.closes, [undefined]);
  });
});

describe("ProtocolEngine: handshake deadline", () => {
  beforeEach(() => mock.timers.enable({ apis: ["setTimeout"] }));
  afterEach(() => mock.timers.reset());

  test("3 bytes and a passed deadline close with MQW_ERR_NEGOTIATION", () => {
    const { transport, handler, logger } = setup({
      codecs: [lineCodec, framedCodec],
      handshakeTimeoutMs: 100,
    });
    transport.receive(Buffer.from([0, 0, 0]));
    mock.timers.tick(99);
    assert.equal(handler.closes.length, 0);
    mock.timers.tick(1);
    assert.equal(handler.closes.length, 1);
    assert.ok(hasCode(ErrorCodes.NEGOTIATION)(handler.closes[0]));
    assert.equal(transport.destroyed, true);
    assert.ok(logger.lines.warn!.some((l) => l.includes(transport.remoteAddress)));
  });

  test("a peer that sends nothing is closed at the deadline (default 10 s)", () => {
    const { handler } = setup({ codecs: [framedCodec] });
    mock.timers.tick(9_999);
    assert.equal(handler.closes.length, 0);
    mock.timers.tick(1);
    assert.ok(hasCode(ErrorCodes.NEGOTIATION)(handler.closes[0]));
  });

  test("the timer is cleared once negotiation completes", () => {
    const { transport, handler } = setup({ handshakeTimeoutMs: 100 });
    transport.receive(lineBytes("x"));
    mock.timers.tick(1_000);
    assert.deepEqual(handler.frames, ["x"]);
    assert.equal(handler.closes.length, 0);
    assert.equal(transport.destroyed, false);
  });

  test("the timer is cleared when the connection closes first", () => {
    const { transport, engine, handler } = setup({ handshakeTimeoutMs: 100 }, true);
    engine.close();
    mock.timers.tick(1_000);
    assert.deepEqual(handler.closes, [undefined]);
    assert.equal(transport.destroyed, false);
  });

  test("no deadline without negotiation (a client speaks first)", () => {
    const { transport, handler } = setup({ negotiate: false, handshakeTimeoutMs: 100 });
    mock.timers.tick(1_000);
    assert.equal(handler.closes.length, 0);
    assert.equal(transport.destroyed, false);
  });
});

describe("ProtocolEngine: no leaked handshake timer", () => {
  for (const [what, act] of [
    ["negotiation completes", (t: FakeTransport) => t.receive(lineBytes("x"))],
    ["the peer closes", (t: FakeTransport) => t.peerClose()],
    ["negotiation fails", (t: FakeTransport) => t.receive(Buffer.from("nope"))],
  ] as const) {
    test(`the timer set at start is cleared when ${what}`, async (t) => {
      const set = t.mock.method(globalThis, "setTimeout");
      const cleared = t.mock.method(globalThis, "clearTimeout");
      const { transport, handler } = setup({ handshakeTimeoutMs: 60_000 });
      assert.equal(set.mock.callCount(), 1);
      const handle = set.mock.calls[0]!.result;
      act(transport);
      await tick();
      assert.ok(cleared.mock.calls.some((c) => c.arguments[0] === handle));
      assert.ok(handler.frames.length + handler.closes.length >= 1);
    });
  }
});

describe("ProtocolEngine: back-pressure, idle, send", () => {
  test("saturation pauses the transport and resumeReading resumes it", () => {
    const { transport, engine, handler } = setup();
    transport.receive(lineBytes("a"));
    assert.equal(transport.pauseCount, 0);
    handler.saturated = true;
    transport.receive(lineBytes("b", "c"));
    assert.equal(transport.pauseCount, 1);
    assert.equal(transport.paused, true);
    assert.equal(engine.isReadPaused, true);
    // Bytes already in flight while paused are still delivered, and do not pause twice.
    transport.receive(lineBytes("d"));
    assert.equal(transport.pauseCount, 1);
    assert.deepEqual(handler.frames, ["a", "b", "c", "d"]);
    handler.saturated = false;
    engine.resumeReading();
    assert.equal(transport.resumeCount, 1);
    assert.equal(transport.paused, false);
    engine.resumeReading();
    assert.equal(transport.resumeCount, 1);
  });

  test("send() writes the encoded chunks and returns isWritable", () => {
    const { transport, engine } = setup({ negotiate: false });
    assert.equal(engine.send("hello"), true);
    assert.deepEqual(transport.writes, [lineCodec.encode("hello")]);
    transport.writable = false;
    assert.equal(engine.send("world"), false);
    assert.equal(engine.isWritable, false);
    assert.equal(transport.written.toString(), "L:hello\nL:world\n");
  });

  test("drain is surfaced as an event", () => {
    const { transport, engine } = setup();
    let drains = 0;
    engine.on("drain", () => drains++);
    transport.setWritable(false);
    transport.setWritable(true);
    assert.equal(drains, 1);
    assert.equal(engine.isWritable, true);
  });

  test("send() before negotiation throws MQW_ERR_SEND; after close MQW_ERR_CHANNEL_CLOSED", () => {
    const { transport, engine } = setup({ negotiate: true });
    assert.throws(() => engine.send("early"), hasCode(ErrorCodes.SEND));
    assert.equal(transport.writes.length, 0);
    transport.receive(lineBytes("hi"));
    engine.send("reply");
    engine.close();
    assert.throws(() => engine.send("late"), hasCode(ErrorCodes.CHANNEL_CLOSED));
    assert.equal(transport.writes.length, 1);
  });

  test("idle events are forwarded and idle options go to the transport", () => {
    const idle = { allIdleMs: 120_000 };
    const { transport, handler } = setup({ idle });
    assert.deepEqual(transport.idleOptions, idle);
    transport.fireIdle("reader");
    transport.fireIdle("all");
    assert.deepEqual(handler.idles, ["reader", "all"]);
    // The engine decides no policy: nothing was closed.
    assert.equal(handler.closes.length, 0);
    assert.equal(transport.ended || transport.destroyed, false);
  });
});

describe("ProtocolEngine: closing", () => {
  test("close() ends the transport with the grace and onClose follows its close event once", async () => {
    const { transport, engine, handler } = setup();
    let closeEvents = 0;
    engine.on("close", () => closeEvents++);
    engine.close();
    assert.equal(transport.endedWith, DEFAULT_CLOSE_GRACE_MS);
    assert.equal(engine.isClosed, true);
    transport.receive(lineBytes("ignored"));
    assert.equal(handler.frames.length, 0);
    engine.close(5);
    await tick();
    assert.deepEqual(handler.closes, [undefined]);
    assert.equal(closeEvents, 1);
    engine.destroy(new Error("after"));
    assert.equal(handler.closes.length, 1);
  });

  test("peer close with an error reaches onClose once", async () => {
    const { transport, engine, handler } = setup();
    const reset = new Error("ECONNRESET");
    transport.peerClose(reset);
    await tick();
    engine.destroy();
    engine.close();
    assert.deepEqual(handler.closes, [reset]);
  });

  test("destroy() calls onClose synchronously once, whatever follows", async () => {
    const { transport, engine, handler } = setup();
    const err = new Error("bye");
    engine.destroy(err);
    assert.deepEqual(handler.closes, [err]);
    engine.destroy(new Error("again"));
    transport.peerClose(new Error("late"));
    await tick();
    assert.deepEqual(handler.closes, [err]);
    assert.equal(transport.destroyError, err);
  });

  test("destroy() before start() delivers onClose at start", () => {
    const transport = new FakeTransport();
    const engine = new ProtocolEngine<string>(transport, { codecs: [lineCodec] });
    const err = new Error("early");
    engine.destroy(err);
    const handler = new RecordingHandler();
    engine.start(handler);
    assert.deepEqual(handler.closes, [err]);
    assert.throws(() => engine.start(handler), hasCode(ErrorCodes.INVALID_ARGUMENT));
  });

  test("options are validated with MQW_ERR_INVALID_ARGUMENT", () => {
    const t = new FakeTransport();
    const invalid = hasCode(ErrorCodes.INVALID_ARGUMENT);
    assert.throws(() => new ProtocolEngine<string>(t, { codecs: [] }), invalid);
    assert.throws(
      () => new ProtocolEngine<string>(t, { codecs: [lineCodec, framedCodec], negotiate: false }),
      invalid,
    );
    assert.throws(() => new ProtocolEngine<string>(t, { codecs: [lineCodec], maxFrameBytes: 0 }), invalid);
    assert.throws(
      () => new ProtocolEngine<string>(t, { codecs: [lineCodec], handshakeTimeoutMs: -1 }),
      invalid,
    );
    assert.throws(() => new ProtocolEngine<string>(t, { codecs: [lineCodec], closeGraceMs: 1.5 }), invalid);
  });
});
