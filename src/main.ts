#!/usr/bin/env node
import 'reflect-metadata';
import { Command } from 'commander';
import { runIngest } from './cli/ingest.command.js';
import { runMigrate } from './cli/migrate.command.js';
import { runServe } from './cli/serve.command.js';
import { ConfigurationError } from './config/environment.js';

const program = new Command('tweet-ingest')
  .description('Ingests gzipped tweet archives from a bucket (or a folder) into PostgreSQL.')
  .showHelpAfterError();

program.command('serve', { isDefault: true }).description('run the daemon: notifications, ingest, HTTP API').action(runServe);
program
  .command('ingest')
  .description('one-shot: ingest everything under a storage URL, print a summary, exit 1 if any file failed')
  .argument('<storage-url>', 'gs://bucket[/prefix] or a local folder')
  .action(async (storageUrl: string) => {
    process.exitCode = await runIngest(storageUrl);
  });
program.command('migrate').description('apply pending database migrations and exit').action(runMigrate);

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
