/**
 * The external-chain options of `tandem cluster up` and `tandem leg-host` (--rpc-url,
 * --private-key-file, TANDEM_EVM_PRIVATE_KEY): every mistake is a UsageError (exit 2) naming the
 * option, and no message ever quotes the key. Also the parties' generated chain accounts file.
 */
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { generatePrivateKey } from 'viem/accounts';
import { UsageError } from '@tandem/daemon';
import {
  CONFIRMATIONS_MAX,
  DEFAULT_EXTERNAL_CONFIRMATIONS,
  PRIVATE_KEY_ENV,
  checkLegsFlags,
  externalChainFromFlags,
  localDeployer,
  parseConfirmations,
  parsePrivateKey,
  partyAccounts,
  probeExternalChain,
  redactUrl,
} from '../src/index.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'tandem-real-legs-options-'));
/** secp256k1's group order n: keys must be in 1..n-1. */
const CURVE_ORDER_HEX = 'fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141';

function usageError(f: () => unknown): UsageError {
  try {
    f();
  } catch (e) {
    if (e instanceof UsageError) return e;
    throw e;
  }
  throw new Error('expected a UsageError, got none');
}

async function usageErrorAsync(p: Promise<unknown>): Promise<UsageError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof UsageError) return e;
    throw e;
  }
  throw new Error('expected a UsageError, got none');
}

/** A key file in a fresh directory. */
function keyFile(text: string): string {
  const path = join(tmp(), 'deployer.key');
  writeFileSync(path, text, { mode: 0o600 });
  return path;
}

describe('checkLegsFlags', () => {
  it('refuses the chain options with --legs memory, naming each', () => {
    expect(usageError(() => checkLegsFlags('memory', { rpcUrl: 'http://127.0.0.1:8545' })).message).toMatch(/^--rpc-url goes with --legs real/);
    expect(usageError(() => checkLegsFlags('memory', { privateKeyFile: 'k' })).message).toMatch(/^--private-key-file goes with --legs real/);
  });

  it('accepts them with --legs real, and neither with memory', () => {
    expect(() => checkLegsFlags('real', { rpcUrl: 'http://127.0.0.1:8545', privateKeyFile: 'k' })).not.toThrow();
    expect(() => checkLegsFlags('memory', {})).not.toThrow();
  });
});

describe('externalChainFromFlags', () => {
  const url = 'http://127.0.0.1:8545';
  const noEnv = {};

  it('is the local anvil without --rpc-url', () => {
    expect(externalChainFromFlags({}, noEnv)).toBeNull();
    // The environment variable alone does not select a chain.
    expect(externalChainFromFlags({}, { [PRIVATE_KEY_ENV]: generatePrivateKey() })).toBeNull();
  });

  it('refuses --private-key-file without --rpc-url', () => {
    expect(usageError(() => externalChainFromFlags({ privateKeyFile: keyFile(generatePrivateKey()) }, noEnv)).message).toMatch(/^--private-key-file needs --rpc-url/);
  });

  it('reads the key from the file (final newline and upper case accepted), lower-cased', () => {
    const key = generatePrivateKey();
    const upper = `0x${key.slice(2).toUpperCase()}`;
    expect(externalChainFromFlags({ rpcUrl: url, privateKeyFile: keyFile(`${upper}\n`) }, noEnv)).toEqual({ rpcUrl: url, privateKey: key });
  });

  it('takes the file over the environment variable, and the variable when there is no file', () => {
    const [fromFile, fromEnv] = [generatePrivateKey(), generatePrivateKey()];
    const env = { [PRIVATE_KEY_ENV]: fromEnv };
    expect(externalChainFromFlags({ rpcUrl: url, privateKeyFile: keyFile(fromFile) }, env)?.privateKey).toBe(fromFile);
    expect(externalChainFromFlags({ rpcUrl: url }, env)?.privateKey).toBe(fromEnv);
  });

  it('refuses --rpc-url without a key, naming both ways to give one', () => {
    const e = usageError(() => externalChainFromFlags({ rpcUrl: url }, noEnv));
    expect(e.message).toMatch(/^--rpc-url needs the deployer's key/);
    expect(e.message).toContain('--private-key-file');
    expect(e.message).toContain(PRIVATE_KEY_ENV);
    expect(() => externalChainFromFlags({ rpcUrl: url }, { [PRIVATE_KEY_ENV]: '' })).toThrow(UsageError);
  });

  it.each([
    ['not a URL', 'localhost:8545'],
    ['a websocket URL', 'ws://127.0.0.1:8546'],
    ['a file URL', 'file:///etc/passwd'],
  ])('refuses %s for --rpc-url', (_what, bad) => {
    expect(usageError(() => externalChainFromFlags({ rpcUrl: bad, privateKeyFile: keyFile(generatePrivateKey()) }, noEnv)).message).toMatch(/^--rpc-url/);
  });

  it('names a key file it cannot read, and why', () => {
    const missing = join(tmp(), 'nope.key');
    const e = usageError(() => externalChainFromFlags({ rpcUrl: url, privateKeyFile: missing }, noEnv));
    expect(e.message).toBe(`--private-key-file ${missing}: cannot read it (ENOENT)`);
  });

  it.each([
    ['no 0x', generatePrivateKey().slice(2)],
    ['63 hex digits', generatePrivateKey().slice(0, -1)],
    ['65 hex digits', `${generatePrivateKey()}0`],
    ['a non-hex digit', `${generatePrivateKey().slice(0, -1)}g`],
    ['two keys', `${generatePrivateKey()}\n${generatePrivateKey()}`],
    ['a JSON keystore', JSON.stringify({ privateKey: generatePrivateKey() })],
    ['zero', `0x${'0'.repeat(64)}`],
    ['the curve order', `0x${CURVE_ORDER_HEX}`],
    ['all ones', `0x${'f'.repeat(64)}`],
  ])('refuses a malformed key file (%s), naming the file and never quoting it', (_what, text) => {
    const path = keyFile(text);
    const e = usageError(() => externalChainFromFlags({ rpcUrl: url, privateKeyFile: path }, noEnv));
    expect(e.message.startsWith(`--private-key-file ${path}: `)).toBe(true);
    expect(e.message).not.toContain(text.trim());
    expect(e.message.toLowerCase()).not.toMatch(/[0-9a-f]{32}/);
  });

  it('refuses a malformed TANDEM_EVM_PRIVATE_KEY, naming the variable and never quoting it', () => {
    const bad = generatePrivateKey().slice(0, 40);
    const e = usageError(() => externalChainFromFlags({ rpcUrl: url }, { [PRIVATE_KEY_ENV]: bad }));
    expect(e.message).toMatch(new RegExp(`^the environment variable ${PRIVATE_KEY_ENV}: `));
    expect(e.message).not.toContain(bad);
  });

  it('never quotes what it was given as a key, whatever it is', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 8, maxLength: 80 }), (text) => {
        let message = '';
        try {
          parsePrivateKey(text, 'the key');
          return; // a well-formed key: nothing to quote
        } catch (e) {
          message = (e as Error).message;
        }
        expect(message.startsWith('the key: ')).toBe(true);
        const core = text.trim();
        if (core.length >= 8) expect(message).not.toContain(core);
      }),
      { numRuns: 300 },
    );
  });
});

describe('probeExternalChain', () => {
  let server: Server | null = null;
  afterEach(async () => {
    const s = server;
    server = null;
    if (s !== null) await new Promise<void>((done) => s.close(() => done()));
  });

  /** An HTTP server on a free loopback port answering with `answer` (or never, when null). */
  async function serve(answer: ((body: string) => { status: number; body: string }) | null): Promise<string> {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        if (answer === null) return; // hang: the probe must time out
        const a = answer(body);
        res.writeHead(a.status, { 'content-type': 'application/json' }).end(a.body);
      });
    });
    await new Promise<void>((done) => server!.listen(0, '127.0.0.1', () => done()));
    return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  }

  const privateKey = generatePrivateKey();

  it('reads the chain id the RPC reports', async () => {
    const rpcUrl = await serve((body) => {
      const req = JSON.parse(body) as { id: number; method: string };
      return { status: 200, body: JSON.stringify({ jsonrpc: '2.0', id: req.id, result: req.method === 'eth_chainId' ? '0x1a4' : null }) };
    });
    expect(await probeExternalChain({ rpcUrl, privateKey })).toEqual({ rpcUrl, privateKey, chainId: 420 });
  });

  it('names --rpc-url when nothing listens there', async () => {
    const rpcUrl = await serve(() => ({ status: 200, body: '{}' }));
    await new Promise<void>((done) => server!.close(() => done()));
    server = null;
    const e = await usageErrorAsync(probeExternalChain({ rpcUrl, privateKey }));
    expect(e.message).toMatch(new RegExp(`^--rpc-url ${rpcUrl.replaceAll('.', '\\.')}: no Ethereum JSON-RPC answers there`));
    expect(e.message).toContain('ECONNREFUSED');
  });

  it('names --rpc-url when the server is not an Ethereum RPC, or does not answer in time', async () => {
    const notFound = await serve(() => ({ status: 404, body: 'not found' }));
    expect((await usageErrorAsync(probeExternalChain({ rpcUrl: notFound, privateKey }))).message).toMatch(/^--rpc-url .*HTTP 404/);
    await new Promise<void>((done) => server!.close(() => done()));
    const errors = await serve(() => ({ status: 200, body: JSON.stringify({ jsonrpc: '2.0', id: 1, error: { code: -32601, message: 'method not found' } }) }));
    expect((await usageErrorAsync(probeExternalChain({ rpcUrl: errors, privateKey }))).message).toMatch(/^--rpc-url .*method not found/);
    await new Promise<void>((done) => server!.close(() => done()));
    const silent = await serve(null);
    const e = await usageErrorAsync(probeExternalChain({ rpcUrl: silent, privateKey }, 300));
    expect(e.message).toMatch(/^--rpc-url .*no answer within 300 ms/);
    server!.closeAllConnections(); // the hanging request, so afterEach's close can finish
  });
});

describe('--confirmations', () => {
  it('is a whole number of blocks, with --rpc-url only; absent, the external default is above 0', () => {
    expect(DEFAULT_EXTERNAL_CONFIRMATIONS).toBeGreaterThan(0);
    expect(parseConfirmations(undefined, true)).toBeUndefined();
    expect(parseConfirmations('0', true)).toBe(0);
    expect(parseConfirmations('64', true)).toBe(64);
    for (const bad of ['-1', '1.5', '01', 'twelve', '', String(CONFIRMATIONS_MAX + 1)]) {
      expect(() => parseConfirmations(bad, true)).toThrow(UsageError);
    }
    // The embedded chain counts a change once it is durable, not by depth.
    expect(() => parseConfirmations('2', false)).toThrow(/--confirmations goes with --rpc-url/);
  });
});

describe('localDeployer', () => {
  it("makes the embedded chain's deployer key once, in a 0600 file, and keeps it", () => {
    const file = join(tmp(), 'evm-deployer.key');
    const first = localDeployer(file);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(localDeployer(file).address).toBe(first.address);
    writeFileSync(file, 'not a key\n');
    expect(() => localDeployer(file)).toThrow(/not a private key/);
  });
});

describe('redactUrl', () => {
  it('drops credentials and the path (where hosted RPCs keep API keys)', () => {
    expect(redactUrl('http://127.0.0.1:8545')).toBe('http://127.0.0.1:8545');
    expect(redactUrl('https://user:secret@rpc.example:443/v3/abcdef?x=1')).toBe('https://rpc.example/…');
    expect(redactUrl('not a url')).toBe('(not a URL)');
  });
});

describe('partyAccounts', () => {
  it('makes a fresh key per party in a 0600 file, keeps them across restarts, adds missing parties', () => {
    const file = join(tmp(), 'evm-accounts.json');
    const first = partyAccounts(file, ['alice', 'bob']);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(first.get('alice')!.address).not.toBe(first.get('bob')!.address);
    const again = partyAccounts(file, ['alice', 'bob']);
    expect([...again].map(([n, a]) => [n, a.address])).toEqual([...first].map(([n, a]) => [n, a.address]));
    const more = partyAccounts(file, ['alice', 'bob', 'carol']);
    expect(more.get('alice')!.address).toBe(first.get('alice')!.address);
    expect(more.get('carol')!.address).toMatch(/^0x[0-9a-fA-F]{40}$/);
    const stored = JSON.parse(readFileSync(file, 'utf8')) as { accounts: Record<string, { address: string }> };
    expect(Object.keys(stored.accounts).sort()).toEqual(['alice', 'bob', 'carol']);
    expect(stored.accounts['carol']!.address).toBe(more.get('carol')!.address);
  });

  it('refuses a damaged file rather than replacing the keys in it', () => {
    const file = join(tmp(), 'evm-accounts.json');
    writeFileSync(file, JSON.stringify({ accounts: { alice: { address: '0x00', privateKey: '0x1234' } } }));
    expect(() => partyAccounts(file, ['alice'])).toThrow(/the key of alice is malformed/);
  });
});

describe('the bank schema of a cluster on a shared PostgreSQL server', () => {
  it('is a valid schema name, one per configuration digest', async () => {
    const { clusterBankSchema } = await import('../src/index.js');
    const anchor = (fill: number) => ({ networkId: new Uint8Array(32), configDigest: new Uint8Array(32).fill(fill), groupPublicKey: new Uint8Array(96) });
    expect(clusterBankSchema(anchor(0xab))).toBe('tandem_bank_abababababababab');
    expect(clusterBankSchema(anchor(1))).not.toBe(clusterBankSchema(anchor(2)));
    expect(clusterBankSchema(anchor(0xff))).toMatch(/^[a-z_][a-z0-9_]{0,62}$/); // leg-bank's rule for schema names
  });
});
