/** Option parsing and file helpers shared by several commands. Every problem is a UsageError (exit 2). */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { ScenarioError, parseScenario } from '@tandem/sim';
import { UsageError } from './errors.js';

/** Reads and parses a scenario file; every problem is a UsageError (exit 2) naming the file. */
export function loadScenarioFile(file: string) {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read scenario file ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  try {
    return parseScenario(text, file);
  } catch (e) {
    if (e instanceof ScenarioError) throw new UsageError(e.message);
    throw e;
  }
}

export function parseSeed(value: string | undefined, option = '--seed'): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value))) throw new UsageError(`${option}: expected a non-negative integer, got '${value}'`);
  return Number(value);
}

export function replayCommand(file: string, seed: number, mode: 'sim' | 'cluster' = 'sim'): string {
  return `pnpm tandem simulate ${file}${mode === 'cluster' ? ' --mode cluster' : ''} --seed ${seed}`;
}

/** Writes a file atomically: a temp file renamed into place, so a crash leaves no half file. */
export function writeFileAtomic(path: string, data: string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

/**
 * Makes sure `dir` is a directory this process can write to, creating it (and missing parents)
 * first; a UsageError naming `option` and the path otherwise. Called before any long work, so an
 * unusable path fails at once. One level at a time: a recursive mkdir can spin forever on a
 * pseudo-filesystem such as /proc.
 */
export function prepareOutDir(dir: string, option = '--out'): void {
  const missing: string[] = [];
  for (let p = resolve(dir); !existsSync(p); p = dirname(p)) {
    missing.unshift(p);
    if (dirname(p) === p) break;
  }
  const probe = join(dir, `.tandem-write-test-${process.pid}`);
  try {
    for (const m of missing) mkdirSync(m);
    writeFileSync(probe, '');
    rmSync(probe);
  } catch (e) {
    throw new UsageError(`${option} ${dir}: not a directory this process can write to (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

/** `--protocol 1|2`, or undefined when not given; anything else is a usage error (exit 2). */
export function parseProtocol(v: string | undefined): 1 | 2 | undefined {
  if (v === undefined) return undefined;
  if (v !== '1' && v !== '2') throw new UsageError(`--protocol ${v}: expected 1 or 2`);
  return v === '2' ? 2 : 1;
}
