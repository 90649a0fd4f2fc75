import { BadRequestException, ValidationPipe, type ArgumentMetadata, type ValidationError } from '@nestjs/common';

/**
 * Request validation for every route: unknown fields are refused (whitelist +
 * forbidNonWhitelisted), query strings are converted to the DTO's types, and each message names
 * its field: `months: each month must be YYYY-MM …; foo: unknown field`.
 */
export function createValidationPipe(): ValidationPipe {
  return new RequestValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    // One message per field: the first check that fails. class-validator runs a property's
    // decorators bottom-up, so DTOs put the type check at the bottom.
    stopAtFirstError: true,
    transform: true,
    exceptionFactory: (errors) => new BadRequestException(validationMessages(errors).join('; ')),
  });
}

/**
 * A JSON body must be an object: an array or a bare value would otherwise be validated element
 * by element and answered with confusing field names.
 */
class RequestValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type === 'body' && value !== undefined && (typeof value !== 'object' || value === null || Array.isArray(value))) {
      throw new BadRequestException('body: must be a JSON object');
    }
    if (typeof value === 'object' && value !== null) {
      const key = PROTOTYPE_KEYS.find((name) => Object.hasOwn(value, name));
      if (key) throw new BadRequestException(`${key}: unknown field`);
    }
    return super.transform(value, metadata);
  }
}

// JSON.parse makes these own keys, but class-transformer drops them before the whitelist check
// sees them: `{"prefix": "in/", "__proto__": {…}}` was accepted with the key silently ignored.
// They are never fields of a DTO, and an unknown field is a 400 like any other.
const PROTOTYPE_KEYS = ['__proto__', 'constructor', 'prototype'];

/** `field: message` for every failed constraint, nested fields as `parent.child`. */
export function validationMessages(errors: readonly ValidationError[], parentPath = ''): string[] {
  const messages: string[] = [];
  for (const error of errors) {
    const path = error.property ? (parentPath ? `${parentPath}.${error.property}` : error.property) : parentPath || 'body';
    for (const [constraint, message] of Object.entries(error.constraints ?? {})) {
      messages.push(`${path}: ${describeConstraint(constraint, message, path)}`);
    }
    messages.push(...validationMessages(error.children ?? [], path));
  }
  return messages;
}

function describeConstraint(constraint: string, message: string, path: string): string {
  if (constraint === 'whitelistValidation') return 'unknown field';
  if (constraint === 'unknownValue') return 'must be a JSON object';
  // class-validator's built-in messages start with the property name; ours do not.
  return message.startsWith(`${path} `) ? message.slice(path.length + 1) : message;
}
