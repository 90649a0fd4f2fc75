import { BadRequestException } from '@nestjs/common';
import { assertSafeRelativePath } from '../storage/storage.errors.js';
import { MAX_MONTHS, type CreateBackfillDto } from './create-backfill.dto.js';

/** A validated backfill request: what to list, and the key that identifies identical work. */
export interface ResolvedBackfillRequest {
  /** The request as it was asked, stored with the backfill. */
  request: Record<string, unknown>;
  /** Prefixes under the storage root, listed one after the other. */
  prefixes: string[];
  /** Identical work ⇔ identical key: months and the equivalent range share one. */
  requestKey: string;
}

/** The whole configured root: what the scheduled full scan lists. */
export const FULL_SCAN_PREFIXES = [''];

export function requestKeyOf(prefixes: readonly string[]): string {
  return JSON.stringify([...new Set(prefixes)].sort());
}

/**
 * Checks the one rule the DTO's per-field validation cannot (exactly one form) and turns the
 * request into prefixes. Throws a 400 whose message names the field.
 */
export function resolveBackfillRequest(dto: CreateBackfillDto | undefined, monthTemplate: string): ResolvedBackfillRequest {
  const forms = [
    dto?.prefix !== undefined ? 'prefix' : null,
    dto?.months !== undefined ? 'months' : null,
    dto?.from !== undefined || dto?.to !== undefined ? 'from/to' : null,
  ].filter((form): form is string => form !== null);
  if (forms.length === 0) {
    throw new BadRequestException('body: expected one of "prefix", "months", or "from" and "to"');
  }
  if (forms.length > 1) {
    const [first, second] = forms as [string, string];
    throw new BadRequestException(`${second.split('/')[0]}: cannot be combined with ${first}; send one of prefix, months, or from and to`);
  }
  if (dto!.prefix !== undefined) {
    const prefixes = [dto!.prefix];
    return { request: { prefix: dto!.prefix }, prefixes, requestKey: requestKeyOf(prefixes) };
  }
  if (dto!.months !== undefined) {
    const months = [...dto!.months].sort();
    const prefixes = months.map((month) => monthPrefix(month, monthTemplate));
    return { request: { months }, prefixes, requestKey: requestKeyOf(prefixes) };
  }
  const { from, to } = dto!;
  if (from === undefined) throw new BadRequestException('from: required together with to');
  if (to === undefined) throw new BadRequestException('to: required together with from');
  const months = monthRange(from, to);
  if (months.length === 0) throw new BadRequestException(`to: must not be before from (${from})`);
  if (months.length > MAX_MONTHS) throw new BadRequestException(`to: a range covers at most ${MAX_MONTHS} months`);
  const prefixes = months.map((month) => monthPrefix(month, monthTemplate));
  return { request: { from, to }, prefixes, requestKey: requestKeyOf(prefixes) };
}

/** `2017-08` through `BACKFILL_MONTH_PREFIX` (`{YYYY}/{MM}/`) → `2017/08/`. */
export function monthPrefix(month: string, template: string): string {
  const [year, monthNumber] = month.split('-') as [string, string];
  const prefix = template.replaceAll('{YYYY}', year).replaceAll('{MM}', monthNumber);
  assertSafeRelativePath(prefix);
  return prefix;
}

/** Every month from `from` to `to` inclusive, as YYYY-MM; empty when `to` is before `from`. */
export function monthRange(from: string, to: string): string[] {
  const index = (month: string) => {
    const [year, monthNumber] = month.split('-').map(Number) as [number, number];
    return year * 12 + (monthNumber - 1);
  };
  const months: string[] = [];
  // Bounded one past the limit so that a huge range is reported, not enumerated.
  for (let current = index(from); current <= index(to) && months.length <= MAX_MONTHS; current += 1) {
    months.push(`${String(Math.floor(current / 12)).padStart(4, '0')}-${String((current % 12) + 1).padStart(2, '0')}`);
  }
  return months;
}
