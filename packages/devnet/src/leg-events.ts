/** A leg host's whole event log, read page by page through its admin API. */
import { type LegHostAdminClient } from '@tandem/leg-host';
import type { LegEvent } from '@tandem/legs';
import type { LegName } from '@tandem/protocol';
import { retried } from './http.js';

/** Bound on pages read: a log longer than this many pages means something is wrong. */
const EVENT_PAGES_MAX = 100_000;

/** Every event of `leg` so far, oldest first (each page read with retries: reads are idempotent). */
export async function readLegEvents(admin: LegHostAdminClient, leg: LegName): Promise<LegEvent[]> {
  const out: LegEvent[] = [];
  let since = 0;
  for (let page = 0; page < EVENT_PAGES_MAX; page++) {
    const got = await retried(() => admin.events(leg, since));
    out.push(...got.events);
    if (got.events.length === 0 || got.events[got.events.length - 1]!.seq >= got.height) return out;
    since = got.events[got.events.length - 1]!.seq;
  }
  throw new Error(`the ${leg} leg's event log is longer than ${EVENT_PAGES_MAX} pages`);
}
