/**
 * One signed intent, two local clusters of real processes (one node each, the in-memory legs),
 * run by the same parties with the same keys: it commits on at most one. Each `cluster up` deals
 * its keys under a network name of its own and derives its own venues from it, and a party's
 * authorization names the network id, so an intent signed for cluster A moves nothing on cluster
 * B — neither as it was written (A's venues) nor re-addressed to B's venues with A's
 * authorizations. Needs the built dist (pnpm build); every process is stopped in afterAll.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadClusterFile } from '@tandem/daemon';
import { type LegView, type Terms, encodeTerms, equalBytes, fromHex, settlementId, toHex } from '@tandem/protocol';
import { NODE_MAIN, type ClusterState, clusterCredentials, clusterDown, clusterPaths, clusterUp, getJson, partySigner, postJson, readState, waitFor } from '../src/index.js';

const dirA = mkdtempSync(join(tmpdir(), 'tandem-replay-a-'));
const dirB = mkdtempSync(join(tmpdir(), 'tandem-replay-b-'));
const DEADLINE_AFTER_MS = 4_000;

interface NodeView {
  readonly decided: boolean;
  readonly closed: boolean;
  readonly decision: 'COMMIT' | 'ABORT' | null;
  readonly views: Record<'asset' | 'payment', LegView | null>;
}

/** Terms on `venues`, deadline a few seconds out. */
function termsOn(venues: ClusterState['venues'], nonce: string): Terms {
  return {
    nonce: `${nonce}-${Date.now()}`,
    asset: { chainId: BigInt(venues.chainId), escrow: fromHex(venues.escrow, 20), token: 'OUSG', seller: 'alice', buyer: 'bob', amount: 10n },
    payment: { bankId: venues.bankId, ledger: venues.ledger, payer: 'bob', payee: 'alice', currency: 'USD', amount: 1_000n },
    deadlineMs: Date.now() + DEADLINE_AFTER_MS,
    reportWindowMs: 10_000,
    marginMs: 5_000,
  };
}

/** The intent for `terms` with both parties' authorizations, signed for the cluster in `signedFor`. */
function intent(terms: Terms, signedFor: string): unknown {
  const signer = partySigner(signedFor);
  const id = settlementId(terms);
  return { terms: toHex(encodeTerms(terms)), authorizations: { asset: signer.authorize('alice', id), payment: signer.authorize('bob', id) } };
}

/** The node's view once it decided and saw the settlement closed on both legs. */
async function decidedView(dir: string, terms: Terms): Promise<NodeView> {
  const node = readState(dir).nodes[0]!;
  const url = `${node.control}/settlements/${toHex(settlementId(terms))}`;
  return waitFor(`a decision on ${dir}`, 30_000, async () => {
    const v = (await getJson(url, clusterCredentials(dir).control)) as NodeView;
    return v.decided && v.closed ? v : null;
  });
}

describe.skipIf(!existsSync(NODE_MAIN))('one signed intent on two local clusters', () => {
  beforeAll(async () => {
    await clusterUp(dirA, { nodes: '1' });
    // The same parties, with the same keys, on a second cluster.
    mkdirSync(dirB, { recursive: true, mode: 0o700 });
    for (const f of ['parties', 'partiesSecret'] as const) copyFileSync(clusterPaths(dirA)[f], clusterPaths(dirB)[f]);
    await clusterUp(dirB, { nodes: '1' });
  }, 120_000);

  afterAll(async () => {
    for (const dir of [dirA, dirB]) {
      if (existsSync(join(dir, 'state.json'))) await clusterDown(dir);
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);

  it('the clusters have their own network ids and venues', () => {
    const [a, b] = [dirA, dirB].map((d) => loadClusterFile(clusterPaths(d).cluster));
    expect(equalBytes(a!.config.networkId, b!.config.networkId)).toBe(false);
    const [va, vb] = [readState(dirA).venues, readState(dirB).venues];
    expect(va.escrow).not.toBe(vb.escrow);
    expect(va.bankId).not.toBe(vb.bankId);
  });

  it('commits on the cluster it was signed for and moves nothing on the other', async () => {
    const terms = termsOn(readState(dirA).venues, 'replayed');
    const body = intent(terms, dirA);
    for (const dir of [dirA, dirB]) await postJson(`${readState(dir).nodes[0]!.control}/intents`, body, clusterCredentials(dir).control);
    expect(await decidedView(dirA, terms)).toMatchObject({ decision: 'COMMIT', views: { asset: { state: 'committed' }, payment: { state: 'committed' } } });
    const onB = await decidedView(dirB, terms);
    expect(onB.decision).toBe('ABORT'); // at the deadline: nothing was ever locked on B
    expect(onB.views.asset?.lock ?? null).toBeNull();
    expect(onB.views.payment?.lock ?? null).toBeNull();
  }, 60_000);

  it("re-addressed to the other cluster's venues, the first cluster's authorizations still lock nothing", async () => {
    const terms = termsOn(readState(dirB).venues, 're-addressed');
    await postJson(`${readState(dirB).nodes[0]!.control}/intents`, intent(terms, dirA), clusterCredentials(dirB).control);
    const onB = await decidedView(dirB, terms);
    expect(onB.decision).toBe('ABORT');
    expect(onB.views.asset?.lock ?? null).toBeNull();
    expect(onB.views.payment?.lock ?? null).toBeNull();
    // The control case: the same terms signed for B commit there.
    const again = { ...terms, nonce: `${terms.nonce}-b`, deadlineMs: Date.now() + DEADLINE_AFTER_MS };
    await postJson(`${readState(dirB).nodes[0]!.control}/intents`, intent(again, dirB), clusterCredentials(dirB).control);
    expect(await decidedView(dirB, again)).toMatchObject({ decision: 'COMMIT' });
  }, 60_000);
});
