/**
 * The examples that need nothing beside the clone (examples/*.mjs) run as a user runs them, in a
 * child process, exit 0 and print what they promise. The RocketMQ examples run in the cluster
 * suite (test/cluster/examples.test.ts); here only their refusal without a name server.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { test } from "node:test";
import { repoRoot } from "../helpers/vectors.js";

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** `node examples/<name>`, with a deadline; resolves with the exit code whatever it is. */
function runExample(name: string, env: NodeJS.ProcessEnv = process.env, timeoutMs = 30_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [join(repoRoot(), "examples", name)],
      { env, timeout: timeoutMs },
      (err, stdout, stderr) => {
        if (err !== null && typeof err.code !== "number") reject(err);
        else resolve({ code: err === null ? 0 : (err.code as number), stdout, stderr });
      },
    );
  });
}

/** Runs an example that must succeed and returns its stdout lines. */
async function linesOf(name: string): Promise<string[]> {
  const run = await runExample(name);
  assert.equal(run.code, 0, `${name} exited ${run.code}:\n${run.stdout}\n${run.stderr}`);
  return run.stdout.trim().split("\n");
}

function assertLines(lines: string[], expected: (string | RegExp)[]): void {
  for (const e of expected) {
    const found = lines.some((l) => (typeof e === "string" ? l === e : e.test(l)));
    assert.ok(found, `missing ${String(e)} in:\n${lines.join("\n")}`);
  }
}

test("examples/call-styles.mjs: every call style works end to end", async () => {
  assertLines(await linesOf("call-styles.mjs"), [
    "invoke: 0 ok hello",
    "invokeSync: 0 { k: 'v' }",
    "invokeAsync: 0",
    "deferred: later",
    "refused: 16 bad token",
    "time-out: MQW_ERR_TIMEOUT",
    "push: client got news",
    "oneways counted: 3",
  ]);
});

test("examples/echo.mjs: bodies come back intact in the request's serialize type", async () => {
  const lines = await linesOf("echo.mjs");
  for (const type of ["JSON", "ROCKETMQ"]) {
    for (const text of ['"hello"', '"héllo, wörld"', '""']) {
      assertLines(lines, [`${type}: sent ${text}, reply 0 echo in ${type}, same body`]);
    }
  }
  assertLines(lines, [/^server listening on 127\.0\.0\.1:\d+$/, "echo: done"]);
});

test("examples/long-polling.mjs: a held pull is answered by a put, or by the hold time", async () => {
  const lines = await linesOf("long-polling.mjs");
  assertLines(lines, [
    /^pull held until a put: got "order-1" after \d+ ms$/,
    /^pull with data waiting: got "order-2" after \d+ ms$/,
    /^pull with nothing arriving: code 19, nothing within 300 ms after \d+ ms$/,
    "long-polling: done",
  ]);
  const held = Number(/put: got "order-1" after (\d+) ms/.exec(lines.join("\n"))?.[1]);
  assert.ok(held >= 150, `the first pull was answered after ${held} ms, before the put`);
  const expired = Number(/arriving: .* after (\d+) ms/.exec(lines.join("\n"))?.[1]);
  assert.ok(expired >= 290, `the empty pull was answered after ${expired} ms, before its hold time`);
});

test("examples/server-push.mjs: the server asks every connected client and each answers", async () => {
  assertLines(await linesOf("server-push.mjs"), [
    "server: 3 clients connected",
    "push reply from client-a: 0 client-a answers status?",
    "push reply from client-b: 0 client-b answers status?",
    "push reply from client-c: 0 client-c answers status?",
    "oneway notifications received: 3",
    "server-push: done",
  ]);
});

test("examples/acl-signing.mjs: signed requests pass, a wrong or missing signature gets 16", async () => {
  assertLines(await linesOf("acl-signing.mjs"), [
    /^right secret: signed \S+= -> 0 accepted 42$/,
    /^wrong secret: signed \S+= -> 16 Check signature failed for accessKey=example-ak$/,
    "no hook: unsigned -> 16 No accessKey is configured",
    "server refusals logged: 2",
    "acl-signing: done",
  ]);
});

test("examples/mutual-tls.mjs: only a client with a certificate the CA signed is served", async () => {
  assertLines(await linesOf("mutual-tls.mjs"), [
    /^TLS server on 127\.0\.0\.1:\d+$/,
    "client with a certificate: 0 hello, verified client",
    /^client without a certificate: refused \(MQW_ERR_[A-Z_]+\)$/,
    /^plaintext client: refused \(MQW_ERR_[A-Z_]+\)$/,
    /^client that does not trust the CA: refused \(MQW_ERR_[A-Z_]+\)$/,
    "mutual-tls: done",
  ]);
});

test("examples/worker-threads.mjs: hashes run in workers while pings are answered", async () => {
  const lines = await linesOf("worker-threads.mjs");
  assertLines(lines, [
    /^4 hashes in worker threads: hashed, hashed, hashed, hashed \(\d+ ms\)$/,
    /^first hash: [0-9a-f]{16}\.\.\.$/,
    /^pings answered meanwhile: [1-9]\d*, slowest [\d.]+ ms$/,
    "worker-threads: done",
  ]);
});

test("the RocketMQ examples exit 2 with a hint when NAMESRV_ADDR is not set", async () => {
  const env = { ...process.env };
  delete env.NAMESRV_ADDR;
  for (const name of ["rocketmq-route.mjs", "rocketmq-producer.mjs", "rocketmq-consumer.mjs"]) {
    const run = await runExample(name, env);
    assert.equal(run.code, 2, `${name}: ${run.stdout}${run.stderr}`);
    assert.match(run.stderr, /NAMESRV_ADDR/);
  }
});
