// Request signing as RocketMQ's ACL does it: the client's hook (createAclSigningHook, Java's
// AclClientRPCHook) adds AccessKey and an HMAC-SHA1 Signature over the extFields and body; the
// server's hook (createAclVerifyingHook, PlainAccessValidator's check) recomputes it with the
// account's secret and refuses a mismatch with NO_PERMISSION (16) before any processor runs.
// The connection stays open. The credentials are made up for the example.
//   npm ci && node examples/acl-signing.mjs
import {
  createAclSigningHook,
  createAclVerifyingHook,
  RemotingClient,
  RemotingCommand,
  RemotingServer,
  ResponseCode,
  silentLogger,
} from "mqwire";

const ORDER = 310;

const server = new RemotingServer({ listen: ["127.0.0.1:0"] });
const refusals = [];
// Register it first: a refused request then reaches no other hook and no processor.
server.registerRpcHook(
  createAclVerifyingHook({
    accounts: [{ accessKey: "example-ak", secretKey: "example-secret" }],
    // Each refusal is logged as a warning; collected here to print them at the end.
    logger: { ...silentLogger, warn: (message) => refusals.push(message) },
  }),
);
server.registerProcessor(ORDER, (request) =>
  RemotingCommand.createResponse(ResponseCode.SUCCESS, `accepted ${request.getExt("orderId")}`),
);
await server.start();
const addr = server.addresses[0];

async function send(label, client) {
  const request = client.createRequest(ORDER, {
    extFields: { orderId: "42" },
    body: Buffer.from("two apples"),
  });
  const reply = await client.invoke(addr, request, { timeoutMs: 3000 });
  const signed =
    request.getExt("Signature") === undefined ? "unsigned" : `signed ${request.getExt("Signature")}`;
  console.log(`${label}: ${signed} -> ${reply.code} ${reply.remark}`);
}

// The hook signs each request just before it is written; register it after hooks that add fields.
const good = new RemotingClient();
good.registerRpcHook(createAclSigningHook({ accessKey: "example-ak", secretKey: "example-secret" }));
await send("right secret", good);

const wrong = new RemotingClient();
wrong.registerRpcHook(createAclSigningHook({ accessKey: "example-ak", secretKey: "not-the-secret" }));
await send("wrong secret", wrong);

const none = new RemotingClient();
await send("no hook", none);

for (const client of [good, wrong, none]) await client.shutdown();
console.log(`server refusals logged: ${refusals.length}`);
await server.shutdown({ graceMs: 1000 });
console.log("acl-signing: done");
