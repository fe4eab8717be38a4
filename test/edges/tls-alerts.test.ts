/**
 * `npm run test:edges`: a real TLS client that refuses the server's certificate with an alert,
 * as Java's and OpenSSL's do (Node's closes without one: test/integration/tls-refusals.test.ts).
 * `openssl s_client -verify_return_error` connects to a RemotingServer whose certificate it does
 * not accept; the server's log names the alert it received. Without openssl these tests skip,
 * except under CI=true, where a missing binary fails them.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { after, describe, test } from "node:test";
import { type Logger, RemotingServer } from "../../src/index.js";
import { makeCa } from "../helpers/ephemeral-certs.js";
import { waitFor } from "../helpers/remoting.js";

const HOUR_MS = 3_600_000;
const OPENSSL = (process.env.PATH ?? "")
  .split(delimiter)
  .map((d) => join(d, "openssl"))
  .find((p) => existsSync(p));
const skip = OPENSSL === undefined && !process.env.CI ? "openssl not found: apt-get install openssl" : false;

const ca = makeCa();
const dir = mkdtempSync(join(tmpdir(), "mqwire-tls-alerts-"));
const caFile = join(dir, "ca.pem");
writeFileSync(caFile, ca.cert);
after(() => rmSync(dir, { recursive: true, force: true }));

/** `openssl s_client` to `addr`, trusting only the test CA; resolves with its exit code and output. */
function sClient(addr: string): Promise<{ code: number | null; output: string }> {
  assert.ok(OPENSSL, "openssl is not installed (Debian: apt-get install openssl)");
  const args = ["s_client", "-connect", addr, "-CAfile", caFile, "-verify_return_error"];
  const child = spawn(OPENSSL, [...args, "-servername", "localhost"], { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => {
    output += d;
  });
  child.stderr.setEncoding("utf8").on("data", (d: string) => {
    output += d;
  });
  const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
  return new Promise((resolve) =>
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    }),
  );
}

describe("a client's TLS alert is the server's logged reason", { skip }, () => {
  const cases = [
    ["a certificate another CA signed", makeCa("another CA").issue(), "tlsv1 alert unknown ca", "UNKNOWN_CA"],
    [
      "an expired certificate",
      ca.issue({ notBefore: new Date(Date.now() - 48 * HOUR_MS), notAfter: new Date(Date.now() - HOUR_MS) }),
      "sslv3 alert certificate expired",
      "CERTIFICATE_EXPIRED",
    ],
  ] as const;
  for (const [what, pair, alert, code] of cases) {
    test(`${what}: "${alert}" in the warning`, async (t) => {
      const warnings: string[] = [];
      const logger: Logger = {
        debug() {},
        info() {},
        error() {},
        warn: (m: string) => void warnings.push(m),
      };
      const server = new RemotingServer({
        listen: ["127.0.0.1:0"],
        logger,
        tls: { mode: "enforcing", key: pair.key, cert: pair.cert },
      });
      await server.start();
      t.after(() => server.shutdown({ graceMs: 0 }));
      const addr = server.addresses[0] ?? "";
      const run = await sClient(addr);
      assert.notEqual(run.code, 0, run.output);
      await waitFor(() => warnings.length > 0, "the server's warning");
      const bound = addr.replaceAll(".", "\\.");
      assert.match(
        warnings[0] ?? "",
        new RegExp(
          `^${bound}: refused 127\\.0\\.0\\.1:\\d+: TLS handshake failed: ${alert} \\(ERR_SSL_\\w+_ALERT_${code}\\)$`,
        ),
      );
    });
  }
});
