/**
 * The process-wide slab that outgoing small writes and encoded frame headers are placed in, the
 * way Node's `Buffer.allocUnsafe` pool serves small Buffers: claims move a cursor forward and
 * never back, so bytes handed to a socket are never overwritten, and a slab is freed once no
 * queued write refers to it. One slab for every connection, not one per connection: 10,000 idle
 * connections must not hold 64 KiB each (the Performance issue's memory target is 16 KiB).
 *
 * SocketTransport turns each connection's run of consecutive claims into one `subarray` at flush
 * time: one Buffer per batch instead of one per frame (see socket-transport.ts).
 */

/** Size of one slab, in bytes. */
export const SLAB_BYTES = 64 * 1024;
/** Claims above this size get a Buffer of their own instead of slab space (1/8 of a slab). */
export const MAX_SLAB_CLAIM_BYTES = SLAB_BYTES / 8;
/** Room a connection's batch gets in one slab when it begins: 1/4 of a slab, see reserveSlab. */
export const BATCH_SLAB_BYTES = SLAB_BYTES / 4;

let slab: Buffer = Buffer.allocUnsafeSlow(SLAB_BYTES);
let used = 0;

/** Reserves `bytes` (at most MAX_SLAB_CLAIM_BYTES) of the current slab; returns their offset in {@link currentSlab}. */
export function claimSlab(bytes: number): number {
  reserveSlab(bytes);
  const at = used;
  used += bytes;
  return at;
}

/**
 * Starts a new slab when fewer than `bytes` are left, so that a batch about to begin is not split
 * across two slabs (two pieces: a writev instead of a write): a batch of pipelined calls is a
 * sizeable part of a slab, so straddling a boundary would be common.
 */
export function reserveSlab(bytes: number): void {
  if (SLAB_BYTES - used < bytes) {
    slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
    used = 0;
  }
}

/** The slab the last {@link claimSlab} reserved in. */
export function currentSlab(): Buffer {
  return slab;
}
