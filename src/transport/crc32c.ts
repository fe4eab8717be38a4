/**
 * CRC-32C (Castagnoli), the checksum of PROXY protocol v2's PP2_TYPE_CRC32C TLV (haproxy's
 * doc/proxy-protocol.txt §2.2.3). A table-driven loop: headers are at most a few hundred bytes.
 */

/** CRC-32C (Castagnoli, reflected polynomial 0x82F63B78; RFC 4960 appendix B). */
export function crc32c(bytes: Uint8Array): number {
  const table = CRC32C_TABLE;
  let crc = 0xffffffff;
  for (const byte of bytes) {
    // biome-ignore lint/style/noNonNullAssertion: a byte indexes the 256-entry table
    crc = table[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
  }
  return (crc ^ 0xffffffff) >>> 0;
}

const CRC32C_TABLE: Uint32Array = (() => {
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    table[i] = c >>> 0;
  }
  return table;
})();
