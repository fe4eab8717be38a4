/**
 * The CLI's TLS flags (packages/cli/src/tls-flags.ts) as a user runs them: `mqwire serve --tls-mode
 * enforcing --cert --key` in a child process, `mqwire call`/`interop` with `--tls --ca`,
 * `--insecure`, mutual TLS with `--client-auth require`, and the flags on every client command.
 * Certificates are made per run (test/helpers/ephemeral-certs.ts) into a temporary directory.
 */
import assert from "node:assert/strict";
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { BIN, mqwire } from "../helpers/cli.js";
import { makeCa } from "../helpers/ephemeral-certs.js";

const dir = mkdtempSync(join(tmpdir(), "mqwire-cli-tls-"));
const ca = makeCa();
const server = ca.issue();
const client = ca.issue({ usage: "client" });
const contents: Record<string, string> = {
  "ca.pem": ca.cert,
  "server-key.pem": server.key,
  "server-cert.pem": server.cert,
  "client-key.pem": client.key,
  "client-cert.pem": client.cert,
};
for (const [name, text] of Object.entries(contents)) writeFileSync(join(dir, name), text);
const f = (name: string): string => join(dir, name);

interface Served {
  child: ChildProcessWithoutNullStreams;
  addr: string;
  stderr: () => string;
}

const children: ChildProcessWithoutNullStreams[] = [];
after(async () => {
  for (const c of children) {
    if (c.exitCode === null) {
      c.kill("SIGTERM");
      await once(c, "exit");
    }
  }
  rmSync(dir, { recursive: true, force: true });
});

/** `mqwire serve --port 0 ...` with NODE_DEBUG=mqwire, so that its refusals reach stderr. */
async function serve(extra: string[]): Promise<Served> {
  const child = spawn(process.execPath, [BIN, "serve", "--port", "0", ...extra], {
    env: { ...process.env, NODE_DEBUG: "mqwire" },
  });
  children.push(child);
  let out = "";
  let err = "";
  child.stderr.setEncoding("utf8").on("data", (d: string) => {
    err += d;
  });
  child.stdout.setEncoding("utf8");
  const addr = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve printed no address: ${out}${err}`)), 10_000);
    child.stdout.on("data", (d: string) => {
      out += d;
      const m = /listening on (\S+:\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.on("exit", () => reject(new Error(`serve exited early: ${out}${err}`)));
  });
  return { child, addr, stderr: () => err };
}

const call = (addr: string, ...flags: string[]) =>
  mqwire(["call", addr, "--code", "100", "--body", "hello", "--timeout-ms", "3000", ...flags]);

describe("mqwire serve --tls-mode enforcing + mqwire call --tls", () => {
  test("--tls --ca works; the reply is the echo", async () => {
    const s = await serve([
      "--tls-mode",
      "enforcing",
      "--cert",
      f("server-cert.pem"),
      "--key",
      f("server-key.pem"),
    ]);
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
    await waitFor(() => /plaintext connection refused: TLS mode is enforcing/.test(s.stderr()), s.stderr);
  });

  test("--client-auth require: a client certificate gets in, none is refused with a logged reason", async () => {
    const s = await serve([
      "--tls-mode",
      "enforcing",
      "--cert",
      f("server-cert.pem"),
      "--key",
      f("server-key.pem"),
      "--ca",
      f("ca.pem"),
      "--client-auth",
      "require",
    ]);
    const ok = await call(
      s.addr,
      "--ca",
      f("ca.pem"),
      "--cert",
      f("client-cert.pem"),
      "--key",
      f("client-key.pem"),
    );
    assert.equal(ok.code, 0, ok.stderr);
    const refused = await call(s.addr, "--tls", "--ca", f("ca.pem"));
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /MQW_ERR_/);
    await waitFor(() => /refused .*certificate/i.test(s.stderr()), s.stderr);
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

async function waitFor(predicate: () => boolean, log: () => string): Promise<void> {
  const until = Date.now() + 5000;
  while (!predicate()) {
    if (Date.now() > until) assert.fail(`not logged; server stderr:\n${log()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
