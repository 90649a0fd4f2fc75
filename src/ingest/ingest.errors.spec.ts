import { describe, expect, it } from 'vitest';
import { asDatabaseError, DatabaseUnavailableError, isDatabaseUnavailable, PermanentError } from './ingest.errors.js';

const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });

describe('asDatabaseError', () => {
  it('recognises the ways node-postgres reports an unreachable or lost server', () => {
    for (const error of [
      withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED'),
      withCode('read ECONNRESET', 'ECONNRESET'),
      new Error('Connection terminated unexpectedly'),
      withCode('terminating connection due to administrator command', '57P01'),
      withCode('the database system is starting up', '57P03'),
      withCode('connection failure', '08006'),
      new Error('timeout exceeded when trying to connect'),
      new Error('a query failed', { cause: withCode('x', 'ECONNREFUSED') }),
    ]) {
      const classified = asDatabaseError(error);
      expect(classified, error.message).toBeInstanceOf(DatabaseUnavailableError);
      expect((classified as Error).cause).toBe(error);
    }
  });

  it('returns every other error as it is', () => {
    for (const error of [
      withCode('duplicate key value violates unique constraint', '23505'),
      withCode('deadlock detected', '40P01'),
      new PermanentError('corrupt file a.gz: incorrect header check'),
    ]) {
      expect(asDatabaseError(error)).toBe(error);
    }
  });
});

describe('isDatabaseUnavailable', () => {
  it('is true only for a DatabaseUnavailableError, also as a cause', () => {
    const unavailable = new DatabaseUnavailableError(new Error('Connection terminated unexpectedly'));
    expect(isDatabaseUnavailable(unavailable)).toBe(true);
    expect(isDatabaseUnavailable(new Error('writing failed', { cause: unavailable }))).toBe(true);
  });

  it('is false for the same socket error raised outside a database call (the bucket, say)', () => {
    expect(isDatabaseUnavailable(withCode('read ECONNRESET', 'ECONNRESET'))).toBe(false);
    expect(isDatabaseUnavailable(new Error('Connection terminated unexpectedly'))).toBe(false);
    expect(isDatabaseUnavailable('a string')).toBe(false);
    expect(isDatabaseUnavailable(undefined)).toBe(false);
  });
});
