import { Controller, Get, HttpCode, HttpStatus, Param, Post, Query, UseGuards } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiConflictResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { AdminTokenGuard } from '../auth/admin-token.guard.js';
import { ParseIdPipe } from '../http/parse-id.pipe.js';
import { FileDetailDto, FileDto, FileListDto } from './file.dto.js';
import { FilesService } from './files.service.js';
import { ListFilesQueryDto } from './list-files.dto.js';

@ApiTags('files')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ description: 'missing or wrong bearer token' })
@UseGuards(AdminTokenGuard)
@Controller('files')
export class FilesController {
  constructor(private readonly files: FilesService) {}

  @Get()
  @ApiOperation({ summary: 'The file ledger, by id, filtered by status, backfill or name prefix' })
  @ApiOkResponse({ type: FileListDto })
  list(@Query() query: ListFilesQueryDto): Promise<FileListDto> {
    return this.files.list(query);
  }

  @Get(':id')
  @ApiOperation({ summary: 'One ledger row with its error and first rejected records' })
  @ApiOkResponse({ type: FileDetailDto })
  @ApiNotFoundResponse({ description: 'no such file' })
  get(@Param('id', ParseIdPipe) id: string): Promise<FileDetailDto> {
    return this.files.get(id);
  }

  @Post(':id/retry')
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiOperation({ summary: 'Retry a failed file: back to pending with its attempts reset' })
  @ApiAcceptedResponse({ type: FileDto, description: 'queued again' })
  @ApiNotFoundResponse({ description: 'no such file' })
  @ApiConflictResponse({ description: 'the file is not failed' })
  retry(@Param('id', ParseIdPipe) id: string): Promise<FileDto> {
    return this.files.retry(id);
  }
}
