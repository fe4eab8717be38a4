/**
 * TLS end to end with certificates the tests make themselves (test/helpers/ephemeral-certs.ts):
 * mutual TLS, the caller's certificate on the channel, and certificate files reloaded without a
 * restart. Refusals are in tls-refusals.test.ts.
 */
import assert from "node:assert/strict";
import { mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import type { TLSSocket } from "node:tls";
import {
  type Logger,
  RemotingClient,
  type RemotingClientOptions,
  RemotingCommand,
  RemotingServer,
  type RequestContext,
  type ServerOptions,
  TlsConnector,
} from "../../src/index.js";
import { makeCa } from "../helpers/ephemeral-certs.js";

const ca = makeCa();
const server = ca.issue();
const client = ca.issue({ usage: "client" });

/** A logger that keeps warnings, so a test can read the reason a connection was refused. */
function recordingLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  return { warnings, debug() {}, info() {}, error() {}, warn: (m: string) => void warnings.push(m) };
}

/** Resolves once `predicate` holds, polling every 10 ms; fails after 3 s. */
async function eventually(predicate: () => boolean, what: string): Promise<void> {
  const until = Date.now() + 3000;
  while (!predicate()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const started: RemotingServer[] = [];
after(async () => {
  for (const s of started) await s.shutdown({ graceMs: 0 });
});

/** A server whose code 100 answers with the caller's certificate subject and fingerprint. */
async function startServer(options: ServerOptions): Promise<RemotingServer> {
  const s = new RemotingServer({ listen: ["127.0.0.1:0"], ...options });
  s.registerProcessor(100, (_request, channel) => {
    const cert = channel.peerCertificate;
    const body = JSON.stringify(cert ? { subject: cert.subject, fingerprint256: cert.fingerprint256 } : null);
    return RemotingCommand.createResponse(0, null, { body: Buffer.from(body) });
  });
  await s.start();
  started.push(s);
  return s;
}

async function whoAmI(addr: string, options: RemotingClientOptions): Promise<unknown> {
  const c = new RemotingClient({ scanNameServers: false, ...options });
  try {
    const reply = await c.invoke(addr, c.createRequest(100), { timeoutMs: 3000 });
    return JSON.parse(reply.body!.toString());
  } finally {
    await c.shutdown();
  }
}

const mutual = { mode: "enforcing" as const, ...server, ca: ca.cert, requestCert: true };

describe("mutual TLS", () => {
  test("processors, hooks, pipeline and connect events see the caller's subject and fingerprint", async () => {
    const s = await startServer({ tls: mutual });
    const seen: string[] = [];
    s.on("connect", (_addr, channel) => seen.push(`connect ${channel?.peerCertificate?.fingerprint256}`));
    s.setRequestPipeline({
      execute(ctx: RequestContext) {
        seen.push(`pipeline ${ctx.channel?.peerCertificate?.fingerprint256}`);
      },
    });
    s.registerRpcHook({
      doBeforeRequest: (_addr, _request, channel) => {
        seen.push(`before ${channel?.peerCertificate?.fingerprint256}`);
      },
      doAfterResponse: (_addr, _request, _response, channel) => {
        seen.push(`after ${channel?.peerCertificate?.fingerprint256}`);
      },
    });
    const reply = await whoAmI(s.addresses[0]!, { tls: { ca: ca.cert, ...client } });
    assert.deepEqual(reply, { subject: "CN=mqwire test client", fingerprint256: client.fingerprint256 });
    assert.ok(seen.includes(`connect ${client.fingerprint256}`), seen.join("; "));
    assert.ok(seen.includes(`pipeline ${client.fingerprint256}`), seen.join("; "));
    assert.ok(seen.includes(`before ${client.fingerprint256}`), seen.join("; "));
    assert.ok(seen.includes(`after ${client.fingerprint256}`), seen.join("; "));
  });
});

describe("certificate files reloaded without a restart", () => {
  test("new connections get the new certificate; an open one keeps working", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mqwire-tls-"));
    after(() => rmSync(dir, { recursive: true, force: true }));
    const keyFile = join(dir, "server-key.pem");
    const certFile = join(dir, "server-cert.pem");
    writeFileSync(keyFile, server.key);
    writeFileSync(certFile, server.cert);
    const infos: string[] = [];
    const logger: Logger = { ...recordingLogger(), info: (m: string) => void infos.push(m) };
    const s = await startServer({
      tls: { mode: "enforcing", keyFile, certFile, reloadIntervalMs: 20 },
      logger,
    });
    const addr = s.addresses[0]!;
    const connector = new TlsConnector({ ca: ca.cert });
    const fingerprintOfNewConnection = async (): Promise<string> => {
      const sock = (await connector.open(addr)) as TLSSocket;
      const fp = sock.getPeerX509Certificate()!.fingerprint256;
      sock.destroy();
      return fp;
    };
    assert.equal(await fingerprintOfNewConnection(), server.fingerprint256);

    const open = new RemotingClient({ scanNameServers: false, tls: { ca: ca.cert } });
    after(() => open.shutdown());
    let connects = 0;
    s.on("connect", () => connects++);
    await open.invoke(addr, open.createRequest(100), { timeoutMs: 3000 });

    // Written aside and renamed into place, as certbot and Kubernetes secret updates do.
    const next = ca.issue();
    writeFileSync(`${keyFile}.tmp`, next.key);
    writeFileSync(`${certFile}.tmp`, next.cert);
    renameSync(`${keyFile}.tmp`, keyFile);
    renameSync(`${certFile}.tmp`, certFile);
    await eventually(() => infos.some((m) => m.includes(next.fingerprint256)), "the reload");
    assert.equal(await fingerprintOfNewConnection(), next.fingerprint256);

    await open.invoke(addr, open.createRequest(100), { timeoutMs: 3000 });
    assert.equal(connects, 1, "the open connection was kept, not reopened");
  });

  test("a key that does not match its certificate is logged and the old pair stays", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mqwire-tls-"));
    after(() => rmSync(dir, { recursive: true, force: true }));
    const keyFile = join(dir, "key.pem");
    const certFile = join(dir, "cert.pem");
    writeFileSync(keyFile, server.key);
    writeFileSync(certFile, server.cert);
    const logger = recordingLogger();
    const s = await startServer({
      tls: { mode: "enforcing", keyFile, certFile, reloadIntervalMs: 20 },
      logger,
    });
    writeFileSync(certFile, ca.issue().cert); // the key is still the old one
    await eventually(() => logger.warnings.some((m) => m.includes("do not load")), "the warning");
    const sock = (await new TlsConnector({ ca: ca.cert }).open(s.addresses[0]!)) as TLSSocket;
    assert.equal(sock.getPeerX509Certificate()!.fingerprint256, server.fingerprint256);
    sock.destroy();
  });
});
