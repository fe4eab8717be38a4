/**
 * A binary min-heap of pending calls by deadline, as plain functions over a dense array: the
 * response table's timer fires for the earliest deadline only. Ended calls stay in the heap as
 * tombstones (an O(1) removal) until {@link compactHeap} drops them. Split out of
 * response-table.ts: the ordering is its own job, the table's is the calls' lifecycle.
 */

/** What the heap orders: an absolute deadline, epoch ms. */
export interface HasDeadline {
  readonly deadlineAt: number;
}

/**
 * `heap[i]` for an index the caller keeps within [0, heap.length): the heap is a dense array, so
 * that is never a hole. The one place the heap code asserts it.
 */
export function at<T>(heap: readonly T[], i: number): T {
  // biome-ignore lint/style/noNonNullAssertion: the callers' invariant above; the heap is the hot path of every call.
  return heap[i]!;
}

/** Adds `item`, moving it up until its parent is not later. */
export function pushByDeadline<T extends HasDeadline>(heap: T[], item: T): void {
  let i = heap.length;
  heap.push(item);
  while (i > 0) {
    const parent = (i - 1) >> 1;
    const above = at(heap, parent);
    if (above.deadlineAt <= item.deadlineAt) break;
    heap[i] = above;
    i = parent;
  }
  heap[i] = item;
}

/** Removes and returns the earliest item; the heap must not be empty. */
export function popEarliest<T extends HasDeadline>(heap: T[]): T {
  const top = at(heap, 0);
  const last = heap.pop() ?? top; // the heap was not empty: pop() returned an entry
  if (heap.length > 0) siftDown(heap, last, 0);
  return top;
}

/** Places `item` at hole `i` and moves it down until both children are later. */
function siftDown<T extends HasDeadline>(heap: T[], item: T, i: number): void {
  const n = heap.length;
  for (;;) {
    let child = 2 * i + 1;
    if (child >= n) break;
    if (child + 1 < n && at(heap, child + 1).deadlineAt < at(heap, child).deadlineAt) child++;
    const below = at(heap, child);
    if (item.deadlineAt <= below.deadlineAt) break;
    heap[i] = below;
    i = child;
  }
  heap[i] = item;
}

/** Keeps only the items `live` accepts, in place, and re-heapifies bottom-up (Floyd, O(n)). */
export function compactHeap<T extends HasDeadline>(heap: T[], live: (item: T) => boolean): void {
  let n = 0;
  for (let i = 0; i < heap.length; i++) {
    const item = at(heap, i);
    if (live(item)) heap[n++] = item;
  }
  heap.length = n;
  for (let i = (n >> 1) - 1; i >= 0; i--) siftDown(heap, at(heap, i), i);
}
