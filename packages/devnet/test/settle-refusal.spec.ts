/** What `settle` prints when a node refuses the intent: the node's reason and when to retry, not the raw HTTP answer. */
import { describe, expect, it } from 'vitest';
import { PostError } from '../src/http.js';
import { refusalText } from '../src/settle.js';

const URL = 'http://127.0.0.1:7001/intents';

describe('settle: a refused intent', () => {
  it('prints the refusal with its retry estimate (full), or without one (late)', () => {
    const full = { error: 'intent refused (full): this node holds 5000 undecided settlements (at most 5000)', reason: 'full', retryAfterMs: 4_200 };
    expect(refusalText(new PostError(URL, 429, JSON.stringify(full)))).toBe(`${full.error} (retry after 5 s)`);
    const late = { error: "intent refused (late): its deadline passed 5 ms ago on this node's clock: it could only abort", reason: 'late', retryAfterMs: null };
    expect(refusalText(new PostError(URL, 422, JSON.stringify(late)))).toBe(late.error);
  });

  it('prints any other failure as it was', () => {
    expect(refusalText(new PostError(URL, 401, '{"error":"unauthorized"}'))).toBe(`${URL}: HTTP 401 {"error":"unauthorized"}`);
    expect(refusalText(new PostError(URL, 422, 'not json'))).toBe(`${URL}: HTTP 422 not json`);
    expect(refusalText(new Error('fetch failed'))).toBe('fetch failed');
  });
});
