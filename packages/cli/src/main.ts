/**
 * `mqwire` command line. Each command lives in its own file and registers itself here; the
 * commands use the public API (src/index.ts), plus the JSON shape of `decode`/`encode`.
 */
import { Command } from "commander";
import { registerBench } from "./bench.js";
import { registerDecode, registerEncode } from "./codec-commands.js";
import { registerDemo } from "./demo.js";
import { registerConsume, registerSend } from "./message-commands.js";
import { registerCall, registerInterop, registerServe } from "./remote-commands.js";
import { registerAdminCommands } from "./rocketmq-commands.js";

export async function main(argv: readonly string[]): Promise<void> {
  const program = new Command();
  program.name("mqwire").description("RocketMQ-compatible remoting for Node.js").showHelpAfterError();
  registerDemo(program);
  registerServe(program);
  registerInterop(program);
  registerCall(program);
  registerAdminCommands(program);
  registerSend(program);
  registerConsume(program);
  registerBench(program);
  registerDecode(program);
  registerEncode(program);
  await program.parseAsync(argv as string[]);
}
