/** The mqwire:* diagnostics channels carry connections, requests and replies as they happen. */
import assert from "node:assert/strict";
import diagnosticsChannel from "node:diagnostics_channel";
import { test } from "node:test";
import {
  diagnostics,
  RemotingClient,
  RemotingCommand,
  RemotingServer,
  ResponseCode,
} from "../../src/index.js";

test("connection open/close, request and response are published with their channel", async (t) => {
  const events: string[] = [];
  const onOpen = (m: unknown) => events.push(`open:${(m as { side: string }).side}`);
  const onClose = (m: unknown) => events.push(`close:${(m as { error?: Error }).error === undefined}`);
  const onRequest = (m: unknown) =>
    events.push(`request:${(m as { request: RemotingCommand }).request.code}`);
  const onResponse = (m: unknown) => {
    const { request, response } = m as { request: RemotingCommand; response: RemotingCommand };
    events.push(`response:${request.code}->${response.code}:${response.opaque === request.opaque}`);
  };
  diagnosticsChannel.subscribe("mqwire:connection:open", onOpen);
  diagnosticsChannel.subscribe("mqwire:connection:close", onClose);
  diagnosticsChannel.subscribe("mqwire:request", onRequest);
  diagnosticsChannel.subscribe("mqwire:response", onResponse);
  t.after(() => {
    diagnosticsChannel.unsubscribe("mqwire:connection:open", onOpen);
    diagnosticsChannel.unsubscribe("mqwire:connection:close", onClose);
    diagnosticsChannel.unsubscribe("mqwire:request", onRequest);
    diagnosticsChannel.unsubscribe("mqwire:response", onResponse);
  });
  assert.equal(diagnostics.request.name, "mqwire:request");

  const server = new RemotingServer({ listen: ["127.0.0.1:0"] });
  server.registerProcessor(100, () => RemotingCommand.createResponse(ResponseCode.SUCCESS));
  await server.start();
  const client = new RemotingClient({ scanNameServers: false });
  const reply = await client.invoke(server.addresses[0]!, client.createRequest(100));
  assert.equal(reply.code, 0);
  await client.shutdown();
  await server.shutdown({ graceMs: 1000 });

  assert.ok(events.includes("open:client"), events.join(" "));
  assert.ok(events.includes("open:server"), events.join(" "));
  assert.ok(events.includes("request:100"), events.join(" "));
  assert.ok(events.includes("response:100->0:true"), events.join(" "));
  assert.equal(events.filter((e) => e.startsWith("close:")).length, 2, events.join(" "));
  assert.ok(events.indexOf("request:100") < events.indexOf("response:100->0:true"));
});
