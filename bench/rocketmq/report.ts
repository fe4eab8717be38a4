/**
 * The "RocketMQ producer and consumer against RocketMQ's Java client" section of BENCHMARKS.md:
 * the ratios mqwire/Java of the medians, the absolute figures, the machine and the method. The
 * section sits between two markers, so a later run replaces it and leaves the rest of the file.
 */
import { readFileSync, writeFileSync } from "node:fs";
import type { MachineInfo } from "../lib/machine.js";
import { formatNumber, formatRatio, formatSummary, markdownTable } from "../lib/markdown.js";
import { ratio, type Summary, summarize } from "../lib/stats.js";
import type { ClientRun } from "./run-client.js";

/** The two clients compared. */
export const CLIENTS = ["java", "mqwire"] as const;
export type ClientName = (typeof CLIENTS)[number];

/** One scenario: a produce load or a drain of a pre-filled topic. */
export interface Scenario {
  readonly id: string;
  readonly kind: "produce" | "consume";
  /** Body bytes. */
  readonly size: number;
  /** Sends in flight (produce). */
  readonly inflight: number;
  readonly what: string;
}

/** The runs of one scenario, by client. */
export interface ScenarioOutcome {
  readonly scenario: Scenario;
  readonly runs: Record<ClientName, ClientRun[]>;
  readonly failures: Record<ClientName, string[]>;
}

/** How the figures were taken. */
export interface Method {
  readonly rounds: number;
  readonly seconds: number;
  readonly warmupSeconds: number;
  /** Messages in the consume scenarios' topic. */
  readonly consumeMessages: number;
  readonly command: string;
  /** The 1-minute load average at the start and the end: other jobs on a shared machine show here. */
  readonly loadAverage: readonly [number, number];
}

const BEGIN = "<!-- bench:rocketmq begin -->";
const END = "<!-- bench:rocketmq end -->";
const LABEL: Record<ClientName, string> = { java: "Java 4.9.8", mqwire: "mqwire" };

function figure(runs: readonly ClientRun[], key: string): Summary | undefined {
  return summarize(runs.map((r) => Number(r.result[key])));
}

function cpu(runs: readonly ClientRun[]): Summary | undefined {
  return summarize(runs.map((r) => r.cpuSeconds));
}

/** msg/s of the mqwire median against Java's, with the issue's target (at least as fast). */
function verdict(o: ScenarioOutcome): string {
  const r = ratio(figure(o.runs.mqwire, "mps"), figure(o.runs.java, "mps"));
  if (r === undefined) return "—";
  return `${formatRatio(r)} ${r >= 1 ? "pass" : "FAIL"}`;
}

function ratioTable(outcomes: readonly ScenarioOutcome[]): string {
  const rows = outcomes.map((o) => {
    const r = (key: string): string =>
      formatRatio(ratio(figure(o.runs.mqwire, key), figure(o.runs.java, key)));
    const produce = o.scenario.kind === "produce";
    return [
      `${o.scenario.id}: ${o.scenario.what}`,
      verdict(o),
      produce ? r("p50_us") : "—",
      produce ? r("p99_us") : "—",
      produce ? "—" : r("firstMessageMs"),
      formatRatio(ratio(cpu(o.runs.mqwire), cpu(o.runs.java))),
    ];
  });
  return markdownTable(
    ["Scenario", "msg/s (target ≥ 1×)", "p50 latency", "p99 latency", "first message", "client CPU s"],
    rows,
  );
}

function absoluteTable(outcomes: readonly ScenarioOutcome[]): string {
  const rows: string[][] = [];
  for (const o of outcomes) {
    const produce = o.scenario.kind === "produce";
    for (const client of CLIENTS) {
      const runs = o.runs[client];
      const errors = runs.reduce((n, r) => n + Number(r.result.errors ?? 0), 0);
      rows.push([
        o.scenario.id,
        LABEL[client],
        formatSummary(figure(runs, "mps")),
        produce ? formatSummary(figure(runs, "p50_us")) : "—",
        produce ? formatSummary(figure(runs, "p99_us")) : "—",
        produce ? "—" : formatSummary(figure(runs, "firstMessageMs")),
        formatSummary(cpu(runs)),
        `${errors}`,
        `${runs.length}${o.failures[client].length > 0 ? ` (${o.failures[client].length} failed)` : ""}`,
      ]);
    }
  }
  return markdownTable(
    ["Scenario", "Client", "msg/s", "p50 µs", "p99 µs", "first message ms", "client CPU s", "errors", "runs"],
    rows,
    "llrrrrrrr",
  );
}

/** The section's Markdown, markers included. */
export function renderSection(outcomes: readonly ScenarioOutcome[], machine: MachineInfo, m: Method): string {
  const failures = outcomes.flatMap((o) =>
    CLIENTS.flatMap((c) => o.failures[c].map((f) => `- ${o.scenario.id}, ${LABEL[c]}: ${f.split("\n")[0]}`)),
  );
  return [
    BEGIN,
    "## RocketMQ producer and consumer against RocketMQ's Java client",
    "",
    `Written by \`${m.command}\` (bench/rocketmq/produce-consume.ts). It starts its own RocketMQ 4.9.8`,
    "cluster from the kit (one name server, one broker, on this machine), then runs RocketMQ's Java",
    "client (`java-client.sh bench-produce --async --inflight N`, `bench-consume`) and",
    "`mqwire bench NAMESRV --mode produce --concurrency N` / `--mode consume` alternately on the same",
    "broker with the same body size, sends in flight and window; the order flips every round. Each",
    "produce run has a new topic, auto-created by one send before the warm-up. Each consume run reads",
    "one pre-filled topic from its first offset with a new group, 32 messages per pull, until it has",
    "every message; msg/s counts from the first message to the last (the Java tool's drainSeconds).",
    "Ratios are mqwire/Java of the medians: above 1× is better for msg/s, below 1× for latency and CPU.",
    "Client CPU s is the whole client process (start-up, JIT or module loading, warm-up and window).",
    "",
    markdownTable(
      ["Environment", ""],
      [
        ["Machine", `${machine.cpuModel}, ${machine.cores} logical CPUs, ${machine.memoryGiB} GiB`],
        ["OS", machine.os],
        ["Node", machine.node],
        ["Date", machine.date],
        [
          "Load",
          `1-min load average ${m.loadAverage[0].toFixed(1)} at the start, ${m.loadAverage[1].toFixed(1)} at the end`,
        ],
        [
          "Method",
          `${m.rounds} runs per client and scenario; produce: ${m.seconds} s measured after ${m.warmupSeconds} s of ` +
            `warm-up; consume: ${formatNumber(m.consumeMessages)} messages of 128 B`,
        ],
      ],
      "ll",
    ),
    "",
    ratioTable(outcomes),
    "",
    "Medians (min–max):",
    "",
    absoluteTable(outcomes),
    ...(failures.length > 0 ? ["", "Failed runs:", "", ...failures] : []),
    END,
  ].join("\n");
}

/** The section as it stands in `text` (markers included), if there is one. */
export function findSection(text: string): string | undefined {
  const begin = text.indexOf(BEGIN);
  const end = text.indexOf(END);
  return begin >= 0 && end > begin ? text.slice(begin, end + END.length) : undefined;
}

/** Replaces the section in `file`, or appends it at the end when the file has none. */
export function writeSection(file: string, section: string): void {
  let text = "";
  try {
    text = readFileSync(file, "utf8");
  } catch {
    // A missing file gets just the section.
  }
  const begin = text.indexOf(BEGIN);
  const end = text.indexOf(END);
  const next =
    begin >= 0 && end > begin
      ? `${text.slice(0, begin)}${section}${text.slice(end + END.length)}`
      : `${text.trimEnd()}${text === "" ? "" : "\n\n"}${section}\n`;
  writeFileSync(file, next);
}
