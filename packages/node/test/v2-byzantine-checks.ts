/**
 * What the Byzantine tests of protocol v2 check in the v2 test world: the correct nodes stay safe
 * (every settlement in at most one decided batch, the same batch at every height, legs that agree)
 * and the behaviour was seen (what the Byzantine member signed and sent, how correct nodes voted).
 */
import { expect } from 'vitest';
import { type FullProposal2, type MessageV2, type SignedVote2, type Terms, settlementId, toHex } from '@tandem/protocol';
import type { RuntimeV2Deps } from '../src/index.js';
import type { WorldV2 } from './v2-world.js';

/** Per settlement (id hex), every (height, decision) node i saw it decided in. */
export function decidedIn(w: WorldV2, i: number): Map<string, { height: number; decision: string }[]> {
  const out = new Map<string, { height: number; decision: string }[]>();
  for (const h of w.eventsOf(i, 'decided-height')) {
    for (const e of h.entries) {
      const idHex = toHex(e.settlementId);
      out.set(idHex, [...(out.get(idHex) ?? []), { height: h.height, decision: e.decision }]);
    }
  }
  return out;
}

/** Safety at the correct nodes: one decided batch per height for all of them, each settlement in at most one. */
export function expectCorrectSafe(w: WorldV2, correct: readonly number[]): void {
  const roots = new Map<number, string>();
  for (const i of correct) {
    for (const h of w.eventsOf(i, 'decided-height')) {
      const root = toHex(h.header.root);
      expect(roots.get(h.height) ?? root, `height ${h.height} at node ${i}`).toBe(root);
      roots.set(h.height, root);
    }
    for (const [idHex, seen] of decidedIn(w, i)) expect(seen.length, `decided batches of ${idHex} at node ${i}`).toBe(1);
  }
}

/** No leg committed while the other moved back (aborted, reclaimed) or refused. */
export async function expectLegsAgree(w: WorldV2, all: readonly Terms[]): Promise<void> {
  for (const t of all) {
    const states = [await w.legState('asset', t), await w.legState('payment', t)];
    if (states.includes('committed')) expect(states, `legs of ${t.nonce}`).toEqual(['committed', 'committed']);
  }
}

export function idHexOf(t: Terms): string {
  return toHex(settlementId(t));
}

/** The proposals node i signed (as its instance made them, before any transport). */
export function proposalsSigned(w: WorldV2, i: number): (FullProposal2 & { atMs: number })[] {
  return w.eventsOf(i, 'signed').flatMap((e) => (e.message.kind === 'proposal2' ? [{ ...e.message.proposal, atMs: e.atMs }] : []));
}

/** The prevotes node i signed at (height, round). */
export function prevotesAt(w: WorldV2, i: number, height: number, round: number): SignedVote2[] {
  return w.eventsOf(i, 'signed').flatMap((e) => {
    const m = e.message;
    return m.kind === 'vote2' && m.vote.step === 'prevote' && m.vote.height === height && m.vote.round === round ? [m.vote] : [];
  });
}

/** Every prevote node i signed for a header (not nil), as header digests in hex. */
export function headerPrevotes(w: WorldV2, i: number): string[] {
  return w.eventsOf(i, 'signed').flatMap((e) => (e.message.kind === 'vote2' && e.message.vote.step === 'prevote' && e.message.vote.headerDigest !== null ? [toHex(e.message.vote.headerDigest)] : []));
}

/** Deps whose transport records every message it is handed (a wrapper around them records what it lets through). */
export function recordingSent(deps: RuntimeV2Deps, sent: MessageV2[]): RuntimeV2Deps {
  const inner = deps.transport;
  return {
    ...deps,
    transport: {
      broadcast: (m) => {
        sent.push(m);
        inner.broadcast(m);
      },
      send: (to, m) => {
        sent.push(m);
        inner.send(to, m);
      },
    },
  };
}
