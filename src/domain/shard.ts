/** Which instance owns a cell when several split a lab: FNV-1a of the id, modulo the instance count. */
export function shardOf(cellId: string, count: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < cellId.length; i++) {
    h ^= cellId.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % count;
}
