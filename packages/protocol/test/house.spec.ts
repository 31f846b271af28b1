/**
 * The house rules of the repository, checked on every run (beside the purity gate):
 *  - no import circle anywhere (madge over every package's src/ and simulations/src/);
 *  - no repeated logic outside tests (jscpd: no clone of CLONE_LINES_MIN lines or more);
 *  - no source file over FILE_LINES_MAX lines (generated files aside), no CLI command file over
 *    COMMAND_LINES_MAX (a command parses its options and calls a package);
 *  - nothing depends on the CLI.
 * Each detector is first shown a fixture it must flag, so a gate cannot pass by seeing nothing.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import madge from 'madge';
import { describe, expect, it } from 'vitest';

/**
 * jscpd runs as its own process: in-process it reads the host's argv as its own options (under
 * vitest it then scans node_modules), and its ES module build does not load.
 */
const JSCPD_BIN = join(createRequire(import.meta.url).resolve('jscpd'), '../../bin/jscpd');

const ROOT = join(import.meta.dirname, '../../..');
const FILE_LINES_MAX = 600;
const COMMAND_LINES_MAX = 150;
/** A block repeated this long is logic written twice (the bar is about 30 lines; this is stricter). */
const CLONE_LINES_MIN = 20;
const CLONE_TOKENS_MIN = 100;
/** Files a tool writes, checked against their sources by their own tests. */
const GENERATED = new Set(['packages/leg-evm/src/artifacts.ts']);
/** Bound on the directory walk: a tree deeper than this is a symlink loop, not source. */
const DEPTH_MAX = 12;

/** The source roots: every package's src/ and the experiments' src/. */
function sourceRoots(): string[] {
  const packages = readdirSync(join(ROOT, 'packages')).map((p) => join(ROOT, 'packages', p, 'src'));
  return [...packages, join(ROOT, 'simulations/src')].filter((d) => existsSync(d));
}

function tsFiles(dir: string, depth = 0): string[] {
  expect(depth, `${dir}: deeper than ${DEPTH_MAX} levels`).toBeLessThan(DEPTH_MAX);
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...tsFiles(path, depth + 1));
    else if (name.endsWith('.ts')) out.push(path);
  }
  return out;
}

const lineCount = (path: string) => readFileSync(path, 'utf8').split('\n').length - 1;

async function circles(dirs: readonly string[]): Promise<string[][]> {
  const graph = await madge([...dirs], { fileExtensions: ['ts'] });
  return graph.circular();
}

function clones(dirs: readonly string[]): string[] {
  const out = mkdtempSync(join(tmpdir(), 'tandem-jscpd-'));
  const args = ['--format', 'typescript', '--min-lines', String(CLONE_LINES_MIN), '--min-tokens', String(CLONE_TOKENS_MIN), '--ignore', [...GENERATED].map((g) => `**/${g}`).join(','), '--noSymlinks', '--absolute', '--silent', '--reporters', 'json', '--output', out, ...dirs];
  execFileSync(process.execPath, [JSCPD_BIN, ...args], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'], timeout: 120_000 });
  const report = JSON.parse(readFileSync(join(out, 'jscpd-report.json'), 'utf8')) as { duplicates: { firstFile: ClonePlace; secondFile: ClonePlace }[] };
  const where = (p: ClonePlace) => `${relative(ROOT, p.name)}:${p.start}-${p.end}`;
  return report.duplicates.map((c) => `${where(c.firstFile)} repeats ${where(c.secondFile)}`);
}

/** A side of a clone in jscpd's JSON report. */
interface ClonePlace {
  readonly name: string;
  readonly start: number;
  readonly end: number;
}

/** A fixture directory with the given files. */
function fixture(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'tandem-house-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

describe('the house rules', () => {
  it('madge sees a circle when there is one (the gate is not blind)', async () => {
    const dir = fixture({ 'a.ts': "import { b } from './b.js';\nexport const a = () => b;\n", 'b.ts': "import type { a } from './a.js';\nexport const b = 1;\nexport type A = typeof a;\n" });
    expect(await circles([dir])).toEqual([['a.ts', 'b.ts']]);
  });

  it('no import circle in any package or in simulations/src', async () => {
    expect(await circles(sourceRoots())).toEqual([]);
  }, 60_000);

  it('jscpd sees logic written twice when there is some (the gate is not blind)', async () => {
    const body = Array.from({ length: CLONE_LINES_MIN + 5 }, (_, i) => `  total += weights[${i}]! * values[${i}]! - offsets[${i % 3}]!;`).join('\n');
    const fn = (name: string) => `export function ${name}(weights: number[], values: number[], offsets: number[]): number {\n  let total = 0;\n${body}\n  return total;\n}\n`;
    const dir = fixture({ 'one.ts': fn('one'), 'two.ts': fn('two') });
    expect(clones([dir])).toHaveLength(1);
  }, 60_000);

  it(`no logic written twice outside tests (no clone of ${CLONE_LINES_MIN} lines or more)`, async () => {
    expect(clones(sourceRoots())).toEqual([]);
  }, 120_000);

  it(`no source file over ${FILE_LINES_MAX} lines, no CLI command file over ${COMMAND_LINES_MAX}`, () => {
    const files = sourceRoots().flatMap((d) => tsFiles(d));
    expect(files.length).toBeGreaterThan(100);
    const long = files.filter((f) => !GENERATED.has(relative(ROOT, f)) && lineCount(f) > FILE_LINES_MAX).map((f) => `${relative(ROOT, f)}: ${lineCount(f)} lines`);
    expect(long).toEqual([]);
    const commands = tsFiles(join(ROOT, 'packages/cli/src/commands'));
    expect(commands.length).toBeGreaterThan(5);
    const fat = commands.filter((f) => lineCount(f) > COMMAND_LINES_MAX).map((f) => `${relative(ROOT, f)}: ${lineCount(f)} lines`);
    expect(fat).toEqual([]);
  });

  it('nothing depends on the CLI', () => {
    const manifests = [...readdirSync(join(ROOT, 'packages')).map((p) => join(ROOT, 'packages', p, 'package.json')), join(ROOT, 'simulations/package.json')].filter((f) => existsSync(f));
    const dependents = manifests.filter((f) => {
      const m = JSON.parse(readFileSync(f, 'utf8')) as { dependencies?: Record<string, string>; devDependencies?: Record<string, string> };
      return '@tandem/cli' in { ...m.dependencies, ...m.devDependencies };
    });
    expect(dependents.map((f) => relative(ROOT, f))).toEqual([]);
  });
});
