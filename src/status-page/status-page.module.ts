import { Module } from '@nestjs/common';
import { StatusPageAssets } from './status-page-assets.js';
import { StatusPageController } from './status-page.controller.js';

/** The operators' page at `/`: static files; the data comes from /status and the admin API. */
@Module({
  controllers: [StatusPageController],
  providers: [{ provide: StatusPageAssets, useFactory: () => new StatusPageAssets() }],
})
export class StatusPageModule {}
