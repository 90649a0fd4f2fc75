import { ApiProperty } from '@nestjs/swagger';

export class PauseStateDto {
  @ApiProperty({ example: true, description: 'true: no replica claims new files; in-flight files finish' })
  paused: boolean;

  @ApiProperty({ example: '2026-01-05T10:00:00.000Z', nullable: true, type: String, format: 'date-time', description: 'when it was last switched' })
  updatedAt: Date | null;
}
