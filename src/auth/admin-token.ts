import { randomBytes } from 'node:crypto';

/**
 * The bearer token of the admin API: ADMIN_TOKEN, or (outside production, where the
 * configuration makes ADMIN_TOKEN mandatory) one generated at boot and printed once.
 */
export class AdminToken {
  private constructor(
    readonly value: string,
    readonly generated: boolean,
  ) {}

  static fromConfig(configured: string | undefined): AdminToken {
    if (configured) return new AdminToken(configured, false);
    // 32 random bytes: as strong as a configured token needs to be, URL- and shell-safe.
    return new AdminToken(randomBytes(32).toString('base64url'), true);
  }
}
