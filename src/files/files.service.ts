import { ConflictException, Injectable, NotFoundException } from '@nestjs/common';
import { FilesRepository } from '../ingest/files.repository.js';
import { IngestRunner } from '../ingest/ingest-runner.service.js';
import type { FileDetailDto, FileDto, FileListDto } from './file.dto.js';
import type { ListFilesQueryDto } from './list-files.dto.js';

const DEFAULT_PAGE = 100;
// GET /files/:id shows this many dead letters; the rest stay in rejected_records.
const REJECTED_RECORDS_SHOWN = 20;

/** The ledger for operators: browse it, look at one file, retry what failed. */
@Injectable()
export class FilesService {
  constructor(
    private readonly files: FilesRepository,
    private readonly runner: IngestRunner,
  ) {}

  async list(query: ListFilesQueryDto): Promise<FileListDto> {
    const limit = query.limit ?? DEFAULT_PAGE;
    const items = await this.files.listFiles({
      status: query.status,
      backfillId: query.backfill,
      prefix: query.prefix,
      afterId: query.after,
      limit,
    });
    return { items, nextCursor: items.length === limit ? items[items.length - 1]!.id : null };
  }

  async get(id: string): Promise<FileDetailDto> {
    const file = await this.files.findFile(id);
    if (!file) throw new NotFoundException(`id: no file ${id}`);
    return { ...file, rejectedRecords: await this.files.findRejectedRecords(id, REJECTED_RECORDS_SHOWN) };
  }

  /** failed → pending with a fresh attempt count; any other state is a conflict (409). */
  async retry(id: string): Promise<FileDto> {
    const file = await this.files.retryFailedFile(id);
    if (!file) {
      const current = await this.files.findFile(id);
      if (!current) throw new NotFoundException(`id: no file ${id}`);
      throw new ConflictException(`file ${id} is ${current.status}; only a failed file can be retried`);
    }
    this.runner.notify();
    return file;
  }
}
