/**
 * The leg host's protocol v2 routes (roots, entries by proof, batches by multiproof) over HTTP:
 * the same guard as every /legs route, 400 naming the field for input that does not decode (never
 * a 500, shown over random well-typed garbage), batches of 256 entries within the batch routes'
 * body limit, and HttpLegAdapter's local refusals and error mapping. What the legs do with the
 * calls is the conformance suite's (conformance.spec.ts runs its v2 part through this host).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  type Entry,
  type TreeMultiproof,
  TREE_HASH_BYTES,
  compareIds,
  reportTreeMultiproof,
  reportTreeProof,
  toHex,
} from '@tandem/protocol';
import { type ApplyOutcome, type BatchLegAdapter, type LegAdapter, type ProvenEntry, MemoryBankLedger, TransientLegError, isBatchLegAdapter } from '@tandem/legs';
import { seededRandomBytes } from '@tandem/legs/fixture';
import { entryToJson, reportV2ToJson } from '@tandem/legs/json';
import {
  type MemoryLegHost,
  HttpLegAdapter,
  LegHostAdminClient,
  batchRequestToJson,
  entriesRequestToJson,
  rootRequestToJson,
  serveLegs,
  startMemoryLegHost,
} from '../src/index.js';
import { ADMIN, ASSET_VENUE, BANK_VENUE, CREDENTIALS, LEGS, START_MS, TIMEOUT_MS, closedPortUrl, fx, post, raw, reportOf, stub } from './support.js';

const APPLIED: ApplyOutcome = { kind: 'applied' };
const DUPLICATE: ApplyOutcome = { kind: 'duplicate' };
/** The largest batch a node sends by default (batchEntriesMax). */
const BIG_BATCH = 256;
const V1_BODY_LIMIT_BYTES = 64 * 1024;

/** `count` ABORT entries for never-locked ids (each closes its id: applied), ascending as a batch lists them. */
function abortEntries(count: number, seed: string): Entry[] {
  const random = seededRandomBytes(seed);
  const entries = Array.from({ length: count }, () => ({ settlementId: random(32), decision: 'ABORT' as const, validUntilMs: START_MS + 60_000 }));
  return entries.sort((x, y) => compareIds(x.settlementId, y.settlementId));
}

function proven(entries: readonly Entry[], indices: readonly number[] = entries.map((_, i) => i)): ProvenEntry[] {
  return indices.map((i) => ({ entry: entries[i]!, proof: reportTreeProof(entries, i) }));
}

function everyIndex(entries: readonly Entry[]): number[] {
  return entries.map((_, i) => i);
}

const ENTRIES = abortEntries(3, 'server-v2/small');
const REPORT = reportOf(ENTRIES);
const MULTIPROOF = reportTreeMultiproof(ENTRIES, everyIndex(ENTRIES));

describe('leg host protocol v2 routes', () => {
  let host: MemoryLegHost;
  let payment: HttpLegAdapter;
  let asset: HttpLegAdapter;
  const errors: unknown[] = [];

  beforeEach(async () => {
    errors.length = 0;
    host = await startMemoryLegHost({ anchor: fx.anchorV2, parties: fx.partyPublicKeys, assetVenue: ASSET_VENUE, bankVenue: BANK_VENUE, credentials: CREDENTIALS, port: 0, clock: () => START_MS, onError: (e) => errors.push(e) });
    payment = new HttpLegAdapter({ url: host.url, leg: 'payment', credential: LEGS, timeoutMs: TIMEOUT_MS });
    asset = new HttpLegAdapter({ url: host.url, leg: 'asset', credential: LEGS, timeoutMs: TIMEOUT_MS });
  });

  afterEach(async () => {
    await host.close();
    expect(errors).toEqual([]);
  });

  const routes = (leg = 'payment'): [string, unknown][] => [
    [`/legs/${leg}/roots`, rootRequestToJson(REPORT)],
    [`/legs/${leg}/roots/${toHex(REPORT.root)}/entries`, entriesRequestToJson(proven(ENTRIES))],
    [`/legs/${leg}/batches`, batchRequestToJson(REPORT, ENTRIES, MULTIPROOF)],
  ];

  it('HttpLegAdapter is a BatchLegAdapter: a root, entries by proof and a batch, each one request', async () => {
    expect(isBatchLegAdapter(payment)).toBe(true);
    expect(await payment.submitRoot(REPORT)).toEqual({ kind: 'stored' });
    expect(await payment.submitRoot(REPORT)).toEqual({ kind: 'duplicate' });
    expect(await payment.applyEntries(REPORT.root, proven(ENTRIES, [2, 0]))).toEqual([APPLIED, APPLIED]);
    expect(await payment.applyBatch(REPORT, ENTRIES, MULTIPROOF)).toEqual([DUPLICATE, APPLIED, DUPLICATE]);
    expect(host.bank.events().map((e) => e.kind)).toEqual(['abort-closed', 'abort-closed', 'abort-closed']);
    // The other leg is its own: nothing stored there.
    expect((await asset.applyEntries(REPORT.root, proven(ENTRIES, [0])))[0]).toMatchObject({ kind: 'refused', reason: expect.stringMatching(/unknown root/) });
  });

  describe('the guard', () => {
    it('401 without the legs token, 403 with the admin token, 415 for a body not declared JSON: nothing reaches the leg', async () => {
      for (const [path, body] of routes()) {
        const none = await fetch(`${host.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
        expect([none.status, ((await none.json()) as { field: string }).field], path).toEqual([401, 'authorization']);
        const admin = await fetch(`${host.url}${path}`, { method: 'POST', headers: ADMIN.headers({ 'content-type': 'application/json' }), body: JSON.stringify(body) });
        expect(admin.status, path).toBe(403);
        const text = await raw(`${host.url}${path}`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: JSON.stringify(body) });
        expect([text.status, text.body.field], path).toEqual([415, 'content-type']);
      }
      expect(host.bank.events()).toEqual([]);
      expect((await payment.applyEntries(REPORT.root, proven(ENTRIES, [0])))[0]).toMatchObject({ kind: 'refused', reason: expect.stringMatching(/unknown root/) });
    });

    it('a wrong method is 405, an unknown v2 path 404, an unknown leg 404', async () => {
      for (const [path] of routes()) {
        const r = await raw(`${host.url}${path}`);
        expect([r.status, r.headers.get('allow')], path).toEqual([405, 'POST']);
      }
      expect((await post(`${host.url}/legs/payment/roots/${toHex(REPORT.root)}/proofs`, {})).status).toBe(404);
      expect((await post(`${host.url}/legs/payment/batches/1`, {})).status).toBe(404);
      expect((await post(`${host.url}/legs/chain/roots`, rootRequestToJson(REPORT))).status).toBe(404);
    });
  });

  describe('malformed requests get 400 naming the field', () => {
    it('roots, entries, batches and views', async () => {
      const root = rootRequestToJson(REPORT);
      const items = entriesRequestToJson(proven(ENTRIES));
      const batch = batchRequestToJson(REPORT, ENTRIES, MULTIPROOF);
      const item = items.items[0]!;
      const entriesPath = `/legs/payment/roots/${toHex(REPORT.root)}/entries`;
      const cases: [string, unknown, string][] = [
        ['/legs/payment/roots', { report: 'zz' }, 'report'],
        ['/legs/payment/roots', { report: root.report.slice(2) }, 'report'],
        ['/legs/payment/roots', { report: `03${root.report.slice(2)}` }, 'report'],
        ['/legs/payment/roots', { ...root, height: 1 }, 'height'],
        ['/legs/payment/roots', {}, 'report'],
        ['/legs/payment/roots', '[1]', ''],
        ['/legs/payment/roots', '{"report": ', 'body'],
        [`/legs/payment/roots/${toHex(REPORT.root).slice(2)}/entries`, items, 'root'],
        ['/legs/payment/roots/not-hex/entries', items, 'root'],
        [entriesPath, { items: [] }, 'items'],
        [entriesPath, { items: 'all' }, 'items'],
        [entriesPath, { items: [{ ...item, entry: item.entry.slice(2) }] }, 'items[0].entry'],
        [entriesPath, { items: [item, { entry: item.entry }] }, 'items[1].proof'],
        [entriesPath, { items: [{ ...item, proof: { ...item.proof, siblings: ['ab'] } }] }, 'items[0].proof.siblings[0]'],
        [entriesPath, { items: [{ ...item, proof: { ...item.proof, count: 0 } }] }, 'items[0].proof.count'],
        [entriesPath, { items: [{ ...item, proof: { ...item.proof, index: -1 } }] }, 'items[0].proof.index'],
        [entriesPath, { items: [{ ...item, proof: { ...item.proof, siblings: Array(17).fill(toHex(REPORT.root)) } }] }, 'items[0].proof.siblings'],
        ['/legs/payment/batches', { ...batch, entries: [] }, 'entries'],
        ['/legs/payment/batches', { ...batch, entries: [batch.entries[0], 5] }, 'entries[1]'],
        ['/legs/payment/batches', { ...batch, multiproof: { ...batch.multiproof, indices: [] } }, 'multiproof.indices'],
        ['/legs/payment/batches', { ...batch, multiproof: { ...batch.multiproof, indices: [0.5] } }, 'multiproof.indices[0]'],
        ['/legs/payment/batches', { report: batch.report, entries: batch.entries }, 'multiproof'],
        ['/legs/payment/batches', { ...batch, report: root.report.slice(0, 100) }, 'report'],
        ['/legs/payment/views', {}, 'ids'],
        ['/legs/payment/views', { ids: 'all' }, 'ids'],
        ['/legs/payment/views', { ids: [toHex(REPORT.root).slice(2)] }, 'ids[0]'],
        ['/legs/payment/views', { ids: Array(1025).fill(toHex(REPORT.root)) }, 'ids'],
        ['/legs/payment/views', { ids: [], more: 1 }, 'more'],
      ];
      for (const [path, body, field] of cases) {
        const r = await post(`${host.url}${path}`, body);
        expect([r.status, r.body.field], `${path} ${JSON.stringify(body).slice(0, 200)}`).toEqual([400, field]);
        expect(typeof r.body.error).toBe('string');
      }
      const empty = await raw(`${host.url}/legs/payment/batches`, { method: 'POST' });
      expect([empty.status, empty.body.field]).toEqual([400, '']);
      expect(host.bank.events()).toEqual([]);
    });

    it('never a 500: random well-typed bodies get 200 or 400, and the legs stay conserved', async () => {
      const hex = (n: number) => fc.uint8Array({ minLength: n, maxLength: n }).map(toHex);
      const index = fc.integer({ min: -1, max: 70_000 });
      const siblings = fc.array(hex(32), { maxLength: 17 });
      const entry = fc.oneof(hex(41), fc.constantFrom(...ENTRIES.map(entryToJson)));
      const report = fc.oneof(hex(239), fc.constant(reportV2ToJson(REPORT)));
      const body = fc.oneof(
        fc.record({ path: fc.constant('/roots'), body: fc.record({ report }) }),
        fc.record({
          path: fc.constantFrom(`/roots/${toHex(REPORT.root)}/entries`, `/roots/${'00'.repeat(32)}/entries`),
          body: fc.record({ items: fc.array(fc.record({ entry, proof: fc.record({ index, count: index, siblings }) }), { minLength: 1, maxLength: 4 }) }),
        }),
        fc.record({
          path: fc.constant('/batches'),
          body: fc.record({ report, entries: fc.array(entry, { minLength: 1, maxLength: 4 }), multiproof: fc.record({ indices: fc.array(index, { minLength: 1, maxLength: 4 }), count: index, siblings }) }),
        }),
      );
      await payment.submitRoot(REPORT); // so that some proofs reach the entry checks
      await fc.assert(
        fc.asyncProperty(body, async ({ path, body: b }) => {
          const r = await post(`${host.url}/legs/payment${path}`, b);
          expect([200, 400]).toContain(r.status);
        }),
        { numRuns: 150, seed: 12 },
      );
      expect(host.bank.conservationProblem()).toBeNull();
    });
  });

  describe(`a batch of ${BIG_BATCH} entries`, () => {
    const big = abortEntries(BIG_BATCH, 'server-v2/big');
    const bigReport = reportOf(big, 2);

    it('goes through both batch routes, over the 64 KiB limit of the other routes', async () => {
      const items = proven(big);
      expect(JSON.stringify(entriesRequestToJson(items)).length).toBeGreaterThan(V1_BODY_LIMIT_BYTES);
      expect(await payment.submitRoot(bigReport)).toEqual({ kind: 'stored' });
      expect(await payment.applyEntries(bigReport.root, items)).toEqual(big.map(() => APPLIED));
      expect(await payment.applyBatch(bigReport, big, reportTreeMultiproof(big, everyIndex(big)))).toEqual(big.map(() => DUPLICATE));
      expect(host.bank.events()).toHaveLength(BIG_BATCH);
    });

    it('each route reads within its own limit: 413 past it, and the host keeps answering', async () => {
      const s = await serveLegs({ payment: host.bank }, { host: '127.0.0.1', port: 0, credentials: { legs: LEGS }, batchBodyLimitBytes: 100_000 });
      try {
        const entries = await post(`${s.url}/legs/payment/roots/${toHex(bigReport.root)}/entries`, entriesRequestToJson(proven(big)));
        expect([entries.status, entries.body.field]).toEqual([413, 'body']);
        // Under the batch limit but over the other routes': a root is not a batch route.
        const root = await post(`${s.url}/legs/payment/roots`, { report: 'ab'.repeat(40_000) });
        expect([root.status, root.body.field]).toEqual([413, 'body']);
        const small = new HttpLegAdapter({ url: s.url, leg: 'payment', credential: LEGS, timeoutMs: TIMEOUT_MS });
        expect(await small.applyBatch(REPORT, ENTRIES, MULTIPROOF)).toEqual([APPLIED, APPLIED, APPLIED]);
      } finally {
        await s.close();
      }
      await expect(serveLegs({ payment: host.bank }, { host: '127.0.0.1', port: 0, credentials: { legs: LEGS }, batchBodyLimitBytes: 0 })).rejects.toThrow(/batchBodyLimitBytes/);
    });
  });

  it('an unavailable leg answers 503, thrown as TransientLegError; nothing changes', async () => {
    const admin = new LegHostAdminClient({ url: host.url, credential: ADMIN, timeoutMs: TIMEOUT_MS });
    await admin.setFault('payment', { kind: 'unavailable', untilMs: START_MS + 1 });
    await expect(payment.submitRoot(REPORT)).rejects.toBeInstanceOf(TransientLegError);
    await expect(payment.applyBatch(REPORT, ENTRIES, MULTIPROOF)).rejects.toBeInstanceOf(TransientLegError);
    await expect(payment.applyEntries(REPORT.root, proven(ENTRIES))).rejects.toBeInstanceOf(TransientLegError);
    expect(host.bank.events()).toEqual([]);
  });
});

describe('leg host v2 routes on other adapters', () => {
  it('a leg that is not a BatchLegAdapter is 404 on the v2 routes (an Error, not an outage); its v1 routes still answer', async () => {
    const bank = new MemoryBankLedger({ anchor: fx.anchor, parties: fx.partyPublicKeys, nowMs: () => START_MS, venue: BANK_VENUE });
    const v1Only: LegAdapter = { leg: 'payment', prepare: (t, a) => bank.prepare(t, a), observe: (id) => bank.observe(id), applyReport: (r) => bank.applyReport(r), reclaim: (id) => bank.reclaim(id) };
    const s = await serveLegs({ payment: v1Only }, { host: '127.0.0.1', port: 0, credentials: { legs: LEGS } });
    try {
      const r = await post(`${s.url}/legs/payment/roots`, rootRequestToJson(REPORT));
      expect(r.status).toBe(404);
      expect(String(r.body.error)).toMatch(/does not take protocol v2 calls/);
      const client = new HttpLegAdapter({ url: s.url, leg: 'payment', credential: LEGS, timeoutMs: TIMEOUT_MS });
      const e = await client.applyBatch(REPORT, ENTRIES, MULTIPROOF).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(Error);
      expect(e).not.toBeInstanceOf(TransientLegError);
      expect((await client.observe(ENTRIES[0]!.settlementId)).state).toBe('none');
    } finally {
      await s.close();
    }
  });

  it('an adapter answering the wrong number of outcomes is a bug: 500, reported to onError', async () => {
    const errors: unknown[] = [];
    const bank = new MemoryBankLedger({ anchor: fx.anchorV2, parties: fx.partyPublicKeys, nowMs: () => START_MS, venue: BANK_VENUE });
    const short: BatchLegAdapter = Object.assign(Object.create(bank) as MemoryBankLedger, { applyBatch: async () => [APPLIED] });
    const s = await serveLegs({ payment: short }, { host: '127.0.0.1', port: 0, credentials: { legs: LEGS }, onError: (e) => errors.push(e) });
    try {
      const r = await post(`${s.url}/legs/payment/batches`, batchRequestToJson(REPORT, ENTRIES, MULTIPROOF));
      expect([r.status, r.body]).toEqual([500, { error: 'internal error' }]);
      expect(String(errors[0])).toMatch(/1 outcomes for 3 entries/);
    } finally {
      await s.close();
    }
  });
});

describe('HttpLegAdapter v2: answers that need no host, and malformed answers', () => {
  let stubs: { close: () => Promise<void> }[] = [];
  afterEach(async () => {
    await Promise.all(stubs.map((s) => s.close()));
    stubs = [];
  });

  it('what the host could not read is refused without a request: a report, a batch, a root, an item alone', async () => {
    const offline = new HttpLegAdapter({ url: await closedPortUrl(), leg: 'payment', credential: LEGS, timeoutMs: TIMEOUT_MS });
    expect(await offline.submitRoot({ ...REPORT, signature: new Uint8Array(47) })).toMatchObject({ kind: 'refused', reason: expect.stringMatching(/^malformed request: /) });
    expect(await offline.submitRoot({ ...REPORT, count: 0x1_0000 })).toMatchObject({ kind: 'refused' });
    const badSibling: TreeMultiproof = { ...MULTIPROOF, siblings: [new Uint8Array(31)] };
    expect(await offline.applyBatch(REPORT, ENTRIES, badSibling)).toEqual(ENTRIES.map(() => expect.objectContaining({ kind: 'refused' })));
    expect(await offline.applyBatch(REPORT, [{ ...ENTRIES[0]!, decision: 'MAYBE' as 'ABORT' }], MULTIPROOF)).toEqual([expect.objectContaining({ kind: 'refused' })]);
    expect(await offline.applyBatch(REPORT, [], MULTIPROOF)).toEqual([]);
    expect(await offline.applyEntries(new Uint8Array(TREE_HASH_BYTES - 1), proven(ENTRIES))).toEqual(ENTRIES.map(() => ({ kind: 'refused', reason: 'malformed root: must be 32 bytes' })));
    const items = proven(ENTRIES);
    const bad = [{ ...items[0]!, proof: { ...items[0]!.proof, index: -1 } }, { ...items[1]!, entry: { ...items[1]!.entry, settlementId: new Uint8Array(31) } }];
    expect(await offline.applyEntries(REPORT.root, bad)).toEqual([expect.objectContaining({ kind: 'refused' }), expect.objectContaining({ kind: 'refused' })]);
    // A well-formed call does go out, and fails as an outage.
    await expect(offline.applyEntries(REPORT.root, items)).rejects.toBeInstanceOf(TransientLegError);
  });

  it('sends the readable items only and puts each outcome back in its place', async () => {
    const host = await startMemoryLegHost({ anchor: fx.anchorV2, parties: fx.partyPublicKeys, assetVenue: ASSET_VENUE, bankVenue: BANK_VENUE, credentials: CREDENTIALS, port: 0, clock: () => START_MS });
    try {
      const client = new HttpLegAdapter({ url: host.url, leg: 'asset', credential: LEGS, timeoutMs: TIMEOUT_MS });
      expect(await client.submitRoot(REPORT)).toEqual({ kind: 'stored' });
      const [a, b, c] = proven(ENTRIES);
      const unreadable = { ...b!, proof: { ...b!.proof, siblings: [new Uint8Array(33)] } };
      const outcomes = await client.applyEntries(REPORT.root, [a!, unreadable, c!]);
      expect(outcomes[0]).toEqual(APPLIED);
      expect(outcomes[1]).toMatchObject({ kind: 'refused', reason: expect.stringMatching(/items?\.proof\.siblings\[0\]/) });
      expect(outcomes[2]).toEqual(APPLIED);
      expect(host.asset.events()).toHaveLength(2);
    } finally {
      await host.close();
    }
  });

  it('an answer with another number of outcomes, or one that does not decode, is an Error', async () => {
    const cases: [string, RegExp][] = [
      [JSON.stringify({ outcomes: [APPLIED] }), /1 outcomes for 3 entries/],
      [JSON.stringify({ outcomes: [APPLIED, APPLIED, { kind: 'stored' }] }), /outcomes\[2\]\.kind/],
      [JSON.stringify({ kind: 'applied' }), /malformed answer/],
    ];
    for (const [text, pattern] of cases) {
      const s = await stub((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(text);
      });
      stubs.push(s);
      const client = new HttpLegAdapter({ url: s.url, leg: 'asset', credential: LEGS, timeoutMs: TIMEOUT_MS });
      const e = await client.applyBatch(REPORT, ENTRIES, MULTIPROOF).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(Error);
      expect(e).not.toBeInstanceOf(TransientLegError);
      expect((e as Error).message).toMatch(pattern);
    }
  });

  it('the answer of a batch call may be larger than responseLimitBytes: room for each outcome with a full reason', async () => {
    const reason = 'r'.repeat(4000);
    const s = await stub((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ outcomes: ENTRIES.map(() => ({ kind: 'refused', reason })) }));
    });
    stubs.push(s);
    const client = new HttpLegAdapter({ url: s.url, leg: 'asset', credential: LEGS, timeoutMs: TIMEOUT_MS, responseLimitBytes: 1000 });
    expect(await client.applyBatch(REPORT, ENTRIES, MULTIPROOF)).toEqual(ENTRIES.map(() => ({ kind: 'refused', reason })));
    // Other calls keep the limit.
    await expect(client.submitRoot(REPORT)).rejects.toThrow(/limit/);
  });
});
