/**
 * Command-line flags shared by the RocketMQ commands, spelled as RocketMQ's own tools spell them
 * (`mqadmin -n 127.0.0.1:9876;127.0.0.2:9876`, env NAMESRV_ADDR), and option parsers that
 * report a bad value through commander, so it names the option and exits 2 (./exit-codes.ts).
 */
import { type Command, InvalidArgumentError as FlagError } from "commander";
import { type ClientOptions, parseSerializeType, type SerializeType } from "mqwire";
import { addTlsClientFlags, type TlsClientFlags, tlsClientOptions } from "./tls-flags.js";

/** The flags {@link addClientFlags} adds, as commander parses them. */
export interface ClientFlags extends TlsClientFlags {
  /** `-n`: RocketMQ's `host:port;host:port` list; undefined means env NAMESRV_ADDR. */
  namesrv?: string;
  /** `--timeout-ms`: per request; undefined means the client's default. */
  timeoutMs?: number;
}

/**
 * Adds `-n, --namesrv`, `--timeout-ms` and the TLS flags (./tls-flags.ts) to `cmd`; `tlsKeyFlag`
 * as in addTlsClientFlags.
 */
export function addClientFlags(cmd: Command, tlsKeyFlag: "key" | "tls-key" = "key"): Command {
  return addTlsClientFlags(cmd, tlsKeyFlag)
    .option(
      "-n, --namesrv <addrs>",
      "name server HOST:PORT, several separated by ';' (default: env NAMESRV_ADDR)",
    )
    .option("--timeout-ms <ms>", "time-out of each request, in ms (default: 3000)", intFlag(1));
}

/** The client options the flags give; the library validates them (an InvalidArgumentError is usage). */
export function clientOptions(flags: ClientFlags): ClientOptions {
  const options: ClientOptions = {};
  // Undefined, not "": the library then reads NAMESRV_ADDR, as mqadmin does.
  if (flags.namesrv !== undefined) options.nameServer = flags.namesrv;
  if (flags.timeoutMs !== undefined) options.requestTimeoutMs = flags.timeoutMs;
  const tls = tlsClientOptions(flags);
  if (tls !== undefined) options.remoting = { tls };
  return options;
}

/** An option parser for a decimal integer in `[min, max]`. */
export function intFlag(min: number, max = 2 ** 31 - 1): (value: string) => number {
  return (value) => {
    const n = /^\s*-?\d+\s*$/.test(value) ? Number(value) : Number.NaN;
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new FlagError(`expected an integer from ${min} to ${max}`);
    }
    return n;
  };
}

/** An option parser for `--serialize json|rocketmq`. */
export function serializeFlag(value: string): SerializeType {
  try {
    return parseSerializeType(value);
  } catch (err) {
    throw new FlagError((err as Error).message);
  }
}

/** An option parser that collects a repeatable option's values in order. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** An option parser that collects repeatable `key=value` pairs (the value may hold `=`). */
export function collectKeyValue(value: string, previous: [string, string][] = []): [string, string][] {
  const eq = value.indexOf("=");
  if (eq <= 0) throw new FlagError("expected key=value");
  return [...previous, [value.slice(0, eq), value.slice(eq + 1)]];
}
