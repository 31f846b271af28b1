/**
 * Where anvil cannot be isolated (here: no `setpriv`/`unshare` on the PATH, as on a machine without
 * user namespaces), the real legs refuse the embedded chain, before starting anything, with a
 * message naming the alternative: an external chain.
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Credential } from '@tandem/http';
import { createLegFixture } from '@tandem/legs/fixture';
import { startRealLegs } from '../src/index.js';

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('the embedded chain without namespaces', () => {
  it('is refused, naming --rpc-url, and nothing is started', async () => {
    vi.stubEnv('PATH', '/nonexistent');
    const fx = createLegFixture('isolation');
    const dataDir = join(mkdtempSync(join(tmpdir(), 'tandem-no-ns-')), 'legs-data');
    await expect(
      startRealLegs({
        anchor: fx.anchor,
        parties: fx.partyPublicKeys,
        tokens: ['OUSG'],
        bank: { bankId: 'bank', ledger: 'main' },
        credentials: { legs: Credential.generate(), admin: Credential.generate() },
        port: 0,
        dataDir,
        log: () => {},
      }),
    ).rejects.toThrow(/needs Linux user and network namespaces.*--rpc-url URL --private-key-file FILE/);
    expect(existsSync(join(dataDir, 'chain'))).toBe(false);
  });
});
