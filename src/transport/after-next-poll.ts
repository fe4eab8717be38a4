/**
 * The last step of every connect deadline (TCP, TLS, SOCKS, the client's channel table): the
 * time-out fails the connect only after the event loop has polled for I/O once more.
 *
 * Node runs the timers that are due before it polls for I/O. After a stall longer than the
 * time-out (a loaded loop running thousands of callbacks, a long GC, a blocking call), a connect
 * that completed during the stall is still waiting in that poll when its timer runs, and the
 * timer would fail a connect that had succeeded (reconnects after GO_AWAY under heavy load failed
 * so at RocketMQ's default of 3 s). A setImmediate runs
 * right after the next poll, which delivers such a completion first; the connect's own
 * settle-once logic then cancels the failure. RemotingServer's shutdown gives quiet channels a
 * poll between two sweeps for the same reason. A connect still pending after that poll is late
 * for real, and fails as before: the deadline moves by one loop turn at most.
 */

/**
 * The failure of one I/O deadline, run after the event loop's next poll for I/O. Arm the
 * deadline's timer with {@link fire}; {@link cancel} once the operation settled.
 */
export class AfterNextPoll {
  readonly #fail: () => void;
  #immediate: NodeJS.Immediate | undefined;

  constructor(fail: () => void) {
    this.#fail = fail;
  }

  /** The timer's callback: schedules the failure for after the next poll (once). */
  readonly fire = (): void => {
    if (this.#immediate === undefined) this.#immediate = setImmediate(this.#fail);
  };

  /** The operation settled: the failure, if scheduled, does not run. */
  cancel(): void {
    if (this.#immediate !== undefined) clearImmediate(this.#immediate);
  }
}
