import { ApiProperty } from '@nestjs/swagger';
import { FILE_STATUSES, type FileStatus } from '../ingest/files.repository.js';

export class StageTimingsDto {
  @ApiProperty({ example: 420 }) readMs: number;
  @ApiProperty({ example: 610 }) decompressMs: number;
  @ApiProperty({ example: 2900, description: 'CPU time in the executor, summed over workers' }) parseMs: number;
  @ApiProperty({ example: 1800, description: 'CPU time in the executor, summed over workers' }) cleanMs: number;
  @ApiProperty({ example: 1300 }) writeMs: number;
  @ApiProperty({ example: 3900, description: 'wall time of the file' }) totalMs: number;
}

/** One ledger row. */
export class FileDto {
  @ApiProperty({ example: '1501' }) id: string;
  @ApiProperty({ example: 'my-bucket' }) bucket: string;
  @ApiProperty({ example: 'tweets/2017/08/01/part-0001.jsonl.gz' }) name: string;
  @ApiProperty({ example: '1712345678901234' }) generation: string;
  @ApiProperty({ example: 7_340_032, description: 'stored bytes' }) size: number;
  @ApiProperty({ enum: FILE_STATUSES, example: 'failed' }) status: FileStatus;
  @ApiProperty({ example: 1 }) attempts: number;
  @ApiProperty({ example: '12', nullable: true, type: String }) backfillId: string | null;
  @ApiProperty({
    example: 'corrupt file tweets/2017/08/01/part-0001.jsonl.gz: incorrect header check',
    nullable: true,
    type: String,
    description: 'the last error (kept on a retried file until it is done)',
  })
  error: string | null;
  @ApiProperty({ example: 25_000 }) lines: number;
  @ApiProperty({ example: 24_800 }) tweets: number;
  @ApiProperty({ example: 24_750 }) inserted: number;
  @ApiProperty({ example: 50 }) duplicates: number;
  @ApiProperty({ example: 150 }) deletes: number;
  @ApiProperty({ example: 40 }) notices: number;
  @ApiProperty({ example: 10 }) rejected: number;
  @ApiProperty({ example: 7_340_032 }) bytesRead: number;
  @ApiProperty({ example: 52_428_800 }) bytesDecoded: number;
  @ApiProperty({ type: StageTimingsDto }) timings: StageTimingsDto;
  @ApiProperty({ example: null, nullable: true, type: String, description: 'replica holding it while processing' }) leaseOwner: string | null;
  @ApiProperty({ example: null, nullable: true, type: String, format: 'date-time' }) leaseExpiresAt: Date | null;
  @ApiProperty({ type: String, format: 'date-time', example: '2026-01-05T10:00:00.000Z', description: 'a pending file is claimable from then on' })
  nextAttemptAt: Date;
  @ApiProperty({ type: String, format: 'date-time', example: '2026-01-05T10:00:00.000Z' }) createdAt: Date;
  @ApiProperty({ nullable: true, type: String, format: 'date-time', example: '2026-01-05T10:01:00.000Z' }) startedAt: Date | null;
  @ApiProperty({ nullable: true, type: String, format: 'date-time', example: '2026-01-05T10:01:04.000Z' }) finishedAt: Date | null;
}

export class RejectedRecordDto {
  @ApiProperty({ example: 1042 }) lineNo: number;
  @ApiProperty({ example: 'invalid JSON: Unexpected end of JSON input' }) reason: string;
  @ApiProperty({ example: '{"created_at":"Wed Aug 02 10:00:00 +0000 2017","id_str":"8926', description: 'the first KiB of the line' })
  raw: string;
  @ApiProperty({ type: String, format: 'date-time', example: '2026-01-05T10:01:03.000Z' }) createdAt: Date;
}

/** GET /files/:id: the ledger row and its first rejected records. */
export class FileDetailDto extends FileDto {
  @ApiProperty({ type: [RejectedRecordDto], description: 'the first 20 rejected records (dead letters), in line order' })
  rejectedRecords: RejectedRecordDto[];
}

export class FileListDto {
  @ApiProperty({ type: [FileDto] }) items: FileDto[];
  @ApiProperty({ example: '1600', nullable: true, type: String, description: 'pass as ?after= for the next page; null at the end' })
  nextCursor: string | null;
}
