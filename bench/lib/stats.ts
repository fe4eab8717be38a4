/** Summary statistics over the runs of one scenario and implementation. */

/** Median, minimum and maximum of a set of runs. */
export interface Summary {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly runs: number;
}

/** Summarizes `values` (non-finite values are dropped); undefined when none is left. */
export function summarize(values: readonly number[]): Summary | undefined {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  const n = sorted.length;
  if (n === 0) return undefined;
  const mid = n >> 1;
  const median = n % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { median, min: sorted[0]!, max: sorted[n - 1]!, runs: n };
}

/**
 * The ratio of two medians, `subject / baseline` (a ratio of medians rather than a median of
 * per-round ratios: runs alternate, so drift reaches both sides alike). Undefined when either is
 * missing or the baseline is zero.
 */
export function ratio(subject: Summary | undefined, baseline: Summary | undefined): number | undefined {
  if (subject === undefined || baseline === undefined || baseline.median === 0) return undefined;
  return subject.median / baseline.median;
}
