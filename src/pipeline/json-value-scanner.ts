// Byte values the scanners look for.
export const LINE_FEED = 0x0a;
export const CARRIAGE_RETURN = 0x0d;
const SPACE = 0x20;
const TAB = 0x09;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
export const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
export const OPEN_BRACKET = 0x5b;
export const CLOSE_BRACKET = 0x5d;

/** JSON's insignificant whitespace. */
export function isJsonWhitespace(byte: number): boolean {
  return byte === SPACE || byte === LINE_FEED || byte === CARRIAGE_RETURN || byte === TAB;
}

export function isComma(byte: number): boolean {
  return byte === COMMA;
}

/** How the first value of a stream relates to its first line. */
export type FirstLineShape =
  | 'single-line' // the value closes before the first line break: JSON lines
  | 'multi-line' // a line break comes inside the value (pretty-printed): concatenated values
  | 'broken-line'; // a line break inside a string: not valid JSON, treat as JSON lines

/**
 * Finds where a JSON value ends without parsing it, one chunk at a time: it tracks nesting
 * depth, strings and escapes, and keeps that state between calls. Cheap enough to run over
 * every byte of a JSON array file; validating the value is JSON.parse's job, later.
 */
export class JsonValueScanner {
  private depth = 0;
  private inString = false;
  private escaped = false;
  private scalar = false;

  /** Starts a value at `position` (its first byte, not whitespace); returns the next position. */
  begin(bytes: Uint8Array, position: number): number {
    const first = bytes[position];
    this.depth = first === OPEN_BRACE || first === OPEN_BRACKET ? 1 : 0;
    this.inString = first === QUOTE;
    this.escaped = false;
    this.scalar = this.depth === 0 && !this.inString;
    return position + 1;
  }

  /**
   * The position just past the end of the value, or -1 when it goes on past `to`.
   * A scalar (number, true, false, null, or garbage) ends before the next delimiter.
   */
  findEnd(bytes: Uint8Array, from: number, to: number): number {
    if (this.scalar) {
      for (let position = from; position < to; position++) {
        if (isScalarDelimiter(bytes[position])) {
          return position;
        }
      }
      return -1;
    }
    let depth = this.depth;
    let inString = this.inString;
    let escaped = this.escaped;
    for (let position = from; position < to; position++) {
      const byte = bytes[position];
      if (inString) {
        if (escaped) {
          escaped = false;
        } else if (byte === BACKSLASH) {
          escaped = true;
        } else if (byte === QUOTE) {
          inString = false;
          if (depth === 0) {
            this.inString = false;
            return position + 1;
          }
        }
      } else if (byte === QUOTE) {
        inString = true;
      } else if (byte === OPEN_BRACE || byte === OPEN_BRACKET) {
        depth++;
      } else if (byte === CLOSE_BRACE || byte === CLOSE_BRACKET) {
        depth--;
        if (depth === 0) {
          this.depth = 0;
          return position + 1;
        }
      }
    }
    this.depth = depth;
    this.inString = inString;
    this.escaped = escaped;
    return -1;
  }

  /**
   * Like findEnd for a stream's first value, but stops at the first line break: decides between
   * JSON lines and pretty-printed concatenated values. `shape` is undefined when `to` came first.
   */
  findFirstLineShape(
    bytes: Uint8Array,
    from: number,
    to: number,
  ): { shape: FirstLineShape | undefined; next: number } {
    for (let position = from; position < to; position++) {
      const byte = bytes[position];
      if (byte === LINE_FEED) {
        return { shape: this.inString ? 'broken-line' : 'multi-line', next: position };
      }
      if (this.findEnd(bytes, position, position + 1) !== -1) {
        return { shape: 'single-line', next: position + 1 };
      }
    }
    return { shape: undefined, next: to };
  }
}

function isScalarDelimiter(byte: number): boolean {
  return (
    isJsonWhitespace(byte) ||
    byte === COMMA ||
    byte === CLOSE_BRACKET ||
    byte === CLOSE_BRACE ||
    byte === OPEN_BRACE ||
    byte === OPEN_BRACKET ||
    byte === QUOTE
  );
}
