/**
 * Durations in scenario files (scenarios/README.md) are strings with a unit: `250ms`, `2s`, `1.5s`, `2m`,
 * `1h`. A bare number is refused on purpose: `deadline: 10` would be ambiguous (ms? s?), and
 * the scenario format promises the unit is always written.
 */

const UNIT_MS: Readonly<Record<string, bigint>> = { ms: 1n, s: 1_000n, m: 60_000n, h: 3_600_000n };

// Digits, an optional fraction, a unit. No sign, no exponent, no spaces: one spelling per value.
const DURATION_RE = /^(\d+)(?:\.(\d+))?(ms|s|m|h)$/;

// Longer strings cannot denote a safe-integer duration that anyone means; the bound also keeps
// the BigInt arithmetic below trivially cheap on hostile input.
const DURATION_CHARS_MAX = 32;

/**
 * Parses a duration string into integer milliseconds, or returns null when `s` is not one:
 * not a string, no unit, negative, a fraction of a millisecond (`0.5ms`, `1.0005s`), or beyond
 * Number.MAX_SAFE_INTEGER ms.
 */
export function parseDurationMs(s: unknown): number | null {
  if (typeof s !== 'string' || s.length > DURATION_CHARS_MAX) return null;
  const m = DURATION_RE.exec(s);
  if (m === null) return null;
  const [, whole = '', fraction = '', unit = ''] = m;
  const unitMs = UNIT_MS[unit];
  if (unitMs === undefined) return null;
  // Exact decimal arithmetic: value = (whole.fraction) * unitMs must be an integer number of ms.
  const scale = 10n ** BigInt(fraction.length);
  const scaledMs = BigInt(whole + fraction) * unitMs;
  if (scaledMs % scale !== 0n) return null;
  const ms = scaledMs / scale;
  if (ms > BigInt(Number.MAX_SAFE_INTEGER)) return null;
  return Number(ms);
}

/**
 * The shortest spelling of `ms` that parseDurationMs reads back to the same value: whole hours,
 * minutes or seconds when exact, decimal seconds when the value is at least 1 s, else ms.
 * For reports and error messages (`deadline 1.5s`).
 */
export function formatDurationMs(ms: number): string {
  if (!Number.isSafeInteger(ms) || ms < 0) throw new RangeError(`not a duration in ms: ${ms}`);
  if (ms === 0) return '0s';
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms < 1_000) return `${ms}ms`;
  const seconds = Math.floor(ms / 1_000);
  const fraction = String(ms % 1_000).padStart(3, '0').replace(/0+$/, '');
  return fraction === '' ? `${seconds}s` : `${seconds}.${fraction}s`;
}
