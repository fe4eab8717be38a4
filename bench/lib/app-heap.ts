/**
 * Preloaded with `node --import` into both processes of a scenario: holds APP_HEAP_MIB of
 * long-lived small objects, as an application's own state would, so that the process's V8 heap
 * is the size of a modest application's rather than a bare benchmark's.
 *
 * Why it matters: V8 decides when to run full (mark-compact) collections from the heap's size.
 * A process whose old generation is a few MiB, as a benchmark's is, collects fully far more
 * often under a stream of 1 MiB buffers than one with a few tens of MiB, and each collection
 * also frees the buffers' external memory, which the next allocation must fault in again.
 * BENCHMARKS.md reports both settings.
 */
import { APP_HEAP_MIB } from "./app-heap-size.js";

interface Entry {
  readonly id: number;
  readonly name: string;
  readonly tags: number[];
}

const held: Entry[] = [];
const target = process.memoryUsage().heapUsed + APP_HEAP_MIB * 1024 * 1024;
for (let i = 0; process.memoryUsage().heapUsed < target; i++) {
  for (let j = 0; j < 1000; j++, i++) held.push({ id: i, name: `entry-${i}`, tags: [i, i + 1, i + 2] });
}
// Reachable from the global object for the life of the process.
(globalThis as { mqwireBenchAppHeap?: Entry[] }).mqwireBenchAppHeap = held;
