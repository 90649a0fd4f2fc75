import { BadRequestException, type ArgumentMetadata } from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import { CreateBackfillDto } from '../backfills/create-backfill.dto.js';
import { ListFilesQueryDto } from '../files/list-files.dto.js';
import { createValidationPipe } from './validation.js';

const pipe = createValidationPipe();
const body: ArgumentMetadata = { type: 'body', metatype: CreateBackfillDto, data: '' };
const query: ArgumentMetadata = { type: 'query', metatype: ListFilesQueryDto, data: '' };

async function rejection(value: unknown, metadata: ArgumentMetadata = body): Promise<string> {
  try {
    await pipe.transform(value, metadata);
  } catch (error) {
    expect(error).toBeInstanceOf(BadRequestException);
    return (error as BadRequestException).message;
  }
  throw new Error('expected a 400');
}

describe('request validation', () => {
  it('accepts each form of a backfill request', async () => {
    await expect(pipe.transform({ months: ['2017-08'] }, body)).resolves.toBeInstanceOf(CreateBackfillDto);
    await expect(pipe.transform({ from: '2017-08', to: '2017-10' }, body)).resolves.toMatchObject({ from: '2017-08' });
    await expect(pipe.transform({ prefix: 'tweets/dt=2017-08-01/' }, body)).resolves.toMatchObject({ prefix: 'tweets/dt=2017-08-01/' });
  });

  it('refuses prototype keys as unknown fields (class-transformer would drop them silently)', async () => {
    expect(await rejection(JSON.parse('{"prefix":"in/","__proto__":{"admin":true}}'))).toBe('__proto__: unknown field');
    expect(await rejection(JSON.parse('{"prefix":"in/","constructor":{"prototype":{}}}'))).toBe('constructor: unknown field');
    expect(await rejection(JSON.parse('{"prefix":"in/","prototype":1}'))).toBe('prototype: unknown field');
    expect(await rejection(JSON.parse('{"__proto__":"x"}'), query)).toBe('__proto__: unknown field');
  });

  it('names the field of an impossible month', async () => {
    expect(await rejection({ months: ['2017-13'] })).toMatch(/^months: must be a month as YYYY-MM .*"2017-13"/);
    expect(await rejection({ months: ['2017-08', '17-09'] })).toMatch(/^months: .*"17-09"/);
    expect(await rejection({ from: '2017-00', to: '2017-08' })).toMatch(/^from: must be a month/);
    expect(await rejection({ months: [] })).toBe('months: must hold at least one month');
    expect(await rejection({ months: ['2017-08', '2017-08'] })).toBe('months: must not repeat a month');
  });

  it('refuses prefixes that escape the root or use unsafe characters', async () => {
    expect(await rejection({ prefix: '../secrets/' })).toMatch(/^prefix: must stay inside the storage root/);
    expect(await rejection({ prefix: '/etc/' })).toMatch(/^prefix: must stay inside the storage root/);
    expect(await rejection({ prefix: "x'; DROP TABLE tweets; --" })).toBe('prefix: may contain only letters, digits and . _ - / = + @');
    expect(await rejection({ prefix: 'a\\..\\b' })).toBe('prefix: may contain only letters, digits and . _ - / = + @');
    expect(await rejection({ prefix: 'a'.repeat(1025) })).toBe('prefix: must be at most 1024 characters');
    expect(await rejection({ prefix: 42 })).toBe('prefix: must be a string');
    expect(await rejection({ months: '2017-08' })).toBe('months: must be an array of months');
    expect(await rejection({ prefix: 'a/', months: 'x', from: 7 })).toBe('months: must be an array of months; from: must be a month as YYYY-MM with a month from 01 to 12 (got 7)');
  });

  it('refuses unknown fields and bodies that are not objects', async () => {
    expect(await rejection({ prefix: 'a/', dryRun: true })).toBe('dryRun: unknown field');
    expect(await rejection([{ prefix: 'a/' }])).toBe('body: must be a JSON object');
    expect(await rejection('a/')).toBe('body: must be a JSON object');
  });

  it('converts and bounds query parameters', async () => {
    await expect(pipe.transform({ limit: '20', status: 'failed' }, query)).resolves.toMatchObject({ limit: 20, status: 'failed' });
    expect(await rejection({ limit: '501' }, query)).toBe('limit: must be at most 500');
    expect(await rejection({ limit: 'ten' }, query)).toBe('limit: must be a whole number');
    expect(await rejection({ status: 'broken' }, query)).toBe('status: must be one of pending, processing, done, failed');
    expect(await rejection({ after: '-1' }, query)).toBe('after: must be a file id');
  });
});
