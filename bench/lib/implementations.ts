/**
 * The implementations a scenario is run against: data, not code paths. Each names how to start
 * its server, how to build its load client's command line (the shared flags of load-options.ts)
 * and whether it can run here. Adding one is adding an entry.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import * as path from "node:path";
import type { LoadMode, LoadOptions } from "./load-options.js";

/** What a load run asks of a client: the load options without the target. */
export type LoadSpec = Omit<LoadOptions, "host" | "port">;

/** One implementation under measurement. */
export interface Implementation {
  /** Short id used in tables and on the command line (`--impls raw,grpc`). */
  readonly id: string;
  /** One line saying what it is, for the report. */
  readonly description: string;
  /** True for the implementation the targets apply to; false for baselines. */
  readonly targeted: boolean;
  /** The load modes it can run (gRPC has no oneway call). */
  readonly modes: readonly LoadMode[];
  /** `node` arguments that start its server on 127.0.0.1, any free port. */
  readonly serverArgs: readonly string[];
  /** `node` arguments of a load client against `target` (`HOST:PORT`). */
  clientArgs(target: string, load: LoadSpec): string[];
  /** Undefined when it can run in `root` (the repository); otherwise why not. */
  unavailable(root: string): string | undefined;
}

/** The flags every load client takes, in the same spelling as `mqwire bench`. */
function loadFlags(target: string, load: LoadSpec): string[] {
  return [
    target,
    "--mode",
    load.mode,
    "--concurrency",
    String(load.concurrency),
    "--connections",
    String(load.connections),
    "--seconds",
    String(load.seconds),
    "--warmup",
    String(load.warmupSeconds),
    "--size",
    String(load.sizeBytes),
    "--json",
  ];
}

/** A baseline is available once bench/ has been compiled. */
function compiled(script: string): (root: string) => string | undefined {
  return (root) => (existsSync(path.join(root, script)) ? undefined : `${script} not built (run tsc first)`);
}

/** `mqwire bench` availability per repository root, probed once (the probe starts node). */
const mqwireBenchProbes = new Map<string, string | undefined>();

/**
 * Whether `mqwire bench` exists: `node packages/cli/bin/mqwire.js bench --help` must exit 0 AND
 * print the command's own usage line, because commander answers `<unknown command> --help` with the
 * program's help and exit status 0.
 */
function mqwireBenchUnavailable(root: string): string | undefined {
  if (!mqwireBenchProbes.has(root)) {
    const probe = spawnSync(process.execPath, ["packages/cli/bin/mqwire.js", "bench", "--help"], {
      cwd: root,
      encoding: "utf8",
      timeout: 20_000,
    });
    const available = probe.status === 0 && /Usage: \S+ bench/.test(probe.stdout);
    mqwireBenchProbes.set(
      root,
      available ? undefined : "not available yet: `mqwire bench` is missing from packages/cli/dist/main.js",
    );
  }
  return mqwireBenchProbes.get(root);
}

/** An mqwire entry: `mqwire serve` and `mqwire bench` with one header serialization. */
function mqwire(serialize: "json" | "rocketmq"): Implementation {
  return {
    id: `mqwire-${serialize}`,
    description: `mqwire RemotingClient/RemotingServer over TCP, ${serialize.toUpperCase()} headers`,
    targeted: true,
    modes: ["sync", "async", "oneway"],
    serverArgs: ["packages/cli/bin/mqwire.js", "serve", "--host", "127.0.0.1", "--port", "0"],
    clientArgs: (target, load) => [
      "packages/cli/bin/mqwire.js",
      "bench",
      ...loadFlags(target, load),
      "--serialize",
      serialize,
    ],
    unavailable: mqwireBenchUnavailable,
  };
}

/** Every implementation, in the order runs alternate within a round. */
export const IMPLEMENTATIONS: readonly Implementation[] = [
  {
    id: "raw",
    description: "node:net, 4-byte length + kind byte + body, responses of one read in one write",
    targeted: false,
    modes: ["sync", "async", "oneway"],
    serverArgs: ["dist/bench/raw/server.js", "--host", "127.0.0.1", "--port", "0"],
    clientArgs: (target, load) => ["dist/bench/raw/client.js", ...loadFlags(target, load)],
    unavailable: compiled("dist/bench/raw/client.js"),
  },
  {
    id: "grpc",
    description: "@grpc/grpc-js unary echo, Buffer payload with identity serializers",
    targeted: false,
    modes: ["sync", "async"],
    serverArgs: ["dist/bench/grpc/server.js", "--host", "127.0.0.1", "--port", "0"],
    clientArgs: (target, load) => ["dist/bench/grpc/client.js", ...loadFlags(target, load)],
    unavailable: compiled("dist/bench/grpc/client.js"),
  },
  mqwire("json"),
  mqwire("rocketmq"),
];
