/**
 * GO_AWAY (RocketMQ 5.x graceful shutdown, reference §6.6): a shutting-down server answers
 * requests newer than V5_3_1 with code 1500; the client reconnects and sends a copy once.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  ErrorCodes,
  type RemotingChannel,
  RemotingClient,
  RemotingCommand,
  RemotingServer,
  ResponseCode,
  registerInteropService,
  silentLogger,
} from "../../src/index.js";

const NEW_VERSION = 479; // V5_3_3: a shutting-down server says GO_AWAY to it
const ECHO = 100;

async function listenWhenFree(server: RemotingServer, addr: string): Promise<void> {
  const until = Date.now() + 3000;
  for (;;) {
    try {
      await server.listen(addr);
      return;
    } catch (err) {
      if (Date.now() > until) throw err;
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}

test("a client newer than 5.3.1 reconnects on GO_AWAY and its request is answered by the new server", async (t) => {
  const old = new RemotingServer({ listen: ["127.0.0.1:0"] });
  registerInteropService(old);
  await old.start();
  const addr = old.addresses[0]!;
  const client = new RemotingClient({ version: NEW_VERSION, scanNameServers: false });
  const fresh = new RemotingServer({ listen: [] });
  const freshSeen: RemotingCommand[] = [];
  fresh.registerProcessor(ECHO, (request) => {
    freshSeen.push(request);
    return RemotingCommand.createResponse(ResponseCode.SUCCESS, "fresh", { body: request.body });
  });
  t.after(async () => {
    await client.shutdown();
    await fresh.shutdown({ graceMs: 0 });
    await old.shutdown({ graceMs: 0 });
  });
  assert.equal((await client.invoke(addr, client.createRequest(ECHO))).remark, "ok");
  // A slow request keeps the old server in its grace period.
  const slow = client.invoke(addr, client.createRequest(101, { extFields: { delayMs: "400" } }), {
    timeoutMs: 5000,
  });
  await new Promise((r) => setTimeout(r, 20));
  const stopping = old.shutdown({ graceMs: 3000 });
  await fresh.start();
  await listenWhenFree(fresh, addr);

  const request = client.createRequest(ECHO, { body: Buffer.from("again") });
  const reply = await client.invoke(addr, request, { timeoutMs: 3000 });
  assert.equal(reply.code, ResponseCode.SUCCESS);
  assert.equal(reply.remark, "fresh");
  assert.equal(reply.body?.toString(), "again");
  assert.equal(freshSeen.length, 1);
  assert.notEqual(freshSeen[0]!.opaque, request.opaque, "the resend carries a new opaque");
  assert.equal(freshSeen[0]!.version, NEW_VERSION);
  // The call in flight on the old connection is still answered by the old server.
  assert.equal((await slow).remark, "ok");
  await stopping;
});

test("GO_AWAY twice fails the call with MQW_ERR_SEND; with reconnectOnGoAway off it is the reply", async (t) => {
  const server = new RemotingServer({ listen: ["127.0.0.1:0"] });
  server.registerDefaultProcessor(() =>
    RemotingCommand.createResponse(ResponseCode.GO_AWAY, "please go away"),
  );
  await server.start();
  const addr = server.addresses[0]!;
  const client = new RemotingClient({ version: NEW_VERSION, scanNameServers: false });
  const plain = new RemotingClient({
    version: NEW_VERSION,
    reconnectOnGoAway: false,
    scanNameServers: false,
  });
  let connects = 0;
  server.on("connect", () => connects++);
  t.after(async () => {
    await client.shutdown();
    await plain.shutdown();
    await server.shutdown({ graceMs: 0 });
  });
  await assert.rejects(client.invokeSync(addr, client.createRequest(ECHO), 3000), { code: ErrorCodes.SEND });
  assert.equal(connects, 2, "the client reconnected once");
  const failed = await new Promise<Error>((resolve, reject) =>
    client.invokeAsync(addr, client.createRequest(ECHO), 3000, {
      operationSucceed: reject,
      operationFail: resolve,
    }),
  );
  assert.equal((failed as { code?: string }).code, ErrorCodes.SEND);
  const reply = await plain.invoke(addr, plain.createRequest(ECHO));
  assert.equal(reply.code, ResponseCode.GO_AWAY);
});

test("a client at version 0 never sees GO_AWAY handling: the reply is passed through", async (t) => {
  const server = new RemotingServer({ listen: ["127.0.0.1:0"] });
  server.registerDefaultProcessor(() => RemotingCommand.createResponse(ResponseCode.GO_AWAY));
  await server.start();
  const client = new RemotingClient({ scanNameServers: false });
  t.after(async () => {
    await client.shutdown();
    await server.shutdown({ graceMs: 0 });
  });
  const reply = await client.invoke(server.addresses[0]!, client.createRequest(ECHO));
  assert.equal(reply.code, ResponseCode.GO_AWAY);
});

// Review of issue 10: each late GO_AWAY dropped whatever channel the table held for the address
// (the fresh one), so 4 calls opened 5 connections and left 4 open after the client's shutdown;
// with one GO_AWAY the old channel, out of the table, outlived the shutdown.
for (const calls of [1, 4]) {
  test(`${calls} GO_AWAY on one channel in separate ticks: one reconnect, none left open after shutdown`, async (t) => {
    const server = new RemotingServer({ listen: ["127.0.0.1:0"], logger: silentLogger });
    let first: RemotingChannel | undefined;
    let opened = 0;
    server.on("connect", (_addr, channel) => {
      opened++;
      first ??= channel;
    });
    // The first connection answers GO_AWAY, 20 ms apart so each reply comes in its own read;
    // later connections answer.
    server.registerProcessor(ECHO, async (request, channel) => {
      if (channel !== first) return RemotingCommand.createResponse(ResponseCode.SUCCESS, "fresh");
      await new Promise((r) => setTimeout(r, 20 * Number(request.extFields?.get("i"))));
      return RemotingCommand.createResponse(ResponseCode.GO_AWAY);
    });
    await server.start();
    t.after(() => server.shutdown({ graceMs: 0 }));
    const addr = server.addresses[0]!;
    const client = new RemotingClient({ version: NEW_VERSION, scanNameServers: false, logger: silentLogger });
    t.after(() => client.shutdown());

    const replies = await Promise.all(
      Array.from({ length: calls }, (_, i) =>
        client.invoke(addr, client.createRequest(ECHO, { extFields: { i: String(i) } }), { timeoutMs: 3000 }),
      ),
    );
    assert.deepEqual(
      replies.map((r) => r.remark),
      replies.map(() => "fresh"),
    );
    assert.equal(opened, 2, "one connection, then one reconnect shared by every GO_AWAY");
    await client.shutdown();
    const until = Date.now() + 1000;
    while (server.channels.size > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
    assert.equal(server.channels.size, 0, "connections still open on the server after client.shutdown()");
  });
}
