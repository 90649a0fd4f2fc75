import type { LoggerService } from '@nestjs/common';
import { pino, type Logger } from 'pino';
import type { Environment } from '../config/environment.js';

export const LOGGER = Symbol('LOGGER');

/**
 * Structured logs: JSON in production or when stdout is not a terminal (log collectors),
 * readable lines on a developer's terminal. Secrets are redacted wherever they appear as fields.
 */
export function createLogger(config: Pick<Environment, 'LOG_LEVEL' | 'LOG_FORMAT' | 'NODE_ENV'>): Logger {
  const format = config.LOG_FORMAT ?? (config.NODE_ENV !== 'production' && process.stdout.isTTY ? 'pretty' : 'json');
  const options = {
    level: config.LOG_LEVEL,
    base: { service: 'tweet-ingest' },
    redact: { paths: ['token', 'authorization', 'databaseUrl', '*.authorization', 'req.headers.authorization'], censor: '***' },
  };
  if (format === 'pretty') {
    return pino({ ...options, transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname,service' } } });
  }
  return pino(options);
}

/** Routes NestJS's own log lines into the same pino logger. */
export class NestPinoLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}
  log(message: unknown, context?: string): void {
    this.logger.info({ context }, String(message));
  }
  error(message: unknown, trace?: string, context?: string): void {
    this.logger.error({ context, trace }, String(message));
  }
  warn(message: unknown, context?: string): void {
    this.logger.warn({ context }, String(message));
  }
  debug(message: unknown, context?: string): void {
    this.logger.debug({ context }, String(message));
  }
  verbose(message: unknown, context?: string): void {
    this.logger.trace({ context }, String(message));
  }
}
