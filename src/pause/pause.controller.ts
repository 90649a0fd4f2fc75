import { Controller, HttpCode, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { AdminTokenGuard } from '../auth/admin-token.guard.js';
import { PauseStateDto } from './pause-state.dto.js';
import { PauseService } from './pause.service.js';

@ApiTags('ingest')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ description: 'missing or wrong bearer token' })
@UseGuards(AdminTokenGuard)
@Controller('ingest')
export class PauseController {
  constructor(private readonly pause: PauseService) {}

  @Post('pause')
  @HttpCode(200)
  @ApiOperation({ summary: 'Pause claiming on every replica (in-flight files finish)' })
  @ApiOkResponse({ type: PauseStateDto })
  pauseIngest(): Promise<PauseStateDto> {
    return this.pause.pause();
  }

  @Post('resume')
  @HttpCode(200)
  @ApiOperation({ summary: 'Resume claiming on every replica' })
  @ApiOkResponse({ type: PauseStateDto })
  resumeIngest(): Promise<PauseStateDto> {
    return this.pause.resume();
  }
}
