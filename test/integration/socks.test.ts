/**
 * SocksConnector against the test SOCKS5 proxy (test/helpers/socks5-server.ts), all on
 * 127.0.0.1 port 0. Rules for other networks (10.0.0.0/8) appear only in maps: they must not
 * match loopback targets, and the test proxy would refuse anything but loopback anyway.
 */
import assert from "node:assert/strict";
import net from "node:net";
import type { Duplex } from "node:stream";
import { after, describe, test } from "node:test";
import type { TLSSocket } from "node:tls";
import { ErrorCodes, isMqwireError } from "../../src/errors.js";
import { silentLogger } from "../../src/logger.js";
import { parseSocksProxyConfig, SocksConnector, selectSocksProxy } from "../../src/transport/socks.js";
import { TcpAcceptor, TcpConnector } from "../../src/transport/tcp.js";
import { TlsAcceptor } from "../../src/transport/tls-server.js";
import { makeCa } from "../helpers/ephemeral-certs.js";
import { type Socks5TestServer, startSocks5Server } from "../helpers/socks5-server.js";

const ca = makeCa();
const CA = ca.cert;
const SERVER = ca.issue();
const WAIT_MS = 3000;

const cleanups: Array<() => unknown> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

function readBytes(d: Duplex, n: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let got = 0;
    const done = (err?: Error): void => {
      clearTimeout(timer);
      d.off("data", onData);
      d.off("close", onClose);
      if (err) reject(err);
      else resolve(Buffer.concat(chunks));
    };
    const onData = (c: Buffer): void => {
      chunks.push(c);
      got += c.length;
      if (got >= n) done();
    };
    const onClose = (): void => done(new Error(`closed after ${got} of ${n} bytes`));
    const timer = setTimeout(() => done(new Error(`timed out after ${got} of ${n} bytes`)), WAIT_MS);
    d.on("data", onData);
    d.on("close", onClose);
  });
}

async function echoOnce(d: Duplex, text: string): Promise<void> {
  d.write(text);
  assert.equal((await readBytes(d, text.length)).toString(), text);
}

/** A TCP server on 127.0.0.1:0; `onSocket` defaults to echo. Counts connections. */
async function tcpServer(onSocket: (s: net.Socket) => void = (s) => s.pipe(s)) {
  const sockets = new Set<net.Socket>();
  let connections = 0;
  const server = net.createServer((s) => {
    connections++;
    sockets.add(s);
    s.on("error", () => {});
    s.on("close", () => sockets.delete(s));
    onSocket(s);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as net.AddressInfo).port;
  cleanups.push(() => {
    for (const s of sockets) s.destroy();
    return new Promise<void>((r) => server.close(() => r()));
  });
  return {
    port,
    target: `127.0.0.1:${port}`,
    get connections() {
      return connections;
    },
  };
}

async function proxy(options?: { username: string; password: string }): Promise<Socks5TestServer> {
  const p = await startSocks5Server(options);
  cleanups.push(() => p.close());
  return p;
}

const tcp = new TcpConnector();

describe("SocksConnector", () => {
  test("a matching rule goes through the proxy, which gets the target as sent", async () => {
    const echo = await tcpServer();
    const p = await proxy();
    const connector = new SocksConnector({ proxies: { "127.0.0.0/8": { addr: p.address } }, fallback: tcp });
    const sock = await connector.open(echo.target);
    await echoOnce(sock, "through the tunnel");
    assert.equal(p.connections, 1);
    assert.deepEqual(p.targets, [echo.target]);
    assert.equal(echo.connections, 1);
    sock.destroy();
  });

  test("username/password: right credentials pass, wrong and missing ones fail with ConnectError", async () => {
    const echo = await tcpServer();
    const p = await proxy({ username: "mq", password: "secret" });
    const via = (entry: object) =>
      new SocksConnector({ proxies: { "127.0.0.0/8": { addr: p.address, ...entry } }, fallback: tcp });

    const sock = await via({ username: "mq", password: "secret" }).open(echo.target);
    await echoOnce(sock, "authenticated");
    sock.destroy();

    await assert.rejects(via({ username: "mq", password: "wrong" }).open(echo.target), (err) =>
      isMqwireError(err, ErrorCodes.CONNECT),
    );
    assert.equal(p.authFailures, 1);
    // No credentials: the proxy offers no acceptable method.
    await assert.rejects(via({}).open(echo.target), (err) => isMqwireError(err, ErrorCodes.CONNECT));
    assert.deepEqual(p.targets, [echo.target]);
    assert.equal(echo.connections, 1);
  });

  test("the CIDR map: first match in insertion order; unmatched targets go direct", async () => {
    const echo = await tcpServer();
    const a = await proxy();
    const b = await proxy();
    const ordered = new SocksConnector({
      proxies: {
        "10.0.0.0/8": { addr: a.address },
        "127.0.0.0/8": { addr: b.address },
        "0.0.0.0/0": { addr: a.address },
      },
      fallback: tcp,
    });
    const viaB = await ordered.open(echo.target);
    await echoOnce(viaB, "b");
    viaB.destroy();
    assert.equal(a.connections, 0);
    assert.deepEqual(b.targets, [echo.target]);

    const direct = new SocksConnector({ proxies: { "10.0.0.0/8": { addr: a.address } }, fallback: tcp });
    assert.equal(direct.proxyFor(echo.target), undefined);
    const sock = await direct.open(echo.target);
    await echoOnce(sock, "direct");
    sock.destroy();
    assert.equal(a.connections, 0);
    assert.equal(echo.connections, 2);
  });

  test("0.0.0.0/0 also takes host names, which go to the proxy unresolved", async () => {
    const echo = await tcpServer();
    const p = await proxy();
    const connector = new SocksConnector({
      proxies: JSON.stringify({ "0.0.0.0/0": { addr: p.address } }),
      fallback: tcp,
    });
    const target = `localhost:${echo.port}`;
    const sock = await connector.open(target);
    await echoOnce(sock, "by name");
    sock.destroy();
    assert.deepEqual(p.targets, [target]);
  });

  test("TLS inside the tunnel, verified against the target host", async () => {
    const tlsServer = await new TlsAcceptor(
      new TcpAcceptor(),
      { mode: "enforcing", key: SERVER.key, cert: SERVER.cert },
      silentLogger,
    ).listen("127.0.0.1:0", (d) => {
      d.on("error", () => {});
      d.pipe(d);
    });
    cleanups.push(() => tlsServer.close());
    const p = await proxy();
    const connector = new SocksConnector({
      proxies: { "0.0.0.0/0": { addr: p.address } },
      fallback: tcp,
      tls: { ca: CA },
    });
    for (const host of ["127.0.0.1", "localhost"]) {
      const sock = (await connector.open(`${host}:${tlsServer.port}`)) as TLSSocket;
      assert.equal(sock.authorized, true);
      assert.equal(sock.encrypted, true);
      await echoOnce(sock, `tls via proxy to ${host}`);
      sock.destroy();
    }
    assert.deepEqual(p.targets, [`127.0.0.1:${tlsServer.port}`, `localhost:${tlsServer.port}`]);
    // A name the certificate does not hold is refused.
    const wrong = new SocksConnector({
      proxies: { "0.0.0.0/0": { addr: p.address } },
      fallback: tcp,
      tls: { ca: CA, servername: "elsewhere.test" },
    });
    await assert.rejects(wrong.open(`127.0.0.1:${tlsServer.port}`), (err) =>
      isMqwireError(err, ErrorCodes.CONNECT),
    );
  });

  test("bytes the target sends first reach a reader that attaches late", async () => {
    const greeting = "HELLO-FROM-SERVER";
    const greeter = await tcpServer((s) => {
      s.write(greeting);
      s.pipe(s);
    });
    const p = await proxy();
    const connector = new SocksConnector({ proxies: { "127.0.0.0/8": { addr: p.address } }, fallback: tcp });
    const sock = await connector.open(greeter.target);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal((await readBytes(sock, greeting.length)).toString(), greeting);
    await echoOnce(sock, "and back");
    sock.destroy();
  });

  test("a target the proxy cannot reach fails with ConnectError", async () => {
    const closed = await tcpServer();
    const port = closed.port;
    await cleanups.pop()!(); // close it: the port now refuses
    const p = await proxy();
    const connector = new SocksConnector({ proxies: { "127.0.0.0/8": { addr: p.address } }, fallback: tcp });
    await assert.rejects(connector.open(`127.0.0.1:${port}`), (err) =>
      isMqwireError(err, ErrorCodes.CONNECT),
    );
    assert.equal(p.connections, 1);
  });

  test("a proxy that never answers times out as ConnectError(TimeoutError)", async () => {
    const silent = await tcpServer(() => {});
    const connector = new SocksConnector({
      proxies: { "127.0.0.0/8": { addr: silent.target } },
      fallback: tcp,
      connectTimeoutMs: 150,
    });
    await assert.rejects(connector.open("127.0.0.1:9"), (err) => {
      assert.ok(isMqwireError(err, ErrorCodes.CONNECT));
      assert.ok(isMqwireError(err.cause, ErrorCodes.TIMEOUT));
      return true;
    });
    assert.equal(silent.connections, 1);
  });

  test("an aborted signal rejects with its reason", async () => {
    const silent = await tcpServer(() => {});
    const connector = new SocksConnector({
      proxies: { "127.0.0.0/8": { addr: silent.target } },
      fallback: tcp,
    });
    const ctl = new AbortController();
    const reason = new Error("stop");
    const opening = connector.open("127.0.0.1:9", ctl.signal);
    setTimeout(() => ctl.abort(reason), 30);
    await assert.rejects(opening, (err) => err === reason);
  });
});

describe("proxy map", () => {
  test("CIDR containment, order, and host names", () => {
    const rules = parseSocksProxyConfig({
      "192.168.1.0/24": { addr: "127.0.0.1:1081" },
      "10.0.0.0/8": { addr: "127.0.0.1:1082", username: "u", password: "p" },
      "10.1.0.0/16": { addr: "127.0.0.1:1083" },
    });
    assert.equal(selectSocksProxy(rules, "192.168.1.77")?.port, 1081);
    assert.equal(selectSocksProxy(rules, "192.168.2.1"), undefined);
    assert.equal(selectSocksProxy(rules, "10.1.2.3")?.port, 1082); // the earlier /8 wins
    assert.equal(selectSocksProxy(rules, "10.1.2.3")?.username, "u");
    assert.equal(selectSocksProxy(rules, "127.0.0.1"), undefined);
    assert.equal(selectSocksProxy(rules, "broker.example"), undefined); // names need 0.0.0.0/0
    assert.equal(selectSocksProxy(rules, "::1"), undefined);
    const all = parseSocksProxyConfig('{"0.0.0.0/0":{"addr":"127.0.0.1:1080","username":"u","password":""}}');
    assert.equal(selectSocksProxy(all, "broker.example")?.port, 1080);
    assert.equal(all[0]?.username, undefined); // RocketMQ authenticates only with both set
    assert.deepEqual(parseSocksProxyConfig("{}"), []);
  });

  test("a bad map is an InvalidArgumentError", () => {
    const bad: unknown[] = [
      "{not json",
      "[]",
      { "10.0.0.0/33": { addr: "127.0.0.1:1080" } },
      { "10.0.0.256/8": { addr: "127.0.0.1:1080" } },
      { "10.0.0.0": { addr: "127.0.0.1:1080" } },
      { "10.0.0.0/8": { addr: "no-port" } },
      { "10.0.0.0/8": { addr: "127.0.0.1:0" } },
      { "10.0.0.0/8": "127.0.0.1:1080" },
      { "10.0.0.0/8": { addr: "127.0.0.1:1080", username: 7, password: "p" } },
    ];
    for (const config of bad) {
      assert.throws(
        () => new SocksConnector({ proxies: config as never, fallback: tcp }),
        (err) => isMqwireError(err, ErrorCodes.INVALID_ARGUMENT),
        JSON.stringify(config),
      );
    }
    assert.throws(
      () => new SocksConnector({ fallback: undefined as never }),
      (err) => isMqwireError(err, ErrorCodes.INVALID_ARGUMENT),
    );
  });
});
