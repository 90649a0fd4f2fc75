import { Global, Module } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/config.module.js';
import { AdminToken } from './admin-token.js';
import { AdminTokenGuard } from './admin-token.guard.js';

/** The admin token and its guard, available to every controller that declares the guard. */
@Global()
@Module({
  providers: [
    { provide: AdminToken, inject: [APP_CONFIG], useFactory: (config: AppConfig) => AdminToken.fromConfig(config.ADMIN_TOKEN) },
    AdminTokenGuard,
  ],
  exports: [AdminToken, AdminTokenGuard],
})
export class AuthModule {}
