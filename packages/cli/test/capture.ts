import { afterEach, beforeEach, vi } from 'vitest';
import { main } from '../src/main.js';

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

/** Runs `tandem …args` in-process; returns the exit code and what it wrote (nothing reaches the terminal). */
export async function tandem(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s) => (out.push(String(s)), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s) => (err.push(String(s)), true));
  try {
    return { code: await main(['node', 'tandem', ...args]), out: out.join(''), err: err.join('') };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}
