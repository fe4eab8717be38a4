/**
 * TLS and SOCKS5 under the remoting API: a RemotingServer with TLS (permissive and enforcing, as
 * RocketMQ's tls.server.mode) and RemotingClients speaking TLS, plaintext, and through a SOCKS5
 * proxy, each running the interop cases end to end over real loopback sockets.
 */
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import {
  ErrorCodes,
  RemotingClient,
  type RemotingClientOptions,
  RemotingServer,
  registerInteropClient,
  registerInteropService,
  runInteropCases,
  SerializeType,
  type TlsServerMode,
} from "../../src/index.js";
import { makeCa } from "../helpers/ephemeral-certs.js";
import { startSocks5Server } from "../helpers/socks5-server.js";

const ca = makeCa();
const serverPair = ca.issue();
const serverTls = (mode: TlsServerMode) => ({ mode, key: serverPair.key, cert: serverPair.cert });
const clientTls = { ca: ca.cert, servername: "localhost" };

async function startServer(mode: TlsServerMode): Promise<RemotingServer> {
  const server = new RemotingServer({ listen: ["127.0.0.1:0"], tls: serverTls(mode) });
  registerInteropService(server);
  await server.start();
  return server;
}

async function echo(options: RemotingClientOptions, addr: string): Promise<string | null> {
  const client = new RemotingClient({ scanNameServers: false, ...options });
  try {
    const reply = await client.invoke(addr, client.createRequest(100, { body: Buffer.from("over tls?") }), {
      timeoutMs: 3000,
    });
    return reply.body?.toString() ?? null;
  } finally {
    await client.shutdown();
  }
}

describe("remoting over TLS", () => {
  const servers: RemotingServer[] = [];
  after(async () => {
    for (const s of servers) await s.shutdown({ graceMs: 0 });
  });

  test("permissive: a TLS client passes every interop case; a plaintext client works on the same port", async () => {
    const server = await startServer("permissive");
    servers.push(server);
    const addr = server.addresses[0]!;
    const client = new RemotingClient({ scanNameServers: false, tls: clientTls });
    registerInteropClient(client);
    const results = await runInteropCases(client, addr, {
      serializeType: SerializeType.ROCKETMQ,
      timeoutMs: 5000,
    });
    await client.shutdown();
    assert.deepEqual(
      results.filter((r) => !r.ok).map((r) => `${r.name}: ${r.reason}`),
      [],
    );
    assert.equal(results.length, 11);
    assert.equal(await echo({}, addr), "over tls?");
  });

  test("enforcing: TLS works, plaintext is refused", async () => {
    const server = await startServer("enforcing");
    servers.push(server);
    const addr = server.addresses[0]!;
    assert.equal(await echo({ tls: clientTls }, addr), "over tls?");
    await assert.rejects(echo({}, addr), (err: { code?: string }) =>
      [ErrorCodes.CHANNEL_CLOSED, ErrorCodes.SEND, ErrorCodes.TIMEOUT].includes(err.code as never),
    );
  });

  test("a client that does not trust the server's certificate cannot connect", async () => {
    const server = await startServer("enforcing");
    servers.push(server);
    await assert.rejects(echo({ tls: { servername: "localhost" } }, server.addresses[0]!), {
      code: ErrorCodes.CONNECT,
    });
  });
});

describe("remoting through a SOCKS5 proxy", () => {
  test("the interop cases pass through the proxy, which saw the target", async (t) => {
    const proxy = await startSocks5Server({ username: "u", password: "p" });
    const server = new RemotingServer({ listen: ["127.0.0.1:0"] });
    registerInteropService(server);
    await server.start();
    t.after(async () => {
      await server.shutdown({ graceMs: 0 });
      await proxy.close();
    });
    const addr = server.addresses[0]!;
    const client = new RemotingClient({
      scanNameServers: false,
      socksProxy: { "127.0.0.0/8": { addr: proxy.address, username: "u", password: "p" } },
    });
    registerInteropClient(client);
    const results = await runInteropCases(client, addr, {
      serializeType: SerializeType.JSON,
      timeoutMs: 5000,
    });
    await client.shutdown();
    assert.deepEqual(
      results.filter((r) => !r.ok).map((r) => `${r.name}: ${r.reason}`),
      [],
    );
    assert.ok(proxy.targets.includes(addr), `proxy saw ${proxy.targets.join(", ")}`);
    assert.ok(proxy.connections >= 1);
  });

  test("TLS inside the SOCKS tunnel", async (t) => {
    const proxy = await startSocks5Server();
    const server = await startServer("enforcing");
    t.after(async () => {
      await server.shutdown({ graceMs: 0 });
      await proxy.close();
    });
    const addr = server.addresses[0]!;
    const body = await echo(
      { socksProxy: JSON.stringify({ "0.0.0.0/0": { addr: proxy.address } }), tls: clientTls },
      addr,
    );
    assert.equal(body, "over tls?");
    assert.deepEqual(proxy.targets, [addr]);
  });
});
