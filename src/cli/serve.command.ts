import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { AppModule } from '../app.module.js';
import { AdminToken } from '../auth/admin-token.js';
import { BackfillSchedulerService } from '../backfills/backfill-scheduler.service.js';
import { BackfillsService } from '../backfills/backfills.service.js';
import { parseEnvironment } from '../config/environment.js';
import { IngestRunner } from '../ingest/ingest-runner.service.js';
import { setUpOpenApi } from '../http/openapi.js';
import { createLogger, NestPinoLogger } from '../logging/logger.js';
import { NotificationsService } from '../notifications/notifications.service.js';

/**
 * The daemon. Shutdown contract (SIGTERM or SIGINT): stop the scheduled scan and hand running
 * backfill listings over to the other replicas, stop claiming, drain in-flight files up to
 * DRAIN_TIMEOUT_MS, release the leases of what is left, close the notification source, then the
 * HTTP server, the pool, the store and the database (in that order), and exit 0.
 */
export async function runServe(): Promise<void> {
  const config = parseEnvironment(process.env);
  const logger = createLogger(config);
  const app = await NestFactory.create<NestExpressApplication>(await AppModule.forRoot({ config, logger, mode: 'serve' }), {
    logger: new NestPinoLogger(logger),
    bodyParser: false,
  });
  // Admin requests are small JSON bodies; anything bigger is refused before parsing.
  app.useBodyParser('json', { limit: '16kb' });
  setUpOpenApi(app);
  await app.listen(config.PORT, config.HOST);
  const runner = app.get(IngestRunner);
  runner.start();
  logger.info({ port: config.PORT, storage: config.STORAGE_URL, executor: config.EXECUTOR }, 'tweet-ingest serving');
  const adminToken = app.get(AdminToken);
  if (adminToken.generated) {
    // Printed once, on stdout and not through the logger: log pipelines must never hold it.
    process.stdout.write(
      `ADMIN_TOKEN is not set: the admin API (/backfills, /files, /ingest) accepts this token until the process exits:\n` +
        `  Authorization: Bearer ${adminToken.value}\n`,
    );
  }

  let shuttingDown = false;
  const shutdown = async (signal: string) => {
    if (shuttingDown) return;
    shuttingDown = true;
    logger.info({ signal }, 'shutting down');
    // Claiming stops first: handing backfill listings over takes database round trips, and a
    // file claimed meanwhile would start after the signal.
    runner.stopClaiming();
    try {
      app.get(BackfillSchedulerService).stop();
      await app.get(BackfillsService).stop();
      await runner.drain(config.DRAIN_TIMEOUT_MS);
      await app.get(NotificationsService).close();
      await app.close();
      logger.info('shutdown complete');
      logger.flush?.();
      process.exit(0);
    } catch (error) {
      logger.error({ err: (error as Error).message }, 'shutdown failed');
      process.exit(1);
    }
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
}
