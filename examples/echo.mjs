// An echo server and a client: the server answers each request with its body and extFields, in
// the serialize type the request came in (JSON or ROCKETMQ headers, as RocketMQ 4.9 mirrors it).
//   npm ci && node examples/echo.mjs
import {
  RemotingClient,
  RemotingCommand,
  RemotingServer,
  ResponseCode,
  SerializeType,
  serializeTypeName,
} from "mqwire";

const ECHO = 100;

const server = new RemotingServer({ listen: ["127.0.0.1:0"] });
server.registerProcessor(ECHO, (request) =>
  RemotingCommand.createResponse(ResponseCode.SUCCESS, "echo", {
    body: request.body,
    extFields: request.extFields,
  }),
);
await server.start();
const addr = server.addresses[0];
console.log(`server listening on ${addr}`);

for (const serializeType of [SerializeType.JSON, SerializeType.ROCKETMQ]) {
  const client = new RemotingClient({ serializeType });
  const name = serializeTypeName(serializeType);
  for (const text of ["hello", "héllo, wörld", ""]) {
    const request = client.createRequest(ECHO, {
      body: Buffer.from(text),
      extFields: { sent: String(Date.now()) },
    });
    const reply = await client.invoke(addr, request, { timeoutMs: 3000 });
    const same = Buffer.compare(reply.body ?? Buffer.alloc(0), Buffer.from(text)) === 0;
    const back = serializeTypeName(reply.serializeType);
    console.log(
      `${name}: sent ${JSON.stringify(text)}, reply ${reply.code} ${reply.remark} in ${back}, ${same ? "same body" : "DIFFERENT body"}`,
    );
  }
  await client.shutdown();
}

await server.shutdown({ graceMs: 1000 });
console.log("echo: done");
