// Every call style of mqwire's RemotingClient against a RemotingServer, in one runnable file:
//   npm run build && node examples/call-styles.mjs
import { AbortProcessError, RemotingClient, RemotingCommand, RemotingServer, ResponseCode } from "mqwire";

const ECHO = 100;
const COUNT = 104;
const LATER = 120;
const PUSHED = 200;

const server = new RemotingServer({ listen: ["127.0.0.1:0"] });
let counted = 0;
// A processor per request code, each with its own concurrency limit and queue.
server.registerProcessor(ECHO, (request) =>
  RemotingCommand.createResponse(ResponseCode.SUCCESS, "ok", {
    body: request.body,
    extFields: request.extFields,
  }),
);
server.registerProcessor(
  COUNT,
  () => {
    counted++;
    return RemotingCommand.createResponse(ResponseCode.SUCCESS);
  },
  { concurrency: 8, maxQueue: 1000 },
);
// Long polling: answer later through the channel, keeping the request.
server.registerProcessor(LATER, (request, channel) => {
  setTimeout(
    () => channel.respond(request, RemotingCommand.createResponse(ResponseCode.SUCCESS, "later")),
    50,
  );
  return null;
});
// A hook that refuses requests without a token (its code and message become the reply).
server.registerRpcHook({
  doBeforeRequest(_addr, request) {
    if (request.getExt("token") === "bad")
      throw new AbortProcessError(ResponseCode.NO_PERMISSION, "bad token");
  },
  doAfterResponse() {},
});
await server.start();
const addr = server.addresses[0];

const client = new RemotingClient();
client.registerProcessor(PUSHED, (request) =>
  RemotingCommand.createResponse(ResponseCode.SUCCESS, `client got ${request.body}`),
);
client.on("active", (remote) => console.log(`connected to ${remote}`));

// 1. Promise form, with a time-out and an AbortSignal.
const reply = await client.invoke(addr, client.createRequest(ECHO, { body: Buffer.from("hello") }), {
  timeoutMs: 3000,
  signal: AbortSignal.timeout(5000),
});
console.log("invoke:", reply.code, reply.remark, reply.body.toString());

// 2. RocketMQ's invokeSync.
const sync = await client.invokeSync(addr, client.createRequest(ECHO, { extFields: { k: "v" } }), 3000);
console.log("invokeSync:", sync.code, Object.fromEntries(sync.extFields));

// 3. RocketMQ's invokeAsync with a callback.
await new Promise((resolve) =>
  client.invokeAsync(addr, client.createRequest(ECHO), 3000, {
    operationSucceed: (response) => console.log("invokeAsync:", response.code),
    operationFail: (err) => console.log("invokeAsync failed:", err.code),
    operationComplete: resolve,
  }),
);

// 4. Oneway: no reply.
for (let i = 0; i < 3; i++) await client.invokeOneway(addr, client.createRequest(COUNT), 3000);

// 5. A deferred reply and a hook that refuses.
console.log("deferred:", (await client.invoke(addr, client.createRequest(LATER))).remark);
const refused = await client.invoke(addr, client.createRequest(ECHO, { extFields: { token: "bad" } }));
console.log("refused:", refused.code, refused.remark);

// 6. Errors carry stable codes.
try {
  await client.invoke(addr, client.createRequest(LATER), { timeoutMs: 10 });
} catch (err) {
  console.log("time-out:", err.code);
}

// 7. Server push to the connected client.
const [channel] = server.channels;
const pushed = await server.invoke(channel, server.createRequest(PUSHED, { body: Buffer.from("news") }), {
  timeoutMs: 3000,
});
console.log("push:", pushed.remark);

await new Promise((r) => setTimeout(r, 20));
console.log("oneways counted:", counted);
await client.shutdown();
await server.shutdown({ graceMs: 1000 });
