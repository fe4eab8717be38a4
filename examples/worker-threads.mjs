// CPU-heavy requests in worker threads (WorkerPoolProcessor): the event loop, which drives every
// connection, only ships the command to a worker and back, so a cheap request on the same server
// is answered at once while the heavy ones run. The worker module is ./lib/hash-worker.mjs.
//   npm ci && node examples/worker-threads.mjs
import { RemotingClient, RemotingCommand, RemotingServer, ResponseCode, WorkerPoolProcessor } from "mqwire";

const HASH = 400;
const PING = 401;

const server = new RemotingServer({ listen: ["127.0.0.1:0"] });
server.registerProcessor(
  HASH,
  new WorkerPoolProcessor({ filename: new URL("./lib/hash-worker.mjs", import.meta.url), maxThreads: 2 }),
);
server.registerProcessor(PING, () => RemotingCommand.createResponse(ResponseCode.SUCCESS, "pong"));
await server.start();
const addr = server.addresses[0];
const client = new RemotingClient();
await client.invoke(addr, client.createRequest(PING)); // connect first

const started = performance.now();
const hashes = Promise.all(
  ["alice", "bob", "carol", "dave"].map((password) =>
    client.invoke(addr, client.createRequest(HASH, { body: Buffer.from(password) }), { timeoutMs: 30_000 }),
  ),
);
let done = false;
void hashes.finally(() => {
  done = true;
});

// Meanwhile, ping: each answer comes from the event loop, which the hashing never blocks.
let pings = 0;
let slowestPingMs = 0;
while (!done) {
  const t = performance.now();
  await client.invoke(addr, client.createRequest(PING), { timeoutMs: 3000 });
  slowestPingMs = Math.max(slowestPingMs, performance.now() - t);
  pings++;
  await new Promise((resolve) => setTimeout(resolve, 5));
}
const replies = await hashes;
console.log(
  `4 hashes in worker threads: ${replies.map((r) => r.remark).join(", ")} (${Math.round(performance.now() - started)} ms)`,
);
console.log(`first hash: ${replies[0].body.toString().slice(0, 16)}...`);
console.log(`pings answered meanwhile: ${pings}, slowest ${slowestPingMs.toFixed(1)} ms`);

await client.shutdown();
await server.shutdown({ graceMs: 1000 }); // also closes the worker pool
console.log("worker-threads: done");
