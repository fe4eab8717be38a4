/**
 * `mqwire serve`, `mqwire interop` and `mqwire call`: the interop service and a client for it
 * (or for any RocketMQ server: `call` takes RocketMQ's code names), built on the public API only.
 */
import { fstatSync } from "node:fs";
import { type Command, InvalidArgumentError as FlagError } from "commander";
import {
  isMqwireError,
  type ProxyProtocolMode,
  parseRequestCode,
  parseRocketmqJson,
  parseSerializeType,
  RemotingClient,
  type RemotingCommand,
  RemotingServer,
  registerInteropClient,
  registerInteropService,
  responseCodeName,
  runInteropCases,
  type SerializeType,
} from "mqwire";
import { collectKeyValue, intFlag, serializeFlag } from "./client-flags.js";
import { bodyToJson, commandToJson } from "./command-json.js";
import { ExitCode, exitTwoOnUsageError, usageChecked } from "./exit-codes.js";
import {
  addTlsClientFlags,
  addTlsServerFlags,
  type TlsClientFlags,
  type TlsServerFlags,
  tlsClientOptions,
  tlsServerOptions,
} from "./tls-flags.js";

// Option parsers throw commander's InvalidArgumentError, which commander reports as usage.

/** `mqwire serve --metrics-interval`. */
interface MetricsFlags {
  /** Seconds between two snapshots; none when unset. */
  metricsInterval?: number;
}

function secondsArg(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || n > 2_147_483) {
    throw new FlagError(`metrics-interval must be a number of seconds > 0, got "${value}"`);
  }
  return n;
}

/**
 * Every `seconds`, one line of JSON on stderr: the time and the server's metrics() snapshot.
 * stderr, because stdout is a contract (the listening line, then the stop report as the last
 * line: bench/lib/spawn.ts and the CLI tests read it). Returns the function that stops it.
 */
function printMetricsEvery(server: RemotingServer, seconds: number): () => void {
  const timer = setInterval(() => {
    process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), ...server.metrics() })}\n`);
  }, seconds * 1000);
  return () => clearInterval(timer);
}

function proxyProtocolArg(value: string): ProxyProtocolMode {
  if (value !== "off" && value !== "optional" && value !== "required") {
    throw new FlagError(`proxy-protocol must be off, optional or required, got "${value}"`);
  }
  return value;
}

/** `mqwire serve`'s flags. */
interface ServeFlags {
  host: string;
  port: number;
  serialize?: SerializeType;
  proxyProtocol: ProxyProtocolMode;
}

export function registerServe(program: Command): void {
  const cmd = program
    .command("serve")
    .description("run the interop service (request codes 100-107) until SIGINT/SIGTERM")
    .option("--host <host>", "address to listen on", "127.0.0.1")
    .option("--port <port>", "port to listen on (0: any free port)", intFlag(0, 65_535), 9876)
    .option(
      "--serialize <type>",
      "serialize type of commands the server creates: json|rocketmq",
      serializeFlag,
    )
    .option(
      "--proxy-protocol <mode>",
      "HAProxy PROXY protocol header (v1/v2) before each connection: off|optional|required",
      proxyProtocolArg,
      "off",
    )
    .option(
      "--metrics-interval <seconds>",
      "print the server's metrics() as one JSON line on stderr every <seconds>",
      secondsArg,
    );
  exitTwoOnUsageError(addTlsServerFlags(cmd)).action(
    async (opts: ServeFlags & MetricsFlags & TlsServerFlags) => {
      const server = usageChecked(cmd, () => {
        const tls = tlsServerOptions(opts);
        return new RemotingServer({
          listen: [opts.host.includes(":") ? `[${opts.host}]:${opts.port}` : `${opts.host}:${opts.port}`],
          serializeType: opts.serialize,
          proxyProtocol: opts.proxyProtocol,
          ...(tls === undefined ? {} : { tls }),
        });
      });
      const interop = registerInteropService(server);
      await server.start();
      process.stdout.write(`mqwire interop service listening on ${server.addresses[0]}\n`);
      const stopMetrics =
        opts.metricsInterval === undefined ? undefined : printMetricsEvery(server, opts.metricsInterval);
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
      stopMetrics?.();
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
    },
  );
}

export function registerInterop(program: Command): void {
  const cmd = program
    .command("interop")
    .description("run the interop cases against a server of the interop service")
    .argument("<addr>", "HOST:PORT of the server")
    .option("--serialize <type>", "serialize type of requests: json|rocketmq", serializeFlag)
    .option("--timeout-ms <ms>", "time-out of each call", intFlag(1), 5000);
  exitTwoOnUsageError(addTlsClientFlags(cmd)).action(
    async (addr: string, opts: { serialize?: SerializeType; timeoutMs: number } & TlsClientFlags) => {
      const serializeType = opts.serialize ?? parseSerializeType("json");
      const tls = usageChecked(cmd, () => tlsClientOptions(opts));
      const client = new RemotingClient({ serializeType, scanNameServers: false, ...(tls ? { tls } : {}) });
      registerInteropClient(client);
      const results = await runInteropCases(client, addr, { serializeType, timeoutMs: opts.timeoutMs }, (r) =>
        process.stdout.write(r.ok ? `PASS ${r.name}\n` : `FAIL ${r.name}: ${r.reason}\n`),
      );
      await client.shutdown();
      const passed = results.filter((r) => r.ok).length;
      process.stdout.write(`${passed} passed, ${results.length - passed} failed\n`);
      process.exitCode = passed === results.length ? 0 : 1;
    },
  );
}

/** How `call` prints a reply's body. */
type BodyMode = "parsed" | "raw";

/**
 * The decode shape plus `codeName` (the ResponseCode name, null for a code RocketMQ does not
 * name). A body that is a JSON object or array, fastjson's dialect included, is printed parsed in
 * `bodyJson` (`bodyEncoding` "json") so that an unquoted integer key (`{0:"…"}`, every 106 answer)
 * never reaches the user; any other body as text when it is valid UTF-8, else base64.
 */
function replyJson(response: RemotingCommand, mode: BodyMode): Record<string, unknown> {
  const { code, ...rest } = commandToJson(response);
  const json: Record<string, unknown> = { code, codeName: responseCodeName(code) ?? null, ...rest };
  if (response.body === null) return json;
  const parsed = mode === "parsed" ? parseJsonBody(response.body) : undefined;
  if (parsed === undefined) return Object.assign(json, bodyToJson(response.body));
  json.body = undefined;
  return Object.assign(json, { bodyEncoding: "json", bodyJson: parsed });
}

/**
 * The body as a JSON value when it is an object or array in RocketMQ's JSON (the only bodies
 * RocketMQ writes as JSON), else undefined: a text body such as "42" or "true" stays text.
 */
function parseJsonBody(body: Uint8Array): unknown {
  try {
    const value = parseRocketmqJson(body);
    return value !== null && typeof value === "object" ? value : undefined;
  } catch {
    return undefined; // not UTF-8, or not JSON: printed as text or base64
  }
}

/** `--code`: a RequestCode name in any case or a number; a negative int32 too, for custom codes. */
function requestCodeFlag(value: string): number {
  if (/^\s*-\d+\s*$/.test(value) && Number(value) >= -(2 ** 31)) return Number(value);
  try {
    return parseRequestCode(value);
  } catch (err) {
    throw new FlagError((err as Error).message);
  }
}

/**
 * Registers `mqwire call HOST:PORT --code N|NAME`: one request, the reply as one JSON object.
 * Exit 0 with any reply (an error code included: the reply is the answer), 1 when none came
 * (time-out, connection), 2 on bad usage.
 */
export function registerCall(program: Command): void {
  const cmd = program
    .command("call")
    .description(
      "send one request and print the reply as JSON: codeName beside code, a JSON body " +
        "(RocketMQ's dialect included) parsed into bodyJson, other bodies as text or base64",
    )
    .argument("<addr>", "HOST:PORT of the server")
    .requiredOption(
      "--code <code>",
      "request code: a RequestCode name (GET_ROUTEINFO_BY_TOPIC, any case) or a number",
      requestCodeFlag,
    )
    .option("--ext <k=v>", "an extField (repeatable)", collectKeyValue)
    .option("--body <text>", "request body as UTF-8 text")
    .option("--oneway", "send as oneway: no reply is expected")
    .option("--timeout-ms <ms>", "time-out of the call", intFlag(1), 3000)
    .option("--serialize <type>", "serialize type: json|rocketmq", serializeFlag)
    .option("--pretty", "indent the JSON output")
    .option("--raw-body", "print a JSON body as text (as received) instead of parsed into bodyJson");
  exitTwoOnUsageError(addTlsClientFlags(cmd)).action(
    async (
      addr: string,
      opts: {
        code: number;
        ext?: [string, string][];
        body?: string;
        oneway?: boolean;
        timeoutMs: number;
        serialize?: SerializeType;
        pretty?: boolean;
        rawBody?: boolean;
      } & TlsClientFlags,
    ) => {
      const extFields = new Map(opts.ext ?? []);
      const tls = usageChecked(cmd, () => tlsClientOptions(opts));
      const client = new RemotingClient({
        serializeType: opts.serialize,
        scanNameServers: false,
        ...(tls ? { tls } : {}),
      });
      const request = client.createRequest(opts.code, {
        extFields: extFields.size > 0 ? extFields : null,
        body: opts.body === undefined ? null : Buffer.from(opts.body),
      });
      const print = (value: unknown): void => {
        process.stdout.write(`${JSON.stringify(value, null, opts.pretty ? 2 : undefined)}\n`);
      };
      try {
        if (opts.oneway) {
          await client.invokeOneway(addr, request, opts.timeoutMs);
          print({ sent: true, oneway: true, opaque: request.opaque });
        } else {
          const response = await client.invokeSync(addr, request, opts.timeoutMs);
          print(replyJson(response, opts.rawBody ? "raw" : "parsed"));
        }
      } catch (err) {
        const code = isMqwireError(err) ? err.code : "ERROR";
        process.stderr.write(`mqwire call: ${code}: ${(err as Error).message}\n`);
        process.exitCode = ExitCode.FAILURE;
      } finally {
        await client.shutdown();
      }
    },
  );
}
