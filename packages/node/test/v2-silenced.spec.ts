/**
 * A silenced v2 node (src/v2/silenced.ts: recovered observe-only) in a 4-node cluster: it signs
 * nothing — no bundle, entry, proposal, vote or BLS partial, counted at its signer and at its
 * transport — yet the three others decide, and it decides every height they decide from their
 * decided batches (catching up after a crash too), prepares the legs and delivers.
 */
import { describe, expect, it } from 'vitest';
import { type MessageV2, type Terms, toHex } from '@tandem/protocol';
import type { BatchLegAdapter } from '@tandem/legs';
import type { RuntimeV2Deps } from '../src/index.js';
import { silencedContext } from '../src/v2/silenced.js';
import { WorldV2 } from './v2-world.js';

const SILENCED = 4;
/** Message kinds only a signer sends: a silenced node never does. */
const SIGNED_KINDS: readonly MessageV2['kind'][] = ['bundle', 'proposal2', 'vote2'];

/** An adapter whose applyBatch always fails (a node that cannot deliver). */
function cannotDeliver(adapter: BatchLegAdapter): BatchLegAdapter {
  return new Proxy(adapter, {
    get(target, key) {
      if (key === 'applyBatch') return () => Promise.reject(new Error('this node cannot reach the leg to deliver'));
      const value: unknown = Reflect.get(target, key, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** A started world whose node 4 is silenced, its signatures and sent message kinds counted; heartbeats exchanged. */
async function silencedWorld(options: { othersDeliver: boolean }) {
  const signatures = { sign: 0, partialSign: 0 };
  const sent = new Map<MessageV2['kind'], number>();
  const wrap = (i: number, d: RuntimeV2Deps): RuntimeV2Deps => {
    if (i !== SILENCED) return options.othersDeliver ? d : { ...d, legs: { asset: cannotDeliver(d.legs.asset), payment: cannotDeliver(d.legs.payment) } };
    const signer = {
      sign: (domain: string, msg: Uint8Array) => (signatures.sign++, d.ctx.signer.sign(domain, msg)),
      partialSign: (msg: Uint8Array) => (signatures.partialSign++, d.ctx.signer.partialSign(msg)),
    };
    const count = (m: MessageV2) => sent.set(m.kind, (sent.get(m.kind) ?? 0) + 1);
    return {
      ...d,
      silenced: true,
      ctx: { ...d.ctx, signer },
      transport: {
        broadcast: (m) => (count(m), d.transport.broadcast(m)),
        send: (to, m) => (count(m), d.transport.send(to, m)),
      },
    };
  };
  const w = new WorldV2({ deps: wrap });
  w.startAll();
  await w.runFor(1_000);
  return { w, signatures, sent };
}

function expectSignedNothing(w: WorldV2, signatures: { sign: number; partialSign: number }, sent: Map<MessageV2['kind'], number>): void {
  expect(signatures).toEqual({ sign: 0, partialSign: 0 });
  for (const kind of SIGNED_KINDS) expect(sent.get(kind) ?? 0).toBe(0);
  expect(w.eventsOf(SILENCED, 'bundle-signed')).toEqual([]);
  expect(w.eventsOf(SILENCED, 'signed')).toEqual([]);
  expect(w.eventsOf(SILENCED, 'height-round')).toEqual([]);
}

/** The roots of the heights node i decided, in order. */
const roots = (w: WorldV2, i: number) => w.eventsOf(i, 'decided-height').map((h) => `${h.height}:${toHex(h.header.root)}`);

describe('a silenced v2 node (recovered observe-only) signs nothing, yet follows and delivers', () => {
  it('3 signers decide every height; the silenced node decides each from their decided batches and prepares the legs', async () => {
    const { w, signatures, sent } = await silencedWorld({ othersDeliver: true });
    const all: Terms[] = [];
    for (let k = 0; k < 6; k++) {
      const t = w.terms(`silenced-${k}`);
      all.push(t);
      expect(w.intent(t)).toEqual([null, null, null, null]); // it takes intents (admission)
      await w.runFor(1_500);
    }
    await w.runFor(5_000);
    const heights = roots(w, 1);
    expect(heights.length).toBeGreaterThanOrEqual(3);
    for (const i of [2, 3, SILENCED]) expect(roots(w, i)).toEqual(heights);
    for (const t of all) {
      expect(w.decisionAt(SILENCED, t)).toEqual(w.decisionAt(1, t));
      expect(w.decisionAt(SILENCED, t)?.decision).toBe('COMMIT');
      expect(await w.legState('asset', t)).toBe('committed');
      expect(await w.legState('payment', t)).toBe('committed');
    }
    // It prepared the legs with the parties' authorizations, and answered peers with decided batches only.
    expect(w.eventsOf(SILENCED, 'prepare').length).toBeGreaterThan(0);
    expect([...sent.keys()].every((k) => k === 'decided' || k === 'catch-up')).toBe(true);
    expectSignedNothing(w, signatures, sent);
  });

  it('it alone delivers when no other node can reach the legs', async () => {
    const { w, signatures, sent } = await silencedWorld({ othersDeliver: false });
    const t = w.terms('only-the-silenced-delivers');
    expect(w.intent(t)).toEqual([null, null, null, null]);
    await w.runFor(10_000);
    expect(w.decisionAt(SILENCED, t)?.decision).toBe('COMMIT');
    const applied = w.eventsOf(SILENCED, 'deliver').filter((d) => d.outcome === 'applied').map((d) => d.leg);
    expect(applied.sort()).toEqual(['asset', 'payment']);
    expect(await w.legState('asset', t)).toBe('committed');
    expect(await w.legState('payment', t)).toBe('committed');
    expectSignedNothing(w, signatures, sent);
  });

  it('crashed while heights were decided, restarted silenced: it catches up by decided batches and still signs nothing', async () => {
    const { w, signatures, sent } = await silencedWorld({ othersDeliver: true });
    const first = w.terms('before-crash');
    w.intent(first);
    await w.runFor(3_000);
    w.crash(SILENCED);
    for (let k = 0; k < 3; k++) {
      w.intent(w.terms(`while-down-${k}`), [1, 2, 3]);
      await w.runFor(2_000);
    }
    w.start(SILENCED);
    const resumedHeights = roots(w, SILENCED).length;
    const later = w.terms('after-restart');
    expect(w.intent(later)).toEqual([null, null, null, null]);
    await w.runFor(6_000);
    const heights = roots(w, 1);
    expect(heights.length).toBeGreaterThanOrEqual(4);
    expect(resumedHeights).toBeLessThan(heights.length);
    expect(w.runtime(SILENCED).tip).toBe(w.runtime(1).tip);
    expect(w.decisionAt(SILENCED, later)?.decision).toBe('COMMIT');
    expectSignedNothing(w, signatures, sent);
  });

  it('a silenced node’s height instance signs through a signer that asserts it never does', () => {
    const w = new WorldV2();
    const ctx = silencedContext(w.peer(1).ctx);
    expect(() => ctx.signer.sign('tandem/v2/vote', new Uint8Array(1))).toThrow(/n1 is silenced .* never signs a proposal or a vote/);
    expect(() => ctx.signer.partialSign(new Uint8Array(1))).toThrow(/never signs a BLS partial/);
  });
});
