// Request signing as RocketMQ's ACL does it (AclClientRPCHook): the client's hook adds AccessKey
// and an HMAC-SHA1 Signature over the extFields and body; the server's hook recomputes it with
// the account's secret and refuses a mismatch with NO_PERMISSION, before any processor runs.
// The credentials are made up for the example.
//   npm ci && node examples/acl-signing.mjs
import { timingSafeEqual } from "node:crypto";
import {
  AbortProcessError,
  computeAclSignature,
  createAclSigningHook,
  RemotingClient,
  RemotingCommand,
  RemotingServer,
  ResponseCode,
} from "mqwire";

const ORDER = 310;
const secrets = new Map([["example-ak", "example-secret"]]);

const server = new RemotingServer({ listen: ["127.0.0.1:0"] });
server.registerRpcHook({
  doBeforeRequest(_remoteAddr, request) {
    const accessKey = request.getExt("AccessKey");
    const signature = request.getExt("Signature");
    const secret = accessKey === undefined ? undefined : secrets.get(accessKey);
    if (secret === undefined || signature === undefined) {
      throw new AbortProcessError(ResponseCode.NO_PERMISSION, "unknown or missing AccessKey");
    }
    const expected = Buffer.from(computeAclSignature(request.extFields, request.body, secret));
    const given = Buffer.from(signature);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
      throw new AbortProcessError(ResponseCode.NO_PERMISSION, "signature mismatch");
    }
  },
  doAfterResponse() {},
});
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
await server.shutdown({ graceMs: 1000 });
console.log("acl-signing: done");
