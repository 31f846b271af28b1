/**
 * A height's instance as the rules of Algorithm 1 (rules.ts, shared with v1) see it: values are
 * batch headers named by their digest in hex, whose batches (entries, terms, justification) the
 * instance keeps by digest, validity and getValue() come from the injected ports, and a decision
 * is q precommit partials of one round combining into a report v2 over that round's header.
 */
import {
  type DecidedBatch,
  type FullProposal2,
  type MessageV2,
  type SignedVote2,
  assert,
  batchHeaderDigest,
  encodeVote2Body,
  reportBodyV2Of,
  reportDigestV2,
  toHex,
} from '@tandem/protocol';
import type { OwnMessages } from '../own-messages.js';
import type { AlgorithmPorts, AlgorithmView } from '../rules.js';
import type { VoteKeeper } from '../votes.js';
import type { MachineWire } from '../machine.js';
import { assertRoundInvariants } from '../invariants.js';
import { anchorMatches } from './height-auth.js';
import type { BatchContent, HeightContext, HeightEffect } from './height-types.js';
import { heightProposer } from './proposer.js';

/** A proposal taken for its round, with its header digest computed once. */
export interface TakenProposal {
  readonly proposal: FullProposal2;
  readonly digest: string;
}

/**
 * v2 votes name their value by header digest and travel as `vote2` and `proposal2` messages. An
 * honest member signs one value per (round, step); keeping two headers and nil per member is
 * enough to see an equivocation, and a Byzantine member cannot make a node keep more (proofs of
 * lock are kept in full: VoteSet.add's `force`).
 */
export const HEIGHT_WIRE: MachineWire<string, SignedVote2, FullProposal2, HeightEffect, MessageV2> = {
  keeping: { keyOf: (v) => (v.headerDigest === null ? null : toHex(v.headerDigest)), valuesPerVoterMax: 3 },
  voteMessage: (vote) => ({ kind: 'vote2', vote }),
  proposalMessage: (proposal) => ({ kind: 'proposal2', proposal }),
  voteBody: encodeVote2Body,
  asEffect: (e) => e,
};

export function digestOf(content: Pick<BatchContent, 'header'>): string {
  return toHex(batchHeaderDigest(content.header));
}

/**
 * The batches this height has seen, by header digest: from proposals taken (their entries already
 * bound to the header) and from this node's getValue(). One per proposal taken or made, so bounded
 * as the rounds are (the round window). Validity is monotone, so a batch found valid is remembered.
 */
export class BatchStore {
  private readonly byDigest = new Map<string, BatchContent>();
  private readonly knownValid = new Set<string>();

  get(digest: string): BatchContent | undefined {
    return this.byDigest.get(digest);
  }

  add(content: BatchContent): string {
    const digest = digestOf(content);
    if (!this.byDigest.has(digest)) this.byDigest.set(digest, content);
    return digest;
  }

  isValid(ctx: HeightContext, digest: string): boolean {
    if (this.knownValid.has(digest)) return true;
    const b = this.byDigest.get(digest);
    if (b === undefined || !ctx.ports.isValid(b.header, b.entries)) return false;
    this.knownValid.add(digest);
    return true;
  }
}

export type HeightView = AlgorithmView<string, SignedVote2, TakenProposal, DecidedBatch>;
export type HeightOwn = OwnMessages<FullProposal2, SignedVote2>;
export type HeightVotes = VoteKeeper<SignedVote2, TakenProposal>;

/** What the ports read of the instance. */
export interface HeightState {
  readonly ctx: HeightContext;
  readonly height: number;
  readonly batches: BatchStore;
  readonly own: HeightOwn;
  readonly votes: HeightVotes;
  /** A ready entry was announced ('start' input). */
  started(): boolean;
}

/** The parts of the view that differ from v1 (rules.ts, AlgorithmView). */
export type HeightPortsForRules = AlgorithmPorts<string, SignedVote2, TakenProposal, DecidedBatch>;

export function heightRulePorts(s: HeightState): HeightPortsForRules {
  const { ctx, height, batches } = s;
  const node = ctx.node;
  return {
    // A ready entry, or a taken proposal whose batch is valid (messages from f+1 members: L55).
    canStart: () => s.started() || [...s.votes.all()].some(([, rv]) => rv.proposal !== null && batches.isValid(ctx, rv.proposal.digest)),
    mayPropose: (round) => heightProposer(height, round, node.n) === node.self && s.own.proposal(round) === undefined,
    getValue: () => {
      const content = ctx.ports.getValue();
      return content === null ? null : batches.add(content);
    },
    proposalOf: (p) => ({ value: p.digest, validRound: p.proposal.validRound }),
    isValid: (digest) => batches.isValid(ctx, digest),
    freshAllowed: (digest) => {
      const b = batches.get(digest);
      return b !== undefined && ctx.ports.freshCommitAllowed(b.header, b.entries);
    },
    candidates: (set) => set.values(),
    // Deciding needs the batch's entries (the decided batch carries them): wait for them.
    combine: (round, digest, partials) => {
      const b = batches.get(digest);
      if (b === undefined) return null;
      const body = reportBodyV2Of(ctx.anchor, height, round, b.header);
      const out = node.verifier.combine(node.cluster.commitments, reportDigestV2(body), partials, node.q);
      return out.ok ? { ok: true, report: { report: { ...body, signature: out.signature }, entries: b.entries } } : { ok: false, bad: out.bad };
    },
  };
}

/** What holds of a height's instance between steps (and after a resume); a failure is a bug. */
export function assertHeightInvariants(v: HeightView, s: HeightState, decided: DecidedBatch | null): void {
  assertRoundInvariants(v, HEIGHT_WIRE.keeping.keyOf);
  assert(v.lockedValue === null || s.batches.get(v.lockedValue) !== undefined, 'the locked batch is kept (it is persisted with the lock)');
  assert(v.validValue === null || s.batches.get(v.validValue) !== undefined, 'the valid batch is kept (it is persisted with it)');
  if (decided !== null) {
    assert(decided.report.height === s.height && anchorMatches(s.ctx.anchor, decided.report), 'the decided batch is of this height, network and configuration');
  }
  const self = s.ctx.node.self;
  s.own.assertConsistent(
    (p) => {
      assert(p.proposer === self && heightProposer(s.height, p.round, s.ctx.node.n) === self, 'a signed proposal is ours, in a round we propose');
      assert(p.height === s.height, 'a signed proposal is of this height');
    },
    (vote) => {
      assert(vote.voter === self && vote.height === s.height, 'a signed vote is ours, of this height');
      assert((vote.partial !== null) === (vote.step === 'precommit' && vote.headerDigest !== null), 'a partial rides on a precommit for a header, and only there');
    },
  );
}
