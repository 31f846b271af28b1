import { afterEach, beforeEach, vi } from 'vitest';

/**
 * Captures what the CLI writes, for the tests of one file: call at the top level; before each test
 * the returned arrays are emptied and process.stdout/stderr.write are spied into them.
 */
export function captureStdio(): { readonly out: string[]; readonly err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  beforeEach(() => {
    out.length = 0;
    err.length = 0;
    vi.spyOn(process.stdout, 'write').mockImplementation((s) => (out.push(String(s)), true));
    vi.spyOn(process.stderr, 'write').mockImplementation((s) => (err.push(String(s)), true));
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });
  return { out, err };
}
