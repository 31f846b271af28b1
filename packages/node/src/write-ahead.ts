/**
 * The write-ahead rule, checked where it matters: before a message leaves the node. Whatever this
 * node signed that a restart must never contradict (its proposals, its votes, its one deadline
 * observation) and the report it decided must be in the record it last persisted for that
 * settlement. A violation is a bug in the consensus core or the runtime, never bad input, so it
 * fails loudly (an assertion) instead of sending something a crash could make it contradict.
 */
import type { PersistedSettlement } from '@tandem/consensus';
import { type Message, type VoteStep, assert, equalBytes } from '@tandem/protocol';

/** What the last persisted record covers, by slot: the signature this node stored for it. */
export class WriteAheadGuard {
  /** `p:<round>`, `v:<round>:<step>`, `deadline`, `report` → the persisted signature. */
  private readonly covered = new Map<string, Uint8Array>();

  constructor(
    private readonly self: number,
    private readonly settlementIdHex: string,
  ) {}

  /** The runtime persisted `record` (it is durable now): index what it covers. */
  persisted(record: PersistedSettlement): void {
    this.covered.clear();
    for (const p of record.proposals) this.covered.set(proposalSlot(p.round), p.signature);
    for (const v of record.votes) this.covered.set(voteSlot(v.round, v.step), v.signature);
    if (record.deadlineObservation !== null) this.covered.set('deadline', record.deadlineObservation.signature);
    if (record.report !== null) this.covered.set('report', record.report.signature);
  }

  /** Null when `m` may go out; else what it is that was not persisted first. */
  uncovered(m: Message): string | null {
    const slot = this.slotOf(m);
    if (slot === null) return null;
    const stored = this.covered.get(slot.key);
    // Ed25519 signatures are deterministic: the same signature means the same signed body.
    return stored !== undefined && equalBytes(stored, slot.signature) ? null : slot.what;
  }

  /** Asserts the write-ahead rule for one outgoing message. */
  check(m: Message): void {
    const what = this.uncovered(m);
    if (what !== null) assert(false, `write-ahead: n${this.self} sent ${what} of settlement ${this.settlementIdHex.slice(0, 16)} before persisting it`);
  }

  /** The record slot of a message this node signed (or decided), null for anything else. */
  private slotOf(m: Message): { key: string; signature: Uint8Array; what: string } | null {
    switch (m.kind) {
      case 'proposal':
        if (m.proposal.proposer !== this.self) return null;
        return { key: proposalSlot(m.proposal.round), signature: m.proposal.signature, what: `its proposal of round ${m.proposal.round}` };
      case 'vote':
        if (m.vote.voter !== this.self) return null;
        return { key: voteSlot(m.vote.round, m.vote.step), signature: m.vote.signature, what: `its ${m.vote.step} of round ${m.vote.round}` };
      case 'observation':
        // Only the deadline observation is persisted: the others may differ after a restart.
        if (m.observation.signer !== this.self || !m.observation.deadline) return null;
        return { key: 'deadline', signature: m.observation.signature, what: 'its deadline observation' };
      case 'report':
        return { key: 'report', signature: m.report.signature, what: 'the report' };
      case 'terms':
        return null;
    }
  }
}

function proposalSlot(round: number): string {
  return `p:${round}`;
}

function voteSlot(round: number, step: VoteStep): string {
  return `v:${round}:${step}`;
}
