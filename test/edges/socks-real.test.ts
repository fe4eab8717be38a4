/**
 * RemotingClient through real SOCKS5 servers from Debian (test/helpers/real-socks5.ts): Dante
 * without authentication, MicroSocks with user/password, TLS inside the tunnel, RocketMQ's
 * per-address proxy table (reference §9.6) with some targets going direct, and
 * examples/socks-proxy.mjs run as a user runs it. Not part of
 * `npm test` (a fresh clone has neither server); `npm test` keeps the in-repo fake proxy. Without
 * the binaries these tests skip, except under CI=true, where a missing server fails them.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { describe, type TestContext, test } from "node:test";
import { promisify } from "node:util";
import {
  ErrorCodes,
  isMqwireError,
  RemotingClient,
  type RemotingClientOptions,
  RemotingCommand,
  RemotingServer,
  ResponseCode,
  registerInteropClient,
  registerInteropService,
  runInteropCases,
  SerializeType,
  type ServerOptions,
  SocksConnector,
  silentLogger,
  TcpConnector,
} from "../../src/index.js";
import { makeCa } from "../helpers/ephemeral-certs.js";
import {
  DANTE_EXTERNAL,
  DANTED,
  danteEndpoint,
  MICROSOCKS,
  MICROSOCKS_EXTERNAL,
  missing,
  type RealSocksServer,
  startDante,
  startMicrosocks,
} from "../helpers/real-socks5.js";
import { repoRoot } from "../helpers/vectors.js";

const execFileAsync = promisify(execFile);

const ca = makeCa();
const serverPair = ca.issue();
const clientTls = { ca: ca.cert, servername: "localhost" };
const USER = "mq";
const PASSWORD = "s3cret";
/** The code whose processor answers with the connection's remote address as the remark. */
const WHO = 300;

const skipUnless = (binary: string, pkg: string): string | false =>
  (process.env.CI ? false : missing(binary, pkg)) ?? false;
const noDante = skipUnless(DANTED, "dante-server");
const noMicrosocks = skipUnless(MICROSOCKS, "microsocks");

async function dante(t: TestContext): Promise<RealSocksServer> {
  const proxy = await startDante();
  t.after(() => proxy.close());
  return proxy;
}

async function microsocks(t: TestContext): Promise<RealSocksServer> {
  const proxy = await startMicrosocks(USER, PASSWORD);
  t.after(() => proxy.close());
  return proxy;
}

/** The interop service plus WHO, on `listen`. */
async function server(t: TestContext, options: ServerOptions = {}): Promise<RemotingServer> {
  const s = new RemotingServer({ listen: ["127.0.0.1:0"], logger: silentLogger, ...options });
  registerInteropService(s);
  s.registerProcessor(WHO, (_request, channel) =>
    RemotingCommand.createResponse(ResponseCode.SUCCESS, channel.remoteAddress),
  );
  await s.start();
  t.after(() => s.shutdown({ graceMs: 0 }));
  return s;
}

function client(t: TestContext, options: RemotingClientOptions): RemotingClient {
  const c = new RemotingClient({ scanNameServers: false, logger: silentLogger, ...options });
  registerInteropClient(c);
  t.after(() => c.shutdown());
  return c;
}

async function interopFailures(c: RemotingClient, addr: string): Promise<string[]> {
  const results = await runInteropCases(c, addr, { serializeType: SerializeType.JSON, timeoutMs: 5000 });
  assert.equal(results.length, 11);
  return results.filter((r) => !r.ok).map((r) => `${r.name}: ${r.reason}`);
}

/** The host the server saw a connection come from. */
async function seenFrom(c: RemotingClient, addr: string): Promise<string> {
  const response = await c.invoke(addr, RemotingCommand.createRequest(WHO), { timeoutMs: 5000 });
  assert.equal(response.code, ResponseCode.SUCCESS);
  return response.remark!.slice(0, response.remark!.lastIndexOf(":"));
}

/** Every message down an error's cause chain. */
function causes(err: unknown): string[] {
  const out: string[] = [];
  for (let e = err; e instanceof Error; e = e.cause) out.push(e.message);
  return out;
}

describe("Dante, no authentication", { skip: noDante }, () => {
  test("the interop cases pass through it; the server sees Dante's side; Dante logs the target", async (t) => {
    const proxy = await dante(t);
    const s = await server(t);
    const addr = s.addresses[0]!;
    const c = client(t, { socksProxy: { "127.0.0.0/8": { addr: proxy.address } } });
    assert.deepEqual(await interopFailures(c, addr), []);
    assert.equal(await seenFrom(c, addr), DANTE_EXTERNAL);
    assert.match(
      proxy.log(),
      new RegExp(`pass\\(\\d+\\): tcp/connect .*-> .* ${danteEndpoint(addr).replaceAll(".", "\\.")}`),
    );
  });

  test("TLS inside the tunnel, to an IP and to a host name Dante resolves", async (t) => {
    const proxy = await dante(t);
    const s = await server(t, {
      tls: { mode: "enforcing", key: serverPair.key, cert: serverPair.cert },
    });
    const port = s.addresses[0]!.split(":")[1]!;
    for (const host of ["127.0.0.1", "localhost"]) {
      // Host names match only the catch-all key, as in RocketMQ.
      const c = client(t, {
        socksProxy: JSON.stringify({ "0.0.0.0/0": { addr: proxy.address } }),
        tls: clientTls,
      });
      assert.deepEqual(await interopFailures(c, `${host}:${port}`), [], host);
      assert.equal(await seenFrom(c, `${host}:${port}`), DANTE_EXTERNAL);
    }
    // Without trusting the CA, the handshake inside the tunnel fails as a connect error.
    const untrusting = client(t, {
      socksProxy: { "0.0.0.0/0": { addr: proxy.address } },
      tls: { servername: "localhost" },
    });
    await assert.rejects(untrusting.invoke(`127.0.0.1:${port}`, RemotingCommand.createRequest(WHO)), (err) =>
      isMqwireError(err, ErrorCodes.CONNECT),
    );
  });

  test("a target Dante's rules refuse: MQW_ERR_CONNECT with the SOCKS reply as the cause", async (t) => {
    const proxy = await dante(t);
    const connector = new SocksConnector({
      proxies: { "0.0.0.0/0": { addr: proxy.address } },
      fallback: new TcpConnector(),
    });
    // 192.0.2.0/24 is TEST-NET-1: Dante's block rule refuses it before any packet leaves.
    await assert.rejects(connector.open("192.0.2.1:10911"), (err) => {
      assert.ok(isMqwireError(err, ErrorCodes.CONNECT), String(err));
      assert.ok(
        causes(err).some((m) => /Socks5 proxy rejected connection - NotAllowed/.test(m)),
        causes(err).join(" <- "),
      );
      return true;
    });
    assert.match(proxy.log(), /block\(\d+\): tcp\/connect .*192\.0\.2\.1\.10911/);
  });
});

describe("MicroSocks, user/password (RFC 1929)", { skip: noMicrosocks }, () => {
  test("the right credentials: the interop cases pass through it", async (t) => {
    const proxy = await microsocks(t);
    const s = await server(t);
    const addr = s.addresses[0]!;
    const c = client(t, {
      socksProxy: { "127.0.0.0/8": { addr: proxy.address, username: USER, password: PASSWORD } },
    });
    assert.deepEqual(await interopFailures(c, addr), []);
    assert.equal(await seenFrom(c, addr), MICROSOCKS_EXTERNAL);
    assert.ok(proxy.log().includes(`connected to ${addr}`), proxy.log());
  });

  test("a wrong password or none: MQW_ERR_CONNECT with the SOCKS reason as the cause", async (t) => {
    const proxy = await microsocks(t);
    const s = await server(t);
    const addr = s.addresses[0]!;
    const cases: Array<[string, object, RegExp]> = [
      ["wrong password", { username: USER, password: "wrong" }, /Socks5 Authentication failed/],
      ["wrong user", { username: "nobody", password: PASSWORD }, /Socks5 Authentication failed/],
      ["no credentials", {}, /no accepted authentication type/],
    ];
    for (const [what, credentials, reason] of cases) {
      const c = client(t, { socksProxy: { "127.0.0.0/8": { addr: proxy.address, ...credentials } } });
      await assert.rejects(c.invoke(addr, RemotingCommand.createRequest(WHO), { timeoutMs: 3000 }), (err) => {
        assert.ok(isMqwireError(err, ErrorCodes.CONNECT), `${what}: ${String(err)}`);
        assert.ok(
          causes(err).some((m) => reason.test(m)),
          `${what}: ${causes(err).join(" <- ")}`,
        );
        return true;
      });
    }
    assert.ok(!proxy.log().includes("connected to"), proxy.log());
    // The proxy is fine; a client with the right password gets through.
    const good = client(t, {
      socksProxy: { "127.0.0.0/8": { addr: proxy.address, username: USER, password: PASSWORD } },
    });
    assert.equal(await seenFrom(good, addr), MICROSOCKS_EXTERNAL);
  });
});

describe("the per-address proxy table (socksProxyConfig)", { skip: noDante || noMicrosocks }, () => {
  test("each target takes its rule's proxy, first match wins, unmatched targets go direct", async (t) => {
    const [viaDante, viaMicrosocks] = [await dante(t), await microsocks(t)];
    // One server on three loopback addresses, one per route.
    const s = await server(t, { listen: ["127.0.0.1:0", "127.0.0.2:0", "127.0.0.3:0"] });
    const [direct, toDante, toMicrosocks] = s.addresses as [string, string, string];
    const c = client(t, {
      socksProxy: {
        "10.0.0.0/8": { addr: "127.0.0.1:9" }, // never matches a loopback target
        "127.0.0.2/32": { addr: viaDante.address },
        "127.0.0.3/32": { addr: viaMicrosocks.address, username: USER, password: PASSWORD },
        "127.0.0.2/31": { addr: "127.0.0.1:9" }, // holds .2 and .3, but comes after their rules
      },
    });
    assert.equal(await seenFrom(c, toDante), DANTE_EXTERNAL);
    assert.equal(await seenFrom(c, toMicrosocks), MICROSOCKS_EXTERNAL);
    assert.equal(await seenFrom(c, direct), "127.0.0.1"); // in no rule: direct
    for (const addr of [toDante, toMicrosocks, direct])
      assert.deepEqual(await interopFailures(c, addr), [], addr);
    assert.ok(!viaDante.log().includes(danteEndpoint(direct)), viaDante.log());
    assert.ok(!viaMicrosocks.log().includes(direct), viaMicrosocks.log());
    assert.ok(viaDante.log().includes(danteEndpoint(toDante)));
    assert.ok(viaMicrosocks.log().includes(`connected to ${toMicrosocks}`));
  });
});

describe("examples/socks-proxy.mjs through MicroSocks", { skip: noMicrosocks }, () => {
  test("proxied, direct and wrong-password calls print what the README promises", async (t) => {
    const proxy = await microsocks(t);
    const env = { ...process.env, SOCKS_PROXY: proxy.address, SOCKS_USER: USER, SOCKS_PASSWORD: PASSWORD };
    const { stdout } = await execFileAsync(
      process.execPath,
      [join(repoRoot(), "examples", "socks-proxy.mjs")],
      {
        env,
        timeout: 30_000,
      },
    );
    const lines = stdout.trim().split("\n");
    const server = /^echo server on (127\.0\.0\.1:\d+), SOCKS5 proxy /.exec(lines[0] ?? "")?.[1];
    assert.ok(server, stdout);
    // MicroSocks connects from its own address (real-socks5.ts), so the server saw that one.
    const external = MICROSOCKS_EXTERNAL.replaceAll(".", "\\.");
    assert.match(
      stdout,
      new RegExp(
        `^through the proxy: reply "hello, through the proxy", the server saw ${external}:\\d+, not the client's end 127\\.0\\.0\\.1:\\d+ \\(proxied\\)$`,
        "m",
      ),
    );
    assert.match(
      stdout,
      /^unmatched target: reply "hello, unmatched target", the server saw 127\.0\.0\.1:\d+, the client's own end \(direct\)$/m,
    );
    assert.match(stdout, /^wrong password: MQW_ERR_CONNECT \(Socks5 Authentication failed\)$/m);
    assert.equal(lines.at(-1), "socks-proxy: done");
    // One connection through the proxy: the proxied call; the direct one never reached it.
    assert.equal(proxy.log().split(`connected to ${server}`).length - 1, 1, proxy.log());
  });
});
