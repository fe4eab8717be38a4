/**
 * BENCHMARKS.md: the machine, the method, the targets with their measured ratios, then one table
 * per scenario with every implementation's medians (min–max) and its ratios to the baselines.
 */
import type { Implementation } from "./implementations.js";
import type { RunFigures } from "./load-run.js";
import type { MachineInfo } from "./machine.js";
import { formatNumber, formatRatio, formatSummary, markdownTable } from "./markdown.js";
import {
  type AbsoluteTarget,
  LOAD_METRICS,
  type MetricSpec,
  type RatioTarget,
  type Scenario,
} from "./scenarios.js";
import { ratio, type Summary, summarize } from "./stats.js";

/** What happened to one implementation in one scenario. */
export interface ImplOutcome {
  readonly impl: Implementation;
  readonly runs: RunFigures[];
  readonly failures: string[];
  /** Why it was not run at all, if it was not. */
  skipped?: string;
}

/** What happened in one scenario. */
export interface ScenarioOutcome {
  readonly scenario: Scenario;
  readonly impls: ImplOutcome[];
  /** Why the whole scenario was not run, if it was not. */
  skipped?: string;
}

/** How the figures were taken, for the report's header. */
export interface RunSettings {
  readonly runs: number;
  readonly seconds: number;
  readonly warmupSeconds: number;
  readonly smoke: boolean;
}

function metricSpecs(scenario: Scenario): MetricSpec[] {
  return scenario.kind === "load" ? scenario.metrics.map((id) => LOAD_METRICS[id]!) : [...scenario.metrics];
}

function labelOf(scenario: Scenario, metric: string): string {
  return metricSpecs(scenario).find((m) => m.id === metric)?.label ?? LOAD_METRICS[metric]?.label ?? metric;
}

function summaryOf(outcome: ScenarioOutcome, implId: string, metric: string): Summary | undefined {
  const impl = outcome.impls.find((o) => o.impl.id === implId);
  return impl === undefined ? undefined : summarize(impl.runs.map((run) => run[metric] ?? Number.NaN));
}

function judge(value: number | undefined, text: string, op: string, bound: number | undefined): string {
  if (value === undefined) return "not run";
  if (op === "report" || bound === undefined) return text;
  return `${text} ${(op === ">=" ? value >= bound : value <= bound) ? "pass" : "FAIL"}`;
}

/** `>=` and `<=` as people write them. */
function opSymbol(op: string): string {
  return op === ">=" ? "≥" : op === "<=" ? "≤" : op;
}

function ratioTargetRow(outcome: ScenarioOutcome, target: RatioTarget, targeted: Implementation[]): string[] {
  const bound =
    target.factor === undefined
      ? `vs ${target.baseline} (reported)`
      : `${opSymbol(target.op)} ${target.factor}× ${target.baseline}`;
  const cells = targeted.map((impl) => {
    if (target.impl !== undefined && target.impl !== impl.id) return "";
    const r = ratio(
      summaryOf(outcome, impl.id, target.metric),
      summaryOf(outcome, target.baseline, target.metric),
    );
    return judge(r, formatRatio(r), target.op, target.factor);
  });
  return [outcome.scenario.id, `${labelOf(outcome.scenario, target.metric)} ${bound}`, ...cells];
}

function absoluteTargetRow(
  outcome: ScenarioOutcome,
  target: AbsoluteTarget,
  targeted: Implementation[],
): string[] {
  const bound =
    target.value === undefined ? "(reported)" : `${opSymbol(target.op)} ${formatNumber(target.value)}`;
  const cells = targeted.map((impl) => {
    if (target.impl !== undefined && target.impl !== impl.id) return "";
    const median = summaryOf(outcome, impl.id, target.metric)?.median;
    return judge(median, median === undefined ? "" : formatNumber(median), target.op, target.value);
  });
  return [outcome.scenario.id, `${labelOf(outcome.scenario, target.metric)} ${bound}`, ...cells];
}

/** The "vs <baseline>" cell of one implementation: the ratios of the targets on that baseline. */
function ratioCell(outcome: ScenarioOutcome, implId: string, baseline: string): string {
  if (implId === baseline || outcome.scenario.kind !== "load") return "";
  return outcome.scenario.targets
    .filter((t) => t.baseline === baseline && (t.impl === undefined || t.impl === implId))
    .map((t) => {
      const r = ratio(summaryOf(outcome, implId, t.metric), summaryOf(outcome, baseline, t.metric));
      return `${labelOf(outcome.scenario, t.metric)} ${formatRatio(r)}`;
    })
    .join(", ");
}

function scenarioSection(outcome: ScenarioOutcome): string {
  const { scenario } = outcome;
  const lines = [`## ${scenario.id}: ${scenario.title}`];
  if (outcome.skipped !== undefined) return [...lines, "", `Not run: ${outcome.skipped}.`].join("\n");
  const metrics = metricSpecs(scenario);
  const baselines = scenario.kind === "load" ? [...new Set(scenario.targets.map((t) => t.baseline))] : [];
  const ran = outcome.impls.filter((o) => o.runs.length > 0);
  const rows = ran.map((o) => [
    o.impl.id,
    ...metrics.map((m) => formatSummary(summaryOf(outcome, o.impl.id, m.id), m.displayScale)),
    ...baselines.map((b) => ratioCell(outcome, o.impl.id, b)),
  ]);
  if (rows.length > 0) {
    const headers = ["Implementation", ...metrics.map((m) => m.label), ...baselines.map((b) => `vs ${b}`)];
    const align = `l${"r".repeat(metrics.length)}${"l".repeat(baselines.length)}`;
    lines.push("", markdownTable(headers, rows, align));
  }
  const notes = outcome.impls.flatMap((o) => [
    ...(o.skipped === undefined ? [] : [`- ${o.impl.id} not run: ${o.skipped}.`]),
    ...o.failures.map((f) => `- ${o.impl.id} failed a run: ${f}`),
  ]);
  if (notes.length > 0) lines.push("", ...notes);
  return lines.join("\n");
}

/** The whole BENCHMARKS.md text. */
export function renderReport(
  machine: MachineInfo,
  settings: RunSettings,
  implementations: readonly Implementation[],
  outcomes: readonly ScenarioOutcome[],
): string {
  const targeted = implementations.filter((i) => i.targeted);
  const targetRows = outcomes.flatMap((o) =>
    o.scenario.kind === "load"
      ? o.scenario.targets.map((t) => ratioTargetRow(o, t, targeted))
      : o.scenario.targets.map((t) => absoluteTargetRow(o, t, targeted)),
  );
  const method =
    `${settings.runs} run${settings.runs === 1 ? "" : "s"} per implementation and scenario, ` +
    `${settings.seconds} s measured after ${settings.warmupSeconds} s of warm-up${settings.smoke ? " (smoke mode)" : ""}`;
  return [
    "# mqwire benchmarks",
    "",
    "Written by `npm run bench` (bench/run.ts). Every implementation runs in the same benchmark on the",
    "same machine, runs alternating between implementations (raw, grpc, mqwire, raw, …), each with a",
    "fresh server process and a separate client process. Figures are medians with min–max over the",
    "runs; targets are ratios of medians to a baseline measured in the same benchmark, because",
    "absolute figures drift on shared machines.",
    "",
    "- Latency: per call, from the write that sent it to the read that completed it, in an HDR",
    "  histogram (µs, 3 significant digits). Warm-up calls are not recorded.",
    "- CPU µs/call: (client CPU + server CPU) / calls. The client reports its own CPU over the window;",
    "  the server's is read from /proc/<pid>/stat around the client's run and scaled to the window's",
    "  share of warm-up + window.",
    "- oneway: frames written as fast as the socket takes them; the window closes with one request",
    "  whose response proves every earlier frame reached the server, so frames/s counts deliveries.",
    "- MiB/s counts request and response bodies (both directions), not headers.",
    "- Pinned scenarios start both processes under `taskset -c`.",
    "",
    markdownTable(
      ["Environment", ""],
      [
        ["Machine", `${machine.cpuModel}, ${machine.cores} logical CPUs, ${machine.memoryGiB} GiB`],
        ["OS", machine.os],
        ["Node", machine.node],
        ["Date", machine.date],
        ["Method", method],
      ],
      "ll",
    ),
    "",
    "## Implementations",
    "",
    markdownTable(
      ["Id", "What"],
      implementations.map((i) => [i.id, i.description]),
      "ll",
    ),
    "",
    "## Targets",
    "",
    markdownTable(
      ["Scenario", "Target", ...targeted.map((i) => i.id)],
      targetRows,
      `ll${"r".repeat(targeted.length)}`,
    ),
    "",
    ...outcomes.flatMap((o) => [scenarioSection(o), ""]),
  ].join("\n");
}
