/**
 * The TLS flags of every command that opens or accepts connections, and their translation to the
 * library's options, in one place. Client: `--tls`, `--ca`, `--cert`, `--key`, `--insecure`
 * (RocketMQ's `tls.enable`, `tls.client.trustCertPath`, `certPath`, `keyPath`, and
 * `tls.client.authServer=false`). Server (`serve`): `--tls-mode`, `--cert`, `--key`, `--ca`,
 * `--client-auth` (`tls.server.mode`, `keyPath`, `certPath`, `trustCertPath`,
 * `tls.server.need.client.auth`); the server watches its files and reloads them on change.
 */
import { accessSync, constants, readFileSync } from "node:fs";
import { type Command, InvalidArgumentError as FlagError } from "commander";
import {
  InvalidArgumentError,
  type TlsClientOptions,
  type TlsServerMode,
  type TlsServerOptions,
} from "mqwire";

/** The flags {@link addTlsClientFlags} adds, as commander parses them. */
export interface TlsClientFlags {
  /** `--tls`: speak TLS from the first byte. Implied by the other TLS flags. */
  tls?: boolean;
  /** `--ca FILE`: CAs trusted for the server's certificate; default Node's root CAs. */
  ca?: string;
  /** `--cert FILE`: client certificate for mutual TLS. */
  cert?: string;
  /** `--key FILE`: private key of `--cert`. */
  key?: string;
  /** `--tls-key FILE`: the same, on commands where `--key` means something else (`send`). */
  tlsKey?: string;
  /** `--insecure`: no verification of the server's certificate. */
  insecure?: boolean;
}

/** The flags {@link addTlsServerFlags} adds, as commander parses them. */
export interface TlsServerFlags {
  /** `--tls-mode`: default permissive with `--cert`, else no TLS. */
  tlsMode?: TlsServerMode;
  /** `--cert FILE`: server certificate chain. */
  cert?: string;
  /** `--key FILE`: server private key. */
  key?: string;
  /** `--ca FILE`: CAs trusted for client certificates. */
  ca?: string;
  /** `--client-auth`: ask for client certificates. Default none. */
  clientAuth?: ClientAuth;
}

/** RocketMQ's `tls.server.need.client.auth`. */
export type ClientAuth = "none" | "optional" | "require";

/** An option parser for a readable file; a missing one is a usage error (exit 2). */
function fileFlag(value: string): string {
  try {
    accessSync(value, constants.R_OK);
  } catch {
    throw new FlagError(`cannot read ${value}`);
  }
  return value;
}

function choiceFlag<T extends string>(choices: readonly T[]): (value: string) => T {
  return (value) => {
    if (!choices.includes(value as T)) throw new FlagError(`expected ${choices.join(", ")}`);
    return value as T;
  };
}

/**
 * Adds `--tls`, `--ca`, `--cert`, `--key` and `--insecure` to a client command; `keyFlag`
 * "tls-key" spells the key `--tls-key` where `--key` is taken (`send`: a message key).
 */
export function addTlsClientFlags(cmd: Command, keyFlag: "key" | "tls-key" = "key"): Command {
  return cmd
    .option("--tls", "speak TLS to the server (implied by --ca, --cert, --key, --insecure)")
    .option("--ca <file>", "PEM CA certificates trusted for the server (default: Node's root CAs)", fileFlag)
    .option("--cert <file>", "PEM client certificate, for servers that require one (mutual TLS)", fileFlag)
    .option(`--${keyFlag} <file>`, "PEM private key of --cert", fileFlag)
    .option("--insecure", "do not verify the server's certificate (test clusters only; warned on stderr)");
}

/** Adds `--tls-mode`, `--cert`, `--key`, `--ca` and `--client-auth` to a server command. */
export function addTlsServerFlags(cmd: Command): Command {
  return cmd
    .option(
      "--tls-mode <mode>",
      "disabled | permissive (TLS and plaintext on one port) | enforcing (TLS only); default permissive with --cert",
      choiceFlag(["disabled", "permissive", "enforcing"] as const),
    )
    .option("--cert <file>", "PEM server certificate chain; reloaded when the file changes", fileFlag)
    .option("--key <file>", "PEM private key of --cert; reloaded when the file changes", fileFlag)
    .option(
      "--ca <file>",
      "PEM CA certificates trusted for client certificates (with --client-auth)",
      fileFlag,
    )
    .option(
      "--client-auth <mode>",
      "client certificates: none | optional | require (mutual TLS)",
      choiceFlag(["none", "optional", "require"] as const),
    );
}

/**
 * The client TLS options the flags give, or undefined without any TLS flag. Reads the files;
 * `--insecure` writes a warning to `warn` (stderr by default).
 */
export function tlsClientOptions(
  flags: TlsClientFlags,
  warn: (line: string) => void = (line) => process.stderr.write(line),
): TlsClientOptions | undefined {
  const { tls, ca, cert, insecure } = flags;
  const key = flags.tlsKey ?? flags.key;
  if (!tls && ca === undefined && cert === undefined && key === undefined && !insecure) return undefined;
  if ((cert === undefined) !== (key === undefined))
    throw new InvalidArgumentError("--cert and its key go together");
  const options: TlsClientOptions = {};
  if (ca !== undefined) options.ca = readFileSync(ca);
  if (cert !== undefined) options.cert = readFileSync(cert);
  if (key !== undefined) options.key = readFileSync(key);
  if (insecure) {
    options.rejectUnauthorized = false;
    warn("mqwire: warning: --insecure: the server's certificate is not verified; anyone can intercept\n");
  }
  return options;
}

/**
 * The server TLS options the flags give, or undefined without `--tls-mode` and `--cert`: files
 * by path, so that the server reloads them. The library validates the combination (enforcing
 * without a certificate is an InvalidArgumentError).
 */
export function tlsServerOptions(flags: TlsServerFlags): TlsServerOptions | undefined {
  const { tlsMode, cert, key, ca, clientAuth = "none" } = flags;
  if (tlsMode === undefined && cert === undefined && key === undefined) {
    if (ca !== undefined || clientAuth !== "none")
      throw new InvalidArgumentError("--ca and --client-auth need --cert");
    return undefined;
  }
  if ((cert === undefined) !== (key === undefined))
    throw new InvalidArgumentError("--cert and --key go together");
  const options: TlsServerOptions = { mode: tlsMode ?? "permissive" };
  if (cert !== undefined) options.certFile = cert;
  if (key !== undefined) options.keyFile = key;
  if (ca !== undefined) options.caFile = ca;
  if (clientAuth !== "none") {
    options.requestCert = true;
    options.rejectUnauthorized = clientAuth === "require";
  }
  return options;
}
