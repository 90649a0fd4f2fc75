import { Global, Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/config.module.js';
import { createObjectStore } from './object-store.factory.js';
import type { ObjectStore } from './object-store.js';

/** Injection token of the ObjectStore named by STORAGE_URL. */
export const OBJECT_STORE = Symbol('OBJECT_STORE');

@Global()
@Module({
  providers: [
    {
      provide: OBJECT_STORE,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => createObjectStore(config.STORAGE_URL, { projectId: config.GOOGLE_CLOUD_PROJECT, listPageSize: config.STORAGE_LIST_PAGE_SIZE }),
    },
  ],
  exports: [OBJECT_STORE],
})
export class StorageModule implements OnApplicationShutdown {
  constructor(@Inject(OBJECT_STORE) private readonly store: ObjectStore) {}

  async onApplicationShutdown(): Promise<void> {
    await this.store.close();
  }
}
