/**
 * The server's `proxyProtocol` option end to end, in process: test clients play the proxy and
 * write the PROXY header themselves over a real TCP socket (test/edges/ does the same behind a
 * real HAProxy). The interop service's code 107 reports the address a processor sees.
 */
import assert from "node:assert/strict";
import type { Duplex } from "node:stream";
import { describe, test } from "node:test";
import {
  ErrorCodes,
  InteropCode,
  InvalidArgumentError,
  isMqwireError,
  type Logger,
  type RemotingChannel,
  type RemotingClient,
  type RemotingCommand,
  RemotingServer,
  registerInteropService,
  TlsConnector,
} from "../../src/index.js";
import { makeCa } from "../helpers/ephemeral-certs.js";
import { ipv4Block, ipv6Block, ProxyHeaderConnector, proxyV1, proxyV2 } from "../helpers/proxy-header.js";
import { makeClient, RawPeer, startServer, waitFor } from "../helpers/remoting.js";

/** A logger that keeps warnings, to find the reason a connection was refused. */
function recordingLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  return { warnings, debug() {}, info() {}, warn: (m: string) => void warnings.push(m), error() {} };
}

/** "host:port" of the socket's own end. */
function localOf(socket: Duplex): { host: string; port: number } {
  const s = socket as unknown as { localAddress: string; localPort: number };
  return { host: s.localAddress, port: s.localPort };
}

async function whoAmI(client: RemotingClient, addr: string): Promise<RemotingCommand> {
  return client.invokeSync(addr, client.createRequest(InteropCode.WHO_AM_I), 3000);
}

const ca = makeCa();
const serverPair = ca.issue();
const clientPair = ca.issue({ usage: "client" });

describe("proxyProtocol: optional", () => {
  test("v1: processors, hooks, events and channels see the client named in the header", async (t) => {
    const hookAddrs: string[] = [];
    const connects: string[] = [];
    const { server, addr } = await startServer(t, { proxyProtocol: "optional" }, (s) => {
      registerInteropService(s);
      s.registerRpcHook({ doBeforeRequest: (a) => void hookAddrs.push(a), doAfterResponse() {} });
      s.on("connect", (remote) => connects.push(remote));
    });
    let proxySide = "";
    const client = makeClient(t, {
      connector: new ProxyHeaderConnector((socket) => {
        const own = localOf(socket);
        proxySide = `${own.host}:${own.port}`;
        return proxyV1("203.0.113.7", "198.51.100.1", 51234, 9876);
      }),
    });
    const reply = await whoAmI(client, addr);
    assert.equal(reply.code, 0);
    assert.equal(reply.body?.toString(), "203.0.113.7:51234");
    const channel = [...server.channels][0]!;
    assert.equal(channel.remoteAddress, "203.0.113.7:51234");
    assert.equal(channel.proxiedBy, proxySide);
    assert.deepEqual(channel.proxyTlvs, []);
    assert.match(String(channel), / via /);
    assert.deepEqual(hookAddrs, ["203.0.113.7:51234"]);
    assert.deepEqual(connects, ["203.0.113.7:51234"]);
  });

  test("v2 over IPv6 with TLVs and a CRC32C: the TLVs reach the processor", async (t) => {
    let seen: RemotingChannel | undefined;
    const { addr } = await startServer(t, { proxyProtocol: "optional" }, (s) =>
      s.registerProcessor(300, (_request, channel) => {
        seen = channel;
        return null;
      }),
    );
    const src = Buffer.from("20010db8000000000000000000000042", "hex");
    const header = proxyV2({
      famProto: 0x21,
      addresses: ipv6Block(src, Buffer.alloc(16, 0), 61000, 10911),
      tlvs: [
        { type: 0x02, value: Buffer.from("broker.example") },
        { type: 0xe0, value: Buffer.from([0, 1, 2]) },
      ],
      crc32c: true,
    });
    const client = makeClient(t, { connector: new ProxyHeaderConnector(header) });
    await client.invokeOneway(addr, client.createRequest(300), 3000);
    await waitFor(() => seen !== undefined, "the processor");
    assert.equal(seen!.remoteAddress, "[2001:db8::42]:61000");
    assert.deepEqual(
      seen!.proxyTlvs.map((tlv) => [tlv.type, tlv.value.toString("hex")]),
      [
        [0x02, Buffer.from("broker.example").toString("hex")],
        [0xe0, "000102"],
        [0x03, header.subarray(-4).toString("hex")],
      ],
    );
  });

  test("v2 LOCAL (a proxy's health check) and no header at all keep the socket's own address", async (t) => {
    const { server, addr } = await startServer(t, { proxyProtocol: "optional" }, registerInteropService);
    for (const connector of [
      new ProxyHeaderConnector(proxyV2({ command: "local", famProto: 0 })),
      undefined,
    ]) {
      let own = "";
      const inner = connector ?? new ProxyHeaderConnector(Buffer.alloc(0));
      const client = makeClient(t, {
        connector: {
          open: async (target, signal) => {
            const socket = await inner.open(target, signal);
            const o = localOf(socket);
            own = `${o.host}:${o.port}`;
            return socket;
          },
        },
      });
      const reply = await whoAmI(client, addr);
      assert.equal(reply.body?.toString(), own);
      const channel = [...server.channels].find((c) => c.remoteAddress === own);
      assert.ok(channel, "the server names the channel by the socket's peer");
      assert.equal(channel.proxiedBy, undefined);
      await client.shutdown();
    }
  });

  test("a malformed header closes that connection with a logged reason; others are undisturbed", async (t) => {
    const logger = recordingLogger();
    const { server, addr } = await startServer(
      t,
      { proxyProtocol: "optional", logger },
      registerInteropService,
    );
    const good = makeClient(t, {
      connector: new ProxyHeaderConnector(
        proxyV2({ addresses: ipv4Block("192.0.2.10", "192.0.2.1", 4000, 9876) }),
      ),
    });
    assert.equal((await whoAmI(good, addr)).body?.toString(), "192.0.2.10:4000");

    const bad = makeClient(t, {
      connector: new ProxyHeaderConnector(Buffer.from("PROXY TCP4 192.0.2.999 192.0.2.1 4001 9876\r\n")),
    });
    const error = await whoAmI(bad, addr).then(
      () => assert.fail("the call should fail"),
      (err: unknown) => err,
    );
    // The server closes the socket: the call fails as calls on a closed connection do (the
    // request may not even have been written when the close is seen).
    assert.ok(isMqwireError(error), String(error));
    assert.ok(
      [ErrorCodes.CHANNEL_CLOSED, ErrorCodes.SEND].includes(error.code as never),
      `unexpected ${error.code}`,
    );
    await waitFor(() => logger.warnings.some((w) => w.includes(ErrorCodes.NEGOTIATION)), "the logged reason");
    // Named by the bound address, not the configured 127.0.0.1:0.
    const bound = addr.replaceAll(".", "\\.");
    assert.match(
      logger.warnings.join("\n"),
      new RegExp(`^${bound}: refused 127\\.0\\.0\\.1:\\d+: MQW_ERR_NEGOTIATION \\(address\\)`, "m"),
    );
    assert.equal(server.channels.size, 1, "only the good connection became a channel");
    assert.equal((await whoAmI(good, addr)).body?.toString(), "192.0.2.10:4000");
  });

  test("a header that never completes is closed at the handshake deadline; one cut short at once", async (t) => {
    const logger = recordingLogger();
    const { server, addr } = await startServer(t, {
      proxyProtocol: "optional",
      handshakeTimeoutMs: 150,
      logger,
    });
    const slow = await RawPeer.connect(t, addr);
    slow.write(Buffer.from("PROXY TCP4 192.0.2.1 "));
    const started = Date.now();
    await slow.whenClosed(3000);
    assert.ok(Date.now() - started >= 100, "closed by the deadline, not before");
    const cut = await RawPeer.connect(t, addr);
    cut.write(proxyV2({ addresses: ipv4Block("192.0.2.1", "192.0.2.2", 1, 2) }).subarray(0, 20));
    cut.socket.end();
    await cut.whenClosed();
    await waitFor(() => logger.warnings.length >= 2, "two logged reasons");
    assert.match(logger.warnings.join("\n"), /\(timeout\)/);
    assert.match(logger.warnings.join("\n"), /\(truncated\)/);
    assert.equal(server.channels.size, 0);
  });

  test("under TLS: the header comes first, then the handshake; 107 adds the client certificate's subject", async (t) => {
    const { addr } = await startServer(
      t,
      {
        proxyProtocol: "required",
        tls: {
          mode: "enforcing",
          key: serverPair.key,
          cert: serverPair.cert,
          ca: ca.cert,
          requestCert: true,
        },
      },
      registerInteropService,
    );
    const client = makeClient(t, {
      connector: new TlsConnector(
        {
          ca: ca.cert,
          servername: "localhost",
          key: clientPair.key,
          cert: clientPair.cert,
        },
        new ProxyHeaderConnector(proxyV1("198.51.100.20", "198.51.100.1", 443, 10911)),
      ),
    });
    const reply = await whoAmI(client, addr);
    assert.equal(reply.body?.toString(), "198.51.100.20:443");
    assert.equal(reply.getExt("tlsSubject"), "CN=mqwire test client");
  });
});

describe("proxyProtocol: required and off", () => {
  test("required refuses a connection without a header, with a logged reason", async (t) => {
    const logger = recordingLogger();
    const { server, addr } = await startServer(
      t,
      { proxyProtocol: "required", logger },
      registerInteropService,
    );
    const plain = makeClient(t);
    await assert.rejects(whoAmI(plain, addr), (err: unknown) => isMqwireError(err));
    await waitFor(() => logger.warnings.length > 0, "the logged reason");
    assert.match(logger.warnings[0]!, /MQW_ERR_NEGOTIATION \(missing\)/);
    const proxied = makeClient(t, {
      connector: new ProxyHeaderConnector(proxyV1("192.0.2.5", "192.0.2.1", 7, 8)),
    });
    assert.equal((await whoAmI(proxied, addr)).body?.toString(), "192.0.2.5:7");
    assert.equal(server.channels.size, 1);
  });

  test("off (the default) treats a header as bytes: the frame rules close the connection", async (t) => {
    const logger = recordingLogger();
    const { server, addr } = await startServer(t, { logger }, registerInteropService);
    assert.equal(server.options.proxyProtocol, "off");
    for (const header of [
      proxyV1("192.0.2.5", "192.0.2.1", 7, 8),
      proxyV2({ addresses: ipv4Block("192.0.2.5", "192.0.2.1", 7, 8) }),
    ]) {
      const peer = await RawPeer.connect(t, addr);
      peer.write(header);
      await peer.whenClosed();
      assert.equal(peer.frames.length, 0);
    }
    await waitFor(() => logger.warnings.length >= 2, "two logged reasons");
    // "PROXY TC" read as a length is 0x50524f58 bytes, the v2 signature's 0x0d0a0d0a: both far
    // beyond 16 MiB, so no codec accepts the first bytes.
    for (const w of logger.warnings) assert.match(w, /MQW_ERR_NEGOTIATION|MQW_ERR_FRAME_TOO_LARGE/);
    assert.equal(server.channels.size, 0);
  });

  test("the option is validated once, at construction", () => {
    assert.throws(
      () => new RemotingServer({ proxyProtocol: "yes" as never }),
      (err: unknown) => err instanceof InvalidArgumentError && /proxyProtocol/.test(err.message),
    );
  });
});
