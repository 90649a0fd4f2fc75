import { Module } from '@nestjs/common';
import { FileProcessor } from './file-processor.js';
import { FilesRepository } from './files.repository.js';
import { IngestRunner } from './ingest-runner.service.js';
import { TweetsRepository } from './tweets.repository.js';

/** The ledger-as-queue ingest path: repositories, the per-file processor and the claim loop. */
@Module({
  providers: [FilesRepository, TweetsRepository, FileProcessor, IngestRunner],
  exports: [FilesRepository, TweetsRepository, IngestRunner],
})
export class IngestModule {}
