import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import { MAX_PREFIX_LENGTH, SAFE_PREFIX_PATTERN } from '../backfills/create-backfill.dto.js';
import { FILE_STATUSES, type FileStatus } from '../ingest/files.repository.js';

export const MAX_FILES_PAGE = 500;
const ID = /^[1-9]\d{0,17}$/;

/** GET /files: filters and the cursor (ids ascending). Type checks are the last decorators (they run first). */
export class ListFilesQueryDto {
  @ApiPropertyOptional({ enum: FILE_STATUSES, example: 'failed' })
  @IsOptional()
  @IsIn(FILE_STATUSES, { message: `must be one of ${FILE_STATUSES.join(', ')}` })
  status?: FileStatus;

  @ApiPropertyOptional({ example: '12', description: 'only the files of this backfill' })
  @IsOptional()
  @Matches(ID, { message: 'must be a backfill id' })
  backfill?: string;

  @ApiPropertyOptional({ example: '2017/08/', description: 'only object names starting with this' })
  @IsOptional()
  @Matches(SAFE_PREFIX_PATTERN, { message: 'may contain only letters, digits and . _ - / = + @' })
  @MaxLength(MAX_PREFIX_LENGTH, { message: `must be at most ${MAX_PREFIX_LENGTH} characters` })
  @IsString({ message: 'must be a string' })
  prefix?: string;

  @ApiPropertyOptional({ example: '1500', description: "cursor: only files with a greater id (the previous page's nextCursor)" })
  @IsOptional()
  @Matches(ID, { message: 'must be a file id' })
  after?: string;

  @ApiPropertyOptional({ example: 100, minimum: 1, maximum: MAX_FILES_PAGE, default: 100 })
  @IsOptional()
  @Type(() => Number)
  @Max(MAX_FILES_PAGE, { message: `must be at most ${MAX_FILES_PAGE}` })
  @Min(1, { message: 'must be at least 1' })
  @IsInt({ message: 'must be a whole number' })
  limit?: number;
}
