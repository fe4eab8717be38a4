/** The log-linear latency histogram and the bounded per-code table behind `metrics()`. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { CallMetrics, MAX_METRICS_ROWS } from "../../src/call-metrics.js";
import { LatencyHistogram } from "../../src/latency-histogram.js";

describe("LatencyHistogram", () => {
  test("empty: every percentile and the maximum are 0", () => {
    const h = new LatencyHistogram();
    assert.equal(h.count, 0);
    assert.equal(h.percentileMicros(50), 0);
    assert.equal(h.maxMicros, 0);
  });

  test("values below 16 µs are exact; negative, NaN and fractions count as their floor or 0", () => {
    const h = new LatencyHistogram();
    for (const v of [-5, Number.NaN, 0.9, 3, 3.7, 15]) h.record(v);
    assert.equal(h.count, 6);
    assert.equal(h.percentileMicros(50), 0, "three of six at 0");
    assert.equal(h.percentileMicros(67), 3);
    assert.equal(h.percentileMicros(100), 15);
    assert.equal(h.maxMicros, 15);
  });

  test("a percentile is within 1/16 above the true value, never above the maximum", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 2 ** 32 - 1 }), { minLength: 1, maxLength: 200 }),
        fc.integer({ min: 1, max: 100 }),
        (values, p) => {
          const h = new LatencyHistogram();
          for (const v of values) h.record(v);
          const sorted = [...values].sort((a, b) => a - b);
          const exact = sorted[Math.max(1, Math.ceil((p / 100) * sorted.length)) - 1]!;
          const got = h.percentileMicros(p);
          assert.ok(got >= exact, `p${p}: ${got} < ${exact}`);
          assert.ok(got <= exact + exact / 16 + 1, `p${p}: ${got} more than 1/16 above ${exact}`);
          assert.ok(got <= h.maxMicros);
          assert.equal(h.maxMicros, sorted.at(-1));
        },
      ),
    );
  });

  test("values past 2^32 µs count as 2^32 - 1", () => {
    const h = new LatencyHistogram();
    h.record(1e12);
    assert.equal(h.maxMicros, 2 ** 32 - 1);
    assert.equal(h.percentileMicros(99), 2 ** 32 - 1);
  });
});

describe("CallMetrics", () => {
  test("one row per request code, response code, result and long polling; errors are failures and codes other than 0", () => {
    const m = new CallMetrics();
    m.record(10, 0, "success", 100, false);
    m.record(10, 0, "success", 300, false);
    m.record(10, 17, "success", 200, false);
    m.record(10, -1, "timeout", 5000, false);
    m.record(11, -1, "oneway", 0, false);
    m.record(10, 0, "success", 200, false);
    m.record(10, 0, "success", 5000, true);
    const snap = m.snapshot(3);
    assert.equal(snap.inFlight, 3);
    assert.deepEqual(
      snap.byCode.map((r) => [r.requestCode, r.responseCode, r.result, r.isLongPolling, r.calls, r.errors]),
      [
        [10, 0, "success", false, 3, 0],
        [10, 17, "success", false, 1, 1],
        [10, null, "timeout", false, 1, 1],
        [11, null, "oneway", false, 1, 0],
        [10, 0, "success", true, 1, 0],
      ],
    );
    // 200 µs lies in the bucket 192-207: a percentile reports the bucket's top, the max is exact.
    assert.deepEqual(snap.byCode[0]!.latencyMs, { p50: 0.207, p99: 0.3, max: 0.3 });
  });

  test(`rows are bounded: past ${MAX_METRICS_ROWS}, codes fold into "other" (one row per result)`, () => {
    const m = new CallMetrics();
    for (let code = 0; code < MAX_METRICS_ROWS + 100; code++) m.record(code, 0, "success", 1, false);
    m.record(99_999, -1, "timeout", 1, false);
    m.record(99_998, -1, "timeout", 1, false);
    const rows = m.snapshot(0).byCode;
    assert.equal(rows.length, MAX_METRICS_ROWS + 2);
    const other = rows.filter((r) => r.requestCode === "other");
    assert.deepEqual(
      other.map((r) => [r.result, r.responseCode, r.calls]),
      [
        ["success", null, 100],
        ["timeout", null, 2],
      ],
    );
  });

  test("a sink sees every record with its row, in ms", () => {
    const m = new CallMetrics();
    const seen: string[] = [];
    m.sink = (row, ms) => seen.push(`${row.requestCode}/${row.result}/${ms}`);
    m.record(34, 0, "success", 1500, false);
    m.sink = undefined;
    m.record(34, 0, "success", 1500, false);
    assert.deepEqual(seen, ["34/success/1.5"]);
  });
});
