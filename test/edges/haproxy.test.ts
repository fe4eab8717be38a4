/**
 * `npm run test:edges`: the server's `proxyProtocol` behind a real HAProxy (Debian's `haproxy`,
 * TCP mode): `send-proxy` (v1), `send-proxy-v2` with the CRC32C and unique-id TLVs, and v2
 * health checks (LOCAL). The suite writes a config with free loopback ports, starts HAProxy in
 * the foreground and stops it by PID. Without HAProxy every test fails, saying to install it:
 * nothing is skipped.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  encodeFrame,
  InteropCode,
  type RemotingChannel,
  RemotingCommand,
  RemotingServer,
  registerInteropService,
  silentLogger,
} from "../../src/index.js";
import { RawPeer, waitFor } from "../helpers/remoting.js";

const INSTALL_HINT =
  "haproxy is not installed: install it (Debian: apt-get install haproxy) or set HAPROXY to its path; " +
  "npm run test:edges needs a real HAProxy";

function findHaproxy(): string | undefined {
  if (process.env.HAPROXY) return existsSync(process.env.HAPROXY) ? process.env.HAPROXY : undefined;
  const dirs = [...(process.env.PATH ?? "").split(delimiter), "/usr/sbin", "/usr/local/sbin", "/sbin"];
  return dirs.map((d) => join(d, "haproxy")).find((p) => existsSync(p));
}

/** A free loopback port (bound, read, released: HAProxy binds it a moment later). */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Resolves once `port` accepts a connection (the connection is closed at once). */
async function waitListening(port: number, child: ChildProcess, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`haproxy exited with ${child.exitCode}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host: "127.0.0.1", port }, () => {
        s.destroy();
        resolve(true);
      });
      s.on("error", () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`haproxy did not listen on ${port} within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface Haproxy {
  readonly v1: string;
  readonly v2: string;
  stop(): Promise<void>;
}

async function startHaproxy(serverPort: number): Promise<Haproxy> {
  const bin = findHaproxy();
  if (bin === undefined) throw new Error(INSTALL_HINT);
  const [v1, v2] = [await freePort(), await freePort()];
  const dir = mkdtempSync(join(tmpdir(), "mqwire-haproxy-"));
  const config = join(dir, "haproxy.cfg");
  const target = `127.0.0.1:${serverPort}`;
  writeFileSync(
    config,
    [
      "global",
      "  maxconn 256",
      "defaults",
      "  mode tcp",
      "  timeout connect 2s",
      "  timeout client 30s",
      "  timeout server 30s",
      "listen v1",
      `  bind 127.0.0.1:${v1}`,
      `  server mq ${target} send-proxy`,
      "listen v2",
      `  bind 127.0.0.1:${v2}`,
      "  unique-id-format %ci:%cp",
      `  server mq ${target} send-proxy-v2 proxy-v2-options crc32c,unique-id`,
      // Health checks that carry the header: HAProxy sends a v2 LOCAL command on them, then a
      // 107 request, and expects the reply to name its own (loopback) address.
      "listen checks",
      `  bind 127.0.0.1:${await freePort()}`,
      "  option tcp-check",
      `  tcp-check send-binary ${encodeFrame(RemotingCommand.createRequest(InteropCode.WHO_AM_I)).toString("hex")}`,
      "  tcp-check expect string 127.0.0.1:",
      `  server mq ${target} send-proxy-v2 check check-send-proxy inter 100ms`,
      "",
    ].join("\n"),
  );
  // -db: foreground, so the PID spawned is the one to stop.
  const child = spawn(bin, ["-db", "-f", config], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.pid !== undefined) process.kill(child.pid, "SIGTERM");
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitListening(v1, child);
    await waitListening(v2, child);
  } catch (err) {
    await stop();
    throw new Error(`${(err as Error).message}\n${stderr}`);
  }
  return { v1: `127.0.0.1:${v1}`, v2: `127.0.0.1:${v2}`, stop };
}

/** The server's channel whose real client is `remote`. */
function channelOf(server: RemotingServer, remote: string): RemotingChannel | undefined {
  return [...server.channels].find((c) => c.remoteAddress === remote);
}

describe("behind HAProxy (TCP mode)", () => {
  let server: RemotingServer;
  let haproxy: Haproxy | undefined;
  /** Channels that came with a LOCAL header (no proxiedBy), and the addresses 107 answered. */
  const localHeaders: RemotingChannel[] = [];
  const whoAmIAnswered: string[] = [];

  before(async () => {
    server = new RemotingServer({ listen: ["127.0.0.1:0"], proxyProtocol: "required", logger: silentLogger });
    registerInteropService(server);
    server.registerRpcHook({
      doBeforeRequest: (addr, request) => {
        if (request.code === InteropCode.WHO_AM_I) whoAmIAnswered.push(addr);
      },
      doAfterResponse() {},
    });
    server.on("connect", (_remote, channel) => {
      if (channel !== undefined && channel.proxiedBy === undefined) localHeaders.push(channel);
    });
    await server.start();
    haproxy = await startHaproxy(server.port);
  });
  after(async () => {
    await haproxy?.stop();
    await server?.shutdown({ graceMs: 0 });
  });

  /** Sends 107 through HAProxy from a raw socket; returns the reply's body and the socket's own address. */
  async function whoAmIThrough(t: Parameters<typeof RawPeer.connect>[0], proxy: string) {
    const peer = await RawPeer.connect(t, proxy);
    const me = `127.0.0.1:${peer.socket.localPort}`;
    peer.send(RemotingCommand.createRequest(InteropCode.WHO_AM_I));
    const reply = (await peer.frame(0)).command;
    return { me, reply };
  }

  test("send-proxy (v1): a processor sees the client's address, not HAProxy's", async (t) => {
    assert.ok(haproxy, "haproxy started");
    const { me, reply } = await whoAmIThrough(t, haproxy.v1);
    assert.equal(reply.code, 0);
    assert.equal(reply.body?.toString(), me);
    const channel = channelOf(server, me);
    assert.ok(channel, `a server channel named ${me}`);
    assert.ok(
      channel.proxiedBy !== undefined && channel.proxiedBy !== me,
      "HAProxy's own socket is proxiedBy",
    );
    assert.deepEqual(channel.proxyTlvs, []);
  });

  test("send-proxy-v2 with CRC32C and unique-id TLVs: the client's address and the TLVs", async (t) => {
    assert.ok(haproxy, "haproxy started");
    const { me, reply } = await whoAmIThrough(t, haproxy.v2);
    assert.equal(reply.code, 0);
    assert.equal(reply.body?.toString(), me);
    const channel = channelOf(server, me);
    assert.ok(channel, `a server channel named ${me}`);
    const types = channel.proxyTlvs.map((tlv) => tlv.type);
    assert.ok(types.includes(0x03), `a CRC32C TLV (checked by the parser), got ${types}`);
    const uniqueId = channel.proxyTlvs.find((tlv) => tlv.type === 0x05);
    assert.equal(uniqueId?.value.toString(), me, "unique-id-format %ci:%cp");
  });

  test("v2 health checks (LOCAL) are accepted with HAProxy's own address and answered", async () => {
    assert.ok(haproxy, "haproxy started");
    const answeredLocal = (): RemotingChannel | undefined =>
      localHeaders.find((c) => c.remoteAddress !== "" && whoAmIAnswered.includes(c.remoteAddress));
    await waitFor(() => answeredLocal() !== undefined, "a health check's 107 on a LOCAL connection", 5000);
    const channel = answeredLocal()!;
    assert.match(channel.remoteAddress, /^127\.0\.0\.1:\d+$/);
    assert.equal(channel.proxiedBy, undefined);
    assert.deepEqual(channel.proxyTlvs, []);
  });
});
