/**
 * A certificate rotation under a running `mqwire serve --cert --key`: the files are replaced as
 * certbot and Kubernetes secret updates do (written aside, renamed into place); new connections
 * then get the new certificate while a client connected before keeps its connection.
 */
import assert from "node:assert/strict";
import { mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import type { TLSSocket } from "node:tls";
import { RemotingClient, TlsConnector } from "../../src/index.js";
import { logged, serve } from "../helpers/cli-serve.js";
import { makeCa } from "../helpers/ephemeral-certs.js";

const dir = mkdtempSync(join(tmpdir(), "mqwire-cli-rotation-"));
after(() => rmSync(dir, { recursive: true, force: true }));

test("serve --cert --key: new connections see the rotated certificate; an open client keeps working", async (t) => {
  const ca = makeCa();
  const first = ca.issue();
  const keyFile = join(dir, "server-key.pem");
  const certFile = join(dir, "server-cert.pem");
  writeFileSync(keyFile, first.key);
  writeFileSync(certFile, first.cert);
  const s = await serve(t, ["--tls-mode", "enforcing", "--cert", certFile, "--key", keyFile]);

  const connector = new TlsConnector({ ca: ca.cert });
  const fingerprintOfNewConnection = async (): Promise<string | undefined> => {
    const sock = (await connector.open(s.addr)) as TLSSocket;
    const fingerprint = sock.getPeerX509Certificate()?.fingerprint256;
    sock.destroy();
    return fingerprint;
  };
  assert.equal(await fingerprintOfNewConnection(), first.fingerprint256);

  const open = new RemotingClient({ scanNameServers: false, tls: { ca: ca.cert } });
  t.after(() => open.shutdown());
  let connects = 0;
  open.on("connect", () => connects++);
  const echo = async (): Promise<string | undefined> => {
    const reply = await open.invoke(s.addr, open.createRequest(100, { body: Buffer.from("still here") }), {
      timeoutMs: 3000,
    });
    return reply.body?.toString();
  };
  assert.equal(await echo(), "still here");

  const next = ca.issue();
  writeFileSync(`${keyFile}.tmp`, next.key);
  writeFileSync(`${certFile}.tmp`, next.cert);
  renameSync(`${keyFile}.tmp`, keyFile);
  renameSync(`${certFile}.tmp`, certFile);
  // serve polls its files (every 500 ms by default) and logs each reload with the fingerprint.
  await logged(s, new RegExp(`TLS files reloaded: .*${next.fingerprint256}`), 10_000);
  assert.equal(await fingerprintOfNewConnection(), next.fingerprint256);

  assert.equal(await echo(), "still here");
  assert.equal(connects, 1, "the open client kept its connection");
});
