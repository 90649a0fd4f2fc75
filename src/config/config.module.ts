import { Global, Module, type DynamicModule } from '@nestjs/common';
import type { Environment } from './environment.js';

/** Injection token of the validated, typed configuration. */
export const APP_CONFIG = Symbol('APP_CONFIG');
export type AppConfig = Environment;

/** Provides the configuration parsed once at boot (main.ts) to every module. */
@Global()
@Module({})
export class ConfigModule {
  static forRoot(config: AppConfig): DynamicModule {
    return { module: ConfigModule, providers: [{ provide: APP_CONFIG, useValue: config }], exports: [APP_CONFIG] };
  }
}
