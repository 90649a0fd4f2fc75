import type { StageTimings } from '../ingest/files.repository.js';
import { PIPELINE_STAGES, type PipelineStage } from '../metrics/pipeline-stages.js';

export interface StageProfile {
  /** Files done in the window that the sums cover. */
  files: number;
  windowMinutes: number;
  /** Seconds per stage summed over those files (parse and clean: CPU time over all workers). */
  seconds: Record<PipelineStage, number>;
  /** Each stage's part of the sum, 0-1. */
  share: Record<PipelineStage, number>;
  bottleneck: PipelineStage | null;
  hint: string;
}

// What relieves each stage when it dominates.
const HINTS: Record<PipelineStage, string> = {
  read: 'reading from storage dominates: the bottleneck is storage or network bandwidth; more replicas (in other nodes or zones) read in parallel',
  decompress: 'decompression dominates: it runs on the main thread pool per file; more CONCURRENT_FILES or more replicas help',
  parse: 'parsing dominates (CPU-bound): raise EXECUTOR_SIZE up to the CPU count, then add replicas',
  clean: 'cleaning dominates (CPU-bound): raise EXECUTOR_SIZE up to the CPU count, then add replicas',
  write: 'writing to PostgreSQL dominates: the database is the limit (CPU, IOPS, connections); more replicas will not help, a bigger database will',
};

/**
 * Profiling built in: where the time of recently finished files went, the stage that dominates
 * and what would relieve it.
 */
export function stageProfile(files: number, timings: StageTimings, windowMinutes: number): StageProfile {
  const seconds: Record<PipelineStage, number> = {
    read: timings.readMs / 1000,
    decompress: timings.decompressMs / 1000,
    parse: timings.parseMs / 1000,
    clean: timings.cleanMs / 1000,
    write: timings.writeMs / 1000,
  };
  const total = PIPELINE_STAGES.reduce((sum, stage) => sum + seconds[stage], 0);
  const share = Object.fromEntries(
    PIPELINE_STAGES.map((stage) => [stage, total > 0 ? Math.round((seconds[stage] / total) * 1000) / 1000 : 0]),
  ) as Record<PipelineStage, number>;
  if (files === 0 || total === 0) {
    return { files, windowMinutes, seconds, share, bottleneck: null, hint: `no file finished in the last ${windowMinutes} minutes` };
  }
  const bottleneck = PIPELINE_STAGES.reduce((slowest, stage) => (seconds[stage] > seconds[slowest] ? stage : slowest));
  return { files, windowMinutes, seconds, share, bottleneck, hint: HINTS[bottleneck] };
}
