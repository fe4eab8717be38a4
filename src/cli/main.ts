/**
 * `mqwire` command line. Each command lives in its own file and registers itself here; every
 * command is built on the public API only (src/index.ts), never on internals.
 */
import { Command } from "commander";
import { registerDecode, registerEncode } from "./codec-commands.js";
import { registerDemo } from "./demo.js";

export async function main(argv: readonly string[]): Promise<void> {
  const program = new Command();
  program.name("mqwire").description("RocketMQ-compatible remoting for Node.js").showHelpAfterError();
  registerDemo(program);
  registerDecode(program);
  registerEncode(program);
  await program.parseAsync(argv as string[]);
}
