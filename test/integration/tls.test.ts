/**
 * TLS client and server modes over real sockets on 127.0.0.1 port 0, with a CA and certificates
 * made for this run (test/helpers/ephemeral-certs.ts).
 */
import assert from "node:assert/strict";
import net from "node:net";
import type { Duplex } from "node:stream";
import { after, describe, test } from "node:test";
import type { TLSSocket } from "node:tls";
import { ErrorCodes, isMqwireError } from "../../src/errors.js";
import type { Logger } from "../../src/logger.js";
import { MemoryAcceptor, MemoryConnector, MemoryNetwork } from "../../src/transport/memory.js";
import { TcpAcceptor } from "../../src/transport/tcp.js";
import { TlsConnector, wrapClientTls } from "../../src/transport/tls.js";
import {
  acceptWithTlsMode,
  resolveTlsServerOptions,
  TlsAcceptor,
  type TlsServerMode,
  type TlsServerOptions,
} from "../../src/transport/tls-server.js";
import type { Listener } from "../../src/transport/transport.js";
import { makeCa } from "../helpers/ephemeral-certs.js";

const ca = makeCa();
const CA = ca.cert;
// Key and certificate only: the pairs are spread into the options.
const { key: serverKey, cert: serverCert } = ca.issue();
const SERVER = { key: serverKey, cert: serverCert };
const { key: clientKey, cert: clientCert } = ca.issue({ usage: "client" });
const CLIENT = { key: clientKey, cert: clientCert };
const WAIT_MS = 3000;

/** Reads exactly `n` bytes, or fails after WAIT_MS or when the stream closes first. */
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

/** Resolves once `d` closes, with the bytes it received; fails after WAIT_MS. */
function closed(d: Duplex): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => reject(new Error("not closed in time")), WAIT_MS);
    d.on("data", (c: Buffer) => chunks.push(c));
    d.on("error", () => {});
    d.on("close", () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks));
    });
  });
}

function plainConnect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = track(net.connect({ host: "127.0.0.1", port }, () => resolve(s)));
    s.once("error", reject);
  });
}

function recordingLogger(): Logger & { warnings: unknown[] } {
  const warnings: unknown[] = [];
  return { warnings, debug() {}, info() {}, error() {}, warn: (m: string) => void warnings.push(m) };
}

const listeners: Listener[] = [];
// Every stream a test makes, so that a failing test cannot keep the process alive.
const streams = new Set<Duplex>();
function track<D extends Duplex>(d: D): D {
  streams.add(d);
  return d;
}
after(async () => {
  for (const d of streams) d.destroy();
  for (const l of listeners) await l.close();
});

/** An echo server behind TlsAcceptor(TcpAcceptor) on 127.0.0.1:0; counts handed-over connections. */
async function echoServer(options: TlsServerOptions, logger = recordingLogger()) {
  const accepted: Duplex[] = [];
  const acceptor = new TlsAcceptor(new TcpAcceptor(), options, logger);
  const listener = await acceptor.listen("127.0.0.1:0", (d) => {
    accepted.push(track(d));
    d.on("error", () => {});
    d.pipe(d);
  });
  listeners.push(listener);
  return { listener, accepted, logger, target: `127.0.0.1:${listener.port}` };
}

/** A bare TCP server whose connections go through acceptWithTlsMode; records each outcome. */
async function modeServer(options: TlsServerOptions) {
  const outcomes: Array<Promise<Duplex>> = [];
  const resolved = resolveTlsServerOptions(options); // once, not per connection
  const server = net.createServer((s) => {
    const p = acceptWithTlsMode(track(s), resolved).then(track);
    p.catch(() => {});
    outcomes.push(p);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as net.AddressInfo).port;
  listeners.push({ address: "", port, close: () => new Promise((r) => server.close(() => r())) });
  return { port, outcomes };
}

async function echoOnce(d: Duplex, text: string): Promise<void> {
  d.write(text);
  assert.equal((await readBytes(d, text.length)).toString(), text);
}

describe("TlsConnector", () => {
  test("echo round trip with the test CA; the server is verified", async () => {
    const { target } = await echoServer({ mode: "enforcing", ...SERVER });
    const sock = (await new TlsConnector({ ca: CA }).open(target).then(track)) as TLSSocket;
    assert.equal(sock.authorized, true);
    await echoOnce(sock, "hello over tls");
    sock.destroy();
  });

  test("servername is the name the certificate must match", async () => {
    const { target } = await echoServer({ mode: "enforcing", ...SERVER });
    const ok = (await new TlsConnector({ ca: CA, servername: "localhost" })
      .open(target)
      .then(track)) as TLSSocket;
    assert.equal(ok.authorized, true);
    ok.destroy();
    await assert.rejects(
      new TlsConnector({ ca: CA, servername: "not-localhost.test" }).open(target),
      (err) => {
        assert.ok(isMqwireError(err, ErrorCodes.CONNECT));
        assert.equal((err.cause as { code?: string }).code, "ERR_TLS_CERT_ALTNAME_INVALID");
        return true;
      },
    );
  });

  test("an untrusted server certificate is refused with ConnectError", async () => {
    const { target } = await echoServer({ mode: "enforcing", ...SERVER });
    await assert.rejects(new TlsConnector().open(target), (err) => {
      assert.ok(isMqwireError(err, ErrorCodes.CONNECT));
      // The test server sends its leaf alone, so OpenSSL reports the missing issuer.
      assert.equal((err.cause as { code?: string }).code, "UNABLE_TO_VERIFY_LEAF_SIGNATURE");
      return true;
    });
  });

  test("rejectUnauthorized false trusts any server (RocketMQ test mode), on request only", async () => {
    const { target } = await echoServer({ mode: "enforcing", ...SERVER });
    const sock = (await new TlsConnector({ rejectUnauthorized: false })
      .open(target)
      .then(track)) as TLSSocket;
    assert.equal(sock.authorized, false);
    await echoOnce(sock, "trusting");
    sock.destroy();
  });

  test("a server that never answers the ClientHello times out as ConnectError(TimeoutError)", async () => {
    const held: net.Socket[] = [];
    const silent = net.createServer((s) => {
      held.push(track(s));
      s.on("error", () => {});
    });
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    const port = (silent.address() as net.AddressInfo).port;
    try {
      await assert.rejects(
        new TlsConnector({ ca: CA, connectTimeoutMs: 150 }).open(`127.0.0.1:${port}`),
        (err) => {
          assert.ok(isMqwireError(err, ErrorCodes.CONNECT));
          assert.ok(isMqwireError(err.cause, ErrorCodes.TIMEOUT));
          return true;
        },
      );
    } finally {
      for (const s of held) s.destroy();
      silent.close();
    }
  });

  test("an aborted signal rejects with its reason", async () => {
    const { target } = await echoServer({ mode: "enforcing", ...SERVER });
    const reason = new Error("stop");
    await assert.rejects(
      new TlsConnector({ ca: CA }).open(target, AbortSignal.abort(reason)),
      (err) => err === reason,
    );
  });

  test("options are validated once, naming the option", () => {
    for (const bad of [
      { connectTimeoutMs: 0 },
      { rejectUnauthorized: "yes" },
      { ca: "not a pem" },
      { servername: "" },
    ]) {
      assert.throws(
        () => new TlsConnector(bad as never),
        (err) => isMqwireError(err, ErrorCodes.INVALID_ARGUMENT),
      );
    }
  });

  test("TLS and plaintext over any Duplex: a memory pair", async () => {
    const network = new MemoryNetwork();
    const acceptor = new TlsAcceptor(
      new MemoryAcceptor(network),
      { mode: "permissive", ...SERVER },
      recordingLogger(),
    );
    const listener = await acceptor.listen("memory://tls", (d) => {
      track(d).on("error", () => {});
      d.pipe(d);
    });
    listeners.push(listener);
    const inner = new MemoryConnector(network);
    const sock = (await new TlsConnector({ ca: CA, servername: "localhost" }, inner)
      .open("memory://tls")
      .then(track)) as TLSSocket;
    assert.equal(sock.authorized, true);
    await echoOnce(sock, "tls in memory");
    await echoOnce(track(await inner.open("memory://tls")), "plain in memory");
  });

  test("wrapClientTls runs TLS over an already open socket and checks the given host", async () => {
    const { listener } = await echoServer({ mode: "permissive", ...SERVER });
    const raw = await plainConnect(listener.port);
    const sock = track(await wrapClientTls(raw, { ca: CA }, { host: "127.0.0.1" }));
    assert.equal(sock.authorized, true);
    await echoOnce(sock, "wrapped");
    sock.destroy();
    // The socket goes to 127.0.0.1; only the identity check sees the other name.
    const other = await plainConnect(listener.port);
    await assert.rejects(wrapClientTls(other, { ca: CA }, { host: "127.0.0.9" }), (err) => {
      assert.ok(isMqwireError(err, ErrorCodes.CONNECT));
      assert.equal((err.cause as { code?: string }).code, "ERR_TLS_CERT_ALTNAME_INVALID");
      return true;
    });
    assert.equal(other.destroyed, true);
  });
});

describe("mutual TLS", () => {
  const mtls = (rejectUnauthorized: boolean): TlsServerOptions => ({
    mode: "enforcing",
    ...SERVER,
    ca: CA,
    requestCert: true,
    rejectUnauthorized,
  });

  test("the client certificate is verified and visible on the server's duplex", async () => {
    const { port, outcomes } = await modeServer(mtls(true));
    const client = await new TlsConnector({ ca: CA, ...CLIENT }).open(`127.0.0.1:${port}`).then(track);
    assert.equal(outcomes.length, 1);
    const server = (await outcomes[0]) as TLSSocket;
    assert.equal(server.authorized, true);
    assert.equal(server.getPeerCertificate().subject.CN, "mqwire test client");
    client.write("ping");
    assert.equal((await readBytes(server, 4)).toString(), "ping");
    client.destroy();
  });

  test("required: a client without a certificate is refused", async () => {
    const { port, outcomes } = await modeServer(mtls(true));
    // Under TLS 1.3 the client may finish its side before the server refuses it.
    const client = await new TlsConnector({ ca: CA }).open(`127.0.0.1:${port}`).then(track, () => undefined);
    await assert.rejects(outcomes[0]!, (err) => isMqwireError(err, ErrorCodes.NEGOTIATION));
    client?.destroy();
  });

  test("required: a certificate that does not verify as a client's is refused after the handshake", async () => {
    const { port, outcomes } = await modeServer(mtls(true));
    // The server certificate is signed by the CA but only for serverAuth.
    const client = await new TlsConnector({ ca: CA, ...SERVER }).open(`127.0.0.1:${port}`).then(track);
    await assert.rejects(outcomes[0]!, (err) => {
      assert.ok(isMqwireError(err, ErrorCodes.NEGOTIATION));
      assert.equal((err.cause as { code?: string }).code, "INVALID_PURPOSE");
      return true;
    });
    await closed(client);
  });

  test("optional (rejectUnauthorized false): a client without a certificate is let in, unauthorized", async () => {
    const { port, outcomes } = await modeServer(mtls(false));
    const client = await new TlsConnector({ ca: CA }).open(`127.0.0.1:${port}`).then(track);
    const server = (await outcomes[0]) as TLSSocket;
    assert.equal(server.authorized, false);
    assert.equal(typeof server.authorizationError, "string");
    client.destroy();
  });

  test("optional: a certificate that does not verify is refused all the same (Netty's OPTIONAL)", async () => {
    const { port, outcomes } = await modeServer(mtls(false));
    // Signed by the CA but only for serverAuth: sent as a client's, it fails the check.
    const client = await new TlsConnector({ ca: CA, ...SERVER }).open(`127.0.0.1:${port}`).then(track);
    await assert.rejects(outcomes[0]!, (err) => {
      assert.ok(isMqwireError(err, ErrorCodes.NEGOTIATION));
      assert.match(String((err as Error).message), /client certificate refused/);
      return true;
    });
    await closed(client);
  });

  test("optional: a client certificate that verifies is let in, authorized", async () => {
    const { port, outcomes } = await modeServer(mtls(false));
    const client = await new TlsConnector({ ca: CA, ...CLIENT }).open(`127.0.0.1:${port}`).then(track);
    const server = (await outcomes[0]) as TLSSocket;
    assert.equal(server.authorized, true);
    client.destroy();
  });
});

describe("server TLS modes on one port", () => {
  const modes: TlsServerMode[] = ["permissive", "enforcing", "disabled"];
  for (const mode of modes) {
    test(`${mode}: TLS ${mode === "disabled" ? "closed" : "accepted"}, plaintext ${mode === "enforcing" ? "closed" : "accepted"}`, async () => {
      const { listener, target, accepted, logger } = await echoServer({ mode, ...SERVER });
      let refused = 0;

      const tlsAttempt = new TlsConnector({ ca: CA }).open(target).then(track);
      if (mode === "disabled") {
        await assert.rejects(tlsAttempt, (err) => isMqwireError(err, ErrorCodes.CONNECT));
        refused++;
      } else {
        const sock = await tlsAttempt;
        await echoOnce(sock, "tls bytes");
        sock.destroy();
      }

      const plain = await plainConnect(listener.port);
      if (mode === "enforcing") {
        plain.write("plain bytes");
        assert.equal((await closed(plain)).length, 0);
        refused++;
      } else {
        await echoOnce(plain, "plain bytes");
        plain.destroy();
      }
      assert.equal(accepted.length, 2 - refused);
      assert.equal(logger.warnings.length, refused);
      // Named by the bound address, not the configured 127.0.0.1:0.
      for (const w of logger.warnings)
        assert.match(String(w), new RegExp(`^${target.replaceAll(".", "\\.")}: refused `));
    });
  }

  test("plaintext keeps its first byte: every byte reaches a late reader, whatever the chunking", async () => {
    const received: Array<Promise<Buffer>> = [];
    const acceptor = new TlsAcceptor(new TcpAcceptor(), { mode: "permissive", ...SERVER }, recordingLogger());
    const listener = await acceptor.listen("127.0.0.1:0", (d) => {
      track(d);
      // Attach the reader late, as an engine built asynchronously would.
      received.push(new Promise((r) => setTimeout(() => r(readBytes(d, 10)), 30)));
    });
    listeners.push(listener);
    const plain = await plainConnect(listener.port);
    plain.write("A");
    await new Promise((r) => setTimeout(r, 20));
    plain.write("BCDEFGHIJ");
    await new Promise((r) => setTimeout(r, 5));
    assert.equal(received.length, 1);
    assert.equal((await received[0])!.toString(), "ABCDEFGHIJ");
    plain.destroy();
  });

  test("a peer silent past handshakeTimeoutMs is refused with NegotiationError(TimeoutError)", async () => {
    const { port, outcomes } = await modeServer({ mode: "permissive", ...SERVER, handshakeTimeoutMs: 100 });
    const plain = await plainConnect(port);
    const gone = closed(plain);
    await assert.rejects(outcomes[0]!, (err) => {
      assert.ok(isMqwireError(err, ErrorCodes.NEGOTIATION));
      assert.ok(isMqwireError(err.cause, ErrorCodes.TIMEOUT));
      return true;
    });
    await gone;
  });

  test("listener close destroys connections still deciding", async () => {
    const acceptor = new TlsAcceptor(new TcpAcceptor(), { mode: "permissive", ...SERVER }, recordingLogger());
    let handedOver = 0;
    const listener = await acceptor.listen("127.0.0.1:0", (d) => {
      track(d);
      handedOver++;
    });
    const plain = await plainConnect(listener.port);
    const gone = closed(plain);
    await new Promise((r) => setTimeout(r, 30)); // accepted, no first byte yet
    await listener.close();
    await gone;
    assert.equal(handedOver, 0);
  });

  test("server options are validated once, naming the option", () => {
    const bad: TlsServerOptions[] = [
      { mode: "strict" as TlsServerMode, ...SERVER },
      { mode: "permissive" },
      { mode: "enforcing", key: SERVER.key, cert: CLIENT.cert },
      { mode: "disabled", handshakeTimeoutMs: -1 },
    ];
    for (const o of bad) {
      assert.throws(
        () => resolveTlsServerOptions(o),
        (err) => isMqwireError(err, ErrorCodes.INVALID_ARGUMENT),
      );
    }
    assert.equal(resolveTlsServerOptions({ mode: "disabled" }).secureContext, undefined);
    const resolved = resolveTlsServerOptions({ ...SERVER });
    assert.equal(resolved.mode, "permissive");
    assert.equal(resolveTlsServerOptions(resolved), resolved);
  });
});
