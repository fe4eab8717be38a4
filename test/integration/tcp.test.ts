import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { lstat, mkdtemp, rm, writeFile } from "node:fs/promises";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Duplex } from "node:stream";
import { after, before, describe, test } from "node:test";
import { ErrorCodes } from "../../src/errors.js";
import { SocketTransport } from "../../src/transport/socket-transport.js";
import {
  DEFAULT_BACKLOG,
  DEFAULT_CONNECT_TIMEOUT_MS,
  resolveTcpOptions,
  TcpAcceptor,
  TcpConnector,
} from "../../src/transport/tcp.js";
import type { Listener } from "../../src/transport/transport.js";

function next(emitter: NodeJS.EventEmitter, event: string, ms = 3000): Promise<unknown[]> {
  return once(emitter, event, { signal: AbortSignal.timeout(ms) });
}
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Listens with an echo server wrapped in SocketTransports; returns the listener and accepted transports. */
async function echoServer(
  address: string,
  acceptor = new TcpAcceptor(),
): Promise<{ listener: Listener; accepted: SocketTransport[] }> {
  const accepted: SocketTransport[] = [];
  const listener = await acceptor.listen(address, (d) => {
    const t = new SocketTransport(d);
    accepted.push(t);
    t.on("data", (c) => t.write([c]));
  });
  return { listener, accepted };
}

async function roundTrip(duplex: Duplex, text: string): Promise<SocketTransport> {
  const t = new SocketTransport(duplex);
  t.write([Buffer.from(text)]);
  const [echo] = (await next(t, "data")) as [Buffer];
  assert.equal(echo.toString(), text);
  return t;
}

/** A connect function whose socket never connects (no traffic at all): for time-out and abort. */
function neverConnects(made: net.Socket[]): (o: net.NetConnectOpts) => net.Socket {
  return () => {
    const s = new net.Socket();
    made.push(s);
    return s;
  };
}

let dir = "";
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "mqwire-tcp-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("TcpConnector + TcpAcceptor over TCP", () => {
  test("port 0 binds a real port; connect and echo over 127.0.0.1", async () => {
    const { listener, accepted } = await echoServer("127.0.0.1:0");
    assert.ok(listener.port > 0);
    assert.equal(listener.address, `127.0.0.1:${listener.port}`);
    const t = await roundTrip(await new TcpConnector().open(listener.address), "hello");
    assert.equal(t.remoteAddress, listener.address);
    assert.equal(accepted.length, 1);
    assert.equal(accepted[0]!.remoteAddress, t.localAddress);
    t.destroy();
    await listener.close();
  });

  test("options are applied to connected and accepted sockets", async () => {
    const spied: Array<{ side: string; noDelay: unknown[][]; keepAlive: unknown[][] }> = [];
    const spy = (side: string, s: net.Socket): net.Socket => {
      const rec = { side, noDelay: [] as unknown[][], keepAlive: [] as unknown[][] };
      spied.push(rec);
      const nd = s.setNoDelay.bind(s);
      const ka = s.setKeepAlive.bind(s);
      s.setNoDelay = (...a: unknown[]) => {
        rec.noDelay.push(a);
        return nd(...(a as [boolean]));
      };
      s.setKeepAlive = (...a: unknown[]) => {
        rec.keepAlive.push(a);
        return ka(...(a as [boolean, number]));
      };
      return s;
    };
    const options = { noDelay: true, keepAlive: true, keepAliveInitialDelayMs: 1500 };
    const acceptor = new TcpAcceptor(options, {
      createServer: (onConn) => net.createServer((s) => onConn(spy("server", s))),
    });
    const { listener } = await echoServer("127.0.0.1:0", acceptor);
    const connector = new TcpConnector(options, { connect: (o) => spy("client", net.connect(o)) });
    const t = await roundTrip(await connector.open(listener.address), "opts");
    assert.deepEqual(spied.map((r) => r.side).sort(), ["client", "server"]);
    for (const r of spied) {
      assert.deepEqual(r.noDelay, [[true]], `${r.side} setNoDelay`);
      assert.deepEqual(r.keepAlive, [[true, 1500]], `${r.side} setKeepAlive`);
    }
    t.destroy();
    await listener.close();
  });

  test("defaults: noDelay on, keep-alive off, as documented", () => {
    const o = resolveTcpOptions();
    assert.deepEqual(o, {
      noDelay: true,
      keepAlive: false,
      keepAliveInitialDelayMs: 0,
      connectTimeoutMs: DEFAULT_CONNECT_TIMEOUT_MS,
      socketTimeoutMs: 0,
      backlog: DEFAULT_BACKLOG,
    });
    assert.equal(DEFAULT_CONNECT_TIMEOUT_MS, 3000);
    assert.equal(DEFAULT_BACKLOG, 1024);
    assert.ok(Object.isFrozen(o));
    assert.ok(Object.isFrozen(new TcpConnector().options));
  });

  test("invalid options throw MQW_ERR_INVALID_ARGUMENT", () => {
    const bad = [
      { noDelay: "yes" },
      { keepAlive: 1 },
      { keepAliveInitialDelayMs: -1 },
      { connectTimeoutMs: 1.5 },
      { socketTimeoutMs: Number.NaN },
      { backlog: -5 },
    ];
    for (const o of bad) {
      assert.throws(
        () => new TcpConnector(o as never),
        { code: ErrorCodes.INVALID_ARGUMENT },
        JSON.stringify(o),
      );
      assert.throws(() => new TcpAcceptor(o as never), { code: ErrorCodes.INVALID_ARGUMENT });
    }
  });

  test("backlog is passed to listen()", async () => {
    const listenArgs: unknown[][] = [];
    const acceptor = new TcpAcceptor(
      { backlog: 7 },
      {
        createServer: (onConn) => {
          const server = net.createServer(onConn);
          const orig = server.listen.bind(server);
          server.listen = ((...a: unknown[]) => {
            listenArgs.push(a);
            return orig(...(a as []));
          }) as typeof server.listen;
          return server;
        },
      },
    );
    const listener = await acceptor.listen("127.0.0.1:0", () => {});
    assert.equal(listenArgs.length, 1);
    assert.equal((listenArgs[0]![0] as { backlog: number }).backlog, 7);
    await listener.close();
  });

  test("connect refused: MQW_ERR_CONNECT with the socket error as cause", async () => {
    const { listener } = await echoServer("127.0.0.1:0");
    const address = listener.address;
    await listener.close();
    await assert.rejects(
      new TcpConnector().open(address),
      (err: Error & { code?: string; cause?: unknown }) => {
        assert.equal(err.code, ErrorCodes.CONNECT);
        assert.equal((err.cause as NodeJS.ErrnoException).code, "ECONNREFUSED");
        return true;
      },
    );
  });

  test("connect time-out: MQW_ERR_CONNECT caused by MQW_ERR_TIMEOUT; the socket is destroyed", async () => {
    const made: net.Socket[] = [];
    const connector = new TcpConnector({ connectTimeoutMs: 50 }, { connect: neverConnects(made) });
    await assert.rejects(connector.open("127.0.0.1:9"), (err: Error & { code?: string; cause?: unknown }) => {
      assert.equal(err.code, ErrorCodes.CONNECT);
      assert.equal((err.cause as { code?: string }).code, ErrorCodes.TIMEOUT);
      return true;
    });
    assert.equal(made.length, 1);
    assert.equal(made[0]!.destroyed, true);
  });

  test("AbortSignal aborts with the signal's reason and destroys the socket", async () => {
    const made: net.Socket[] = [];
    const connector = new TcpConnector({ connectTimeoutMs: 0 }, { connect: neverConnects(made) });
    const reason = new Error("user gave up");
    const ac = new AbortController();
    const p = connector.open("127.0.0.1:9", ac.signal);
    setTimeout(() => ac.abort(reason), 10);
    await assert.rejects(p, (e) => e === reason);
    assert.equal(made[0]!.destroyed, true);
    await assert.rejects(connector.open("127.0.0.1:9", AbortSignal.abort(reason)), (e) => e === reason);
    assert.equal(made.length, 1, "an already aborted signal makes no socket");
  });

  test("socket time-out destroys an inactive socket with MQW_ERR_TIMEOUT", async () => {
    let server: SocketTransport | undefined;
    const acceptor = new TcpAcceptor({ socketTimeoutMs: 80 });
    const listener = await acceptor.listen("127.0.0.1:0", (d) => {
      server = new SocketTransport(d);
    });
    const client = new SocketTransport(await new TcpConnector().open(listener.address));
    const clientClosed = next(client, "close");
    await sleep(20);
    assert.ok(server);
    const [err] = (await next(server, "close")) as [Error & { code?: string }];
    assert.equal(err.code, ErrorCodes.TIMEOUT);
    await clientClosed;
    await listener.close();
  });

  test("listener close stops accepting and leaves live connections alone", async () => {
    const { listener, accepted } = await echoServer("127.0.0.1:0");
    const t = await roundTrip(await new TcpConnector().open(listener.address), "before");
    await listener.close();
    await listener.close(); // idempotent
    await assert.rejects(new TcpConnector().open(listener.address), { code: ErrorCodes.CONNECT });
    t.write([Buffer.from("after")]);
    const [echo] = (await next(t, "data")) as [Buffer];
    assert.equal(echo.toString(), "after");
    assert.equal(accepted.length, 1);
    t.destroy();
  });

  test("listening twice on one port rejects with MQW_ERR_INVALID_ARGUMENT (cause EADDRINUSE)", async () => {
    const { listener } = await echoServer("127.0.0.1:0");
    await assert.rejects(
      new TcpAcceptor().listen(listener.address, () => {}),
      (err: Error & { code?: string }) => {
        assert.equal(err.code, ErrorCodes.INVALID_ARGUMENT);
        assert.equal((err.cause as NodeJS.ErrnoException).code, "EADDRINUSE");
        return true;
      },
    );
    await listener.close();
  });

  test("memory addresses are refused", async () => {
    await assert.rejects(new TcpConnector().open("memory://x"), { code: ErrorCodes.INVALID_ARGUMENT });
    await assert.rejects(
      new TcpAcceptor().listen("memory://x", () => {}),
      { code: ErrorCodes.INVALID_ARGUMENT },
    );
  });
});

describe("TcpConnector + TcpAcceptor over Unix sockets", () => {
  test("end to end, with named ends", async () => {
    const path = join(dir, "e2e.sock");
    const { listener, accepted } = await echoServer(`unix:${path}`);
    assert.equal(listener.port, 0);
    const t = await roundTrip(await new TcpConnector().open(`unix:${path}`), "over unix");
    const t2 = await roundTrip(await new TcpConnector().open(path), "bare path");
    assert.equal(t.remoteAddress, path);
    assert.equal(accepted[0]!.localAddress, path);
    assert.notEqual(accepted[0]!.remoteAddress, accepted[1]!.remoteAddress, "distinct peer names");
    t.destroy();
    t2.destroy();
    await listener.close();
    await assert.rejects(lstat(path), { code: "ENOENT" }, "node unlinks the socket file on close");
  });

  test("a stale socket file (its server died) is removed before listening", async () => {
    const path = join(dir, "stale.sock");
    const child = spawn(process.execPath, [
      "-e",
      `require("net").createServer().listen(${JSON.stringify(path)}, () => console.log("up"))`,
    ]);
    await next(child.stdout, "data", 5000);
    child.kill("SIGKILL");
    await next(child, "exit", 5000);
    assert.ok((await lstat(path)).isSocket(), "the dead server left its socket file");
    const { listener } = await echoServer(path);
    const t = await roundTrip(await new TcpConnector().open(path), "fresh");
    t.destroy();
    await listener.close();
  });

  test("a live socket is not removed; a regular file is not removed", async () => {
    const live = join(dir, "live.sock");
    const first = await echoServer(live);
    await assert.rejects(
      new TcpAcceptor().listen(live, () => {}),
      { code: ErrorCodes.INVALID_ARGUMENT },
    );
    const t = await roundTrip(await new TcpConnector().open(live), "still served");
    t.destroy();
    await first.listener.close();

    const file = join(dir, "regular-file");
    await writeFile(file, "keep me");
    await assert.rejects(
      new TcpAcceptor().listen(file, () => {}),
      { code: ErrorCodes.INVALID_ARGUMENT },
    );
    assert.ok((await lstat(file)).isFile());
  });

  test("connect to a missing path: MQW_ERR_CONNECT", async () => {
    await assert.rejects(
      new TcpConnector().open(join(dir, "nobody.sock")),
      (err: Error & { code?: string }) => {
        assert.equal(err.code, ErrorCodes.CONNECT);
        assert.equal((err.cause as NodeJS.ErrnoException).code, "ENOENT");
        return true;
      },
    );
  });
});
