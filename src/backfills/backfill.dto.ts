import { ApiProperty } from '@nestjs/swagger';
import type { BackfillStatus } from './backfills.repository.js';

export class BackfillThroughputDto {
  @ApiProperty({ example: 0.8, description: 'files finished per second since its first file started' })
  filesPerSecond: number;

  @ApiProperty({ example: 41250.5, description: 'tweets parsed per second since its first file started' })
  tweetsPerSecond: number;
}

/** A backfill and its progress (GET /backfills/:id). */
export class BackfillDto {
  @ApiProperty({ example: '12' })
  id: string;

  @ApiProperty({ enum: ['listing', 'running', 'done', 'cancelled', 'failed'], example: 'running' })
  status: BackfillStatus;

  @ApiProperty({ example: false, description: 'created by the scheduled full scan (BACKFILL_CRON)' })
  scheduled: boolean;

  @ApiProperty({ example: { months: ['2017-08', '2017-09', '2017-10'] }, description: 'the request as it was made' })
  request: Record<string, unknown>;

  @ApiProperty({ example: ['2017/08/', '2017/09/', '2017/10/'], type: [String], description: 'prefixes listed, under the storage root' })
  prefixes: string[];

  @ApiProperty({ example: 2232, description: 'objects found by the listing so far' })
  listed: number;

  @ApiProperty({ example: 2200, description: 'objects this backfill added to the ledger' })
  enqueued: number;

  @ApiProperty({ example: 32, description: 'objects already in the ledger (ingested or queued before), not redone' })
  skipped: number;

  @ApiProperty({ example: 1500 })
  pending: number;

  @ApiProperty({ example: 4 })
  processing: number;

  @ApiProperty({ example: 690 })
  done: number;

  @ApiProperty({ example: 6 })
  failed: number;

  @ApiProperty({ example: 31_000_000, description: 'tweets parsed from its done files' })
  tweets: number;

  @ApiProperty({ example: 30_100_000, description: 'rows its done files added to the tweets table' })
  tweetsWritten: number;

  @ApiProperty({ example: 0.3164, nullable: true, type: Number, description: 'finished / (finished + unfinished) files' })
  progress: number | null;

  @ApiProperty({ type: BackfillThroughputDto })
  throughput: BackfillThroughputDto;

  @ApiProperty({ example: 1830, nullable: true, type: Number, description: 'estimated seconds left (null: not enough data yet, or not active)' })
  etaSeconds: number | null;

  @ApiProperty({ example: null, nullable: true, type: String, description: 'why the listing failed' })
  error: string | null;

  @ApiProperty({ type: String, format: 'date-time', example: '2026-01-05T10:00:00.000Z' })
  createdAt: Date;

  @ApiProperty({ type: String, format: 'date-time', nullable: true, example: '2026-01-05T10:00:04.000Z' })
  listedAt: Date | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true, example: null })
  finishedAt: Date | null;
}

/** POST /backfills: the backfill, and whether this request created it. */
export class CreatedBackfillDto extends BackfillDto {
  @ApiProperty({ example: true, description: 'false: an identical backfill was already active and is returned instead' })
  created: boolean;
}

/** DELETE /backfills/:id. */
export class CancelledBackfillDto extends BackfillDto {
  @ApiProperty({ example: 1500, description: 'pending files removed from the ledger by this cancel' })
  withdrawn: number;
}

export class BackfillListDto {
  @ApiProperty({ type: [BackfillDto] })
  items: BackfillDto[];

  @ApiProperty({ example: '3', nullable: true, type: String, description: 'pass as ?before= for the next (older) page; null at the end' })
  nextCursor: string | null;
}
