import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { DEFAULT_CHUNK_BYTES, DEFAULT_MAX_LINE_BYTES } from './pipeline-defaults.js';

// The one schema for the service's environment. Every variable the service reads is here,
// with its default and description; `ENVIRONMENT_VARIABLES` lists them for the Helm chart's
// tests so that chart and service cannot drift apart.

const booleanString = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'expected true or false' })
  .transform((value) => value === 'true' || value === '1' || value === 'yes');

const integer = (min: number, max: number) =>
  z.coerce
    .number({ message: 'expected a whole number' })
    .int({ message: 'expected a whole number' })
    .min(min, { message: `expected a whole number >= ${min}` })
    .max(max, { message: `expected a whole number <= ${max}` });

const cronOrOff = z
  .string()
  .trim()
  .refine((value) => value === 'off' || /^(\S+\s+){4,5}\S+$/.test(value), {
    message: "expected a cron expression of 5 or 6 fields, or 'off'",
  });

const postgresUrl = z
  .string()
  .trim()
  .refine((value) => /^postgres(ql)?:\/\/[^\s]+$/.test(value), {
    message: 'expected a postgres://user:password@host:port/database URL',
  });

// Where the CPU work runs by default. Measured on 2 cores (BENCHMARKS.md, fifth session: 40
// files / 417 MB, PostgreSQL on the same machine, medians of 5 rotated rounds): inline 2.82 s
// wall / 3.15 s CPU, threads x 2 (whole files per worker) 2.94 s / 4.31 s and 130 MB more
// memory, threads x 1 3.23 s, processes x 2 3.25 s: gunzip runs on libuv's pool and PostgreSQL
// needs a core too, so on 2 cores workers only add CPU (a second V8 isolate warms up the same
// code again). Inline has no per-worker heap limit, but a record is bounded by MAX_LINE_BYTES
// (the worst crafted 32 MiB record measured 1.2 GB RSS, done with one dead letter;
// RELIABILITY.md). Above 2 cores: one worker per core but one (the main thread reads and
// writes for every file), a rule not yet measured on such a machine.
const CORES = availableParallelism();
export const DEFAULT_EXECUTOR = CORES <= 2 ? 'inline' : 'threads';
export const DEFAULT_EXECUTOR_SIZE = Math.max(1, CORES - 1);

export const environmentSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  DATABASE_URL: postgresUrl.optional(),
  DATA_DIR: z.string().min(1).default('./.data'),
  EMBEDDED_POSTGRES_PORT: integer(1, 65535).default(54329),
  DATABASE_POOL_SIZE: integer(2, 200).default(10),
  MIGRATE_ON_START: booleanString.default(true),
  STORAGE_URL: z.string().min(1).default('./data/bucket'),
  // GCS returns at most 1000 objects per list request.
  STORAGE_LIST_PAGE_SIZE: integer(1, 1000).default(1000),
  PUBSUB_SUBSCRIPTION: z.string().trim().min(1).optional(),
  GOOGLE_CLOUD_PROJECT: z.string().trim().min(1).optional(),
  PUBSUB_MAX_MESSAGES: integer(1, 100_000).default(1000),
  PUBSUB_MAX_BYTES: integer(1024, 2 ** 31).default(100 * 1024 * 1024),
  WATCH_LOCAL_FOLDER: booleanString.default(true),
  EXECUTOR: z.enum(['threads', 'processes', 'inline'], { message: 'expected threads, processes or inline' }).default(DEFAULT_EXECUTOR),
  EXECUTOR_SIZE: integer(1, 256).default(DEFAULT_EXECUTOR_SIZE),
  // Unset: 2, or EXECUTOR_SIZE + 1 with EXECUTOR=threads (see parseEnvironment). 2 for the
  // inline default on 2 cores: one file is parsed while the other's batch is written. 40-file
  // corpus, 5 interleaved runs, median wall (BENCHMARKS.md, eighth round): 1 file 2.70 s against
  // 2.15 s for 2; then 2 / 3 / 4 files 2.25 / 2.26 / 2.27 s (peak RSS 178 / 182 / 203 MB): both
  // cores are already busy.
  CONCURRENT_FILES: integer(1, 256).default(2),
  // The two defaults, and the measurement behind CHUNK_BYTES': pipeline-defaults.ts.
  CHUNK_BYTES: integer(64 * 1024, 256 * 1024 * 1024).default(DEFAULT_CHUNK_BYTES),
  MAX_LINE_BYTES: integer(1024, 1024 * 1024 * 1024).default(DEFAULT_MAX_LINE_BYTES),
  MAX_ATTEMPTS: integer(1, 100).default(5),
  LEASE_MS: integer(1000, 3_600_000).default(60_000),
  POLL_INTERVAL_MS: integer(50, 600_000).default(1000),
  RETRY_BASE_MS: integer(0, 3_600_000).default(5000),
  DRAIN_TIMEOUT_MS: integer(0, 3_600_000).default(30_000),
  BACKFILL_CRON: cronOrOff.default('0 * * * *'),
  BACKFILL_MONTH_PREFIX: z
    .string()
    .refine((value) => value.includes('{YYYY}') && value.includes('{MM}'), {
      message: 'expected a template containing {YYYY} and {MM}',
    })
    .default('{YYYY}/{MM}/'),
  ADMIN_TOKEN: z.string().min(16, { message: 'expected at least 16 characters' }).optional(),
  HOST: z.string().min(1).default('0.0.0.0'),
  PORT: integer(0, 65535).default(3000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LOG_FORMAT: z.enum(['json', 'pretty']).optional(),
});

export type Environment = z.infer<typeof environmentSchema>;

export interface EnvironmentVariable {
  name: keyof Environment;
  secret: boolean;
  description: string;
}

const descriptions: Record<keyof Environment, string> = {
  NODE_ENV: 'production makes ADMIN_TOKEN mandatory and logs JSON',
  DATABASE_URL: 'PostgreSQL URL; unset: an embedded PostgreSQL under DATA_DIR',
  DATA_DIR: 'folder of the embedded PostgreSQL (used only without DATABASE_URL)',
  EMBEDDED_POSTGRES_PORT: 'port of the embedded PostgreSQL',
  DATABASE_POOL_SIZE: 'connections per replica',
  MIGRATE_ON_START: 'serve applies pending migrations at start',
  STORAGE_URL: 'gs://bucket[/prefix] or a local folder',
  STORAGE_LIST_PAGE_SIZE: 'objects per list request (one page in memory at a time)',
  PUBSUB_SUBSCRIPTION: 'bucket notification subscription (full name, or short with GOOGLE_CLOUD_PROJECT)',
  GOOGLE_CLOUD_PROJECT: 'project of a short subscription name',
  PUBSUB_MAX_MESSAGES: 'flow control: outstanding messages',
  PUBSUB_MAX_BYTES: 'flow control: outstanding bytes',
  WATCH_LOCAL_FOLDER: 'watch a local STORAGE_URL folder for new files when no subscription is set',
  EXECUTOR: 'where CPU work runs: threads, processes or inline',
  EXECUTOR_SIZE: 'workers in the pool',
  CONCURRENT_FILES: 'files one replica processes at once',
  CHUNK_BYTES: 'decompressed bytes sent to the executor per task',
  MAX_LINE_BYTES: 'longer records are rejected to the dead-letter table',
  MAX_ATTEMPTS: 'attempts before a file is failed',
  LEASE_MS: 'lease on a claimed file, renewed while it is processed',
  POLL_INTERVAL_MS: 'how often an idle replica looks for pending files',
  RETRY_BASE_MS: 'first retry delay after a transient error (doubles each attempt)',
  DRAIN_TIMEOUT_MS: 'how long shutdown waits for in-flight files',
  BACKFILL_CRON: "schedule of the full scan, or 'off'",
  BACKFILL_MONTH_PREFIX: 'prefix of one month of files, with {YYYY} and {MM}',
  ADMIN_TOKEN: 'bearer token of the admin API (required in production)',
  HOST: 'HTTP listen address',
  PORT: 'HTTP port',
  LOG_LEVEL: 'fatal, error, warn, info, debug, trace or silent',
  LOG_FORMAT: 'json or pretty (default: json in production or without a TTY)',
};

const secrets = new Set<keyof Environment>(['DATABASE_URL', 'ADMIN_TOKEN']);

export const ENVIRONMENT_VARIABLES: EnvironmentVariable[] = (
  Object.keys(environmentSchema.shape) as (keyof Environment)[]
).map((name) => ({ name, secret: secrets.has(name), description: descriptions[name] }));

export class ConfigurationError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'ConfigurationError';
  }
}

/** Parses the environment once; throws a ConfigurationError naming every bad variable. */
export function parseEnvironment(source: NodeJS.ProcessEnv): Environment {
  const present = Object.fromEntries(
    Object.keys(environmentSchema.shape)
      .filter((name) => source[name] !== undefined && source[name] !== '')
      .map((name) => [name, source[name]]),
  );
  const result = environmentSchema.safeParse(present);
  if (!result.success) {
    throw new ConfigurationError(
      result.error.issues.map((issue) => {
        const name = String(issue.path[0]);
        const shown = secrets.has(name as keyof Environment) ? '<redacted>' : JSON.stringify(present[name]);
        return `${name}=${shown}: ${issue.message}`;
      }),
    );
  }
  if (result.data.NODE_ENV === 'production' && !result.data.ADMIN_TOKEN) {
    throw new ConfigurationError(['ADMIN_TOKEN: required when NODE_ENV=production']);
  }
  // Notifications name a GCS bucket: with a local folder none would ever match, silently.
  if (result.data.PUBSUB_SUBSCRIPTION && !result.data.STORAGE_URL.startsWith('gs://')) {
    throw new ConfigurationError([`PUBSUB_SUBSCRIPTION: needs a gs:// STORAGE_URL (got ${JSON.stringify(result.data.STORAGE_URL)})`]);
  }
  // A thread worker parses one whole file at a time, and a file holds its worker until its
  // last batch is written: one file more than workers keeps every worker busy through those
  // writes. Threads x 2 on 2 cores, 40-file corpus, two sets of 3 interleaved runs with inline
  // alongside (the machine's speed drifted between the sets): 2 files at once 3.36-3.55 s against
  // inline's 2.98-3.15 s; 3 files 2.53-2.89 s against inline's 2.50-2.87 s. CPU profiles of the
  // 2-file runs showed each worker waiting ~0.8 s for its next file.
  if (present.CONCURRENT_FILES === undefined && result.data.EXECUTOR === 'threads') {
    result.data.CONCURRENT_FILES = Math.max(2, result.data.EXECUTOR_SIZE + 1);
  }
  return result.data;
}
