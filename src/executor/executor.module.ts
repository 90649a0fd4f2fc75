import { Global, Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/config.module.js';
import { EXECUTOR, type Executor, type ExecutorKind } from './executor.js';
import { InlineExecutor } from './inline.executor.js';
import { workerHeapLimitMb } from './worker-heap-limit.js';

/**
 * The executor of that kind. A pool's implementation (and piscina or workerpool) is loaded
 * only when asked for: ~30 files fewer at every start of an inline replica or command.
 */
export async function createExecutor(
  kind: ExecutorKind,
  size: number,
  options: { maxHeapMb?: number; concurrentFiles?: number } = {},
): Promise<Executor> {
  switch (kind) {
    case 'threads': {
      const { ThreadPoolExecutor } = await import('./thread-pool.executor.js');
      return new ThreadPoolExecutor(size, undefined, options);
    }
    case 'processes': {
      const { ProcessPoolExecutor } = await import('./process-pool.executor.js');
      return new ProcessPoolExecutor(size, undefined, options);
    }
    case 'inline':
      return new InlineExecutor(options);
  }
}

/** Provides the Executor chosen by EXECUTOR / EXECUTOR_SIZE; closes its pool on shutdown. */
@Global()
@Module({
  providers: [
    {
      provide: EXECUTOR,
      inject: [APP_CONFIG],
      useFactory: async (config: AppConfig) =>
        await createExecutor(config.EXECUTOR, config.EXECUTOR_SIZE, {
          maxHeapMb: workerHeapLimitMb(config.CHUNK_BYTES, config.MAX_LINE_BYTES),
          concurrentFiles: config.CONCURRENT_FILES,
        }),
    },
  ],
  exports: [EXECUTOR],
})
export class ExecutorModule implements OnApplicationShutdown {
  constructor(@Inject(EXECUTOR) private readonly executor: Executor) {}

  async onApplicationShutdown(): Promise<void> {
    await this.executor.close();
  }
}
