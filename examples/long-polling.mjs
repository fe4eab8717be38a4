// Long polling, as RocketMQ's broker holds a PULL_MESSAGE with nothing to return
// (PullRequestHoldService): the processor returns null and keeps the request; a later put, or the
// hold time running out, answers it with channel.respond(request, response).
//   npm ci && node examples/long-polling.mjs
import { RemotingClient, RemotingCommand, RemotingServer, ResponseCode } from "mqwire";

const PULL = 300;
const PUT = 301;
const DEFAULT_HOLD_MS = 15_000;

const server = new RemotingServer({ listen: ["127.0.0.1:0"] });
const queue = [];
/** Pulls waiting for data: { channel, request, timer }. */
const held = new Set();

function answer(entry, response) {
  clearTimeout(entry.timer);
  held.delete(entry);
  // False when the client has gone meanwhile: nothing to do, as the broker drops it too.
  entry.channel.respond(entry.request, response);
}

const found = (items) =>
  RemotingCommand.createResponse(ResponseCode.SUCCESS, "found", { body: Buffer.from(items.join(",")) });

server.registerProcessor(PULL, (request, channel) => {
  if (queue.length > 0) return found(queue.splice(0));
  const holdMs = Number(request.getExt("holdMs") ?? DEFAULT_HOLD_MS);
  const entry = { channel, request, timer: undefined };
  entry.timer = setTimeout(
    () =>
      answer(
        entry,
        RemotingCommand.createResponse(ResponseCode.PULL_NOT_FOUND, `nothing within ${holdMs} ms`),
      ),
    holdMs,
  );
  held.add(entry);
  return null; // answered later
});

server.registerProcessor(PUT, (request) => {
  queue.push(request.body.toString());
  // Data arrived: wake every held pull (notifyMessageArriving).
  for (const entry of held) answer(entry, found(queue.splice(0)));
  return RemotingCommand.createResponse(ResponseCode.SUCCESS, "stored");
});

await server.start();
const addr = server.addresses[0];
const consumer = new RemotingClient();
const producer = new RemotingClient();

async function pull(label, holdMs) {
  const started = performance.now();
  const request = consumer.createRequest(PULL, { extFields: { holdMs: String(holdMs) } });
  // The call's time-out must outlast the hold, as the Java consumer's does (brokerSuspendMaxTimeMillis).
  const reply = await consumer.invoke(addr, request, { timeoutMs: holdMs + 3000 });
  const ms = Math.round(performance.now() - started);
  const what =
    reply.code === ResponseCode.SUCCESS
      ? `got "${reply.body.toString()}"`
      : `code ${reply.code}, ${reply.remark}`;
  console.log(`${label}: ${what} after ${ms} ms`);
}

// 1. Nothing there yet: the pull is held until a put arrives 200 ms later.
const waiting = pull("pull held until a put", 5000);
await new Promise((resolve) => setTimeout(resolve, 200));
await producer.invoke(addr, producer.createRequest(PUT, { body: Buffer.from("order-1") }));
await waiting;

// 2. Data already there: answered at once.
await producer.invoke(addr, producer.createRequest(PUT, { body: Buffer.from("order-2") }));
await pull("pull with data waiting", 5000);

// 3. Nothing arrives: answered with PULL_NOT_FOUND when the hold time is up.
await pull("pull with nothing arriving", 300);

await consumer.shutdown();
await producer.shutdown();
await server.shutdown({ graceMs: 1000 });
console.log("long-polling: done");
