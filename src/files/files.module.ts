import { Module } from '@nestjs/common';
import { IngestModule } from '../ingest/ingest.module.js';
import { FilesController } from './files.controller.js';
import { FilesService } from './files.service.js';

/** GET /files, GET /files/:id, POST /files/:id/retry over the ledger. */
@Module({
  imports: [IngestModule],
  controllers: [FilesController],
  providers: [FilesService],
})
export class FilesModule {}
