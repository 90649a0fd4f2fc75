import { describe, expect, it } from 'vitest';
import type { DataSource } from 'typeorm';
import { SettingsRepository } from '../../src/pause/settings.repository.js';
import { useTestDataSource } from '../support/medium-fixture.js';

describe('SettingsRepository (real PostgreSQL)', () => {
  let dataSource: DataSource;

  useTestDataSource({ poolSize: 2 }, (connected) => {
    dataSource = connected;
  });

  it('is not paused until someone pauses, and every reader sees the switch', async () => {
    const one = new SettingsRepository(dataSource);
    const another = new SettingsRepository(dataSource);
    expect(await one.readPaused()).toEqual({ paused: false, updatedAt: null });
    expect(await one.writePaused(true)).toMatchObject({ paused: true, updatedAt: expect.any(Date) });
    expect((await another.readPaused()).paused).toBe(true);
    await another.writePaused(false);
    expect((await one.readPaused()).paused).toBe(false);
    const rows: unknown[] = await dataSource.query('SELECT key FROM service_settings');
    expect(rows).toEqual([{ key: 'ingest.paused' }]);
  });
});
