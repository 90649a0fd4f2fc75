// Number, duration and time formats of the status page: short, in the reader's locale.

const plain = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });
const compact = new Intl.NumberFormat(undefined, { notation: 'compact', maximumFractionDigits: 1 });

/** 950, 9,876, then 12.3K, 4.5M: exact while it is still readable at a glance. */
export function formatCount(value) {
  return Math.abs(value) < 10_000 ? plain.format(value) : compact.format(value);
}

/** 45 s, 12 min, 3 h 05 min, 2 d 4 h. */
export function formatDuration(totalSeconds) {
  const seconds = Math.max(0, Math.round(totalSeconds));
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours} h ${String(minutes % 60).padStart(2, '0')} min`;
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
}

/** Stage times: 0.12 s and 4.5 s stay precise, longer ones read like durations. */
export function formatSeconds(seconds) {
  if (seconds < 1) return `${seconds.toFixed(2)} s`;
  if (seconds < 10) return `${seconds.toFixed(1)} s`;
  return formatDuration(seconds);
}

/** When something `secondsFromNow` away happens: "Tue 14:05", with the date when it is a week or more away. */
export function formatFinish(secondsFromNow, now = new Date()) {
  const at = new Date(now.getTime() + secondsFromNow * 1000);
  const options = secondsFromNow >= 6 * 86_400
    ? { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' }
    : { weekday: 'short', hour: '2-digit', minute: '2-digit' };
  return at.toLocaleString(undefined, options);
}

export function formatClock(date) {
  return new Date(date).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

export function formatPercent(share) {
  return `${Math.round(share * 100)}%`;
}

/** A round upper bound for a chart axis: 1, 2, 5 × 10^n. */
export function niceCeiling(value) {
  if (!(value > 0)) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) {
    if (value <= step * magnitude) return step * magnitude;
  }
  return 10 * magnitude;
}
