/**
 * A full garbage collection on demand, for memory assertions that must not depend on when V8
 * chose to collect (heap measured right after is what is still reachable). `node --test` runs
 * test files without --expose-gc, so the flag is set at run time and `gc` taken from a fresh
 * context, where V8 installs it once the flag is on.
 */
import v8 from "node:v8";
import vm from "node:vm";

let gc: (() => void) | undefined;

/** Runs a full GC in this process (twice: objects freed by the first one's finalizers go too). */
export function collectGarbage(): void {
  if (gc === undefined) {
    const global = (globalThis as { gc?: () => void }).gc;
    if (global !== undefined) {
      gc = global;
    } else {
      v8.setFlagsFromString("--expose-gc");
      gc = vm.runInNewContext("gc") as () => void;
    }
  }
  gc();
  gc();
}

/** This process's reachable memory right after a full GC: JS heap plus Buffers' memory. */
export function memoryAfterGc(): { heapUsed: number; external: number } {
  collectGarbage();
  const { heapUsed, external } = process.memoryUsage();
  return { heapUsed, external };
}
