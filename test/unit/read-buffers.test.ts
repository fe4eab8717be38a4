/**
 * ReadBuffers (src/transport/read-buffers.ts): the regions handed to sockets never overlap while
 * held, their size follows what reads bring, the decoder's target wins, and bytes delivered before
 * a listener attaches are not lost.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { MAX_READ_BYTES, MIN_READ_BYTES, ReadBuffers } from "../../src/transport/read-buffers.js";

function range(b: Buffer): [ArrayBufferLike, number, number] {
  return [b.buffer, b.byteOffset, b.byteOffset + b.length];
}

test("regions held by different connections never overlap", () => {
  const readers = Array.from({ length: 200 }, () => new ReadBuffers());
  const held = readers.map((r) => range(r.next()));
  for (let i = 0; i < held.length; i++) {
    for (let j = i + 1; j < held.length; j++) {
      const [bi, si, ei] = held[i]!;
      const [bj, sj, ej] = held[j]!;
      if (bi === bj) assert.ok(ei <= sj || ej <= si, `regions ${i} and ${j} overlap`);
    }
  }
});

test("a region doubles when a read fills it and halves when a read uses under a quarter", () => {
  const r = new ReadBuffers();
  const got: Buffer[] = [];
  r.attach((chunk) => got.push(chunk));
  let region = r.next();
  assert.equal(region.length, MIN_READ_BYTES);
  for (let size = MIN_READ_BYTES; size < MAX_READ_BYTES; size *= 2) {
    r.deliver(region.length, region);
    region = r.next();
    assert.equal(region.length, size * 2);
  }
  r.deliver(MAX_READ_BYTES, region);
  assert.equal(r.next().length, MAX_READ_BYTES, "capped");
  region = r.next();
  r.deliver(10, region);
  assert.equal(r.next().length, MAX_READ_BYTES / 2);
  assert.equal(got.at(-1)!.length, 10, "the chunk is the bytes read");
});

test("the decoder's target is used when it offers one; early bytes reach the listener in order", () => {
  const r = new ReadBuffers();
  const target = Buffer.alloc(5000);
  r.provider = () => target;
  const region = r.next();
  assert.equal(region, target);
  region.write("hello");
  r.deliver(5, region);
  r.provider = () => undefined;
  const next = r.next();
  assert.notEqual(next.buffer, target.buffer);
  next.write("world");
  r.deliver(5, next);
  const got: string[] = [];
  r.attach((chunk) => got.push(chunk.toString()));
  assert.deepEqual(got, ["hello", "world"]);
});
