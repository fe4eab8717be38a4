/**
 * A fixed log-linear latency histogram in microseconds (HdrHistogram's layout with one fixed
 * precision): values below 16 µs get a bucket each; above, every power of two is cut into 16
 * equal buckets, so a reported percentile is within 1/16 (6.25%) of the true value, up to
 * 2^32 µs (71 min; longer values count as that). 464 counters, 3.7 KiB, allocated once.
 *
 * Why not hdr-histogram-js (the CLI's benchmark uses it): recording is on every call's path,
 * and its `recordValue` costs more than twice this one's, with a larger table for the same
 * range (figures in bench/history/2026-12-06-figures-from-code-comments.md). Reading
 * percentiles happens on a snapshot.
 */

/** Sub-buckets per power of two, as a number of bits. */
const SUB_BITS = 4;
const SUB_COUNT = 1 << SUB_BITS;
const SUB_MASK = SUB_COUNT - 1;
/** Largest value kept apart, in µs (2^32 - 1). */
const MAX_MICROS = 0xffff_ffff;
/** Buckets: 16 exact ones, then 16 for each power of two from 2^4 to 2^31. */
const BUCKETS = (32 - SUB_BITS + 1) * SUB_COUNT;

/** The bucket of `v` (an integer from 0 to 2^32 - 1). */
function bucketOf(v: number): number {
  if (v < SUB_COUNT) return v;
  const exponent = 31 - Math.clz32(v);
  return ((exponent - SUB_BITS + 1) << SUB_BITS) | ((v >>> (exponent - SUB_BITS)) & SUB_MASK);
}

/** The highest value that falls in `bucket`. */
function highestIn(bucket: number): number {
  if (bucket < SUB_COUNT) return bucket;
  const shift = (bucket >>> SUB_BITS) - 1;
  const low = (SUB_COUNT + (bucket & SUB_MASK)) * 2 ** shift;
  return low + 2 ** shift - 1;
}

/** Counts of latencies in µs; see the file TSDoc. */
export class LatencyHistogram {
  readonly #counts = new Float64Array(BUCKETS);
  #count = 0;
  #maxMicros = 0;

  /** Records one latency in µs (fractions are dropped; negative or NaN counts as 0). */
  record(micros: number): void {
    const v = micros > 0 ? (micros < MAX_MICROS ? micros >>> 0 : MAX_MICROS) : 0;
    // biome-ignore lint/style/noNonNullAssertion: bucketOf maps every value to 0..BUCKETS-1
    this.#counts[bucketOf(v)]!++;
    this.#count++;
    if (v > this.#maxMicros) this.#maxMicros = v;
  }

  /** Latencies recorded. */
  get count(): number {
    return this.#count;
  }
  /** The largest latency recorded, in µs (exact). */
  get maxMicros(): number {
    return this.#maxMicros;
  }

  /**
   * The latency at or below which `percentile` % of the recorded ones fall, in µs: the highest
   * value of the bucket holding that rank, never above the maximum. 0 when nothing was recorded.
   */
  percentileMicros(percentile: number): number {
    if (this.#count === 0) return 0;
    const rank = Math.max(1, Math.ceil((percentile / 100) * this.#count));
    let seen = 0;
    const counts = this.#counts;
    for (const [i, count] of counts.entries()) {
      seen += count;
      if (seen >= rank) return Math.min(highestIn(i), this.#maxMicros);
    }
    return this.#maxMicros;
  }
}
