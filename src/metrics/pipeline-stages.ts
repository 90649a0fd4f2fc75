/** The stages whose time the ledger records per file (ingest_files.*_ms), in pipeline order. */
export const PIPELINE_STAGES = ['read', 'decompress', 'parse', 'clean', 'write'] as const;
export type PipelineStage = (typeof PIPELINE_STAGES)[number];
