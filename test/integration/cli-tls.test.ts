/**
 * The CLI's TLS flags (packages/cli/src/tls-flags.ts) as a user runs them: `mqwire serve --tls-mode
 * enforcing --cert --key` in a child process, `mqwire call`/`interop`/`bench` with `--tls --ca`,
 * `--insecure`, `--tls-mode disabled`, mutual TLS with `--client-auth require` and `optional`, usage
 * errors, and the flags on every client command. Certificates are made per run
 * (test/helpers/ephemeral-certs.ts) into a temporary directory. Rotation under a running `serve`:
 * cli-tls-rotation.test.ts.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { mqwire } from "../helpers/cli.js";
import { logged, refusalBy, serve } from "../helpers/cli-serve.js";
import { makeCa } from "../helpers/ephemeral-certs.js";

const dir = mkdtempSync(join(tmpdir(), "mqwire-cli-tls-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const ca = makeCa();
const server = ca.issue();
const client = ca.issue({ usage: "client" });
const stranger = makeCa("another CA").issue({ usage: "client" });
const contents: Record<string, string> = {
  "ca.pem": ca.cert,
  "server-key.pem": server.key,
  "server-cert.pem": server.cert,
  "client-key.pem": client.key,
  "client-cert.pem": client.cert,
  "stranger-key.pem": stranger.key,
  "stranger-cert.pem": stranger.cert,
};
for (const [name, text] of Object.entries(contents)) writeFileSync(join(dir, name), text);
const f = (name: string): string => join(dir, name);

const enforcing = ["--tls-mode", "enforcing", "--cert", f("server-cert.pem"), "--key", f("server-key.pem")];
const clientAuth = (mode: string) => [...enforcing, "--ca", f("ca.pem"), "--client-auth", mode];
const withClientCert = ["--ca", f("ca.pem"), "--cert", f("client-cert.pem"), "--key", f("client-key.pem")];

const call = (addr: string, ...flags: string[]) =>
  mqwire(["call", addr, "--code", "100", "--body", "hello", "--timeout-ms", "3000", ...flags]);
/** Interop code 107: the caller's address, and `tlsSubject` when it sent a certificate. */
const whoAmI = (addr: string, ...flags: string[]) =>
  mqwire(["call", addr, "--code", "107", "--timeout-ms", "3000", ...flags]);

describe("mqwire serve --tls-mode enforcing + clients with --tls", () => {
  test("--tls --ca works; the reply is the echo", async (t) => {
    const s = await serve(t, enforcing);
    const r = await call(s.addr, "--tls", "--ca", f("ca.pem"));
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).body, "hello");
    assert.equal(r.stderr, "");

    const interop = await mqwire(["interop", s.addr, "--tls", "--ca", f("ca.pem")]);
    assert.equal(interop.code, 0, interop.stdout + interop.stderr);
    assert.match(interop.stdout, /11 passed, 0 failed/);

    const insecure = await call(s.addr, "--tls", "--insecure");
    assert.equal(insecure.code, 0, insecure.stderr);
    assert.match(insecure.stderr, /warning: --insecure/);

    const untrusted = await call(s.addr, "--tls");
    assert.equal(untrusted.code, 1);
    assert.match(untrusted.stderr, /MQW_ERR_CONNECT/);

    const plain = await call(s.addr);
    assert.equal(plain.code, 1);
    assert.match(plain.stderr, /MQW_ERR_/);
    await logged(s, refusalBy(s, "plaintext connection refused: TLS mode is enforcing"));
  });

  test("bench ADDR --tls --ca: a short run with no errors", async (t) => {
    const s = await serve(t, enforcing);
    const args = ["--mode", "sync", "--seconds", "1", "--warmup", "0", "--json"];
    const r = await mqwire(["bench", s.addr, ...args, "--tls", "--ca", f("ca.pem")]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const result = JSON.parse(r.stdout.trim().split("\n").at(-1) ?? "");
    assert.equal(result.errors, 0, JSON.stringify(result.errorsByCode));
    assert.ok(result.requests > 0, `no request completed: ${r.stdout}`);
    // Without the CA the first call cannot connect: exit 1, not a run full of errors.
    const untrusted = await mqwire(["bench", s.addr, ...args, "--tls"]);
    assert.equal(untrusted.code, 1);
    assert.match(untrusted.stderr, /MQW_ERR_CONNECT/);
  });
});

describe("mqwire serve --tls-mode disabled", () => {
  test("plaintext is served; a TLS client is refused with a logged reason", async (t) => {
    const s = await serve(t, ["--tls-mode", "disabled"]);
    const plain = await call(s.addr);
    assert.equal(plain.code, 0, plain.stderr);
    const tls = await call(s.addr, "--tls", "--ca", f("ca.pem"));
    assert.equal(tls.code, 1);
    assert.match(tls.stderr, /MQW_ERR_CONNECT/);
    await logged(s, refusalBy(s, "TLS connection refused: TLS mode is disabled"));
  });
});

describe("mqwire serve --client-auth", () => {
  test("require: a client certificate gets in; none, or one from another CA, is refused with a logged reason", async (t) => {
    const s = await serve(t, clientAuth("require"));
    const ok = await whoAmI(s.addr, ...withClientCert);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(JSON.parse(ok.stdout).extFields.tlsSubject, "CN=mqwire test client");

    const none = await call(s.addr, "--tls", "--ca", f("ca.pem"));
    assert.equal(none.code, 1);
    assert.match(none.stderr, /MQW_ERR_/);
    await logged(s, refusalBy(s, "TLS handshake failed: peer did not return a certificate"));

    const foreign = await call(
      s.addr,
      ...["--ca", f("ca.pem"), "--cert", f("stranger-cert.pem"), "--key", f("stranger-key.pem")],
    );
    assert.equal(foreign.code, 1);
    assert.match(foreign.stderr, /MQW_ERR_/);
    await logged(
      s,
      refusalBy(
        s,
        "client certificate refused: unable to verify the first certificate \\(UNABLE_TO_VERIFY_LEAF_SIGNATURE\\)",
      ),
    );
  });

  test("optional: a client without a certificate gets in; one the CA signed is seen; a stranger's is refused", async (t) => {
    const s = await serve(t, clientAuth("optional"));
    const none = await whoAmI(s.addr, "--tls", "--ca", f("ca.pem"));
    assert.equal(none.code, 0, none.stderr);
    assert.equal(JSON.parse(none.stdout).extFields?.tlsSubject, undefined);
    const cert = await whoAmI(s.addr, ...withClientCert);
    assert.equal(cert.code, 0, cert.stderr);
    assert.equal(JSON.parse(cert.stdout).extFields.tlsSubject, "CN=mqwire test client");
    assert.doesNotMatch(s.stderr(), /refused/);

    // A certificate no trusted CA signed is refused, not let in with its subject on the channel.
    const foreign = await whoAmI(
      s.addr,
      ...["--ca", f("ca.pem"), "--cert", f("stranger-cert.pem"), "--key", f("stranger-key.pem")],
    );
    assert.equal(foreign.code, 1);
    assert.doesNotMatch(foreign.stdout, /tlsSubject/);
    await logged(s, refusalBy(s, "client certificate refused: unable to verify the first certificate"));
  });
});

describe("bad TLS flags are usage errors (exit 2)", () => {
  const cases: [string, string[], RegExp][] = [
    [
      "call: a missing --ca file",
      ["call", "127.0.0.1:1", "--code", "100", "--ca", f("nope.pem")],
      /cannot read/,
    ],
    [
      "call: --cert without its key",
      ["call", "127.0.0.1:1", "--code", "100", "--cert", f("client-cert.pem")],
      /go together/,
    ],
    ["serve: a missing --cert file", ["serve", "--port", "0", "--cert", f("nope.pem")], /cannot read/],
    ["serve: --cert without --key", ["serve", "--port", "0", "--cert", f("server-cert.pem")], /go together/],
    [
      "serve: enforcing without a certificate",
      ["serve", "--port", "0", "--tls-mode", "enforcing"],
      /key and cert/,
    ],
    ["serve: --tls-mode bogus", ["serve", "--port", "0", "--tls-mode", "bogus"], /--tls-mode/],
    [
      "serve: --client-auth without --cert",
      ["serve", "--port", "0", "--client-auth", "require"],
      /need --cert/,
    ],
    [
      "serve: --proxy-protocol sometimes",
      ["serve", "--port", "0", "--proxy-protocol", "sometimes"],
      /proxy-protocol/,
    ],
    ["interop: a missing --ca file", ["interop", "127.0.0.1:1", "--ca", f("nope.pem")], /cannot read/],
    [
      "interop: --cert without its key",
      ["interop", "127.0.0.1:1", "--cert", f("client-cert.pem")],
      /go together/,
    ],
    ["bench: a missing --ca file", ["bench", "127.0.0.1:1", "--ca", f("nope.pem")], /cannot read/],
    [
      "bench: --cert without its key",
      ["bench", "127.0.0.1:1", "--cert", f("client-cert.pem")],
      /go together/,
    ],
    ["bench: --tls without the server's address", ["bench", "--tls"], /needs the server's \[addr\]/],
  ];
  for (const [what, args, message] of cases) {
    test(what, async () => {
      const r = await mqwire(args);
      assert.equal(r.code, 2, r.stdout + r.stderr);
      assert.match(r.stderr, message);
    });
  }
});

describe("every command that connects takes the TLS flags", () => {
  const clientCommands = [
    ["call"],
    ["interop"],
    ["bench"],
    ["route"],
    ["cluster"],
    ["topic", "create"],
    ["topic", "stats"],
    ["topic", "list"],
    ["send"],
    ["consume"],
    ["offsets"],
  ];
  for (const cmd of clientCommands) {
    test(`mqwire ${cmd.join(" ")}`, async () => {
      const r = await mqwire([...cmd, "--help"]);
      for (const flag of ["--tls", "--ca <file>", "--cert <file>", "--insecure"]) {
        assert.ok(r.stdout.includes(flag), `${cmd.join(" ")} lacks ${flag}`);
      }
      assert.ok(r.stdout.includes(cmd[0] === "send" ? "--tls-key <file>" : "--key <file>"));
    });
  }
  test("mqwire serve", async () => {
    const r = await mqwire(["serve", "--help"]);
    for (const flag of [
      "--tls-mode <mode>",
      "--cert <file>",
      "--key <file>",
      "--ca <file>",
      "--client-auth",
    ]) {
      assert.ok(r.stdout.includes(flag), `serve lacks ${flag}`);
    }
  });
});
