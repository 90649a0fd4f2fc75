import { NestFactory } from '@nestjs/core';
import cliProgress from 'cli-progress';
import { AppModule } from '../app.module.js';
import { parseEnvironment } from '../config/environment.js';
import { FilesRepository, type FileSummary, type FilesProgress } from '../ingest/files.repository.js';
import { IngestRunner } from '../ingest/ingest-runner.service.js';
import { createLogger, NestPinoLogger } from '../logging/logger.js';
import type { ObjectStore } from '../storage/object-store.js';
import { OBJECT_STORE } from '../storage/storage.module.js';

// The ledger is asked for progress at least this often (other replicas may finish some of the
// files), and at once when this process finishes a file: its runner's counters are checked
// every PROGRESS_CHECK_MS, which costs nothing, while the ledger query grows with the files.
// Polling the ledger alone every 500 ms added ~0.25 s on average to the end of every run.
const PROGRESS_INTERVAL_MS = 500;
const PROGRESS_CHECK_MS = 20;
// Plain progress lines (no TTY: CI logs, kubectl logs) at most this often.
const PROGRESS_LINE_INTERVAL_MS = 5000;
// Above this many files the summary lists only the failed ones.
const SUMMARY_TABLE_MAX_FILES = 50;

/**
 * One-shot ingest of everything under a storage URL, through the same ledger and claim path as
 * the daemon (so a file ingested here is never ingested twice by either). Returns the exit code:
 * 0 when every file is done, 1 when any failed.
 */
export async function runIngest(storageUrl: string): Promise<number> {
  const config = parseEnvironment({ ...process.env, STORAGE_URL: storageUrl });
  // Progress goes to the terminal; logs stay quiet unless asked for.
  const logger = createLogger({ ...config, LOG_LEVEL: process.env.LOG_LEVEL ? config.LOG_LEVEL : 'warn' });
  const app = await NestFactory.createApplicationContext(await AppModule.forRoot({ config, logger, mode: 'ingest' }), {
    logger: new NestPinoLogger(logger),
  });
  try {
    const store = app.get<ObjectStore>(OBJECT_STORE);
    const files = app.get(FilesRepository);
    const runner = app.get(IngestRunner);
    const started = Date.now();

    const ids: string[] = [];
    let newFiles = 0;
    for await (const page of store.list('')) {
      const result = await files.registerObjects(page);
      newFiles += result.inserted;
      ids.push(...(await files.findIdsOfObjects(page)));
    }
    process.stdout.write(`${store.url}: ${ids.length} files (${newFiles} new, ${ids.length - newFiles} already in the ledger)\n`);

    runner.start();
    const progress = await watchProgress(files, ids, started, () => {
      const { done, failed, retried } = runner.state().processed;
      return done + failed + retried;
    });
    await runner.drain(config.DRAIN_TIMEOUT_MS);

    const seconds = (Date.now() - started) / 1000;
    printSummary(await files.findFileSummaries(ids), progress, seconds);
    return progress.failed > 0 ? 1 : 0;
  } finally {
    await app.close();
  }
}

async function watchProgress(files: FilesRepository, ids: string[], started: number, settledHere: () => number): Promise<FilesProgress> {
  const bar = process.stdout.isTTY
    ? new cliProgress.SingleBar(
        { format: 'files {bar} {value}/{total} | {tweets} tweets | {rate} tweets/s | failed {failed} | {duration_formatted}', hideCursor: true },
        cliProgress.Presets.shades_classic,
      )
    : null;
  bar?.start(ids.length, 0, { tweets: 0, rate: 0, failed: 0 });
  let lastLine = 0;
  for (;;) {
    const progress = await files.progressOf(ids);
    const finished = progress.done + progress.failed;
    const rate = Math.round(progress.tweets / Math.max(0.001, (Date.now() - started) / 1000));
    if (bar) bar.update(finished, { tweets: progress.tweets, rate, failed: progress.failed });
    else if (Date.now() - lastLine >= PROGRESS_LINE_INTERVAL_MS || finished === ids.length) {
      lastLine = Date.now();
      process.stdout.write(`progress: ${finished}/${ids.length} files, ${progress.tweets} tweets, ${rate} tweets/s, ${progress.failed} failed\n`);
    }
    if (finished === ids.length) {
      bar?.stop();
      return progress;
    }
    const settled = settledHere();
    const deadline = Date.now() + PROGRESS_INTERVAL_MS;
    while (Date.now() < deadline && settledHere() === settled) {
      await new Promise((resolve) => setTimeout(resolve, PROGRESS_CHECK_MS));
    }
  }
}

function printSummary(summaries: FileSummary[], progress: FilesProgress, seconds: number): void {
  const shown = summaries.length <= SUMMARY_TABLE_MAX_FILES ? summaries : summaries.filter((file) => file.status === 'failed');
  if (shown.length > 0) {
    console.table(
      shown.map((file) => ({
        file: file.name,
        status: file.status,
        tweets: file.tweets,
        inserted: file.inserted,
        duplicates: file.duplicates,
        deletes: file.deletes,
        rejected: file.rejected,
        seconds: Number((file.totalMs / 1000).toFixed(2)),
        error: file.error ?? '',
      })),
    );
  }
  const mb = progress.bytesDecoded / 1e6;
  process.stdout.write(
    `summary: ${progress.done} done, ${progress.failed} failed; ${progress.tweets} tweets (${progress.inserted} new) ` +
      `in ${seconds.toFixed(2)} s: ${Math.round(progress.tweets / seconds)} tweets/s, ${(mb / seconds).toFixed(1)} MB/s of JSON\n`,
  );
}
