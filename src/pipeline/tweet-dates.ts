// Dates as tweets carry them, to ISO 8601 UTC (`2018-03-10T12:00:00.000Z`), by hand: the v1.1
// format is fixed-width, and Date.parse of non-ISO strings is implementation-defined.

const MONTH_INDEX = new Map([
  ['Jan', 0],
  ['Feb', 1],
  ['Mar', 2],
  ['Apr', 3],
  ['May', 4],
  ['Jun', 5],
  ['Jul', 6],
  ['Aug', 7],
  ['Sep', 8],
  ['Oct', 9],
  ['Nov', 10],
  ['Dec', 11],
]);

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

// Years 0001 to 9999: the range where toISOString writes four-digit years, which is what
// PostgreSQL reads back.
const MIN_TIME_MS = -62_135_596_800_000; // 0001-01-01T00:00:00.000Z
const MAX_TIME_MS = 253_402_300_799_999; // 9999-12-31T23:59:59.999Z

// Tweet ids since November 2010 are snowflakes: milliseconds since this epoch, shifted 22 bits.
const SNOWFLAKE_EPOCH_MS = 1_288_834_974_657;
const SNOWFLAKE_TIMESTAMP_SHIFT = 22n;
// Older ids are plain counters; read as snowflakes they fall within hours of the epoch.
const SNOWFLAKE_MIN_OFFSET_MS = 24 * 3600 * 1000;

const ISO_DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d{1,9})?(?:Z|[+-]\d{2}:?\d{2})$/;

/** `Sat Mar 10 12:00:00 +0000 2018` (the v1.1 `created_at`) → ISO UTC, or null. */
export function parseTwitterDate(text: string): string | null {
  // Fixed width: "Www Mmm dd hh:mm:ss +hhmm yyyy"
  if (
    text.length !== 30 ||
    text[3] !== ' ' ||
    text[7] !== ' ' ||
    text[10] !== ' ' ||
    text[13] !== ':' ||
    text[16] !== ':' ||
    text[19] !== ' ' ||
    text[25] !== ' '
  ) {
    return null;
  }
  const month = MONTH_INDEX.get(text.slice(4, 7));
  const day = readDigits(text, 8, 2);
  const hour = readDigits(text, 11, 2);
  const minute = readDigits(text, 14, 2);
  const second = readDigits(text, 17, 2);
  const offsetHours = readDigits(text, 21, 2);
  const offsetMinutes = readDigits(text, 23, 2);
  const year = readDigits(text, 26, 4);
  const sign = text[20] === '+' ? 1 : text[20] === '-' ? -1 : 0;
  if (
    month === undefined ||
    sign === 0 ||
    year < 1 ||
    day < 1 ||
    day > daysInMonth(year, month) ||
    hour < 0 ||
    hour > 23 ||
    minute < 0 ||
    minute > 59 ||
    second < 0 ||
    second > 59 ||
    offsetHours < 0 ||
    offsetHours > 23 ||
    offsetMinutes < 0 ||
    offsetMinutes > 59
  ) {
    return null;
  }
  if (offsetHours === 0 && offsetMinutes === 0) {
    // Always the case in Twitter's data: assemble the string, no Date needed.
    const monthText = month < 9 ? `0${month + 1}` : `${month + 1}`;
    return `${text.slice(26, 30)}-${monthText}-${text.slice(8, 10)}T${text.slice(11, 19)}.000Z`;
  }
  const offsetMs = sign * (offsetHours * 60 + offsetMinutes) * 60_000;
  return isoFromTimeMs(Date.UTC(year, month, day, hour, minute, second) - offsetMs);
}

/** An ISO 8601 date-time (v2's `created_at`) → normalised ISO UTC, or null. */
export function normaliseIsoDate(text: string): string | null {
  const match = ISO_DATE_TIME.exec(text);
  if (match === null) {
    return null;
  }
  const year = Number(match[1]);
  const month = Number(match[2]) - 1;
  const day = Number(match[3]);
  if (
    month < 0 ||
    month > 11 ||
    day < 1 ||
    day > daysInMonth(year, month) ||
    Number(match[4]) > 23 ||
    Number(match[5]) > 59 ||
    Number(match[6]) > 59
  ) {
    return null;
  }
  // Date.parse is specified for this (ISO) format.
  return isoFromTimeMs(Date.parse(text));
}

/** `timestamp_ms` (milliseconds since 1970, as a string or a number) → ISO UTC, or null. */
export function isoFromTimestampMs(value: unknown): string | null {
  if (typeof value === 'string') {
    return /^\d{1,15}$/.test(value) ? isoFromTimeMs(Number(value)) : null;
  }
  if (typeof value === 'number' && Number.isInteger(value)) {
    return isoFromTimeMs(value);
  }
  return null;
}

/** The creation time encoded in a snowflake tweet id (2010-11 onwards) → ISO UTC, or null. */
export function isoFromSnowflakeId(id: string): string | null {
  const offsetMs = Number(BigInt(id) >> SNOWFLAKE_TIMESTAMP_SHIFT);
  if (offsetMs < SNOWFLAKE_MIN_OFFSET_MS) {
    return null;
  }
  return isoFromTimeMs(SNOWFLAKE_EPOCH_MS + offsetMs);
}

function isoFromTimeMs(timeMs: number): string | null {
  if (!Number.isFinite(timeMs) || timeMs < MIN_TIME_MS || timeMs > MAX_TIME_MS) {
    return null;
  }
  return new Date(timeMs).toISOString();
}

function daysInMonth(year: number, month: number): number {
  return month === 1 && isLeapYear(year) ? 29 : DAYS_IN_MONTH[month];
}

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

/** The decimal number in text[start, start + length), or -1 if any character is not a digit. */
function readDigits(text: string, start: number, length: number): number {
  let value = 0;
  for (let index = start; index < start + length; index++) {
    const digit = text.charCodeAt(index) - 48;
    if (digit < 0 || digit > 9) {
      return -1;
    }
    value = value * 10 + digit;
  }
  return value;
}
