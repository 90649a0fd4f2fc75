import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { PAUSED_SETTING_KEY } from '../ingest/files.repository.js';

export interface PausedSetting {
  paused: boolean;
  /** When it was last switched; null when it never was. */
  updatedAt: Date | null;
}

/** Cluster-wide switches in `service_settings`, shared by every replica through the database. */
@Injectable()
export class SettingsRepository {
  constructor(private readonly dataSource: DataSource) {}

  async readPaused(): Promise<PausedSetting> {
    const rows: { value: unknown; updated_at: Date }[] = await this.dataSource.query(
      `SELECT value, updated_at FROM service_settings WHERE key = $1`,
      [PAUSED_SETTING_KEY],
    );
    const row = rows[0];
    return { paused: row?.value === true, updatedAt: row?.updated_at ?? null };
  }

  async writePaused(paused: boolean): Promise<PausedSetting> {
    const rows: { value: unknown; updated_at: Date }[] = await this.dataSource.query(
      `INSERT INTO service_settings (key, value, updated_at) VALUES ($1, $2::jsonb, now())
       ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at
       RETURNING value, updated_at`,
      [PAUSED_SETTING_KEY, JSON.stringify(paused)],
    );
    return { paused: rows[0]!.value === true, updatedAt: rows[0]!.updated_at };
  }
}
