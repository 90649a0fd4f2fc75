import { BadRequestException } from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import { monthPrefix, monthRange, requestKeyOf, resolveBackfillRequest } from './backfill-request.js';

const TEMPLATE = 'tweets/{YYYY}/{MM}/';

function messageOf(work: () => unknown): string {
  try {
    work();
  } catch (error) {
    expect(error).toBeInstanceOf(BadRequestException);
    return (error as BadRequestException).message;
  }
  throw new Error('expected a 400');
}

describe('resolveBackfillRequest', () => {
  it('turns months into prefixes through the template, in order', () => {
    const resolved = resolveBackfillRequest({ months: ['2017-10', '2017-08'] }, TEMPLATE);
    expect(resolved.prefixes).toEqual(['tweets/2017/08/', 'tweets/2017/10/']);
    expect(resolved.request).toEqual({ months: ['2017-08', '2017-10'] });
  });

  it('expands a range of months inclusively, across a year boundary', () => {
    expect(resolveBackfillRequest({ from: '2017-11', to: '2018-02' }, TEMPLATE).prefixes).toEqual([
      'tweets/2017/11/',
      'tweets/2017/12/',
      'tweets/2018/01/',
      'tweets/2018/02/',
    ]);
  });

  it('gives identical work one key: months and the equivalent range', () => {
    const months = resolveBackfillRequest({ months: ['2017-09', '2017-08', '2017-10'] }, TEMPLATE);
    const range = resolveBackfillRequest({ from: '2017-08', to: '2017-10' }, TEMPLATE);
    expect(months.requestKey).toBe(range.requestKey);
    expect(resolveBackfillRequest({ prefix: 'tweets/2017/08/' }, TEMPLATE).requestKey).not.toBe(months.requestKey);
  });

  it('keeps a prefix as it is; the empty prefix is the whole root', () => {
    expect(resolveBackfillRequest({ prefix: 'a/b/' }, TEMPLATE).prefixes).toEqual(['a/b/']);
    expect(resolveBackfillRequest({ prefix: '' }, TEMPLATE).requestKey).toBe(requestKeyOf(['']));
  });

  it('refuses an empty request, naming the body', () => {
    expect(messageOf(() => resolveBackfillRequest(undefined, TEMPLATE))).toMatch(/^body: expected one of/);
    expect(messageOf(() => resolveBackfillRequest({}, TEMPLATE))).toMatch(/^body: /);
  });

  it('refuses two forms at once, naming the second field', () => {
    expect(messageOf(() => resolveBackfillRequest({ prefix: 'a/', months: ['2017-08'] }, TEMPLATE))).toMatch(/^months: cannot be combined with prefix/);
    expect(messageOf(() => resolveBackfillRequest({ months: ['2017-08'], from: '2017-08', to: '2017-09' }, TEMPLATE))).toMatch(/^from: cannot be combined/);
  });

  it('requires both ends of a range in order and bounded', () => {
    expect(messageOf(() => resolveBackfillRequest({ from: '2017-08' }, TEMPLATE))).toBe('to: required together with from');
    expect(messageOf(() => resolveBackfillRequest({ to: '2017-08' }, TEMPLATE))).toBe('from: required together with to');
    expect(messageOf(() => resolveBackfillRequest({ from: '2017-10', to: '2017-08' }, TEMPLATE))).toMatch(/^to: must not be before from/);
    expect(messageOf(() => resolveBackfillRequest({ from: '2000-01', to: '2017-08' }, TEMPLATE))).toMatch(/^to: a range covers at most 120 months/);
  });
});

describe('monthPrefix and monthRange', () => {
  it('fills every placeholder', () => {
    expect(monthPrefix('2017-08', 'dt={YYYY}-{MM}/{YYYY}{MM}/')).toBe('dt=2017-08/201708/');
  });

  it('refuses a template that escapes the root', () => {
    expect(() => monthPrefix('2017-08', '../{YYYY}/{MM}/')).toThrow(/\.\./);
  });

  it('lists single months and stops just past the limit', () => {
    expect(monthRange('2017-08', '2017-08')).toEqual(['2017-08']);
    expect(monthRange('1000-01', '9999-12')).toHaveLength(121);
  });
});
