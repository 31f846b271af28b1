/**
 * Reproducible build: the committed artifacts/*.json and src/artifacts.ts are exactly what a
 * fresh solc compile of contracts/ produces (run `node scripts/compile.mjs` after editing a
 * contract; `node scripts/compile.mjs --check` is the same check from the command line).
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
// @ts-expect-error -- a plain ESM build script without type declarations
import { PACKAGE_DIR, compileContracts, staleFiles } from '../scripts/compile.mjs';

type Compiled = { files: Map<string, string>; warnings: string[] };

describe('contract build', () => {
  it('the committed artifacts equal a fresh compile of the sources', () => {
    const { files, warnings } = compileContracts() as Compiled;
    expect(warnings).toEqual([]);
    expect([...files.keys()].sort()).toEqual(['artifacts/BlsHarness.json', 'artifacts/DvpEscrow.json', 'artifacts/DvpEscrowV2.json', 'artifacts/TandemToken.json', 'src/artifacts.ts']);
    expect(staleFiles(files)).toEqual([]);
    // The check itself can fail: a changed source yields different bytes.
    const escrow = JSON.parse(readFileSync(join(PACKAGE_DIR as string, 'artifacts/DvpEscrow.json'), 'utf8')) as { bytecode: string; compiler: { version: string } };
    expect(escrow.compiler.version).toMatch(/^0\.8\.37\+/);
    expect(escrow.bytecode).toMatch(/^0x[0-9a-f]+$/);
    expect(staleFiles(new Map([['artifacts/DvpEscrow.json', `${files.get('artifacts/DvpEscrow.json')!} `]]))).toEqual(['artifacts/DvpEscrow.json']);
  });
});
