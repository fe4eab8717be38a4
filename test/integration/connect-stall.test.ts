/**
 * Connect deadlines against a stalled event loop (src/transport/after-next-poll.ts): the loop is
 * kept busy for longer than the connect time-out right after the connect is issued, so that when
 * it turns again the time-out is due before the poll that delivers the completed connect. The
 * connect must still succeed: the time-out fails it only if it is still pending after that poll.
 */
import assert from "node:assert/strict";
import net from "node:net";
import { describe, test } from "node:test";
import { InteropCode, TcpConnector } from "../../src/index.js";
import { request, startClient, startServer } from "../helpers/client-fixtures.js";

const CONNECT_TIMEOUT_MS = 50;
const STALL_MS = 300;

function busyWait(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // The stall: nothing else runs, the kernel completes the TCP handshake meanwhile.
  }
}

/**
 * Runs `start` in a check-phase callback and stalls right after it: net.connect issues the
 * connect in a nextTick queued before ours, and after the check phase the loop's next turn begins
 * with its timers, so the connect time-out runs before the poll that would see the connect done.
 */
function startThenStall<T>(start: () => T): Promise<T> {
  return new Promise((resolve) => {
    setImmediate(() => {
      const started = start();
      process.nextTick(() => {
        busyWait(STALL_MS);
        resolve(started);
      });
    });
  });
}

describe("connect deadlines and a stalled event loop", () => {
  test("TcpConnector: a connect done during a stall longer than connectTimeoutMs succeeds", async (t) => {
    const server = net.createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    t.after(() => server.close());
    const { port } = server.address() as net.AddressInfo;
    const connector = new TcpConnector({ connectTimeoutMs: CONNECT_TIMEOUT_MS });
    const opening = await startThenStall(() => connector.open(`127.0.0.1:${port}`));
    const socket = await opening;
    socket.on("error", () => undefined);
    socket.destroy();
  });

  test("RemotingClient: the first call connects through a stall longer than connectTimeoutMs", async (t) => {
    const { addr } = await startServer(t);
    const client = startClient(t, { connectTimeoutMs: CONNECT_TIMEOUT_MS });
    const call = await startThenStall(() =>
      client.invoke(addr, request(client, InteropCode.ECHO, "stalled"), { timeoutMs: 5000 }),
    );
    const response = await call;
    assert.equal(response.body?.toString(), "stalled");
    assert.ok(client.channelOf(addr)?.isActive, "the channel is kept");
  });
});
