/**
 * Exit codes and error reports of the RocketMQ commands (`call`, `route`, `cluster`, `topic`,
 * `offsets`, `send`, `consume`), as Unix tools and RocketMQ's `mqadmin` scripts are read by shell
 * scripts: 0 done, 1 the call failed (a broker's error code, a time-out, a refused connection),
 * 2 bad usage (an unknown option or code name, a missing name server, a bad topic name).
 *
 * Error convention of this file: actions throw; {@link runAction} turns what they throw into one
 * line on stderr and the exit code. Nothing here calls `process.exit` except commander's own
 * usage path, which exits the same way commander does.
 */
import type { Command, CommanderError } from "commander";
import { BrokerError, InvalidArgumentError, isMqwireError } from "mqwire";

/** The process exit codes of these commands. */
export const ExitCode = {
  OK: 0,
  /** The request failed: an error response, a time-out, no connection. */
  FAILURE: 1,
  /** The command line was wrong (as getopt-style tools and `mqadmin` use 2). */
  USAGE: 2,
} as const;

/**
 * Makes commander's usage errors on `cmd` (unknown option, missing argument, an option parser's
 * InvalidArgumentError, a command group run without a subcommand) exit with {@link ExitCode.USAGE}
 * instead of commander's 1. Call it before adding subcommands: they inherit it.
 */
export function exitTwoOnUsageError(cmd: Command): Command {
  return cmd.exitOverride((err: CommanderError) => {
    // commander has written its message already; help and --version exit 0.
    process.exit(err.exitCode === 0 ? ExitCode.OK : ExitCode.USAGE);
  });
}

/** Reports `message` as commander reports usage errors (`error: …` and the help hint) and exits 2. */
export function usageError(cmd: Command, message: string): never {
  cmd.error(`error: ${message}`, { exitCode: ExitCode.USAGE, code: "mqwire.usage" });
  throw new Error("unreachable: commander exits on error"); // for exitOverride callers that return
}

/**
 * Runs `build`, the part of an action that turns flags into options: an InvalidArgumentError it
 * throws (a half cert/key pair, TLS enforcing without a certificate) is bad usage and exits 2.
 * What the action does with the options afterwards keeps its own exit codes.
 */
export function usageChecked<T>(cmd: Command, build: () => T): T {
  try {
    return build();
  } catch (err) {
    if (err instanceof InvalidArgumentError) usageError(cmd, err.message);
    throw err;
  }
}

/**
 * The one line that reports a failed command: a broker's answer names its response code
 * (`TOPIC_NOT_EXIST (17) from 127.0.0.1:9876: No topic route info…`), other errors their stable
 * code. RocketMQ's remarks hold newlines (the FAQ link), which would split the line.
 */
export function failureLine(err: unknown): string {
  const message = (err instanceof Error ? err.message : String(err)).replace(/\s*\n\s*/g, " ");
  if (err instanceof BrokerError) return `mqwire: ${message}`;
  if (isMqwireError(err)) return `mqwire: ${err.code}: ${message}`;
  return `mqwire: ${message}`;
}

/**
 * Runs a command's action: an InvalidArgumentError (from the library's option checks: a
 * name server that is not `host:port`, no NAMESRV_ADDR, a bad topic name) is bad usage and exits
 * 2; any other error prints {@link failureLine} and sets exit code 1. `cleanup` runs either way.
 */
export async function runAction(
  cmd: Command,
  action: () => Promise<void>,
  cleanup?: () => Promise<void>,
): Promise<void> {
  let failure: unknown;
  let failed = false;
  try {
    await action();
  } catch (err) {
    failed = true;
    failure = err;
  }
  // Closing first: a usage error exits the process, which must not strand a consumer's offsets.
  await cleanup?.().catch((err: unknown) => {
    if (failed) return; // the action's error is the one to report
    process.stderr.write(`${failureLine(err)}\n`);
    process.exitCode = ExitCode.FAILURE;
  });
  if (!failed) return;
  if (failure instanceof InvalidArgumentError) usageError(cmd, failure.message);
  process.stderr.write(`${failureLine(failure)}\n`);
  process.exitCode = ExitCode.FAILURE;
}
