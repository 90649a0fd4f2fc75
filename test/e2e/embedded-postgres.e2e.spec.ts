import { chmod, copyFile, mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REAL_SAMPLE, realSampleTweetIds } from '../support/real-sample.js';
import { eventually, freePort, startService, type RunningService } from '../support/service.js';

const portOpen = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });

const tweetsTotal = async (service: RunningService) =>
  ((await (await fetch(`${service.url}/status`)).json()) as { tweets: { total: number } }).tweets.total;

describe('zero-config start on the embedded PostgreSQL', () => {
  let dataDir: string;
  let folder: string;
  let env: Record<string, string>;
  let postgresPort: number;
  const services: RunningService[] = [];

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'embedded-e2e-'));
    // As root, initdb runs as a dedicated 'postgres' user, which must be able to enter the folder.
    await chmod(dataDir, 0o755);
    folder = path.join(dataDir, 'bucket');
    postgresPort = await freePort();
    // DATABASE_URL empty counts as unset: the embedded server is the database.
    env = { DATABASE_URL: '', DATA_DIR: path.join(dataDir, 'data'), EMBEDDED_POSTGRES_PORT: String(postgresPort), STORAGE_URL: folder, POLL_INTERVAL_MS: '200' };
  });
  afterAll(async () => {
    for (const service of services) if (service.child.exitCode === null) await service.stop('SIGKILL');
    await rm(dataDir, { recursive: true, force: true });
  });

  it('starts with no configuration, creates the bucket folder and ingests a dropped file', async () => {
    const service = await startService(env);
    services.push(service);
    await copyFile(REAL_SAMPLE, path.join(folder, 'sample.jsonl.gz'));
    const expected = realSampleTweetIds().length;
    await eventually(async () => ((await tweetsTotal(service)) === expected ? true : undefined));
  });

  it('recovers after being killed (SIGKILL leaves PostgreSQL or its pid file behind)', async () => {
    await services[0]!.stop('SIGKILL');
    const service = await startService(env);
    services.push(service);
    expect(await tweetsTotal(service)).toBe(realSampleTweetIds().length);
  });

  it('stops the embedded server on SIGTERM and exits 0', async () => {
    expect(await services[1]!.stop('SIGTERM')).toBe(0);
    expect(await portOpen(postgresPort)).toBe(false);
  });
});
