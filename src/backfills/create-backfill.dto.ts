import { ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  ValidateBy,
  type ValidationArguments,
} from 'class-validator';
import { assertSafeRelativePath } from '../storage/storage.errors.js';

/** A calendar month: four-digit year, month 01-12. */
export const MONTH_PATTERN = /^\d{4}-(0[1-9]|1[0-2])$/;
/**
 * The characters a prefix may use: letters, digits and `. _ - / = + @`. Enough for any sane
 * bucket layout (`tweets/2017/08/`, `dt=2017-08-01/`), and it rules out quotes, spaces,
 * backslashes, `%`, `*` and control characters wholesale, whatever a store or a log makes of them.
 */
export const SAFE_PREFIX_PATTERN = /^[A-Za-z0-9._\-/=+@]*$/;
export const MAX_PREFIX_LENGTH = 1024;
/** Ten years of months per request bounds the work one request can start. */
export const MAX_MONTHS = 120;

const monthMessage = (args: ValidationArguments): string => {
  const values = Array.isArray(args.value) ? (args.value as unknown[]) : [args.value];
  const bad = values.find((value) => typeof value !== 'string' || !MONTH_PATTERN.test(value));
  return `must be a month as YYYY-MM with a month from 01 to 12 (got ${JSON.stringify(bad)?.slice(0, 40) ?? 'undefined'})`;
};

/** The prefix stays under the storage root: relative, no `..` segment. */
function IsInsideStorageRoot(): PropertyDecorator {
  return ValidateBy({
    name: 'isInsideStorageRoot',
    validator: {
      validate: (value: unknown) => {
        if (typeof value !== 'string') return false;
        try {
          assertSafeRelativePath(value);
          return true;
        } catch {
          return false;
        }
      },
      defaultMessage: () => "must stay inside the storage root: relative (no leading '/') and without '..' segments",
    },
  });
}

/**
 * Decorators run bottom-up and validation stops at a field's first failure, so each field's
 * basic type check is its last decorator.
 *
 * POST /backfills: exactly one of `prefix`, `months`, or `from` + `to` (checked by
 * resolveBackfillRequest, since a combination rule spans fields). Months become prefixes through
 * BACKFILL_MONTH_PREFIX.
 */
export class CreateBackfillDto {
  @ApiPropertyOptional({
    description: `object name prefix under the storage root ('' = everything); characters ${SAFE_PREFIX_PATTERN.source}`,
    example: 'tweets/2017/08/',
    maxLength: MAX_PREFIX_LENGTH,
  })
  @IsOptional()
  @IsInsideStorageRoot()
  @Matches(SAFE_PREFIX_PATTERN, { message: 'may contain only letters, digits and . _ - / = + @' })
  @MaxLength(MAX_PREFIX_LENGTH, { message: `must be at most ${MAX_PREFIX_LENGTH} characters` })
  @IsString({ message: 'must be a string' })
  prefix?: string;

  @ApiPropertyOptional({
    description: `months to backfill (at most ${MAX_MONTHS}), each mapped to a prefix by BACKFILL_MONTH_PREFIX`,
    example: ['2017-08', '2017-09', '2017-10'],
    type: [String],
  })
  @IsOptional()
  @ArrayUnique({ message: 'must not repeat a month' })
  @Matches(MONTH_PATTERN, { each: true, message: monthMessage })
  @ArrayMaxSize(MAX_MONTHS, { message: `must hold at most ${MAX_MONTHS} months` })
  @ArrayMinSize(1, { message: 'must hold at least one month' })
  @IsArray({ message: 'must be an array of months' })
  months?: string[];

  @ApiPropertyOptional({ description: 'first month of a range (with `to`)', example: '2017-08', pattern: MONTH_PATTERN.source })
  @IsOptional()
  @Matches(MONTH_PATTERN, { message: monthMessage })
  from?: string;

  @ApiPropertyOptional({ description: 'last month of a range, inclusive (with `from`)', example: '2017-10', pattern: MONTH_PATTERN.source })
  @IsOptional()
  @Matches(MONTH_PATTERN, { message: monthMessage })
  to?: string;
}
