import { BadRequestException, HttpException, NotFoundException, ServiceUnavailableException, type ArgumentsHost } from '@nestjs/common';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { HttpExceptionFilter, toErrorBody } from './http-exception.filter.js';

function respond(exception: unknown): { status: number; body: unknown } {
  const sent: { status: number; body: unknown } = { status: 0, body: undefined };
  const response = {
    status(code: number) {
      sent.status = code;
      return { json: (body: unknown) => (sent.body = body) };
    },
  };
  const host = { switchToHttp: () => ({ getResponse: () => response }) } as unknown as ArgumentsHost;
  new HttpExceptionFilter(pino({ level: 'silent' })).catch(exception, host);
  return sent;
}

describe('HttpExceptionFilter', () => {
  it('answers an HttpException as {statusCode, error, message}', () => {
    expect(respond(new NotFoundException('id: no backfill 9'))).toEqual({
      status: 404,
      body: { statusCode: 404, error: 'Not Found', message: 'id: no backfill 9' },
    });
  });

  it('joins a list of messages into one string', () => {
    expect(toErrorBody(new BadRequestException(['a: bad', 'b: worse']))).toEqual({ statusCode: 400, error: 'Bad Request', message: 'a: bad; b: worse' });
  });

  it('hides the details of unexpected errors', () => {
    expect(respond(new Error('password=hunter2 in connection string'))).toEqual({
      status: 500,
      body: { statusCode: 500, error: 'Internal Server Error', message: 'internal error' },
    });
  });

  it("names the body for the body parser's errors", () => {
    const tooLarge = Object.assign(new Error('request entity too large'), { status: 413, statusCode: 413, type: 'entity.too.large' });
    expect(toErrorBody(new HttpException('request entity too large', 413, { cause: tooLarge }))).toEqual({
      statusCode: 413,
      error: 'Payload Too Large',
      message: 'body: larger than the 16 KiB limit',
    });
    const malformed = Object.assign(new SyntaxError('Unexpected token'), { status: 400, type: 'entity.parse.failed' });
    expect(toErrorBody(new BadRequestException('Unexpected token', { cause: malformed })).message).toBe('body: malformed JSON');
  });

  it("passes terminus's health report through unchanged", () => {
    const report = { status: 'error', info: {}, error: { database: { status: 'down' } }, details: { database: { status: 'down' } } };
    expect(respond(new ServiceUnavailableException(report))).toEqual({ status: 503, body: report });
  });
});
