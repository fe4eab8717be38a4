/**
 * `mqwire serve`, `mqwire interop` and `mqwire call`: the interop service and a client for it,
 * built on the public API only.
 */
import { fstatSync } from "node:fs";
import type { Command } from "commander";
import {
  isMqwireError,
  parseSerializeType,
  RemotingClient,
  type RemotingCommand,
  RemotingServer,
  registerInteropClient,
  registerInteropService,
  runInteropCases,
  type SerializeType,
} from "../index.js";
import { commandToJson } from "./command-json.js";

function intArg(name: string, min = 0): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min)
      throw new Error(`${name} must be an integer >= ${min}, got "${value}"`);
    return n;
  };
}

function serializeArg(value: string): SerializeType {
  return parseSerializeType(value);
}

export function registerServe(program: Command): void {
  program
    .command("serve")
    .description("run the interop service (request codes 100-106) until SIGINT/SIGTERM")
    .option("--host <host>", "address to listen on", "127.0.0.1")
    .option("--port <port>", "port to listen on (0: any free port)", intArg("port"), 9876)
    .option(
      "--serialize <type>",
      "serialize type of commands the server creates: json|rocketmq",
      serializeArg,
    )
    .action(async (opts: { host: string; port: number; serialize?: SerializeType }) => {
      const server = new RemotingServer({
        listen: [opts.host.includes(":") ? `[${opts.host}]:${opts.port}` : `${opts.host}:${opts.port}`],
        serializeType: opts.serialize,
      });
      const interop = registerInteropService(server);
      await server.start();
      process.stdout.write(`mqwire interop service listening on ${server.addresses[0]}\n`);
      await new Promise<void>((resolve) => {
        const stop = (): void => {
          process.off("SIGINT", stop).off("SIGTERM", stop);
          resolve();
        };
        process.on("SIGINT", stop).on("SIGTERM", stop);
        // Driven through a pipe (a benchmark orchestrator): a "stop" line or the pipe's end stops
        // it too, so a server never outlives the process that started it.
        if (fstatSync(0).isFIFO()) {
          process.stdin.setEncoding("utf8");
          process.stdin.on("data", (text: string) => /^stop\s*$/m.test(text) && stop());
          process.stdin.on("end", stop);
        }
      });
      await server.shutdown({ graceMs: 2000 });
      process.stdin.destroy();
      const cpu = process.cpuUsage();
      process.stdout.write("mqwire interop service stopped\n");
      // The stop report a benchmark reads (bench/lib/protocol.ts ServerReport).
      const report = {
        cpuUserUs: cpu.user,
        cpuSystemUs: cpu.system,
        rssBytes: process.memoryUsage.rss(),
        requests: server.requestsReceived,
        onewayFrames: interop.onewayTotal,
      };
      process.stdout.write(`${JSON.stringify(report)}\n`);
    });
}

export function registerInterop(program: Command): void {
  program
    .command("interop")
    .description("run the interop cases against a server of the interop service")
    .argument("<addr>", "HOST:PORT of the server")
    .option("--serialize <type>", "serialize type of requests: json|rocketmq", serializeArg)
    .option("--timeout-ms <ms>", "time-out of each call", intArg("timeout-ms", 1), 5000)
    .action(async (addr: string, opts: { serialize?: SerializeType; timeoutMs: number }) => {
      const serializeType = opts.serialize ?? parseSerializeType("json");
      const client = new RemotingClient({ serializeType, scanNameServers: false });
      registerInteropClient(client);
      const results = await runInteropCases(client, addr, { serializeType, timeoutMs: opts.timeoutMs }, (r) =>
        process.stdout.write(r.ok ? `PASS ${r.name}\n` : `FAIL ${r.name}: ${r.reason}\n`),
      );
      await client.shutdown();
      const passed = results.filter((r) => r.ok).length;
      process.stdout.write(`${passed} passed, ${results.length - passed} failed\n`);
      process.exitCode = passed === results.length ? 0 : 1;
    });
}

/** The decode shape, with the body as text when it is valid UTF-8 (bodyEncoding says which). */
function replyJson(response: RemotingCommand): Record<string, unknown> {
  const json: Record<string, unknown> = { ...commandToJson(response) };
  if (response.body !== null) {
    try {
      json.body = new TextDecoder("utf-8", { fatal: true }).decode(response.body);
      json.bodyEncoding = "utf8";
    } catch {
      json.bodyEncoding = "base64";
    }
  }
  return json;
}

export function registerCall(program: Command): void {
  program
    .command("call")
    .description("send one request and print the reply as JSON")
    .argument("<addr>", "HOST:PORT of the server")
    .requiredOption("--code <n>", "request code", intArg("code", -(2 ** 31)))
    .option(
      "--ext <k=v>",
      "an extField (repeatable)",
      (v: string, acc: string[]) => [...acc, v],
      [] as string[],
    )
    .option("--body <text>", "request body as UTF-8 text")
    .option("--oneway", "send as oneway: no reply is expected")
    .option("--timeout-ms <ms>", "time-out of the call", intArg("timeout-ms", 1), 3000)
    .option("--serialize <type>", "serialize type: json|rocketmq", serializeArg)
    .action(
      async (
        addr: string,
        opts: {
          code: number;
          ext: string[];
          body?: string;
          oneway?: boolean;
          timeoutMs: number;
          serialize?: SerializeType;
        },
      ) => {
        const extFields = new Map<string, string>();
        for (const kv of opts.ext) {
          const eq = kv.indexOf("=");
          if (eq <= 0) throw new Error(`--ext must be key=value, got "${kv}"`);
          extFields.set(kv.slice(0, eq), kv.slice(eq + 1));
        }
        const client = new RemotingClient({ serializeType: opts.serialize, scanNameServers: false });
        const request = client.createRequest(opts.code, {
          extFields: extFields.size > 0 ? extFields : null,
          body: opts.body === undefined ? null : Buffer.from(opts.body),
        });
        try {
          if (opts.oneway) {
            await client.invokeOneway(addr, request, opts.timeoutMs);
            process.stdout.write(`${JSON.stringify({ sent: true, oneway: true, opaque: request.opaque })}\n`);
          } else {
            const response = await client.invokeSync(addr, request, opts.timeoutMs);
            process.stdout.write(`${JSON.stringify(replyJson(response))}\n`);
          }
        } catch (err) {
          const code = isMqwireError(err) ? err.code : "ERROR";
          process.stderr.write(`mqwire call: ${code}: ${(err as Error).message}\n`);
          process.exitCode = 1;
        } finally {
          await client.shutdown();
        }
      },
    );
}
