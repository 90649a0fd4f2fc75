import { Injectable, UnauthorizedException, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { createHash, timingSafeEqual } from 'node:crypto';
import { AdminToken } from './admin-token.js';

/**
 * `Authorization: Bearer <ADMIN_TOKEN>` on every admin route. The comparison is constant-time:
 * both sides are hashed first so that timingSafeEqual gets equal lengths and the token's length
 * does not leak either. Neither the header nor the token is ever logged.
 */
@Injectable()
export class AdminTokenGuard implements CanActivate {
  private readonly expectedDigest: Buffer;

  constructor(token: AdminToken) {
    this.expectedDigest = digest(token.value);
  }

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<{ headers: { authorization?: string } }>();
    const presented = bearerToken(request.headers.authorization);
    if (presented !== null && timingSafeEqual(digest(presented), this.expectedDigest)) return true;
    const response = context.switchToHttp().getResponse<{ setHeader(name: string, value: string): void }>();
    response.setHeader('WWW-Authenticate', 'Bearer realm="tweet-ingest admin"');
    throw new UnauthorizedException(
      presented === null ? 'authorization: expected "Bearer <ADMIN_TOKEN>"' : 'authorization: invalid token',
    );
  }
}

function bearerToken(header: string | undefined): string | null {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match ? match[1]! : null;
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}
