import { chmodSync, mkdtempSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { Credential, TokenFileError } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'tandem-http-'));
const tokenOf = (c: Credential) => c.headers().authorization!.slice('Bearer '.length);

describe('token files', () => {
  it('createFile writes 32 random bytes as hex, mode 0600; fromFile reads the same token', () => {
    const file = join(dir, 'a.token');
    const c = Credential.createFile(file);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(tokenOf(c)).toMatch(/^[0-9a-f]{64}$/);
    const again = Credential.fromFile(file);
    expect(again.sameTokenAs(c)).toBe(true);
    expect(Credential.createFile(join(dir, 'b.token')).sameTokenAs(c)).toBe(false);
  });

  it('createFile never overwrites; ensureFile creates once and then reads', () => {
    const file = join(dir, 'c.token');
    const first = Credential.ensureFile(file);
    expect(Credential.ensureFile(file).sameTokenAs(first)).toBe(true);
    expect(() => Credential.createFile(file)).toThrow(/cannot create \(EEXIST\)/);
  });

  it('refuses a missing, group-readable, linked or malformed file, naming it and never its content', () => {
    const secret = 'ab'.repeat(32);
    const open = join(dir, 'open.token');
    writeFileSync(open, secret, { mode: 0o644 });
    chmodSync(open, 0o644);
    const short = join(dir, 'short.token');
    writeFileSync(short, 'abcd\n', { mode: 0o600 });
    const upper = join(dir, 'upper.token');
    writeFileSync(upper, secret.toUpperCase(), { mode: 0o600 });
    const link = join(dir, 'link.token');
    symlinkSync(join(dir, 'a.token'), link);
    const cases: [string, RegExp][] = [
      [join(dir, 'none.token'), /no such token file/],
      [open, /mode 644 lets others read it: chmod 600/],
      [short, /expected 64 lowercase hex digits/],
      [upper, /expected 64 lowercase hex digits/],
      [link, /symbolic link/],
      [dir, /not a regular file/],
    ];
    for (const [file, problem] of cases) {
      const e = (() => {
        try {
          Credential.fromFile(file);
        } catch (x) {
          return x;
        }
        return null;
      })();
      expect(e, file).toBeInstanceOf(TokenFileError);
      expect((e as Error).message, file).toMatch(problem);
      expect((e as Error).message.startsWith(file)).toBe(true);
      expect((e as Error).message).not.toContain(secret);
      expect((e as Error).message.toLowerCase()).not.toContain(secret);
    }
  });
});

describe('Credential', () => {
  it('matches exactly "Bearer <token>"', () => {
    const c = Credential.generate();
    const t = tokenOf(c);
    expect(c.matches(`Bearer ${t}`)).toBe(true);
    for (const bad of [undefined, '', t, `bearer ${t}`, `Bearer  ${t}`, `Bearer ${t} `, `Bearer ${t}0`, `Bearer ${t.slice(1)}`, `Basic ${t}`, `Bearer ${Credential.generate().headers().authorization!.slice(7)}`]) {
      expect(c.matches(bad), String(bad)).toBe(false);
    }
  });

  it('never shows its token: string, JSON, inspect and error messages give the source only', () => {
    const file = join(dir, 'shown.token');
    const c = Credential.createFile(file);
    const t = tokenOf(c);
    for (const shown of [String(c), `${c}`, JSON.stringify({ c }), inspect(c), inspect({ nested: [c] }, { depth: 5 }), new Error(`with ${c}`).message]) {
      expect(shown).not.toContain(t);
      expect(shown).toContain(file);
    }
    expect(c.headers({ 'content-type': 'application/json' })).toEqual({ 'content-type': 'application/json', authorization: `Bearer ${t}` });
  });
});
