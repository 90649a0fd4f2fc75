import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';

// A day of minutes: the chart's hour and then some, while the query stays one index range.
export const MAX_HISTORY_MINUTES = 24 * 60;
export const MAX_FAILURES = 100;

/** GET /status/throughput. Type checks are the last decorators (they run first). */
export class ThroughputQueryDto {
  @ApiPropertyOptional({ example: 60, minimum: 1, maximum: MAX_HISTORY_MINUTES, default: 60 })
  @IsOptional()
  @Type(() => Number)
  @Max(MAX_HISTORY_MINUTES, { message: `must be at most ${MAX_HISTORY_MINUTES}` })
  @Min(1, { message: 'must be at least 1' })
  @IsInt({ message: 'must be a whole number' })
  minutes?: number;
}

/** GET /status/failures. */
export class FailuresQueryDto {
  @ApiPropertyOptional({ example: 20, minimum: 1, maximum: MAX_FAILURES, default: 20 })
  @IsOptional()
  @Type(() => Number)
  @Max(MAX_FAILURES, { message: `must be at most ${MAX_FAILURES}` })
  @Min(1, { message: 'must be at least 1' })
  @IsInt({ message: 'must be a whole number' })
  limit?: number;
}
