import { UnauthorizedException, type ExecutionContext } from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import { AdminToken } from './admin-token.js';
import { AdminTokenGuard } from './admin-token.guard.js';

const TOKEN = 'a-long-enough-admin-token-0123456789';

function contextWith(authorization: string | undefined) {
  const headers: Record<string, string> = {};
  const context = {
    switchToHttp: () => ({
      getRequest: () => ({ headers: authorization === undefined ? {} : { authorization } }),
      getResponse: () => ({ setHeader: (name: string, value: string) => (headers[name] = value) }),
    }),
  } as unknown as ExecutionContext;
  return { context, headers };
}

describe('AdminTokenGuard', () => {
  const guard = new AdminTokenGuard(AdminToken.fromConfig(TOKEN));

  it('lets the right bearer token through', () => {
    expect(guard.canActivate(contextWith(`Bearer ${TOKEN}`).context)).toBe(true);
    expect(guard.canActivate(contextWith(`bearer   ${TOKEN}`).context)).toBe(true);
  });

  it('answers 401 without a token, asking for a bearer token', () => {
    const { context, headers } = contextWith(undefined);
    expect(() => guard.canActivate(context)).toThrow(UnauthorizedException);
    expect(headers['WWW-Authenticate']).toMatch(/^Bearer/);
  });

  it('answers 401 for a wrong token, a prefix of the token, or another scheme, without echoing it', () => {
    for (const header of ['Bearer wrong', `Bearer ${TOKEN.slice(0, -1)}`, `Bearer ${TOKEN}x`, `Basic ${TOKEN}`, TOKEN]) {
      const { context } = contextWith(header);
      let message = '';
      try {
        guard.canActivate(context);
      } catch (error) {
        expect(error).toBeInstanceOf(UnauthorizedException);
        message = (error as Error).message;
      }
      expect(message).toMatch(/^authorization: /);
      expect(message).not.toContain(TOKEN);
    }
  });
});

describe('AdminToken', () => {
  it('uses ADMIN_TOKEN when set, otherwise generates a strong random one', () => {
    expect(AdminToken.fromConfig(TOKEN)).toMatchObject({ value: TOKEN, generated: false });
    const generated = AdminToken.fromConfig(undefined);
    expect(generated.generated).toBe(true);
    expect(generated.value).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(AdminToken.fromConfig(undefined).value).not.toBe(generated.value);
  });
});
