import { ArgumentsHost, Catch, HttpException, HttpStatus, Inject, type ExceptionFilter } from '@nestjs/common';
import type { Logger } from 'pino';
import { LOGGER } from '../logging/logger.js';

// The part of Express's response this filter uses (the project has no @types/express).
interface JsonResponse {
  status(code: number): { json(body: unknown): void };
}

/** The one shape of every error the HTTP API answers. */
export interface ErrorBody {
  statusCode: number;
  error: string;
  message: string;
}

/**
 * Every error becomes JSON `{statusCode, error, message}` with one message string (validation
 * messages joined with '; '). Unexpected errors answer 500 without their details, which go to
 * the log instead. Errors of Express's body parser (too large, malformed JSON) get a message
 * naming the body. Terminus's health reports pass through unchanged: probes and dashboards
 * read them as they are.
 */
@Catch()
export class HttpExceptionFilter implements ExceptionFilter {
  constructor(@Inject(LOGGER) private readonly logger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<JsonResponse>();
    if (exception instanceof HttpException && isHealthReport(exception.getResponse())) {
      response.status(exception.getStatus()).json(exception.getResponse());
      return;
    }
    const body = toErrorBody(exception);
    if (body.statusCode >= 500) {
      this.logger.error({ err: exception instanceof Error ? (exception.stack ?? exception.message) : String(exception) }, 'request failed');
    }
    response.status(body.statusCode).json(body);
  }
}

export function toErrorBody(exception: unknown): ErrorBody {
  // Nest wraps body-parser's errors in an HttpException whose cause is the original error.
  const parserError = bodyParserError(exception instanceof HttpException ? exception.cause : exception);
  if (parserError) return parserError;
  if (exception instanceof HttpException) {
    const statusCode = exception.getStatus();
    const payload = exception.getResponse();
    const message = typeof payload === 'string' ? payload : messageOf((payload as { message?: unknown }).message) ?? exception.message;
    return { statusCode, error: reasonPhrase(statusCode), message };
  }
  return { statusCode: 500, error: reasonPhrase(500), message: 'internal error' };
}

function messageOf(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map(String).join('; ');
  return undefined;
}

// body-parser's errors: `status` plus a `type` such as 'entity.too.large' or 'entity.parse.failed'.
function bodyParserError(exception: unknown): ErrorBody | null {
  const candidate = exception as { status?: unknown; type?: unknown } | null;
  if (!candidate || typeof candidate.status !== 'number' || typeof candidate.type !== 'string') return null;
  const statusCode = candidate.status;
  if (statusCode < 400 || statusCode >= 500) return null;
  const messages: Record<string, string> = {
    'entity.too.large': 'body: larger than the 16 KiB limit',
    'entity.parse.failed': 'body: malformed JSON',
    'encoding.unsupported': 'body: unsupported encoding',
    'charset.unsupported': 'body: unsupported charset',
  };
  return { statusCode, error: reasonPhrase(statusCode), message: messages[candidate.type] ?? `body: ${candidate.type}` };
}

function isHealthReport(payload: unknown): boolean {
  return typeof payload === 'object' && payload !== null && 'status' in payload && 'details' in payload;
}

function reasonPhrase(statusCode: number): string {
  const name = HttpStatus[statusCode];
  if (!name) return 'Error';
  // HttpStatus names are CONSTANT_CASE: BAD_REQUEST → Bad Request.
  return name
    .toLowerCase()
    .split('_')
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join(' ');
}
