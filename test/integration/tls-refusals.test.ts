/**
 * Every TLS refusal end to end over real sockets, with certificates made for this run
 * (test/helpers/ephemeral-certs.ts). Each one gives a typed error on the refused client, a reason
 * in the server's log that names the bound address, and leaves a good client alone: a steady
 * client, connected to the same server before the refusal, still gets its answers on the same
 * connection afterwards.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  ErrorCodes,
  type Logger,
  RemotingClient,
  type RemotingClientOptions,
  RemotingCommand,
  RemotingServer,
  type ServerOptions,
  TcpAcceptor,
  TlsAcceptor,
  type TlsClientOptions,
} from "../../src/index.js";
import { type KeyAndCert, makeCa } from "../helpers/ephemeral-certs.js";
import { waitFor } from "../helpers/remoting.js";

const HOUR_MS = 3_600_000;
const ca = makeCa();
const otherCa = makeCa("another CA");
const serverPair = ca.issue();
const clientPair = ca.issue({ usage: "client" });
const expired = { notBefore: new Date(Date.now() - 48 * HOUR_MS), notAfter: new Date(Date.now() - HOUR_MS) };
const pem = ({ key, cert }: KeyAndCert) => ({ key, cert });

/** A logger that keeps warnings, so a test can read the reason a connection was refused. */
function recordingLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  return { warnings, debug() {}, info() {}, error() {}, warn: (m: string) => void warnings.push(m) };
}

const cleanups: Array<() => Promise<unknown>> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

/** A server whose code 100 answers "ok"; counts the connections that became channels. */
async function startServer(options: ServerOptions) {
  const server = new RemotingServer({ listen: ["127.0.0.1:0"], ...options });
  server.registerProcessor(100, () => RemotingCommand.createResponse(0, "ok"));
  let channels = 0;
  server.on("connect", () => channels++);
  await server.start();
  cleanups.push(() => server.shutdown({ graceMs: 0 }));
  return { addr: server.addresses[0] ?? "", channels: () => channels };
}

/**
 * A client connected before the refusals: `stillServes` asserts that it is answered on the
 * connection it opened first ('connect' fires for every connection a client opens).
 */
async function steadyClient(addr: string, tls: TlsClientOptions) {
  const client = new RemotingClient({ scanNameServers: false, tls });
  cleanups.push(() => client.shutdown());
  let connects = 0;
  let closes = 0;
  client.on("connect", () => connects++);
  client.on("close", () => closes++);
  const ask = async (): Promise<void> => {
    const reply = await client.invoke(addr, client.createRequest(100), { timeoutMs: 3000 });
    assert.equal(reply.remark, "ok");
  };
  await ask();
  return {
    async stillServes(): Promise<void> {
      await ask();
      assert.equal(connects, 1, "the steady client had to reconnect");
      assert.equal(closes, 0, "the steady client's connection closed");
    },
  };
}

/** The error of one call from a fresh client with `options`; fails if the call is answered. */
async function refusal(addr: string, options: RemotingClientOptions): Promise<Error & { code?: string }> {
  const client = new RemotingClient({ scanNameServers: false, ...options });
  try {
    await client.invoke(addr, client.createRequest(100), { timeoutMs: 3000 });
  } catch (err) {
    return err as Error & { code?: string };
  } finally {
    await client.shutdown();
  }
  assert.fail("the call was answered");
}

/** The codes along an error's cause chain, the error's own first. */
function codesOf(err: unknown): string[] {
  const codes: string[] = [];
  for (let e = err as { code?: unknown; cause?: unknown } | undefined; e !== undefined; ) {
    if (typeof e.code === "string") codes.push(e.code);
    e = e.cause instanceof Error ? e.cause : undefined;
  }
  return codes;
}

/** The warning logged after `before` more than there were, once it is there. */
async function nextWarning(logger: { warnings: string[] }, before: number): Promise<string> {
  await waitFor(() => logger.warnings.length > before, "the server's warning");
  return logger.warnings[before] ?? "";
}

/** `^<bound address>: refused 127.0.0.1:<port>: ` as a pattern, followed by `reason`. */
function refusedBy(addr: string, reason: string): RegExp {
  return new RegExp(`^${addr.replaceAll(".", "\\.")}: refused 127\\.0\\.0\\.1:\\d+: ${reason}`);
}

// A server refuses after the handshake by closing; the call then fails as calls on a closed
// connection do, or as a connect when the close came first.
const CLOSED = [ErrorCodes.CHANNEL_CLOSED, ErrorCodes.SEND, ErrorCodes.CONNECT] as string[];

describe("mutual TLS: the server refuses a client", () => {
  const logger = recordingLogger();
  let server: Awaited<ReturnType<typeof startServer>>;
  let steady: Awaited<ReturnType<typeof steadyClient>>;
  before(async () => {
    server = await startServer({
      logger,
      tls: { mode: "enforcing", ...pem(serverPair), ca: ca.cert, requestCert: true },
    });
    steady = await steadyClient(server.addr, { ca: ca.cert, ...pem(clientPair) });
  });
  after(() => assert.equal(server.channels(), 1, "only the steady client became a channel"));

  test("plaintext: typed error; logged; the steady client undisturbed", async () => {
    const seen = logger.warnings.length;
    const err = await refusal(server.addr, {});
    assert.ok([...CLOSED, ErrorCodes.TIMEOUT].includes(err.code ?? ""), String(err));
    const warning = await nextWarning(logger, seen);
    assert.match(warning, refusedBy(server.addr, "plaintext connection refused: TLS mode is enforcing"));
    await steady.stillServes();
  });

  test("no client certificate: the server's alert is the cause; logged; the steady client undisturbed", async () => {
    const seen = logger.warnings.length;
    const err = await refusal(server.addr, { tls: { ca: ca.cert } });
    assert.ok(CLOSED.includes(err.code ?? ""), String(err));
    // TLS 1.3: the client finished its side; the server's alert arrives as the connection's error.
    assert.ok(codesOf(err).includes("ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED"), codesOf(err).join(" < "));
    const warning = await nextWarning(logger, seen);
    assert.match(
      warning,
      refusedBy(
        server.addr,
        "TLS handshake failed: peer did not return a certificate \\(ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE\\)",
      ),
    );
    await steady.stillServes();
  });

  const refusedCertificates = [
    [
      "a client certificate another CA signed",
      otherCa.issue({ usage: "client" }),
      "unable to verify the first certificate \\(UNABLE_TO_VERIFY_LEAF_SIGNATURE\\)",
    ],
    [
      "an expired client certificate",
      ca.issue({ usage: "client", ...expired }),
      "certificate has expired \\(CERT_HAS_EXPIRED\\)",
    ],
  ] as const;
  for (const [what, pair, reason] of refusedCertificates) {
    test(`${what}: typed error; logged; the steady client undisturbed`, async () => {
      const seen = logger.warnings.length;
      const err = await refusal(server.addr, { tls: { ca: ca.cert, ...pem(pair) } });
      // Node's server checks the certificate after its handshake and closes without an alert,
      // so the client learns no reason (a cause only if the close came as a reset).
      assert.ok(CLOSED.includes(err.code ?? ""), String(err));
      const warning = await nextWarning(logger, seen);
      assert.match(warning, refusedBy(server.addr, `client certificate refused: ${reason}`));
      await steady.stillServes();
    });
  }
});

describe("the client refuses the server's certificate", () => {
  // The listener's certificate is swapped for the bad one after the steady client connected, as
  // a bad rotation would: the steady client is a TLS connection to the same listener.
  const logger = recordingLogger();
  const acceptor = new TlsAcceptor(new TcpAcceptor(), { mode: "enforcing", ...pem(serverPair) }, logger);
  let server: Awaited<ReturnType<typeof startServer>>;
  let steady: Awaited<ReturnType<typeof steadyClient>>;
  before(async () => {
    server = await startServer({ logger, acceptor });
    steady = await steadyClient(server.addr, { ca: ca.cert });
  });
  after(() => assert.equal(server.channels(), 1, "only the steady client became a channel"));

  const cases = [
    ["signed by a CA it does not trust", otherCa.issue(), /UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED/],
    ["expired", ca.issue(expired), /CERT_HAS_EXPIRED/],
    [
      "not yet valid",
      ca.issue({ notBefore: new Date(Date.now() + HOUR_MS), notAfter: new Date(Date.now() + 48 * HOUR_MS) }),
      /CERT_NOT_YET_VALID/,
    ],
    [
      "for another host",
      ca.issue({ subject: "broker.example", hosts: ["broker.example"], ips: [] }),
      /ERR_TLS_CERT_ALTNAME_INVALID/,
    ],
  ] as const;
  for (const [what, pair, cause] of cases) {
    test(`${what}: ConnectError whose cause says why; logged; the steady client undisturbed`, async () => {
      acceptor.setSecureContext(pem(pair));
      const seen = logger.warnings.length;
      const err = await refusal(server.addr, { tls: { ca: ca.cert } });
      assert.equal(err.code, ErrorCodes.CONNECT);
      assert.match(String((err.cause as { code?: string } | undefined)?.code), cause);
      // A Node client refuses by closing, without an alert: the server can only tell when.
      const warning = await nextWarning(logger, seen);
      assert.match(
        warning,
        refusedBy(
          server.addr,
          "client closed the connection during the TLS handshake once the server had answered, " +
            "without an alert: it may not accept the server's certificate",
        ),
      );
      await steady.stillServes();
    });
  }
});
