import { Body, Controller, Delete, Get, HttpStatus, Param, Post, Query, Res, UseGuards } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiBody,
  ApiConflictResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { AdminTokenGuard } from '../auth/admin-token.guard.js';
import { ParseIdPipe } from '../http/parse-id.pipe.js';
import { BackfillDto, BackfillListDto, CancelledBackfillDto, CreatedBackfillDto } from './backfill.dto.js';
import { BackfillsService } from './backfills.service.js';
import { CreateBackfillDto } from './create-backfill.dto.js';
import { ListBackfillsQueryDto } from './list-backfills.dto.js';

@ApiTags('backfills')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ description: 'missing or wrong bearer token' })
@UseGuards(AdminTokenGuard)
@Controller('backfills')
export class BackfillsController {
  constructor(private readonly backfills: BackfillsService) {}

  @Post()
  @ApiOperation({
    summary: 'Start a backfill of a prefix, some months, or a range of months',
    description:
      'Answers at once; the listing runs in the background. While an identical backfill is active, that one is returned (200, created: false) instead of starting another.',
  })
  @ApiBody({
    type: CreateBackfillDto,
    examples: {
      months: { summary: 'three months', value: { months: ['2017-08', '2017-09', '2017-10'] } },
      range: { summary: 'a range of months', value: { from: '2017-08', to: '2017-10' } },
      prefix: { summary: 'a prefix', value: { prefix: 'tweets/2017/08/' } },
    },
  })
  @ApiAcceptedResponse({ type: CreatedBackfillDto, description: 'backfill created; listing in the background' })
  @ApiOkResponse({ type: CreatedBackfillDto, description: 'an identical backfill is already active: that one' })
  @ApiBadRequestResponse({ description: 'invalid request; the message names the field' })
  async create(
    @Body() body: CreateBackfillDto,
    @Res({ passthrough: true }) response: { status(code: number): unknown },
  ): Promise<CreatedBackfillDto> {
    const backfill = await this.backfills.create(body);
    response.status(backfill.created ? HttpStatus.ACCEPTED : HttpStatus.OK);
    return backfill;
  }

  @Get()
  @ApiOperation({ summary: 'Backfills, newest first, with their progress' })
  @ApiOkResponse({ type: BackfillListDto })
  list(@Query() query: ListBackfillsQueryDto): Promise<BackfillListDto> {
    return this.backfills.list(query.limit, query.before);
  }

  @Get(':id')
  @ApiOperation({
    summary: 'One backfill: status, files listed/enqueued/skipped/done/failed/pending, tweets written, throughput, ETA',
  })
  @ApiOkResponse({ type: BackfillDto })
  @ApiNotFoundResponse({ description: 'no such backfill' })
  get(@Param('id', ParseIdPipe) id: string): Promise<BackfillDto> {
    return this.backfills.get(id);
  }

  @Delete(':id')
  @ApiOperation({ summary: 'Cancel: stop listing, withdraw its pending files (in-flight files finish)' })
  @ApiOkResponse({ type: CancelledBackfillDto })
  @ApiNotFoundResponse({ description: 'no such backfill' })
  @ApiConflictResponse({ description: 'the backfill already finished (done or failed)' })
  cancel(@Param('id', ParseIdPipe) id: string): Promise<CancelledBackfillDto> {
    return this.backfills.cancel(id);
  }
}
