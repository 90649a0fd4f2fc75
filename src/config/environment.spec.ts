import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { ConfigurationError, ENVIRONMENT_VARIABLES, parseEnvironment } from './environment.js';

describe('parseEnvironment', () => {
  it('gives the documented defaults for an empty environment', () => {
    const config = parseEnvironment({});
    expect(config).toMatchObject({
      DATA_DIR: './.data',
      STORAGE_URL: './data/bucket',
      PORT: 3000,
      MIGRATE_ON_START: true,
      BACKFILL_CRON: '0 * * * *',
    });
    expect(config.DATABASE_URL).toBeUndefined();
    // The measured defaults: inline on 1-2 cores, else one worker thread per core but one.
    const cores = availableParallelism();
    expect(config.EXECUTOR).toBe(cores <= 2 ? 'inline' : 'threads');
    expect(config.EXECUTOR_SIZE).toBe(Math.max(1, cores - 1));
  });

  it('runs one file more than thread workers at once, unless CONCURRENT_FILES says otherwise', () => {
    expect(parseEnvironment({ EXECUTOR: 'threads', EXECUTOR_SIZE: '2' }).CONCURRENT_FILES).toBe(3);
    expect(parseEnvironment({ EXECUTOR: 'threads', EXECUTOR_SIZE: '1' }).CONCURRENT_FILES).toBe(2);
    expect(parseEnvironment({ EXECUTOR: 'threads', EXECUTOR_SIZE: '6', CONCURRENT_FILES: '2' }).CONCURRENT_FILES).toBe(2);
    expect(parseEnvironment({ EXECUTOR: 'processes', EXECUTOR_SIZE: '4' }).CONCURRENT_FILES).toBe(2);
    expect(parseEnvironment({ EXECUTOR: 'inline' }).CONCURRENT_FILES).toBe(2);
  });

  it('coerces numbers and booleans, and treats empty strings as unset', () => {
    const config = parseEnvironment({ PORT: '8080', MIGRATE_ON_START: 'false', EXECUTOR_SIZE: '3', DATABASE_URL: '' });
    expect(config.PORT).toBe(8080);
    expect(config.MIGRATE_ON_START).toBe(false);
    expect(config.EXECUTOR_SIZE).toBe(3);
    expect(config.DATABASE_URL).toBeUndefined();
  });

  it('names every bad variable and what it accepts', () => {
    let error: unknown;
    try {
      parseEnvironment({ EXECUTOR: 'gpu', PORT: 'eighty', BACKFILL_CRON: 'sometimes' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigurationError);
    const message = (error as Error).message;
    expect(message).toContain('EXECUTOR="gpu": expected threads, processes or inline');
    expect(message).toContain('PORT="eighty": expected a whole number');
    expect(message).toContain('BACKFILL_CRON="sometimes"');
  });

  it('never prints a secret in its error', () => {
    expect(() => parseEnvironment({ DATABASE_URL: 'mysql://root:hunter2@db/x' })).toThrowError(/DATABASE_URL=<redacted>: expected a postgres:/);
    expect(() => parseEnvironment({ DATABASE_URL: 'mysql://root:hunter2@db/x' })).not.toThrowError(/hunter2/);
  });

  it('requires ADMIN_TOKEN in production', () => {
    expect(() => parseEnvironment({ NODE_ENV: 'production' })).toThrowError(/ADMIN_TOKEN: required when NODE_ENV=production/);
    expect(parseEnvironment({ NODE_ENV: 'production', ADMIN_TOKEN: 'x'.repeat(32) }).ADMIN_TOKEN).toHaveLength(32);
  });

  it('refuses a Pub/Sub subscription without a gs:// bucket, naming both variables', () => {
    expect(() => parseEnvironment({ PUBSUB_SUBSCRIPTION: 'ingest', STORAGE_URL: '/srv/tweets' })).toThrowError(
      /PUBSUB_SUBSCRIPTION: needs a gs:\/\/ STORAGE_URL \(got "\/srv\/tweets"\)/,
    );
    expect(parseEnvironment({ PUBSUB_SUBSCRIPTION: 'ingest', STORAGE_URL: 'gs://tweets/2024' }).PUBSUB_SUBSCRIPTION).toBe('ingest');
  });

  it('bounds STORAGE_LIST_PAGE_SIZE by what GCS serves', () => {
    expect(parseEnvironment({}).STORAGE_LIST_PAGE_SIZE).toBe(1000);
    expect(() => parseEnvironment({ STORAGE_LIST_PAGE_SIZE: '1001' })).toThrowError(/STORAGE_LIST_PAGE_SIZE="1001"/);
  });

  it('lists every variable for the Helm chart, secrets flagged', () => {
    const names = ENVIRONMENT_VARIABLES.map((variable) => variable.name);
    expect(names).toContain('STORAGE_URL');
    expect(ENVIRONMENT_VARIABLES.filter((variable) => variable.secret).map((variable) => variable.name).sort()).toEqual(['ADMIN_TOKEN', 'DATABASE_URL']);
    expect(ENVIRONMENT_VARIABLES.every((variable) => variable.description.length > 0)).toBe(true);
  });
});
