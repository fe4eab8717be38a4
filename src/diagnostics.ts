/**
 * Observability without dependencies (STYLE.md rule 12; undici `lib/core/diagnostics.js`):
 * `node:diagnostics_channel` channels named `mqwire:*`. Publishing costs one `hasSubscribers`
 * check on the hot path when nobody listens.
 *
 * ```ts
 * import diagnostics_channel from "node:diagnostics_channel";
 * diagnostics_channel.subscribe("mqwire:request", ({ channel, request }) => count(request.code));
 * ```
 *
 * The per-code counters and latencies behind `metrics()` are in ./call-metrics.ts.
 */
import diagnosticsChannel from "node:diagnostics_channel";

/** The channels mqwire publishes on, and what each message holds. */
export const diagnostics = {
  /** A connection was accepted or opened: `{ channel, side: "server" | "client" }`. */
  connectionOpen: diagnosticsChannel.channel("mqwire:connection:open"),
  /** A connection closed: `{ channel, error }` (error undefined for an orderly close). */
  connectionClose: diagnosticsChannel.channel("mqwire:connection:close"),
  /** A request arrived from a peer, before dispatch: `{ channel, request }`. */
  request: diagnosticsChannel.channel("mqwire:request"),
  /** A reply to a peer's request was written: `{ channel, request, response }`. */
  response: diagnosticsChannel.channel("mqwire:response"),
} as const;
