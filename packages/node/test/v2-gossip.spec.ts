import { describe, expect, it } from 'vitest';
import { type Bundle, type BundleEntry, type BundleHeader, SIGN_DOMAIN_V2, bundleTreeRoot, configDigestV2, encodeBundleHeaderBody, settlementId } from '@tandem/protocol';
import { bundleLegView } from '../src/v2/state.js';
import { WorldV2 } from './v2-world.js';

/** Node 1 alone, with a settlement it prepared (both legs locked): its own view is one supporter of COMMIT, f + 1 = 2 are needed. */
async function aloneWithLockedSettlement(): Promise<{ w: WorldV2; entry: BundleEntry }> {
  const w = new WorldV2();
  w.start(1);
  const terms = w.terms('gossip');
  w.intent(terms, [1]);
  await w.runFor(500);
  const id = settlementId(terms);
  const [asset, payment] = await Promise.all([w.asset.observe(id), w.payment.observe(id)]);
  expect([asset.state, payment.state]).toEqual(['locked', 'locked']);
  return { w, entry: { settlementId: id, kind: 'view', asset: bundleLegView(asset), payment: bundleLegView(payment) } };
}

/** A bundle in member `signer`'s name, signed with `signedBy`'s key (default its own). */
function bundleOf(w: WorldV2, signer: number, timeMs: number, entries: BundleEntry[], signedBy = signer): Bundle {
  const header: BundleHeader = { networkId: w.cluster.networkId, configDigest: configDigestV2(w.cluster, w.v2), signer, timeMs, count: entries.length, root: bundleTreeRoot(entries) };
  return { header: { ...header, signature: w.peer(signedBy).ctx.signer.sign(SIGN_DOMAIN_V2.bundle, encodeBundleHeaderBody(header)) }, entries };
}

const started = (w: WorldV2) => w.eventsOf(1, 'height-round').length > 0;

describe('NodeRuntimeV2: bundles in', () => {
  it('a second member’s authentic bundle makes the settlement ready: the height starts', async () => {
    const { w, entry } = await aloneWithLockedSettlement();
    expect(started(w)).toBe(false);
    w.runtime(1).receive(2, { kind: 'bundle', bundle: bundleOf(w, 2, w.nowMs, [entry]) });
    await w.runFor(200);
    expect(started(w)).toBe(true);
  });

  it('a bundle signed with another key, or sent by another member than its signer, is ignored', async () => {
    const { w, entry } = await aloneWithLockedSettlement();
    w.runtime(1).receive(2, { kind: 'bundle', bundle: bundleOf(w, 2, w.nowMs, [entry], 3) });
    w.runtime(1).receive(3, { kind: 'bundle', bundle: bundleOf(w, 2, w.nowMs + 1, [entry]) });
    await w.runFor(500);
    expect(started(w)).toBe(false);
  });

  it('a bundle more than skewMaxMs ahead of the clock is held back until the clock is near it', async () => {
    const { w, entry } = await aloneWithLockedSettlement();
    const aheadMs = w.v2.skewMaxMs + 1_000;
    w.runtime(1).receive(2, { kind: 'bundle', bundle: bundleOf(w, 2, w.nowMs + aheadMs, [entry]) });
    await w.runFor(900);
    expect(started(w)).toBe(false);
    await w.runFor(300);
    expect(started(w)).toBe(true);
  });
});
