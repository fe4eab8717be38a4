/**
 * `mqwire demo`, the README's first command: the codec self-test, then the interop service
 * started in-process on a free loopback port with each serialize type, and the interop cases run
 * against it from a client of each serialize type (all four combinations). Needs nothing else.
 */
import type { Command } from "commander";
import {
  RemotingClient,
  RemotingServer,
  registerInteropClient,
  registerInteropService,
  runInteropCases,
  SerializeType,
  serializeTypeName,
} from "mqwire";
import { runCodecSelfTest } from "./codec-selftest.js";

const TYPES = [SerializeType.JSON, SerializeType.ROCKETMQ] as const;

/** Runs everything; returns [passed, failed]. */
export async function runDemo(write: (line: string) => void): Promise<[number, number]> {
  write("== codec self-test");
  let passed = 0;
  let failed = 0;
  runCodecSelfTest((line) => {
    write(line);
    if (line.startsWith("PASS")) passed++;
    else if (line.startsWith("FAIL")) failed++;
  });
  for (const serverType of TYPES) {
    const server = new RemotingServer({ listen: ["127.0.0.1:0"], serializeType: serverType });
    registerInteropService(server);
    await server.start();
    const [addr = ""] = server.addresses;
    for (const clientType of TYPES) {
      write(
        `== interop: ${serializeTypeName(clientType)} client -> ${serializeTypeName(serverType)} server at ${addr}`,
      );
      const client = new RemotingClient({ serializeType: clientType, scanNameServers: false });
      registerInteropClient(client);
      const results = await runInteropCases(
        client,
        addr,
        { serializeType: clientType, timeoutMs: 5000 },
        (r) => write(r.ok ? `PASS ${r.name} (${r.elapsedMs.toFixed(0)} ms)` : `FAIL ${r.name}: ${r.reason}`),
      );
      await client.shutdown();
      for (const r of results) r.ok ? passed++ : failed++;
    }
    await server.shutdown({ graceMs: 1000 });
  }
  return [passed, failed];
}

export function registerDemo(program: Command): void {
  program
    .command("demo")
    .description(
      "codec self-test, then the interop cases against an in-process interop service (JSON and ROCKETMQ)",
    )
    .action(async () => {
      const write = (line: string): void => {
        process.stdout.write(`${line}\n`);
      };
      const [passed, failed] = await runDemo(write);
      write(`demo: ${passed} passed, ${failed} failed`);
      if (failed > 0) process.exitCode = 1;
    });
}
