/**
 * `mqwire serve`, `mqwire interop` and `mqwire call` as a user runs them: child processes
 * talking over real loopback sockets, in every client/server serialize-type combination.
 */
import assert from "node:assert/strict";
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { once } from "node:events";
import { createServer } from "node:net";
import { after, describe, test } from "node:test";
import { RemotingClient, silentLogger } from "../../src/index.js";
import { BIN, mqwire } from "../helpers/cli.js";
import { ProxyHeaderConnector, proxyV1 } from "../helpers/proxy-header.js";

const run = (args: string[], timeoutMs = 20_000) => mqwire(args, "", timeoutMs);

/** Starts `mqwire serve --port 0`; resolves with the process and the address it printed. */
async function serve(extra: string[] = []): Promise<{ child: ChildProcessWithoutNullStreams; addr: string }> {
  const child = spawn(process.execPath, [BIN, "serve", "--port", "0", ...extra]);
  let out = "";
  child.stdout.setEncoding("utf8");
  const addr = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve printed no address: ${out}`)), 10_000);
    child.stdout.on("data", (d: string) => {
      out += d;
      const m = /listening on (\S+:\d+)/.exec(out.split("\n")[0] ?? "");
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.on("exit", () => reject(new Error(`serve exited early: ${out}`)));
  });
  return { child, addr };
}

async function stop(child: ChildProcessWithoutNullStreams): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode;
  child.kill("SIGTERM");
  const [code] = (await once(child, "exit")) as [number | null];
  return code;
}

describe("mqwire serve + interop, all four serialize-type combinations", () => {
  const servers: ChildProcessWithoutNullStreams[] = [];
  after(async () => {
    for (const s of servers) await stop(s);
  });

  for (const serverType of ["json", "rocketmq"]) {
    test(`server --serialize ${serverType}`, async () => {
      const { child, addr } = await serve(["--serialize", serverType]);
      servers.push(child);
      assert.match(addr, /^127\.0\.0\.1:[1-9]\d*$/);
      for (const clientType of ["json", "rocketmq"]) {
        const r = await run(["interop", addr, "--serialize", clientType, "--timeout-ms", "5000"]);
        const lines = r.stdout.trim().split("\n");
        assert.equal(r.code, 0, r.stdout + r.stderr);
        assert.equal(lines.at(-1), "11 passed, 0 failed");
        assert.equal(lines.filter((l) => l.startsWith("PASS ")).length, 11);
        for (const name of ["sync_echo", "timeout_102", "server_push", "sync_echo_after_timeout"]) {
          assert.ok(lines.includes(`PASS ${name}`), `${clientType}: ${name} missing`);
        }
      }
      assert.equal(await stop(child), 0, "SIGTERM ends serve with exit code 0");
    });
  }
});

describe("mqwire call", () => {
  let server: ChildProcessWithoutNullStreams;
  let addr: string;
  after(async () => {
    if (server) await stop(server);
  });

  test("echo prints the reply as one JSON object with a text body", async () => {
    ({ child: server, addr } = await serve());
    const r = await run(["call", addr, "--code", "100", "--ext", "k=v", "--ext", "x=1=2", "--body", "héllo"]);
    assert.equal(r.code, 0, r.stderr);
    const reply = JSON.parse(r.stdout.trim());
    assert.equal(reply.code, 0);
    assert.equal(reply.remark, "ok");
    assert.equal(reply.body, "héllo");
    assert.equal(reply.bodyEncoding, "utf8");
    assert.deepEqual(reply.extFields, { k: "v", x: "1=2" });
    assert.equal(reply.serializeType, "JSON");
    assert.equal(reply.flag & 1, 1);
  });

  test("--serialize rocketmq gets a ROCKETMQ reply", async () => {
    const r = await run(["call", addr, "--code", "105", "--serialize", "rocketmq"]);
    assert.equal(r.code, 0, r.stderr);
    const reply = JSON.parse(r.stdout.trim());
    assert.equal(reply.serializeType, "ROCKETMQ");
    assert.match(reply.extFields.count, /^\d+$/);
  });

  test("--oneway sends and exits 0", async () => {
    const r = await run(["call", addr, "--code", "104", "--oneway"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout.trim()).oneway, true);
  });

  test("a time-out prints a clear message and exits 1", async () => {
    const r = await run(["call", addr, "--code", "102", "--timeout-ms", "200"]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /MQW_ERR_TIMEOUT/);
  });

  test("a connection error prints a clear message and exits 1", async () => {
    const probe = createServer();
    probe.listen(0, "127.0.0.1");
    await once(probe, "listening");
    const port = (probe.address() as { port: number }).port;
    await new Promise((r) => probe.close(r));
    const r = await run(["call", `127.0.0.1:${port}`, "--code", "100"]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /MQW_ERR_CONNECT/);
  });
});

describe("mqwire serve --proxy-protocol", () => {
  test("required: 107 answers the client named in the header; a call without one exits 1", async (t) => {
    const { child, addr } = await serve(["--proxy-protocol", "required"]);
    t.after(() => stop(child));
    const client = new RemotingClient({
      scanNameServers: false,
      logger: silentLogger,
      connector: new ProxyHeaderConnector(proxyV1("203.0.113.9", "127.0.0.1", 40001, 9876)),
    });
    t.after(() => client.shutdown());
    const reply = await client.invokeSync(addr, client.createRequest(107), 3000);
    assert.equal(reply.body?.toString(), "203.0.113.9:40001");
    const r = await run(["call", addr, "--code", "107"]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /MQW_ERR_/);
  });

  test("an unknown mode is a usage error (exit 2)", async () => {
    const r = await run(["serve", "--port", "0", "--proxy-protocol", "sometimes"]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /proxy-protocol/);
  });
});
