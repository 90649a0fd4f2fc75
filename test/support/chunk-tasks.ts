import type { ChunkTask } from '../../src/pipeline/pipeline.types.js';

/** One ChunkTask holding `records`, one per line, numbered from 1 (as the splitter would cut them). */
export function taskOfRecords(records: readonly Buffer[]): ChunkTask {
  const bytes = Buffer.concat(records.flatMap((record) => [record, Buffer.from('\n')]));
  const boundaries = new Uint32Array(records.length * 2);
  let offset = 0;
  records.forEach((record, index) => {
    boundaries[2 * index] = offset;
    boundaries[2 * index + 1] = offset + record.length;
    offset += record.length + 1;
  });
  return { bytes, boundaries, lineNumbers: Uint32Array.from(records, (_, index) => index + 1) };
}
