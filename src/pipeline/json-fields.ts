// Typed reads from parsed, untrusted JSON. A field of the wrong type reads as absent, so a
// malformed tweet degrades to nulls or a rejection, never to an exception.

export type JsonObject = { readonly [key: string]: unknown };

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function readObject(parent: JsonObject | undefined, key: string): JsonObject | undefined {
  const value = parent?.[key];
  return isJsonObject(value) ? value : undefined;
}

export function readString(parent: JsonObject | undefined, key: string): string | undefined {
  const value = parent?.[key];
  return typeof value === 'string' ? value : undefined;
}

export function readArray(parent: JsonObject | undefined, key: string): readonly unknown[] {
  const value = parent?.[key];
  return Array.isArray(value) ? value : [];
}

/** The string `key` of every object in `items`, skipping the rest. */
export function readStringsOf(items: readonly unknown[], key: string): string[] {
  const strings: string[] = [];
  for (const item of items) {
    const value = isJsonObject(item) ? item[key] : undefined;
    if (typeof value === 'string') {
      strings.push(value);
    }
  }
  return strings;
}

/** A short description of a JSON value's type, for rejection reasons. */
export function describeJsonType(value: unknown): string {
  if (value === null) {
    return 'null';
  }
  if (Array.isArray(value)) {
    return 'an array';
  }
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}
