/**
 * The response table's index of pending calls by opaque: a direct-mapped array (slot =
 * `opaque & mask`) with a Map for the calls whose slot is taken. Opaques come from one
 * process-wide counter (RocketMQ's `requestId`), so the calls in flight at one time hold
 * consecutive values and nearly all land in their own slot.
 *
 * Why not a Map alone: with 64 calls in flight on one connection the Map's add / get / delete
 * cycle and the garbage of its rehashed backing store showed in the client's profiles (figures:
 * bench/history/2026-12-06-figures-from-code-comments-remoting.md); a slot array is a load, a
 * compare and a store.
 */

/** What the index stores: anything with its opaque. */
export interface Keyed {
  readonly opaque: number;
}

/** Slots of a new index (a power of two). */
const INITIAL_SLOTS = 256;
/** An index that empties with more slots than this shrinks back to INITIAL_SLOTS (16 KiB of slots kept at most). */
const SHRINK_ABOVE_SLOTS = 4096;

/**
 * Entries by opaque, unique per opaque (the caller checks with `get` before `add`). Slots grow
 * at half full and shrink when the index empties, so a burst of 100,000 calls does not keep its
 * memory; lookups match the entry's own opaque, so any number, colliding or not, is found.
 */
export class OpaqueIndex<T extends Keyed> {
  // Filled by Array.from, not `new Array(n)`: a packed array, whose loads skip V8's hole check.
  #slots: (T | undefined)[] = Array.from({ length: INITIAL_SLOTS }, () => undefined);
  #mask = INITIAL_SLOTS - 1;
  /** Entries whose slot held another opaque when they were added. */
  readonly #overflow = new Map<number, T>();
  #size = 0;

  get size(): number {
    return this.#size;
  }

  get(opaque: number): T | undefined {
    const entry = this.#slots[opaque & this.#mask];
    if (entry !== undefined && entry.opaque === opaque) return entry;
    return this.#overflow.size === 0 ? undefined : this.#overflow.get(opaque);
  }

  /** Adds `entry`; the caller checked that its opaque is not present. */
  add(entry: T): void {
    // At half full: consecutive opaques then keep their own slots.
    if (this.#size >= this.#slots.length >> 1) this.#resize(this.#slots.length * 2);
    this.#place(entry);
    this.#size++;
  }

  /** Removes `entry`, which must be present. */
  delete(entry: T): void {
    const i = entry.opaque & this.#mask;
    if (this.#slots[i] === entry) this.#slots[i] = undefined;
    else this.#overflow.delete(entry.opaque);
    if (--this.#size === 0 && this.#slots.length > SHRINK_ABOVE_SLOTS) this.#resize(INITIAL_SLOTS);
  }

  /** Removes every entry at once; a burst's grown slots are given back, as by the last delete. */
  clear(): void {
    if (this.#slots.length > SHRINK_ABOVE_SLOTS) {
      this.#slots = Array.from({ length: INITIAL_SLOTS }, () => undefined);
      this.#mask = INITIAL_SLOTS - 1;
    } else this.#slots.fill(undefined);
    this.#overflow.clear();
    this.#size = 0;
  }

  /** Every entry, in no particular order. */
  values(): T[] {
    const out: T[] = [];
    for (const entry of this.#slots) if (entry !== undefined) out.push(entry);
    for (const entry of this.#overflow.values()) out.push(entry);
    return out;
  }

  /** True when some entry passes `test`: a scan, for rare checks, never per call. */
  some(test: (entry: T) => boolean): boolean {
    for (const entry of this.#slots) if (entry !== undefined && test(entry)) return true;
    for (const entry of this.#overflow.values()) if (test(entry)) return true;
    return false;
  }

  #place(entry: T): void {
    const opaque = entry.opaque;
    const i = opaque & this.#mask;
    // Only int32 opaques (all of RocketMQ's) take slots; others (NaN above all, which no `===`
    // finds) live in the Map, with its SameValueZero keys.
    if (this.#slots[i] === undefined && (opaque | 0) === opaque) this.#slots[i] = entry;
    else this.#overflow.set(opaque, entry);
  }

  #resize(slots: number): void {
    const entries = this.values();
    this.#slots = Array.from({ length: slots }, () => undefined);
    this.#mask = slots - 1;
    this.#overflow.clear();
    for (const entry of entries) this.#place(entry);
  }
}
