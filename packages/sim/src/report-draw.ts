/**
 * What every part of the report page draws with: HTML escaping, coordinates, time axes and the
 * colours shared by the CSS and the legends.
 */
import { niceStep } from './report-data.js';

const ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for HTML content and double- or single-quoted attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}
export const esc = escapeHtml;

/** A coordinate with one decimal: short output, and the same string for the same number. */
export function r1(x: number): string {
  return String(Math.round(x * 10) / 10);
}

/** A time label: ms for short spans, seconds once the tick step is a whole second or more. */
function timeLabel(tMs: number, stepMs: number): string {
  return stepMs >= 1000 ? `${Math.round(tMs / 100) / 10} s` : `${tMs} ms`;
}

/** The ticks of a time axis over [t0, t1], about `target` of them. Mirrors `ticks` in the page's script. */
export function axisTicks(t0: number, t1: number, target = 10): { t: number; label: string }[] {
  const step = niceStep((t1 - t0) / target);
  const out: { t: number; label: string }[] = [];
  for (let t = Math.ceil(t0 / step) * step, i = 0; t <= t1 && i < 100; t += step, i++) out.push({ t, label: timeLabel(t, step) });
  return out;
}

export const KIND_COLOURS: readonly (readonly [string, string])[] = [
  ['obs', '#4e79a7'],
  ['proposal', '#b07aa1'],
  ['prevote', '#f28e2b'],
  ['precommit', '#59a14f'],
  ['report', '#222222'],
  ['terms', '#9c755f'],
  ['other', '#999999'],
];

export const STATE_COLOURS: readonly (readonly [string, string])[] = [
  ['none', '#eeeeee'],
  ['locked', '#f2c14e'],
  ['held', '#f2c14e'],
  ['released', '#59a14f'],
  ['posted', '#59a14f'],
  ['refunded', '#76b7b2'],
  ['voided', '#76b7b2'],
  ['reclaimed', '#9c755f'],
  ['rejected', '#e15759'],
  ['closed', '#bab0ac'],
];
