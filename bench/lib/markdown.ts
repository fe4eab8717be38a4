/** Markdown tables and number formatting for BENCHMARKS.md. */
import type { Summary } from "./stats.js";

/**
 * A GitHub-flavoured Markdown table. `align` has one letter per column, `l` or `r`; by default
 * the first column (names) is left-aligned and the others (figures) right-aligned.
 */
export function markdownTable(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
  align: string = `l${"r".repeat(headers.length - 1)}`,
): string {
  const escapeCell = (cell: string): string => cell.replace(/\|/g, "\\|");
  const line = (cells: readonly string[]): string => `| ${cells.map(escapeCell).join(" | ")} |`;
  const rule = headers.map((_, i) => (align[i] === "r" ? "---:" : "---"));
  return [line(headers), line(rule), ...rows.map(line)].join("\n");
}

/** A number for people: thousands separated from 1,000 up, three significant digits below. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return "—";
  if (Math.abs(value) >= 1000) return Math.round(value).toLocaleString("en-US");
  if (value === 0) return "0";
  return Number(value.toPrecision(3)).toString();
}

/** `median (min–max)`, or just the median for a single run, or "—". */
export function formatSummary(summary: Summary | undefined, scale = 1): string {
  if (summary === undefined) return "—";
  const median = formatNumber(summary.median * scale);
  if (summary.runs === 1) return median;
  return `${median} (${formatNumber(summary.min * scale)}–${formatNumber(summary.max * scale)})`;
}

/** A ratio to three significant digits, as `0.62×` or `0.0123×`. */
export function formatRatio(value: number | undefined): string {
  return value === undefined || !Number.isFinite(value) ? "—" : `${Number(value.toPrecision(3))}×`;
}
