/**
 * The scenarios of the Performance issue, as data: what load (or which measuring hook), which
 * figures to show and which targets to judge. The orchestrator runs every scenario against every
 * implementation that supports it; targets apply to the `targeted` implementations (mqwire).
 */

import { APP_HEAP_MIB } from "./app-heap-size.js";
import type { Implementation, LoadSpec } from "./implementations.js";
import { measureCodec, measureIdleConnections, measurePendingCalls } from "./mqwire-hooks.js";
import type { RunningServer } from "./spawn.js";

/** A figure of a run: how to label it and which direction is better. */
export interface MetricSpec {
  readonly id: string;
  readonly label: string;
  readonly higherIsBetter: boolean;
  /** Multiplier from the stored unit to the displayed one (bytes/s shown as MiB/s). */
  readonly displayScale?: number;
}

/** The figures every load run yields (computed in load-run.ts). */
export const LOAD_METRICS: Readonly<Record<string, MetricSpec>> = {
  rps: { id: "rps", label: "calls/s", higherIsBetter: true },
  p50Us: { id: "p50Us", label: "p50 µs", higherIsBetter: false },
  p99Us: { id: "p99Us", label: "p99 µs", higherIsBetter: false },
  framesPerSec: { id: "framesPerSec", label: "frames/s", higherIsBetter: true },
  bytesPerSec: { id: "bytesPerSec", label: "MiB/s", higherIsBetter: true, displayScale: 1 / 2 ** 20 },
  cpuUsPerReq: { id: "cpuUsPerReq", label: "CPU µs/call", higherIsBetter: false },
};

/** A target on the ratio `implementation / baseline` of one metric's medians. */
export interface RatioTarget {
  readonly metric: string;
  /** The baseline implementation's id. */
  readonly baseline: string;
  /** A bound on the ratio, or "report": the ratio is shown, not judged. */
  readonly op: ">=" | "<=" | "report";
  readonly factor?: number;
  /** The one implementation it judges; absent: every targeted one. */
  readonly impl?: string;
}

/** A target on one metric's median itself, optionally for one implementation only. */
export interface AbsoluteTarget {
  readonly metric: string;
  readonly op: ">=" | "<=" | "report";
  readonly value?: number;
  readonly impl?: string;
}

/** A scenario driven by the load clients: one server process, one client process per run. */
export interface LoadScenario {
  readonly kind: "load";
  readonly id: string;
  readonly title: string;
  /** The load; `seconds` and `warmupSeconds` come from the orchestrator's options. */
  readonly load: Omit<LoadSpec, "seconds" | "warmupSeconds">;
  /** taskset CPU lists for the two processes; absent: the scheduler decides. */
  readonly pin?: { readonly server: string; readonly client: string };
  /** Logical CPUs the scenario needs (pinning to CPU 1 needs two). */
  readonly minCpus?: number;
  /** `node` flags for both processes of every implementation (e.g. an application heap). */
  readonly nodeFlags?: readonly string[];
  /** Metric ids shown, from {@link LOAD_METRICS}. */
  readonly metrics: readonly string[];
  readonly targets: readonly RatioTarget[];
}

/** What a measuring hook gets: the implementation and a way to start its server. */
export interface HookContext {
  readonly root: string;
  readonly impl: Implementation;
  readonly smoke: boolean;
  /** Starts the implementation's server (pinned to `cpus` if given); the hook must stop it. */
  startServer(cpus?: string): Promise<RunningServer>;
  /** A progress line on the orchestrator's output. */
  log(line: string): void;
}

/**
 * Measures one run of a hook scenario for one implementation: metric id → value, or undefined
 * while the hook is not written yet (the scenario is then skipped, saying its `todo`).
 */
export type MeasureHook = (ctx: HookContext) => Promise<Record<string, number> | undefined>;

/** A scenario measured by a function rather than by a load client (memory, codec). */
export interface HookScenario {
  readonly kind: "hook";
  readonly id: string;
  readonly title: string;
  /** Implementation ids it measures. */
  readonly impls: readonly string[];
  readonly metrics: readonly MetricSpec[];
  readonly targets: readonly AbsoluteTarget[];
  /** The measurement (mqwire-hooks.ts). */
  readonly measure: MeasureHook;
  /** What the hook still needs, printed while it returns undefined. */
  readonly todo: string;
}

export type Scenario = LoadScenario | HookScenario;

const SMALL = 128;

/** Every scenario, in report order. */
export const SCENARIOS: readonly Scenario[] = [
  {
    kind: "load",
    id: "async-64x1",
    title: "async, 64 in flight, 1 connection, 128 B",
    load: { mode: "async", concurrency: 64, connections: 1, sizeBytes: SMALL },
    metrics: ["rps", "p50Us", "p99Us", "cpuUsPerReq"],
    // Second round (issue 13): JSON, the default serialization, and ROCKETMQ judged apart, and
    // JSON's CPU per call against ROCKETMQ's in the same run.
    targets: [
      { metric: "rps", baseline: "raw", op: ">=", factor: 0.35, impl: "mqwire-json" },
      { metric: "rps", baseline: "raw", op: ">=", factor: 0.5, impl: "mqwire-rocketmq" },
      { metric: "p99Us", baseline: "raw", op: "<=", factor: 2 },
      { metric: "cpuUsPerReq", baseline: "raw", op: "<=", factor: 3, impl: "mqwire-json" },
      { metric: "cpuUsPerReq", baseline: "raw", op: "<=", factor: 2, impl: "mqwire-rocketmq" },
      { metric: "cpuUsPerReq", baseline: "mqwire-rocketmq", op: "<=", factor: 1.3, impl: "mqwire-json" },
      { metric: "rps", baseline: "grpc", op: "report" },
    ],
  },
  {
    kind: "load",
    id: "async-64x8",
    title: "async, 64 in flight on each of 8 connections, 128 B",
    load: { mode: "async", concurrency: 64, connections: 8, sizeBytes: SMALL },
    metrics: ["rps", "p50Us", "p99Us", "cpuUsPerReq"],
    targets: [{ metric: "rps", baseline: "raw", op: ">=", factor: 0.4 }],
  },
  {
    kind: "load",
    id: "sync-1core",
    title: "sync, 1 in flight, 128 B, both processes on CPU 0",
    load: { mode: "sync", concurrency: 1, connections: 1, sizeBytes: SMALL },
    pin: { server: "0", client: "0" },
    metrics: ["rps", "p50Us", "p99Us", "cpuUsPerReq"],
    targets: [{ metric: "p50Us", baseline: "raw", op: "<=", factor: 1.3 }],
  },
  {
    kind: "load",
    id: "sync-2core",
    title: "sync, 1 in flight, 128 B, server on CPU 0, client on CPU 1",
    load: { mode: "sync", concurrency: 1, connections: 1, sizeBytes: SMALL },
    pin: { server: "0", client: "1" },
    minCpus: 2,
    metrics: ["rps", "p50Us", "p99Us", "cpuUsPerReq"],
    targets: [{ metric: "p50Us", baseline: "raw", op: "<=", factor: 1.3 }],
  },
  {
    kind: "load",
    id: "oneway",
    title: "oneway, 1 connection, 128 B (frames delivered to the server per second)",
    load: { mode: "oneway", concurrency: 64, connections: 1, sizeBytes: SMALL },
    metrics: ["framesPerSec", "cpuUsPerReq"],
    targets: [{ metric: "framesPerSec", baseline: "raw", op: ">=", factor: 0.3 }],
  },
  {
    kind: "load",
    id: "async-16x1-1MiB",
    title: "async, 16 in flight, 1 connection, 1 MiB bodies (MiB/s counts both directions)",
    load: { mode: "async", concurrency: 16, connections: 1, sizeBytes: 1024 * 1024 },
    metrics: ["bytesPerSec", "rps", "p99Us", "cpuUsPerReq"],
    targets: [{ metric: "bytesPerSec", baseline: "raw", op: ">=", factor: 0.8 }],
  },
  {
    // The same load with every process (raw's too) holding the long-lived heap of a modest
    // application: how often V8 runs full collections under 1 MiB buffers depends on the heap's
    // size, and the bare benchmark processes sit where that costs most (see BENCHMARKS.md).
    kind: "load",
    id: "async-16x1-1MiB-app-heap",
    title: `async, 16 in flight, 1 MiB bodies, each process holding a ${APP_HEAP_MIB} MiB application heap`,
    load: { mode: "async", concurrency: 16, connections: 1, sizeBytes: 1024 * 1024 },
    nodeFlags: ["--import", "./dist/bench/lib/app-heap.js"],
    metrics: ["bytesPerSec", "rps", "p99Us", "cpuUsPerReq"],
    targets: [{ metric: "bytesPerSec", baseline: "raw", op: ">=", factor: 0.8 }],
  },
  {
    kind: "hook",
    id: "idle-connections",
    title: "10,000 idle connections on one server",
    impls: ["mqwire-rocketmq"],
    metrics: [
      { id: "serverBytesPerConnection", label: "server RSS bytes/connection", higherIsBetter: false },
    ],
    targets: [{ metric: "serverBytesPerConnection", op: "<=", value: 16 * 1024 }],
    measure: measureIdleConnections,
    todo: "needs `mqwire serve` and dist/bench/mqwire/idle-connections-client.js (run tsc)",
  },
  {
    kind: "hook",
    id: "pending-calls",
    title: "100,000 pending calls on one client, all settled by time-out",
    impls: ["mqwire-rocketmq"],
    metrics: [
      { id: "heapBytesPerPendingCall", label: "heap bytes/pending call", higherIsBetter: false },
      { id: "settledFraction", label: "settled by time-out", higherIsBetter: true },
      { id: "heapResidualBytesPerCall", label: "heap left after GC, bytes/call", higherIsBetter: false },
    ],
    targets: [
      { metric: "heapBytesPerPendingCall", op: "<=", value: 600 },
      { metric: "settledFraction", op: ">=", value: 1 },
      // "Back to baseline after GC", read as: within 16 bytes per call of the heap before.
      { metric: "heapResidualBytesPerCall", op: "<=", value: 16 },
    ],
    measure: measurePendingCalls,
    todo: "needs dist/bench/mqwire/pending-calls.js (run tsc)",
  },
  {
    kind: "hook",
    id: "codec",
    title: "codec alone: encode + decode of a request with 5 extFields and a 128 B body, one core",
    impls: ["mqwire-rocketmq", "mqwire-json"],
    metrics: [{ id: "encodeDecodePerSec", label: "encode+decode/s", higherIsBetter: true }],
    targets: [
      { metric: "encodeDecodePerSec", op: ">=", value: 1_000_000, impl: "mqwire-rocketmq" },
      { metric: "encodeDecodePerSec", op: "report", impl: "mqwire-json" },
    ],
    measure: measureCodec,
    todo: "needs dist/bench/codec/codec-bench.js (run tsc)",
  },
];
