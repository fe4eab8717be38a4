/**
 * What the protocol engine hands decoded frames to (remoting/channel.ts implements it).
 * Qpid's rule: the engine never blocks the driver, so `onFrame` must return promptly and push
 * slow work elsewhere; when that work piles up, `isSaturated()` says so and the engine pauses
 * the transport until the handler calls `engine.resumeReading()`.
 */
import type { IdleKind } from "../transport/transport.js";

/** Receives what a {@link ProtocolEngine} decodes from one connection. */
export interface FrameHandler<F> {
  /** One decoded frame, in arrival order. */
  onFrame(frame: F): void;
  /** The connection is gone; `error` says why when it was not an orderly close. Called once. */
  onClose(error: Error | undefined): void;
  /** An idle threshold passed; the handler decides (close on all-idle, heartbeat on writer-idle). */
  onIdle(kind: IdleKind): void;
  /** True while queued work is above the high-water mark: the engine stops reading. */
  isSaturated(): boolean;
}
