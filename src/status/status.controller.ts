import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { StatusService } from './status.service.js';

@ApiTags('ops')
@Controller('status')
export class StatusController {
  constructor(private readonly statusService: StatusService) {}

  @Get()
  @ApiOperation({
    summary: 'Cluster and replica state for ops tooling',
    description:
      'files by status, tweets total, queue depth, paused, throughput over 1 and 15 minutes, active backfills with progress and ETA, ' +
      'time per pipeline stage with the bottleneck and a hint, executor, this replica, notification source',
  })
  @ApiOkResponse({ description: 'the status document' })
  status() {
    return this.statusService.status();
  }
}
