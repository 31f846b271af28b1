import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** The crypto package is pure (README.md, Architecture): no clock, ambient randomness, timers, process or I/O. */
const FORBIDDEN: readonly [RegExp, string][] = [
  [/\bDate\b/, 'Date'],
  [/Math\.random/, 'Math.random'],
  [/\bset(Timeout|Interval|Immediate)\b/, 'timers'],
  [/\bprocess\b/, 'process'],
  [/from\s+['"]node:/, 'node: imports'],
  [/libp2p/, 'libp2p'],
  [/\brandomBytes\s*\(\s*\)|@noble\/hashes\/utils\.js['"].*randomBytes|\{[^}]*\brandomBytes\b[^}]*\}\s*from\s*['"]@noble/, 'noble randomBytes'],
];

describe('crypto package purity', () => {
  const dir = join(import.meta.dirname, '..', 'src');
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
    it(`${file} uses no clock, ambient randomness, timers, process, node: or libp2p`, () => {
      const text = readFileSync(join(dir, file), 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
      for (const [re, name] of FORBIDDEN) expect(re.test(text), `${file} uses ${name}`).toBe(false);
    });
  }
});
