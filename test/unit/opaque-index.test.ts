import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { OpaqueIndex } from "../../src/remoting/opaque-index.js";

class Entry {
  constructor(readonly opaque: number) {}
}

describe("OpaqueIndex", () => {
  test("finds consecutive opaques, and those that share a slot, until deleted", () => {
    const index = new OpaqueIndex<Entry>();
    const entries = [1, 2, 3, 1 + 256, 1 + 512, -255].map((o) => new Entry(o));
    for (const e of entries) index.add(e);
    assert.equal(index.size, entries.length);
    for (const e of entries) assert.equal(index.get(e.opaque), e);
    assert.equal(index.get(4), undefined);
    assert.equal(index.get(1 + 768), undefined, "same slot, other opaque");
    index.delete(entries[0]!); // 1: its slot empties, 257 and 513 stay findable
    assert.equal(index.get(1), undefined);
    assert.equal(index.get(257), entries[3]);
    assert.equal(index.get(513), entries[4]);
    index.delete(entries[4]!);
    assert.equal(index.get(513), undefined);
    assert.equal(index.size, entries.length - 2);
    assert.deepEqual(
      index
        .values()
        .map((e) => e.opaque)
        .sort((a, b) => a - b),
      [-255, 2, 3, 257],
    );
  });

  test("opaques outside int32 (NaN, 2^32, fractions) and -0 behave as Map keys do", () => {
    const index = new OpaqueIndex<Entry>();
    const odd = [Number.NaN, 2 ** 32, 0.5, -0].map((o) => new Entry(o));
    const zero = new Entry(0);
    for (const e of odd) index.add(e);
    for (const e of odd) assert.equal(index.get(e.opaque), e);
    assert.equal(index.get(0), odd[3], "0 finds -0, as Map.get does");
    index.delete(odd[3]!);
    index.add(zero);
    assert.equal(index.get(-0), zero);
    for (const e of odd.slice(0, 3)) index.delete(e);
    index.delete(zero);
    assert.equal(index.size, 0);
    assert.deepEqual(index.values(), []);
  });

  test("grows past 100,000 entries and shrinks once empty, finding every entry throughout", () => {
    const index = new OpaqueIndex<Entry>();
    const entries = Array.from({ length: 100_000 }, (_, i) => new Entry(i * 3 - 50_000));
    for (const e of entries) index.add(e);
    assert.equal(index.size, entries.length);
    for (const e of entries) assert.equal(index.get(e.opaque), e);
    for (const e of entries) index.delete(e);
    assert.equal(index.size, 0);
    for (let i = 0; i < 10; i++) index.add(new Entry(i));
    for (let i = 0; i < 10; i++) assert.equal(index.get(i)?.opaque, i);
    assert.equal(index.values().length, 10);
  });

  test("clear() and some(): small and grown indexes, slots and overflow alike", () => {
    for (const count of [10, 20_000]) {
      const index = new OpaqueIndex<Entry>();
      const entries = Array.from({ length: count }, (_, i) => new Entry(i));
      for (const e of entries) index.add(e);
      const overflow = new Entry(Number.NaN);
      index.add(overflow);
      assert.equal(
        index.some((e) => e === overflow),
        true,
      );
      assert.equal(
        index.some((e) => e.opaque === count - 1),
        true,
      );
      assert.equal(
        index.some((e) => e.opaque === count),
        false,
      );
      index.clear();
      assert.equal(index.size, 0);
      assert.deepEqual(index.values(), []);
      assert.equal(index.get(0), undefined);
      assert.equal(
        index.some(() => true),
        false,
      );
      index.add(entries[3]!);
      assert.equal(index.get(3), entries[3]);
      assert.equal(index.size, 1);
    }
  });

  test("property: agrees with a Map under any sequence of adds and deletes", () => {
    const opaque = fc.oneof(
      fc.integer({ min: -600, max: 600 }),
      fc.integer(),
      fc.constantFrom(2 ** 40, 0.25),
    );
    const op = fc.oneof(
      fc.record({ add: fc.constant(true), opaque }),
      fc.record({ add: fc.constant(false), opaque }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 400 }), (ops) => {
        const index = new OpaqueIndex<Entry>();
        const model = new Map<number, Entry>();
        for (const o of ops) {
          const present = model.get(o.opaque);
          if (o.add && present === undefined) {
            const e = new Entry(o.opaque);
            index.add(e);
            model.set(o.opaque, e);
          } else if (!o.add && present !== undefined) {
            index.delete(present);
            model.delete(o.opaque);
          }
          assert.equal(index.get(o.opaque), model.get(o.opaque));
          assert.equal(index.size, model.size);
        }
        for (const [key, e] of model) assert.equal(index.get(key), e);
        assert.equal(index.values().length, model.size);
      }),
      { numRuns: 300 },
    );
  });
});
