/**
 * Name-server selection end to end over TCP on 127.0.0.1 (reference §9.2): calls with `addr`
 * null go to one name server and stick to it, fail over when it goes away, and the reachability
 * scan (one-shot and periodic) reports only the live ones.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ErrorCodes, InteropCode, type RemotingClient } from "../../src/index.js";
import {
  closedPort,
  expectCode,
  request,
  startClient,
  startServer,
  type TestServer,
  waitFor,
  within,
} from "../helpers/client-fixtures.js";

/** The server whose address is `addr`. */
function byAddr(servers: TestServer[], addr: string | undefined): TestServer {
  const s = servers.find((x) => x.addr === addr);
  assert.ok(s, `no server at ${addr}`);
  return s;
}

function echo(client: RemotingClient, body = "ns"): Promise<unknown> {
  return client.invoke(null, request(client, InteropCode.ECHO, body), { timeoutMs: 2000 });
}

describe("name-server selection", () => {
  test("no name server: MQW_ERR_CONNECT", async (t) => {
    const client = startClient(t);
    await expectCode(echo(client), ErrorCodes.CONNECT);
    await expectCode(client.invokeSync(null, request(client, InteropCode.ECHO), 500), ErrorCodes.CONNECT);
    await expectCode(
      client.invokeOneway(null, request(client, InteropCode.ONEWAY_COUNT), 500),
      ErrorCodes.CONNECT,
    );
  });

  test("the list is kept as given (as a set), and null-address calls stick to one server", async (t) => {
    const servers = [await startServer(t), await startServer(t)];
    const client = startClient(t);
    client.updateNameServerAddressList([servers[0]!.addr, servers[1]!.addr]);
    assert.deepEqual(client.getNameServerAddressList().sort(), [servers[0]!.addr, servers[1]!.addr].sort());
    assert.equal(client.chosenNameServer, undefined);
    for (let i = 0; i < 10; i++) await echo(client);
    const chosen = byAddr(servers, client.chosenNameServer);
    const other = servers.find((s) => s !== chosen)!;
    assert.equal(chosen.requests, 10);
    assert.equal(other.requests, 0);
    assert.equal(chosen.connections, 1);
  });

  test("concurrent first calls choose one name server and open one connection", {}, async (t) => {
    const servers = [await startServer(t), await startServer(t), await startServer(t)];
    const client = startClient(t);
    client.updateNameServerAddressList(servers.map((s) => s.addr));
    await Promise.all(Array.from({ length: 30 }, () => echo(client)));
    const used = servers.filter((s) => s.connections > 0);
    assert.equal(used.length, 1, `connected to ${used.length} name servers`);
    assert.equal(used[0]!.requests, 30);
    assert.equal(client.chosenNameServer, used[0]!.addr);
  });

  test("when the chosen server shuts down, the next null-address call fails over to the other", async (t) => {
    const servers = [await startServer(t), await startServer(t)];
    const client = startClient(t);
    client.updateNameServerAddressList(servers.map((s) => s.addr));
    await echo(client);
    const chosen = byAddr(servers, client.chosenNameServer);
    const other = servers.find((s) => s !== chosen)!;
    const closed = new Promise((resolve) => client.once("close", resolve));
    await chosen.server.shutdown({ graceMs: 0 });
    await within(closed, 3000, "the client to see the close");
    // The round robin may try the dead server first; it must move on within the same call.
    for (let i = 0; i < 3; i++) await echo(client, `after-${i}`);
    assert.equal(client.chosenNameServer, other.addr);
    assert.equal(other.requests, 3);
    assert.equal(other.connections, 1);
  });

  test("an invokeSync time-out closes the name server's channel, so the next call rotates to another", async (t) => {
    const servers = [await startServer(t), await startServer(t)];
    const client = startClient(t);
    client.updateNameServerAddressList(servers.map((s) => s.addr));
    await echo(client);
    const chosen = byAddr(servers, client.chosenNameServer);
    const other = servers.find((s) => s !== chosen)!;
    await expectCode(
      client.invokeSync(null, request(client, InteropCode.NEVER_REPLIES), 100),
      ErrorCodes.TIMEOUT,
    );
    await echo(client);
    assert.equal(client.chosenNameServer, other.addr);
    assert.equal(other.requests, 1);
  });

  test("dropping the chosen server from the list clears the choice and closes its channel", async (t) => {
    const servers = [await startServer(t), await startServer(t)];
    const client = startClient(t);
    client.updateNameServerAddressList(servers.map((s) => s.addr));
    await echo(client);
    const chosen = byAddr(servers, client.chosenNameServer);
    const other = servers.find((s) => s !== chosen)!;
    const closed = new Promise<string>((resolve) => client.once("close", (addr) => resolve(addr)));
    client.updateNameServerAddressList([other.addr]);
    assert.equal(client.chosenNameServer, undefined);
    assert.deepEqual(client.getNameServerAddressList(), [other.addr]);
    assert.equal(await within(closed, 3000, "the dropped server's channel to close"), chosen.addr);
    await echo(client);
    assert.equal(client.chosenNameServer, other.addr);
    assert.equal(other.requests, 1);
  });

  test("an unchanged list (same members, another order) keeps the choice", async (t) => {
    const servers = [await startServer(t), await startServer(t)];
    const client = startClient(t);
    client.updateNameServerAddressList(servers.map((s) => s.addr));
    await echo(client);
    const chosen = client.chosenNameServer;
    client.updateNameServerAddressList(servers.map((s) => s.addr).reverse());
    assert.equal(client.chosenNameServer, chosen);
    await echo(client);
    assert.equal(byAddr(servers, chosen).requests, 2);
  });
});

describe("reachability scan", () => {
  test("scanNameServers() keeps only the live name servers in the available list", async (t) => {
    const live = await startServer(t);
    const dead = `127.0.0.1:${await closedPort()}`;
    const client = startClient(t);
    client.updateNameServerAddressList([live.addr, dead]);
    assert.deepEqual(client.getAvailableNameServerList(), []);
    await client.scanNameServers();
    assert.deepEqual(client.getAvailableNameServerList(), [live.addr]);
  });

  test("start() scans periodically and the available list follows a server going down", async (t) => {
    const servers = [await startServer(t), await startServer(t)];
    const client = startClient(t, {
      scanNameServers: true,
      nameServerScanMs: 30,
      reconnectBaseMs: 10,
      reconnectMaxMs: 20,
    });
    client.updateNameServerAddressList(servers.map((s) => s.addr));
    await client.start();
    const all = servers.map((s) => s.addr);
    await waitFor(() => client.getAvailableNameServerList().length === 2, "both name servers available");
    assert.deepEqual(client.getAvailableNameServerList().sort(), all.sort());
    await servers[0]!.server.shutdown({ graceMs: 0 });
    await waitFor(
      () => client.getAvailableNameServerList().length === 1,
      "the stopped name server to leave the available list",
    );
    assert.deepEqual(client.getAvailableNameServerList(), [servers[1]!.addr]);
  });
});
