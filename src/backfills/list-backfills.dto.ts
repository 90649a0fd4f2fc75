import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Matches, Max, Min } from 'class-validator';

export class ListBackfillsQueryDto {
  @ApiPropertyOptional({ example: 50, minimum: 1, maximum: 500, default: 50 })
  @IsOptional()
  @Type(() => Number)
  @Max(500, { message: 'must be at most 500' })
  @Min(1, { message: 'must be at least 1' })
  @IsInt({ message: 'must be a whole number' })
  limit?: number;

  @ApiPropertyOptional({ example: '40', description: 'cursor: only backfills with a smaller id (the previous page\'s nextCursor)' })
  @IsOptional()
  @Matches(/^[1-9]\d{0,17}$/, { message: 'must be a backfill id' })
  before?: string;
}
