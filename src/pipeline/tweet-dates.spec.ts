import { describe, expect, it } from 'vitest';
import {
  isoFromSnowflakeId,
  isoFromTimestampMs,
  normaliseIsoDate,
  parseTwitterDate,
} from './tweet-dates.js';

describe('parseTwitterDate', () => {
  it('reads the v1.1 created_at format as ISO UTC', () => {
    expect(parseTwitterDate('Sat Mar 10 12:00:00 +0000 2018')).toBe('2018-03-10T12:00:00.000Z');
    expect(parseTwitterDate('Sat Mar 10 14:03:15 +0000 2018')).toBe('2018-03-10T14:03:15.000Z');
    expect(parseTwitterDate('Mon Jan 01 00:00:00 +0000 2007')).toBe('2007-01-01T00:00:00.000Z');
    expect(parseTwitterDate('Tue Dec 31 23:59:59 +0000 2024')).toBe('2024-12-31T23:59:59.000Z');
    expect(parseTwitterDate('Thu Feb 29 10:00:00 +0000 2024')).toBe('2024-02-29T10:00:00.000Z');
  });

  it('agrees with Date on every month', () => {
    const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
    months.forEach((month, index) => {
      const expected = new Date(Date.UTC(2019, index, 15, 8, 9, 10)).toISOString();
      expect(parseTwitterDate(`Wed ${month} 15 08:09:10 +0000 2019`)).toBe(expected);
    });
  });

  it('applies a non-zero offset', () => {
    expect(parseTwitterDate('Sat Mar 10 12:00:00 +0130 2018')).toBe('2018-03-10T10:30:00.000Z');
    expect(parseTwitterDate('Sat Mar 10 23:00:00 -0200 2018')).toBe('2018-03-11T01:00:00.000Z');
  });

  it('refuses anything that is not a real date in that format', () => {
    for (const text of [
      '',
      '2018-03-10T12:00:00Z',
      'Sat Mar 10 12:00:00 +0000 18',
      'Sat Foo 10 12:00:00 +0000 2018',
      'Sat Feb 30 12:00:00 +0000 2018',
      'Sat Feb 29 12:00:00 +0000 2019',
      'Sat Mar 10 24:00:00 +0000 2018',
      'Sat Mar 10 12:60:00 +0000 2018',
      'Sat Mar 1x 12:00:00 +0000 2018',
      'Sat Mar 10 12:00:00 *0000 2018',
      'Sat Mar 00 12:00:00 +0000 2018',
      'Sat Mar 10 12:00:00 +0000 0000',
    ]) {
      expect(parseTwitterDate(text), text).toBeNull();
    }
  });
});

describe('normaliseIsoDate', () => {
  it('normalises ISO date-times to UTC with milliseconds', () => {
    expect(normaliseIsoDate('2022-05-01T10:11:12.000Z')).toBe('2022-05-01T10:11:12.000Z');
    expect(normaliseIsoDate('2022-05-01T10:11:12Z')).toBe('2022-05-01T10:11:12.000Z');
    expect(normaliseIsoDate('2022-05-01T10:11:12.5+02:00')).toBe('2022-05-01T08:11:12.500Z');
  });

  it('refuses other formats and impossible dates', () => {
    expect(normaliseIsoDate('Sat Mar 10 12:00:00 +0000 2018')).toBeNull();
    expect(normaliseIsoDate('2022-02-30T00:00:00Z')).toBeNull();
    expect(normaliseIsoDate('2022-05-01')).toBeNull();
    expect(normaliseIsoDate('2022-05-01T25:00:00Z')).toBeNull();
  });
});

describe('isoFromTimestampMs', () => {
  it('reads milliseconds since 1970 from a string or a number', () => {
    expect(isoFromTimestampMs('1520690595660')).toBe('2018-03-10T14:03:15.660Z');
    expect(isoFromTimestampMs(1520690595660)).toBe('2018-03-10T14:03:15.660Z');
  });

  it('refuses what is not a plausible timestamp', () => {
    expect(isoFromTimestampMs('abc')).toBeNull();
    expect(isoFromTimestampMs('-5')).toBeNull();
    expect(isoFromTimestampMs(1.5)).toBeNull();
    expect(isoFromTimestampMs('9'.repeat(15))).toBeNull();
    expect(isoFromTimestampMs(undefined)).toBeNull();
  });
});

describe('isoFromSnowflakeId', () => {
  it('reads the creation time out of a snowflake id', () => {
    // Tweet 972472958596866048 was created at 2018-03-10T14:03:15.660Z (timestamp_ms 1520690595660).
    expect(isoFromSnowflakeId('972472958596866048')).toBe('2018-03-10T14:03:15.660Z');
  });

  it('refuses pre-snowflake ids', () => {
    expect(isoFromSnowflakeId('20')).toBeNull();
    expect(isoFromSnowflakeId('29700859247')).toBeNull();
  });
});
