/**
 * The largest single Buffer allocation made while a decoder runs, for the fuzz's "no allocation
 * larger than the frame limit" (issue 10). Buffer.alloc, allocUnsafe and allocUnsafeSlow are the
 * decoder's only allocators of binary memory (it copies with `set`/`copy` into what they
 * return); strings the header decoders make are bounded by maxHeaderBytes, which the fuzz checks
 * by the error reasons, not here.
 */

let tracking = false;
let largestAllocation = 0;

/** Wraps Buffer's allocators once per process; they record only between start and stop. */
export function trackAllocations(): void {
  const b = Buffer as unknown as Record<string, (size: number, ...rest: unknown[]) => Buffer>;
  for (const name of ["alloc", "allocUnsafe", "allocUnsafeSlow"]) {
    const original = b[name]!;
    if ((original as { tracked?: boolean }).tracked) continue;
    const wrapped = function (this: unknown, size: number, ...rest: unknown[]): Buffer {
      if (tracking && size > largestAllocation) largestAllocation = size;
      return original.call(this, size, ...rest);
    };
    (wrapped as { tracked?: boolean }).tracked = true;
    b[name] = wrapped;
  }
}

/** Starts recording (from 0) the largest allocation. */
export function startAllocationTracking(): void {
  largestAllocation = 0;
  tracking = true;
}

/** Stops recording; returns the largest allocation since the start, in bytes. */
export function stopAllocationTracking(): number {
  tracking = false;
  return largestAllocation;
}
