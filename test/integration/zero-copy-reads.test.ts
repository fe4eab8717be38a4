/**
 * Client connections read with `onread` into buffers the decoder chooses (read-buffers.ts): large
 * frames are read straight into their own buffer. End to end over TCP: bodies of every size arrive
 * intact, and only plain connections use it.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { InteropCode, type RemotingChannel, type RemotingCommand } from "../../src/index.js";
import { readBuffersOf } from "../../src/transport/read-buffers.js";
import type { SocketTransport } from "../../src/transport/socket-transport.js";
import { TcpConnector } from "../../src/transport/tcp.js";
import { startClient, startServer } from "../helpers/client-fixtures.js";

test("large and small echo bodies, concurrently, come back intact through in-place reads", async (t) => {
  const s = await startServer(t);
  const client = startClient(t);
  let channel: RemotingChannel | undefined;
  client.on("active", (_addr, ch) => (channel = ch as RemotingChannel));
  // Sizes around the in-place threshold (64 KiB), the read slab, and a few MiB.
  const sizes = [3 * 1024 * 1024, 70_000, 10, 65_536, 65_535, 200_000, 0, 1024 * 1024 + 1, 5, 131_072];
  const bodies = sizes.map((n) => randomBytes(n));
  const calls: Promise<RemotingCommand>[] = [];
  for (let round = 0; round < 3; round++) {
    for (const body of bodies) {
      calls.push(
        client.invoke(s.addr, client.createRequest(InteropCode.ECHO, { body }), { timeoutMs: 10_000 }),
      );
    }
  }
  const responses = await Promise.all(calls);
  responses.forEach((r, i) => {
    const want = bodies[i % bodies.length]!;
    assert.equal(r.code, 0);
    assert.equal(r.body?.length ?? 0, want.length, `body ${i} length`);
    if (want.length > 0) assert.ok(r.body!.equals(want), `body ${i} differs`);
  });
  assert.ok(channel !== undefined, "the client's channel became active");
  const transport = channel.engine.transport as SocketTransport;
  assert.ok(readBuffersOf(transport.stream) !== undefined, "a plain TCP client connection reads with onread");
});

test("TcpConnector uses onread only when asked (TLS and SOCKS wrap a connector without it)", async (t) => {
  const s = await startServer(t);
  const plain = await new TcpConnector().open(s.addr);
  const zeroCopy = await new TcpConnector({}, { zeroCopyReads: true }).open(s.addr);
  try {
    assert.equal(readBuffersOf(plain), undefined);
    assert.ok(readBuffersOf(zeroCopy) !== undefined);
  } finally {
    plain.destroy();
    zeroCopy.destroy();
  }
});

test("a client over a Unix socket reads with onread too, small and large bodies intact", async (t) => {
  const path = join(tmpdir(), `mqwire-zc-${process.pid}-${Date.now()}.sock`);
  const s = await startServer(t, `unix:${path}`);
  const client = startClient(t);
  const bodies = [randomBytes(7), randomBytes(300_000), Buffer.alloc(0), randomBytes(70_000)];
  const responses = await Promise.all(
    bodies.map((body) =>
      client.invoke(s.addr, client.createRequest(InteropCode.ECHO, { body }), { timeoutMs: 10_000 }),
    ),
  );
  responses.forEach((r, i) => {
    assert.equal(r.code, 0);
    assert.ok((r.body ?? Buffer.alloc(0)).equals(bodies[i]!), `body ${i}`);
  });
});
