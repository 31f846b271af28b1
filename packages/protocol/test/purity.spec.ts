/**
 * The purity gate (README.md, Architecture): `protocol`, `crypto` and `consensus` stay sans-IO and
 * deterministic. Their sources may not import Node built-ins or libp2p, nor touch the clock, timers,
 * the process, or ambient randomness. Determinism of the simulator rests on this.
 *
 * The scanner is a small tokenizer, not a regular expression over raw text: comments, string
 * literals, template text and regular-expression literals are dropped before identifiers are
 * matched (so a comment that says "Date" passes), while module specifiers, which are string
 * literals, are read from their import position. It is tested on its own below, so the gate
 * cannot pass by matching nothing.
 */
import { readFileSync, readdirSync, statSync, existsSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// ---------------------------------------------------------------------------------------------
// Tokenizer

type TokenKind = 'ident' | 'string' | 'punct' | 'other';
interface Token {
  readonly kind: TokenKind;
  readonly text: string;
  readonly line: number;
}
interface Tokenized {
  readonly tokens: readonly Token[];
  /** `/// <reference types="node" />` directives: comments that pull in Node's globals. */
  readonly nodeReferenceLines: readonly number[];
}

/** Keywords after which a `/` starts a regular expression rather than a division. */
const REGEX_AFTER_KEYWORDS = new Set(['return', 'typeof', 'instanceof', 'in', 'of', 'new', 'delete', 'void', 'throw', 'case', 'do', 'else', 'yield', 'await']);

function regexAllowedAfter(prev: Token | undefined): boolean {
  if (prev === undefined) return true;
  if (prev.kind === 'ident') return REGEX_AFTER_KEYWORDS.has(prev.text);
  if (prev.kind === 'punct') return prev.text !== ')' && prev.text !== ']' && prev.text !== '}';
  return false; // after a number, string, template or regex: a division
}

const IDENT_START = /[A-Za-z_$\u0080-\uffff]/;
const IDENT_PART = /[\w$\u0080-\uffff]/;
const NODE_REFERENCE = /^\/\/\/\s*<reference\s+types\s*=\s*["']node["']/;

class Tokenizer {
  private i = 0;
  private line = 1;
  private readonly tokens: Token[] = [];
  private readonly nodeReferenceLines: number[] = [];
  /** One entry per open `${`: how many `{` are open inside that substitution. */
  private readonly substitutions: number[] = [];

  constructor(private readonly src: string) {}

  run(): Tokenized {
    const src = this.src;
    if (src.startsWith('#!')) this.lineComment(); // a shebang line is not code
    while (this.i < src.length) {
      const c = src[this.i]!;
      const next = src[this.i + 1];
      if (c === '\n') {
        this.line++;
        this.i++;
      } else if (/\s/.test(c)) this.i++;
      else if (c === '/' && next === '/') this.lineComment();
      else if (c === '/' && next === '*') this.blockComment();
      else if (c === '"' || c === "'") this.quoted(c);
      else if (c === '`') {
        this.i++;
        this.templateChunk(true);
      } else if (c === '}' && this.substitutions.at(-1) === 0) {
        this.substitutions.pop();
        this.i++;
        this.templateChunk(false);
      } else if (c === '/' && regexAllowedAfter(this.tokens.at(-1))) this.regex();
      else if (IDENT_START.test(c)) this.push('ident', this.readWhile(IDENT_PART));
      else if (c === '#') {
        this.i++;
        this.push('other', `#${this.readWhile(IDENT_PART)}`); // a private name is never a global
      } else if (/\d/.test(c) || (c === '.' && /\d/.test(next ?? ''))) this.push('other', this.readWhile(/[\w.]/));
      else this.punct(c, next);
    }
    if (this.substitutions.length > 0) throw new Error('unterminated template substitution');
    return { tokens: this.tokens, nodeReferenceLines: this.nodeReferenceLines };
  }

  private push(kind: TokenKind, text: string, line = this.line): void {
    this.tokens.push({ kind, text, line });
  }

  private readWhile(re: RegExp): string {
    const start = this.i;
    while (this.i < this.src.length && re.test(this.src[this.i]!)) this.i++;
    return this.src.slice(start, this.i);
  }

  private countLines(text: string): void {
    for (const ch of text) if (ch === '\n') this.line++;
  }

  private lineComment(): void {
    const end = this.src.indexOf('\n', this.i);
    const stop = end < 0 ? this.src.length : end;
    if (NODE_REFERENCE.test(this.src.slice(this.i, stop))) this.nodeReferenceLines.push(this.line);
    this.i = stop;
  }

  private blockComment(): void {
    const end = this.src.indexOf('*/', this.i + 2);
    if (end < 0) throw new Error(`unterminated comment at line ${this.line}`);
    this.countLines(this.src.slice(this.i, end));
    this.i = end + 2;
  }

  private quoted(quote: string): void {
    const line = this.line;
    let text = '';
    this.i++;
    for (;;) {
      const c = this.src[this.i];
      if (c === undefined || c === '\n') throw new Error(`unterminated string at line ${line}`);
      this.i++;
      if (c === quote) break;
      if (c === '\\') {
        const escaped = this.src[this.i++] ?? '';
        if (escaped === '\n') this.line++;
        text += escaped;
      } else text += c;
    }
    this.push('string', text, line);
  }

  /** Template text up to the closing backtick or the next `${`. */
  private templateChunk(opensTemplate: boolean): void {
    const line = this.line;
    let text = '';
    for (;;) {
      const c = this.src[this.i];
      if (c === undefined) throw new Error(`unterminated template at line ${line}`);
      if (c === '\\') {
        text += this.src.slice(this.i, this.i + 2);
        this.countLines(this.src.slice(this.i, this.i + 2));
        this.i += 2;
      } else if (c === '`') {
        this.i++;
        // A template without substitutions is a plain string (it can name a module).
        this.push(opensTemplate ? 'string' : 'other', text, line);
        return;
      } else if (c === '$' && this.src[this.i + 1] === '{') {
        this.i += 2;
        this.substitutions.push(0);
        this.push('punct', '${', line); // code follows: a `/` there may start a regex
        return;
      } else {
        if (c === '\n') this.line++;
        text += c;
        this.i++;
      }
    }
  }

  private regex(): void {
    const line = this.line;
    let inClass = false;
    this.i++;
    for (;;) {
      const c = this.src[this.i];
      if (c === undefined || c === '\n') throw new Error(`unterminated regular expression at line ${line}`);
      this.i++;
      if (c === '\\') this.i++;
      else if (c === '[') inClass = true;
      else if (c === ']') inClass = false;
      else if (c === '/' && !inClass) break;
    }
    this.readWhile(/[a-z]/); // flags
    this.push('other', '/regex/', line);
  }

  private punct(c: string, next: string | undefined): void {
    if (c === '?' && next === '.' && !/\d/.test(this.src[this.i + 2] ?? '')) {
      this.i += 2;
      this.push('punct', '?.');
      return;
    }
    if (this.src.startsWith('...', this.i)) {
      this.i += 3;
      this.push('punct', '...');
      return;
    }
    const open = this.substitutions.length - 1;
    if (open >= 0 && c === '{') this.substitutions[open]!++;
    if (open >= 0 && c === '}') this.substitutions[open]!--;
    this.i++;
    this.push('punct', c);
  }
}

function tokenize(src: string): Tokenized {
  return new Tokenizer(src).run();
}

// ---------------------------------------------------------------------------------------------
// Rules

interface Violation {
  readonly line: number;
  readonly what: string;
}

/** Ambient globals that carry time, timers, the process or I/O into pure code. */
const FORBIDDEN_GLOBALS = new Set([
  'Date',
  'setTimeout',
  'setInterval',
  'setImmediate',
  'clearTimeout',
  'clearInterval',
  'clearImmediate',
  'queueMicrotask',
  'performance',
  'process',
]);
/** Names of the global object: `globalThis.Date` is `Date`. */
const GLOBAL_OBJECTS = new Set(['globalThis', 'window', 'self', 'global']);
/** Members that are ambient randomness, by the object they hang on. */
const FORBIDDEN_MEMBERS: ReadonlyMap<string, ReadonlySet<string>> = new Map([
  ['Math', new Set(['random'])],
  ['crypto', new Set(['getRandomValues', 'randomUUID'])],
]);

const NODE_BUILTINS: ReadonlySet<string> = new Set(builtinModules);

function forbiddenModule(specifier: string): boolean {
  return (
    specifier.startsWith('node:') ||
    NODE_BUILTINS.has(specifier) || // 'fs', 'crypto', 'timers', 'fs/promises', …
    specifier === 'libp2p' ||
    specifier.startsWith('libp2p/') ||
    specifier.startsWith('@libp2p/') ||
    specifier.startsWith('@chainsafe/')
  );
}

const isPunct = (t: Token | undefined, ...texts: string[]): boolean => t?.kind === 'punct' && texts.includes(t.text);
const isIdent = (t: Token | undefined, ...texts: string[]): boolean => t?.kind === 'ident' && texts.includes(t.text);

/** A string in import position: `from 'x'`, `import 'x'`, `import('x')`, `require('x')`. */
function isModuleSpecifier(tokens: readonly Token[], k: number): boolean {
  const prev = tokens[k - 1];
  return isIdent(prev, 'from', 'import') || (isPunct(prev, '(') && isIdent(tokens[k - 2], 'import', 'require'));
}

/** `{ Date: … }`, `, process?: …`, `readonly performance: …`: a property name, not a use. */
function isPropertyKey(tokens: readonly Token[], k: number): boolean {
  const next = tokens[k + 1];
  const keyed = isPunct(next, ':') || (isPunct(next, '?') && isPunct(tokens[k + 2], ':'));
  const prev = tokens[k - 1];
  return keyed && (isPunct(prev, '{', ',', ';') || isIdent(prev, 'readonly'));
}

/** Is `name` (reached as `obj.name` or `obj['name']`) a forbidden member of `obj`? */
function forbiddenMember(obj: string, name: string): boolean {
  if (GLOBAL_OBJECTS.has(obj)) return FORBIDDEN_GLOBALS.has(name) || name === 'crypto' || FORBIDDEN_MEMBERS.has(name);
  return FORBIDDEN_MEMBERS.get(obj)?.has(name) ?? false;
}

function checkIdentifier(tokens: readonly Token[], k: number, out: Violation[]): void {
  const tok = tokens[k]!;
  const prev = tokens[k - 1];
  const next = tokens[k + 1];
  if (isPunct(prev, '.', '?.')) {
    const obj = tokens[k - 2];
    if (obj?.kind === 'ident' && forbiddenMember(obj.text, tok.text)) out.push({ line: tok.line, what: `${obj.text}.${tok.text}` });
    return; // any other member access (`x.process`) is not the global
  }
  const computed = tokens[k + 2];
  if (isPunct(next, '[') && computed?.kind === 'string' && forbiddenMember(tok.text, computed.text)) {
    out.push({ line: tok.line, what: `${tok.text}['${computed.text}']` });
  }
  if (FORBIDDEN_GLOBALS.has(tok.text) && !isPropertyKey(tokens, k)) out.push({ line: tok.line, what: tok.text });
  // `const g = globalThis` would launder every global past the member checks.
  if (tok.text === 'globalThis' && !isPunct(next, '.', '?.', '[')) out.push({ line: tok.line, what: 'globalThis as a value' });
}

/** Every purity violation in one TypeScript source, in source order. */
function scanSource(src: string): Violation[] {
  const { tokens, nodeReferenceLines } = tokenize(src);
  const out: Violation[] = nodeReferenceLines.map((line) => ({ line, what: '/// <reference types="node" />' }));
  for (let k = 0; k < tokens.length; k++) {
    const tok = tokens[k]!;
    if (tok.kind === 'string' && isModuleSpecifier(tokens, k) && forbiddenModule(tok.text)) out.push({ line: tok.line, what: `import '${tok.text}'` });
    else if (tok.kind === 'ident') checkIdentifier(tokens, k, out);
  }
  return out.sort((a, b) => a.line - b.line);
}

// ---------------------------------------------------------------------------------------------
// The scanner, tested on its own

describe('purity scanner', () => {
  const caught: ReadonlyArray<readonly [string, string]> = [
    ["import { readFileSync } from 'node:fs';", "import 'node:fs'"],
    ["import * as fs from 'fs';", "import 'fs'"],
    ["import 'node:timers';", "import 'node:timers'"],
    ["export { x } from 'node:crypto';", "import 'node:crypto'"],
    ["export * from \"@libp2p/tcp\";", "import '@libp2p/tcp'"],
    ["import type { Libp2p } from 'libp2p';", "import 'libp2p'"],
    ["import { noise } from '@chainsafe/libp2p-noise';", "import '@chainsafe/libp2p-noise'"],
    ["const m = await import('node:os');", "import 'node:os'"],
    ['const m = await import(`libp2p`);', "import 'libp2p'"],
    ["import fs = require('fs/promises');", "import 'fs/promises'"],
    ['/// <reference types="node" />', '/// <reference types="node" />'],
    ['const now = Date.now();', 'Date'],
    ['const d = new Date(0);', 'Date'],
    ['function f(d: Date) {}', 'Date'],
    ['const r = Math.random();', 'Math.random'],
    ['const r = Math?.random();', 'Math.random'],
    ["const r = Math['random']();", "Math['random']"],
    ['setTimeout(f, 10);', 'setTimeout'],
    ['const h = setInterval(f, 10);', 'setInterval'],
    ['setImmediate(f);', 'setImmediate'],
    ['clearTimeout(h);', 'clearTimeout'],
    ['queueMicrotask(f);', 'queueMicrotask'],
    ['const t = performance.now();', 'performance'],
    ['const e = process.env.X;', 'process'],
    ['if (typeof process !== "undefined") {}', 'process'],
    ['crypto.getRandomValues(buf);', 'crypto.getRandomValues'],
    ['const id = crypto.randomUUID();', 'crypto.randomUUID'],
    ['const c = globalThis.crypto;', 'globalThis.crypto'],
    ['globalThis.crypto.getRandomValues(b);', 'globalThis.crypto'],
    ['const D = globalThis.Date;', 'globalThis.Date'],
    ["const D = globalThis['Date'];", "globalThis['Date']"],
    ['const g = globalThis;', 'globalThis as a value'],
    ['const { now } = Date;', 'Date'],
    ['const s = `at ${Date.now()} ms`;', 'Date'],
    ['const s = `a ${`b ${process.pid}`} c`;', 'process'],
    ['const s = `${{ a: 1 }.a}${setTimeout}`;', 'setTimeout'],
    ['const x = a ? Date : b;', 'Date'],
    ['const o = { now: Date.now };', 'Date'],
    ['const o = { process };', 'process'],
    ['const y = /re/.test(s) ? performance : 0;', 'performance'],
    ['#!/usr/bin/env node\nprocess.exit(0);', 'process'],
  ];

  it.each(caught)('catches %s', (src, what) => {
    expect(scanSource(src).map((v) => v.what)).toContain(what);
  });

  const clean: readonly string[] = [
    '// Date.now() would break determinism; setTimeout too; import "node:fs"',
    '/* Math.random() and process.env are forbidden\n * crypto.getRandomValues as well */',
    "const s = 'Date.now() process setTimeout';",
    'const s = "import x from \'node:fs\'";',
    'const s = `Date ${x} process`;',
    'const r = /Date|process|setTimeout/g;',
    'const r = x.split(/\\/Date\\//);',
    'const q = a / b / process_count;',
    'const v = obj.process + obj.Date + o?.performance;',
    'const o = { Date: 1, process: 2, performance?: 3 };',
    'interface X { readonly process: number; Date?: string }',
    'this.#process();',
    "import { sha256 } from '@noble/hashes/sha2.js';",
    "import { x } from './node:thing.js';",
    "import { p } from '@tandem/protocol';",
    'const r = Math.floor(1.5) + Math.max(1, 2);',
    'const dateMs = 5; const processed = true; const Dates = [];',
    '/// <reference lib="es2023" />',
  ];

  it.each(clean)('ignores %s', (src) => {
    expect(scanSource(src)).toEqual([]);
  });

  it('reports the line of each violation in a realistic file', () => {
    const src = [
      '/**',
      ' * Uses no Date, no setTimeout: time arrives as an input (nowMs).',
      ' */',
      "import { sha256 } from '@noble/hashes/sha2.js';",
      'export function step(nowMs: number): string {',
      "  const label = `t=${nowMs} (not Date.now())`;",
      '  return label + String(Date.now());', // line 7: the one real use
      '}',
      "const re = /Math.random/; // 'process'",
      'const jitter = Math.random();', // line 10
    ].join('\n');
    expect(scanSource(src)).toEqual([
      { line: 7, what: 'Date' },
      { line: 10, what: 'Math.random' },
    ]);
  });

  it('refuses sources it cannot tokenize rather than passing them', () => {
    expect(() => scanSource('const s = "unterminated')).toThrow(/unterminated string/);
    expect(() => scanSource('/* open comment')).toThrow(/unterminated comment/);
    expect(() => scanSource('const t = `open ${x')).toThrow(/unterminated/);
  });
});

// ---------------------------------------------------------------------------------------------
// The gate

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const PURE_SOURCE_DIRS = ['packages/protocol/src', 'packages/crypto/src', 'packages/consensus/src'];

/** Every .ts file under `dir`, recursively, in a stable order. Bounded: pure packages are small. */
function tsFiles(dir: string, out: string[] = [], depth = 0): string[] {
  if (depth > 20) throw new Error(`directory tree too deep at ${dir}`);
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) tsFiles(path, out, depth + 1);
    else if (name.endsWith('.ts')) out.push(path);
  }
  return out;
}

describe('pure packages', () => {
  const dirs = PURE_SOURCE_DIRS.filter((d) => existsSync(join(repoRoot, d)));

  it('include the protocol sources, so the gate is never vacuous', () => {
    expect(dirs).toContain('packages/protocol/src');
    expect(tsFiles(join(repoRoot, 'packages/protocol/src')).length).toBeGreaterThan(0);
  });

  it.each(dirs)('%s imports no Node built-in or libp2p and uses no clock, timer, process or ambient randomness', (dir) => {
    const problems: string[] = [];
    for (const file of tsFiles(join(repoRoot, dir))) {
      for (const v of scanSource(readFileSync(file, 'utf8'))) problems.push(`${relative(repoRoot, file)}:${v.line}: ${v.what}`);
    }
    expect(problems, problems.join('\n')).toEqual([]);
  });
});
