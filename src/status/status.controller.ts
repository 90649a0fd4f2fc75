import { Controller, Get, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { AdminTokenGuard } from '../auth/admin-token.guard.js';
import { FailuresQueryDto, ThroughputQueryDto } from './status-query.dto.js';
import { StatusService } from './status.service.js';

@ApiTags('ops')
@Controller('status')
export class StatusController {
  constructor(private readonly statusService: StatusService) {}

  @Get()
  @ApiOperation({
    summary: 'Cluster and replica state for ops tooling',
    description:
      'files by status, tweets total, queue depth, paused, throughput over 1 and 15 minutes, active backfills with progress, ETA and ' +
      'their recent pace, time per pipeline stage with the bottleneck and a hint, executor, this replica, notification source',
  })
  @ApiOkResponse({ description: 'the status document' })
  status() {
    return this.statusService.status();
  }

  @Get('throughput')
  @ApiOperation({
    summary: 'Tweets per minute over the last minutes, cluster-wide',
    description:
      "one point per minute, oldest first, each ending `end`; a file's tweets count once it is done, spread over the time it was processed",
  })
  @ApiOkResponse({ description: '{minutes, points: [{end, files, tweets, tweetsPerSecond}]}' })
  throughput(@Query() query: ThroughputQueryDto) {
    return this.statusService.throughputHistory(query.minutes ?? 60);
  }

  // File names and raw errors are admin data, like GET /files: the same bearer token.
  @Get('failures')
  @UseGuards(AdminTokenGuard)
  @ApiBearerAuth()
  @ApiUnauthorizedResponse({ description: 'missing or wrong bearer token' })
  @ApiOperation({ summary: 'The most recently failed files with their error, newest first' })
  @ApiOkResponse({ description: '{items: [{id, name, error, attempts, backfillId, finishedAt}]}' })
  failures(@Query() query: FailuresQueryDto) {
    return this.statusService.latestFailures(query.limit ?? 20);
  }
}
