/** Options are validated once, at construction, and applied to what a side creates. */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  ErrorCodes,
  LanguageCode,
  RemotingClient,
  RemotingCommand,
  RemotingServer,
  SerializeType,
} from "../../src/index.js";

test("serializeType, language and version of createRequest reach the server as sent", async (t) => {
  const seen: RemotingCommand[] = [];
  const server = new RemotingServer({ listen: ["127.0.0.1:0"] });
  server.registerProcessor(100, (request) => {
    seen.push(request);
    return RemotingCommand.createResponse(0);
  });
  await server.start();
  const client = new RemotingClient({
    serializeType: SerializeType.ROCKETMQ,
    language: LanguageCode.GO,
    version: 479,
    scanNameServers: false,
  });
  t.after(async () => {
    await client.shutdown();
    await server.shutdown({ graceMs: 0 });
  });
  const addr = server.addresses[0]!;
  await client.invoke(addr, client.createRequest(100));
  await client.invoke(addr, client.createRequest(100, { serializeType: SerializeType.JSON, version: 7 }));
  assert.equal(seen.length, 2);
  assert.deepEqual(
    seen.map((r) => [r.serializeType, r.language, r.version]),
    [
      [SerializeType.ROCKETMQ, LanguageCode.GO, 479],
      [SerializeType.JSON, LanguageCode.GO, 7],
    ],
  );
});

test("bad options fail at construction with MQW_ERR_INVALID_ARGUMENT naming the option", () => {
  const cases: [() => unknown, RegExp][] = [
    [() => new RemotingClient({ connectTimeoutMs: 0 }), /connectTimeoutMs/],
    [() => new RemotingClient({ version: 1.5 }), /version/],
    [() => new RemotingClient({ language: 300 }), /language/],
    [() => new RemotingServer({ asyncPermits: -1 }), /asyncPermits/],
    [() => new RemotingServer({ channelMaxIdleMs: Number.NaN }), /channelMaxIdleMs/],
    [() => new RemotingClient({ closeSocketIfTimeout: "yes" as never }), /closeSocketIfTimeout/],
  ];
  for (const [make, name] of cases) {
    assert.throws(make, (err: { code?: string; message: string }) => {
      assert.equal(err.code, ErrorCodes.INVALID_ARGUMENT);
      assert.match(err.message, name);
      return true;
    });
  }
});

test("resolved options are frozen", () => {
  const client = new RemotingClient({ scanNameServers: false });
  assert.ok(Object.isFrozen(client.options));
  assert.equal(client.options.language, LanguageCode.JAVA);
  assert.equal(client.options.version, 0);
});
