// Server push: clients say hello (as RocketMQ clients send HEART_BEAT), the server keeps their
// channels, then sends requests to every connected client and collects the replies, as a broker
// asks its consumers for their running info (GET_CONSUMER_RUNNING_INFO) or tells them to
// rebalance (NOTIFY_CONSUMER_IDS_CHANGED, oneway).
//   npm ci && node examples/server-push.mjs
import { RemotingClient, RemotingCommand, RemotingServer, ResponseCode } from "mqwire";

const HELLO = 34; // RocketMQ's HEART_BEAT code, here a plain greeting
const ASK = 307; // GET_CONSUMER_RUNNING_INFO
const NOTIFY = 40; // NOTIFY_CONSUMER_IDS_CHANGED, oneway

const server = new RemotingServer({ listen: ["127.0.0.1:0"] });
/** Who is on each channel, from their hello. */
const clientIds = new Map();
server.registerProcessor(HELLO, (request, channel) => {
  clientIds.set(channel, request.getExt("clientId"));
  return RemotingCommand.createResponse(ResponseCode.SUCCESS, "welcome");
});
server.on("close", (_remote, channel) => clientIds.delete(channel));
await server.start();
const addr = server.addresses[0];

const clients = [];
let notified = 0;
let allNotified;
const notifiedAll = new Promise((resolve) => {
  allNotified = resolve;
});
for (const id of ["client-a", "client-b", "client-c"]) {
  const client = new RemotingClient();
  // A client answers the server's requests with processors of its own.
  client.registerProcessor(ASK, (request) =>
    RemotingCommand.createResponse(ResponseCode.SUCCESS, "running", {
      body: Buffer.from(`${id} answers ${request.body}`),
    }),
  );
  client.registerProcessor(NOTIFY, () => {
    if (++notified === 3) allNotified();
    return null; // oneway: nothing to answer
  });
  await client.invoke(addr, client.createRequest(HELLO, { extFields: { clientId: id } }), {
    timeoutMs: 3000,
  });
  clients.push(client);
}
console.log(`server: ${server.channels.size} clients connected`);

// Ask every connected client, in parallel; each reply comes back on that client's connection.
const replies = await Promise.all(
  [...clientIds].map(async ([channel, id]) => {
    const request = server.createRequest(ASK, { body: Buffer.from("status?") });
    const reply = await server.invoke(channel, request, { timeoutMs: 3000 });
    return `${id}: ${reply.code} ${reply.body.toString()}`;
  }),
);
for (const line of replies.sort()) console.log(`push reply from ${line}`);

// A oneway push: written, never answered.
for (const channel of clientIds.keys())
  await server.invokeOneway(channel, server.createRequest(NOTIFY), 3000);
await notifiedAll;
console.log(`oneway notifications received: ${notified}`);

for (const client of clients) await client.shutdown();
await server.shutdown({ graceMs: 1000 });
console.log("server-push: done");
