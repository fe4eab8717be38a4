/**
 * The per-code figures behind every service's `metrics()` (and the OpenTelemetry binding): count,
 * errors and a fixed log-linear latency histogram (./latency-histogram.ts) per request code ×
 * response code × result, bounded in rows. Recording a call is a row compare and a bucket
 * increment, with the clock read once per synchronous run (clock.ts monotonicNow). The
 * diagnostics channels (`mqwire:*`) are in ./diagnostics.ts.
 */
import { LatencyHistogram } from "./latency-histogram.js";

/**
 * How a call or a served request ended: RocketMQ 5's `result` values (RemotingMetricsConstant:
 * success, oneway, cancelled, process_request_failed, write_channel_failed) and, for calls this
 * side made, the error kinds a call can end with (timeout, channel_closed, error).
 */
export type CallResult =
  | "success"
  | "oneway"
  | "timeout"
  | "cancelled"
  | "write_channel_failed"
  | "channel_closed"
  | "process_request_failed"
  | "error";

/** Latency percentiles in ms (within 6.25%; `max` exact to the µs). */
export interface LatencySummary {
  /** Median, in ms. */
  p50: number;
  /** 99th percentile, in ms. */
  p99: number;
  /** Largest, in ms. */
  max: number;
}

/** The figures of one request code and result. */
export interface CodeStats {
  /** The request code; "other" gathers the codes seen after {@link MAX_METRICS_ROWS} rows. */
  requestCode: number | "other";
  /** The response's code; null when none came (time-out, failure, oneway without reply). */
  responseCode: number | null;
  /** How the calls ended. */
  result: CallResult;
  /**
   * True for requests the processor held and answered later (long polling: RocketMQ's
   * `isSuspended()`, its `is_long_polling` label), whose processing time is mostly the hold.
   * Always false for calls made.
   */
  isLongPolling: boolean;
  /** Calls (or requests) counted in this row. */
  calls: number;
  /** Of those, the ones that failed or got a response code other than SUCCESS (0). */
  errors: number;
  /** Client side the call's latency (request written to response read); server side the processing time. */
  latencyMs: LatencySummary;
}

/** One direction's figures: calls this side made, or requests it served. */
export interface CallsSnapshot {
  /** Calls waiting for their response now, or requests in processing now. */
  inFlight: number;
  /** One row per request code, response code, result and long polling, in the order they first occurred. */
  byCode: CodeStats[];
}

/** What `metrics()` returns: a copy, free to keep or serialize. */
export interface MetricsSnapshot {
  /** Connections of this side. */
  connections: {
    /** Open now. */
    open: number;
    /** Opened (accepted or connected) since the service was created. */
    opened: number;
  };
  /** Bytes of every connection since the service was created. */
  bytes: {
    /** Read. */
    in: number;
    /** Written. */
    out: number;
  };
  /** Calls this side made (a client's invoke*, a server's push): the call's latency. */
  calls: CallsSnapshot;
  /** Requests this side served (a server's, or a client's for pushed requests): the processing time. */
  requests: CallsSnapshot;
}

/**
 * Rows kept per direction (request code × response code × result × long polling). Request and
 * response codes come from peers, so the table is bounded: later combinations fold into
 * requestCode "other".
 */
export const MAX_METRICS_ROWS = 256;

/** One row of a {@link CallMetrics} table. */
export class CallStatsRow {
  errors = 0;
  readonly histogram = new LatencyHistogram();
  constructor(
    readonly requestCode: number | "other",
    readonly responseCode: number,
    readonly result: CallResult,
    readonly isLongPolling: boolean,
  ) {}
}

/** Receives every latency recorded, with its row (the OpenTelemetry binding). */
export type CallMetricsSink = (row: CallStatsRow, latencyMs: number) => void;

/** No response: the row's responseCode. */
const NONE = -1;

function rounded(micros: number): number {
  return Math.round(micros) / 1000;
}

/**
 * Per request code × response code × result × long polling: count, errors and a latency
 * histogram. Recording is a compare with the last row used (a pipelined client repeats one
 * code), else a Map lookup and a short scan; then one histogram bucket.
 */
export class CallMetrics {
  readonly #byCode = new Map<number, CallStatsRow[]>();
  readonly #rows: CallStatsRow[] = [];
  readonly #others: CallStatsRow[] = [];
  #last: CallStatsRow | undefined;
  /** Set by the OpenTelemetry binding; undefined costs one compare per call. */
  sink: CallMetricsSink | undefined;

  /**
   * Records one call; `responseCode` -1 means no response, `longPolling` that the request was
   * held before its answer (see {@link CodeStats.isLongPolling}).
   */
  record(
    requestCode: number,
    responseCode: number,
    result: CallResult,
    micros: number,
    longPolling: boolean,
  ): void {
    const last = this.#last;
    const row =
      last !== undefined &&
      last.requestCode === requestCode &&
      last.responseCode === responseCode &&
      last.result === result &&
      last.isLongPolling === longPolling
        ? last
        : this.#find(requestCode, responseCode, result, longPolling);
    row.histogram.record(micros);
    if ((result !== "success" && result !== "oneway") || (responseCode !== NONE && responseCode !== 0)) {
      row.errors++;
    }
    if (this.sink !== undefined) this.sink(row, micros / 1000);
  }

  #find(requestCode: number, responseCode: number, result: CallResult, longPolling: boolean): CallStatsRow {
    const rows = this.#byCode.get(requestCode);
    let row: CallStatsRow | undefined;
    if (rows !== undefined) {
      for (const r of rows) {
        if (r.responseCode === responseCode && r.result === result && r.isLongPolling === longPolling) {
          row = r;
          break;
        }
      }
    }
    if (row === undefined) {
      if (this.#rows.length < MAX_METRICS_ROWS) {
        row = new CallStatsRow(requestCode, responseCode, result, longPolling);
        if (rows === undefined) this.#byCode.set(requestCode, [row]);
        else rows.push(row);
        this.#rows.push(row);
      } else {
        row = this.#other(result, longPolling);
      }
    }
    this.#last = row;
    return row;
  }

  /** The overflow row of `result`, beyond MAX_METRICS_ROWS (one per result and long polling). */
  #other(result: CallResult, longPolling: boolean): CallStatsRow {
    let row = this.#others.find((r) => r.result === result && r.isLongPolling === longPolling);
    if (row === undefined) {
      row = new CallStatsRow("other", NONE, result, longPolling);
      this.#others.push(row);
    }
    return row;
  }

  /** A copy of the rows. */
  snapshot(inFlight: number): CallsSnapshot {
    const byCode: CodeStats[] = [];
    for (const row of [...this.#rows, ...this.#others]) {
      const h = row.histogram;
      byCode.push({
        requestCode: row.requestCode,
        responseCode: row.responseCode === NONE ? null : row.responseCode,
        result: row.result,
        isLongPolling: row.isLongPolling,
        calls: h.count,
        errors: row.errors,
        latencyMs: {
          p50: rounded(h.percentileMicros(50)),
          p99: rounded(h.percentileMicros(99)),
          max: rounded(h.maxMicros),
        },
      });
    }
    return { inFlight, byCode };
  }
}
