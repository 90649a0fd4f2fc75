import { Controller, Get, Inject } from '@nestjs/common';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { DataSource } from 'typeorm';
import { IngestRunner } from '../ingest/ingest-runner.service.js';
import { NotificationsService } from '../notifications/notifications.service.js';

// A database that does not answer a ping within this time counts as down.
const DATABASE_PING_TIMEOUT_MS = 3000;

/**
 * /health/live: the process and its event loop answer (no dependencies: a database outage
 * must not get the pod restarted). /health/ready: database reachable, not draining,
 * notifications healthy. /health: everything, with detail.
 */
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly dataSource: DataSource,
    private readonly runner: IngestRunner,
    @Inject(NotificationsService) private readonly notifications: NotificationsService,
  ) {}

  @Get('live')
  @HealthCheck()
  live() {
    return this.health.check([() => this.indicators.check('process').up({ uptimeSeconds: Math.round(process.uptime()) })]);
  }

  @Get('ready')
  @HealthCheck()
  ready() {
    return this.health.check([() => this.database(), () => this.ingest(), () => this.subscriber()]);
  }

  @Get()
  @HealthCheck()
  full() {
    return this.health.check([() => this.database(), () => this.ingest(), () => this.subscriber()]);
  }

  private async database() {
    const session = this.indicators.check('database');
    try {
      await Promise.race([
        this.dataSource.query('SELECT 1'),
        new Promise((_, reject) => setTimeout(() => reject(new Error('ping timed out')), DATABASE_PING_TIMEOUT_MS).unref()),
      ]);
      return session.up();
    } catch (error) {
      return session.down({ message: (error as Error).message });
    }
  }

  private ingest() {
    const session = this.indicators.check('ingest');
    const state = this.runner.state();
    const detail = { draining: state.draining, activeFiles: state.activeFiles.length, lastClaimError: state.lastClaimError };
    return state.draining ? session.down(detail) : session.up(detail);
  }

  private subscriber() {
    const session = this.indicators.check('notifications');
    const state = this.notifications.state();
    const detail = { source: state.source, ...state.detail };
    return state.healthy ? session.up(detail) : session.down(detail);
  }
}
