/**
 * The simulator demo's narrator under protocol 2 (`tandem demo --sim --protocol 2`): turns the v2
 * history entries (node2, leg2) into the same plain sentences as narrator.ts tells for v1 — but per
 * height: the nodes bundle their observations, decide a batch, sign one report over its Merkle
 * root, and the legs check the root once and each settlement by its proof.
 */
import { blsVerify, TANDEM_BLS_DST } from '@tandem/crypto';
import { type Decision, type Entry, type LegName, type ReportV2, batchHeaderDigest, reportDigestV2, toHex } from '@tandem/protocol';
import type { HistoryEntry } from '@tandem/sim';

/** What the v2 narrator borrows from the narrator that owns it. */
export interface StoryTeller {
  line(t: number, text: string): void;
  once(key: string): boolean;
  /** The scenario's name for a settlement id (hex). */
  name(settlementIdHex: string): string;
  /** What a leg's prepare did, as a sentence's end ("the bank ledger placed a hold on the payer's funds"). */
  prepared(leg: LegName, outcome: string): string;
  /** What a leg did when a report reached it ("released the tokens to the buyer"). */
  moved(leg: LegName, commit: boolean): string;
  groupKey(): Uint8Array;
  threshold(): number;
}

const short = (b: Uint8Array) => toHex(b).slice(0, 16);

/** Turns v2 history entries into sentences through `teller`. */
export class NarratorV2 {
  /** Each settlement's decision, once a batch decided it (for what its delivery did). */
  private readonly decisions = new Map<string, Decision>();
  /** Heights decided so far: each node's first non-empty bundle after each is told (not every tick's). */
  private heightsDecided = 0;

  constructor(private readonly teller: StoryTeller) {}

  entry(e: HistoryEntry): void {
    if (e.type === 'leg2') {
      if (e.call.op !== 'entries') this.describeReport(e.t, e.call.report);
      return;
    }
    if (e.type !== 'node2') return;
    const line = (t: number, text: string) => this.teller.line(t, text);
    const once = (key: string) => this.teller.once(key);
    const name = (idHex: string) => this.teller.name(idHex);
    const ev = e.event;
    const who = `n${e.node}`;
    switch (ev.type) {
      case 'prepare':
        if (once(`prepare:${ev.settlementIdHex}:${ev.leg}`)) line(e.t, `${who} prepares ${name(ev.settlementIdHex)}'s ${ev.leg} leg (in parallel with the other): ${this.teller.prepared(ev.leg, ev.outcome)}.`);
        return;
      case 'bundle-signed':
        if (ev.count > 0 && once(`bundle:${this.heightsDecided}:${e.node}`)) {
          line(e.t, `${who} signs a bundle: its observations of ${ev.count} open settlement${ev.count === 1 ? '' : 's'} in one Ed25519 signature (${ev.kinds.view} view, ${ev.kinds.deadline} at the deadline, ${ev.kinds.guard} guard).`);
        }
        return;
      case 'signed': {
        const m = ev.message;
        if (m.kind === 'proposal2') {
          const h = m.proposal.header;
          line(e.t, `${who} is the proposer of height ${m.proposal.height} round ${m.proposal.round}: proposes a batch of ${h.count} entr${h.count === 1 ? 'y' : 'ies'}, Merkle root ${short(h.root)}….`);
        } else if (m.kind === 'vote2') {
          const v = m.vote;
          const value = v.headerDigest === null ? 'nil' : `the batch ${short(v.headerDigest)}…`;
          line(e.t, `${who} ${v.step}s ${value} at height ${v.height} round ${v.round}${v.partial ? ' with its BLS partial signature over the report v2' : ''}.`);
        }
        return;
      }
      case 'decided-height': {
        for (const x of ev.entries) this.decisions.set(toHex(x.settlementId), x.decision);
        if (once(`decided:${ev.height}`)) {
          this.heightsDecided++;
          line(e.t, `${who} DECIDES height ${ev.height} in round ${ev.round}: a batch of ${ev.header.count} (${this.entries(ev.entries)}), header ${short(batchHeaderDigest(ev.header))}….`);
        } else line(e.t, `${who} decides height ${ev.height} as well.`);
        return;
      }
      case 'deliver':
        if (ev.outcome === 'applied') {
          const how = `the ${ev.leg === 'asset' ? 'escrow' : 'bank'} checked its entry against the root by its Merkle proof`;
          line(e.t, `${who} delivers ${name(ev.settlementIdHex)} (height ${ev.height}) to the ${ev.leg} leg: ${how} and ${this.teller.moved(ev.leg, this.decisions.get(ev.settlementIdHex) === 'COMMIT')}.`);
        }
        return;
      case 'closed':
        if (once(`closed:${ev.settlementIdHex}`)) line(e.t, `${name(ev.settlementIdHex)} is closed on both legs; the nodes stop polling it.`);
        return;
      default:
        return;
    }
  }

  private entries(entries: readonly Entry[]): string {
    return entries.map((x) => `${this.teller.name(toHex(x.settlementId))} ${x.decision}`).join(', ');
  }

  /** The first time a leg is handed a height's report: it is checked under the group key, and shown to fail for another root. */
  private describeReport(t: number, r: ReportV2): void {
    if (!this.teller.once(`report:${r.height}`)) return;
    const group = this.teller.groupKey();
    const valid = blsVerify(group, reportDigestV2(r), r.signature, TANDEM_BLS_DST);
    const otherRoot = Uint8Array.from(r.root, (b, i) => (i === 0 ? b ^ 1 : b));
    const tamperedValid = blsVerify(group, reportDigestV2({ ...r, root: otherRoot }), r.signature, TANDEM_BLS_DST);
    this.teller.line(t, `the legs get height ${r.height}'s report v2: q = ${this.teller.threshold()} precommit partials combined into one threshold signature over the root ${short(r.root)}….`);
    this.teller.line(t, `         report signature ${toHex(r.signature).slice(0, 32)}… (48 bytes, BLS12-381 min-sig)`);
    this.teller.line(t, `         verifies under the group public key ${short(group)}…: ${valid ? 'VALID' : 'INVALID'}; the same signature over another root: ${tamperedValid ? 'VALID (!)' : 'rejected'}.`);
  }
}
