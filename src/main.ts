#!/usr/bin/env node
// First: V8's heap growth is set before anything allocates (see the file).
import './heap-tuning.js';
import 'reflect-metadata';
import { Command } from 'commander';
import { ConfigurationError } from './config/environment.js';

const program = new Command('tweet-ingest')
  .description('Ingests gzipped tweet archives from a bucket (or a folder) into PostgreSQL.')
  .showHelpAfterError();

// Each command loads only what it runs (the one-shot ingest never loads the HTTP stack).
program
  .command('serve', { isDefault: true })
  .description('run the daemon: notifications, ingest, HTTP API')
  .action(async () => (await import('./cli/serve.command.js')).runServe());
program
  .command('ingest')
  .description('one-shot: ingest everything under a storage URL, print a summary, exit 1 if any file failed')
  .argument('<storage-url>', 'gs://bucket[/prefix] or a local folder')
  .action(async (storageUrl: string) => {
    const { runIngest } = await import('./cli/ingest.command.js');
    process.exitCode = await runIngest(storageUrl);
  });
program.command('migrate').description('apply pending database migrations and exit').action(async () => (await import('./cli/migrate.command.js')).runMigrate());

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof ConfigurationError) {
    process.stderr.write(`tweet-ingest: ${error.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`tweet-ingest: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
}
