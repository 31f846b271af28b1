/**
 * Test harness for v2 heights: the v1 cluster fixture (real dealer, real Ed25519 identities), a v2
 * anchor, batches with real Merkle roots, injected ports each test can steer per node, message
 * forgers for Byzantine inputs, and a network of height instances (harness.ts's InstanceNet).
 * Deterministic: no clock, no randomness.
 */
import { TANDEM_BLS_DST, blsSign, blsVerify, combineVerified } from '@tandem/crypto';
import {
  type AnchorV2,
  type BatchHeader,
  type DecidedBatch,
  type Entry,
  type FullProposal2,
  type MessageV2,
  type SignedVote2,
  type VoteStep,
  batchHeaderDigest,
  configDigestV2,
  defaultV2Params,
  reportBodyV2Of,
  reportDigestV2,
  reportTreeRoot,
  toHex,
} from '@tandem/protocol';
import type { BatchContent, HeightContext, HeightEffect, HeightInput, PersistedHeight } from '../src/index.js';
import { HeightInstance, signProposal2, signVote2 } from '../src/index.js';
import { type Fixture, InstanceNet } from './harness.js';

/** Ids are 32 bytes: `tag` in byte 0 and the index in byte 1, so a batch's ids ascend. */
export function makeBatch(tag: number, count = 2, timeMs = 1_000): BatchContent {
  const entries: Entry[] = [];
  for (let i = 0; i < count; i++) {
    const settlementId = new Uint8Array(32);
    settlementId[0] = tag;
    settlementId[1] = i + 1;
    entries.push({ settlementId, decision: i % 2 === 0 ? 'COMMIT' : 'ABORT', validUntilMs: 90_000 + i });
  }
  const header: BatchHeader = { timeMs, liveFrom: 1, count, root: reportTreeRoot(entries) };
  return { header, entries, terms: [], justification: [] };
}

export const digestHex = (b: Pick<BatchContent, 'header'>): string => toHex(batchHeaderDigest(b.header));

/** What one node's injected ports answer; a test steers them (validity only ever grows). */
export class PortsState {
  /** Every batch is valid here unless `validOnly` names the digests that are. */
  validOnly: Set<string> | null = null;
  value: BatchContent | null = null;
  fresh = true;
  /** How often the fresh-COMMIT filter was asked. */
  freshAsked = 0;
}

export function anchorOf(fx: Fixture): AnchorV2 {
  return { networkId: fx.cluster.networkId, configDigest: configDigestV2(fx.cluster, defaultV2Params(fx.n)) };
}

export function heightContext(fx: Fixture, m: number, ports: PortsState): HeightContext {
  return {
    node: fx.ctx(m),
    anchor: anchorOf(fx),
    ports: {
      isValid: (header) => ports.validOnly === null || ports.validOnly.has(toHex(batchHeaderDigest(header))),
      getValue: () => ports.value,
      freshCommitAllowed: () => {
        ports.freshAsked++;
        return ports.fresh;
      },
    },
  };
}

/** The proposer of round r at height h: ((h + r) mod n) + 1. */
export const proposerAt = (fx: Fixture, height: number, round: number): number => ((height + round) % fx.n) + 1;

/** n height instances of one height; every node proposes `makeBatch(its index)` when its turn comes. */
export class HeightNet extends InstanceNet<HeightInstance, HeightInput, HeightEffect, MessageV2, PersistedHeight> {
  readonly fx: Fixture;
  readonly height: number;
  private readonly portStates: PortsState[];
  private readonly contexts: HeightContext[];

  constructor(fx: Fixture, height = 1) {
    const portStates = fx.members.map((m) => Object.assign(new PortsState(), { value: makeBatch(m) }));
    const contexts = fx.members.map((m) => heightContext(fx, m, portStates[m - 1]!));
    super(
      fx.members,
      (m) => HeightInstance.create(contexts[m - 1]!, height),
      (m, rec) => HeightInstance.resume(contexts[m - 1]!, rec),
    );
    this.fx = fx;
    this.height = height;
    this.portStates = portStates;
    this.contexts = contexts;
  }

  ports(m: number): PortsState {
    return this.portStates[m - 1]!;
  }

  context(m: number): HeightContext {
    return this.contexts[m - 1]!;
  }

  startAll(): void {
    for (const m of this.fx.members) this.input(m, { type: 'start' });
  }

  /** The digest each node decided (null where undecided). */
  decidedDigests(): (string | null)[] {
    return this.nodes.map((n) => (n.decidedBatch === null ? null : digestHex({ header: headerOfReport(n.decidedBatch) })));
  }
}

export function headerOfReport(b: DecidedBatch): BatchHeader {
  const r = b.report;
  return { timeMs: r.timeMs, liveFrom: r.liveFrom, count: r.count, root: r.root };
}

/** Does the decided batch's report verify under the group key, over the report v2 digest? */
export function decidedVerifies(fx: Fixture, b: DecidedBatch): boolean {
  return blsVerify(fx.groupKey, reportDigestV2(b.report), b.report.signature, TANDEM_BLS_DST);
}

// ---------------------------------------------------------------------------------------------
// Forging messages as any member

export function partialV2(fx: Fixture, m: number, height: number, round: number, header: BatchHeader): Uint8Array {
  return blsSign(fx.keysOf(m).shareSecret, reportDigestV2(reportBodyV2Of(anchorOf(fx), height, round, header)));
}

export function forgeVote2(fx: Fixture, voter: number, round: number, step: VoteStep, batch: BatchContent | null, opts: { height?: number; partial?: Uint8Array } = {}): SignedVote2 {
  const height = opts.height ?? 1;
  const partial = step === 'precommit' && batch !== null ? (opts.partial ?? partialV2(fx, voter, height, round, batch.header)) : null;
  const ctx = heightContext(fx, voter, new PortsState());
  return signVote2(ctx, { ...anchorOf(fx), height, round, step, voter, headerDigest: batch === null ? null : batchHeaderDigest(batch.header), partial });
}

export function forgeProposal2(fx: Fixture, proposer: number, round: number, batch: BatchContent, validRound = -1, polka: readonly SignedVote2[] = [], height = 1): FullProposal2 {
  const ctx = heightContext(fx, proposer, new PortsState());
  const signed = signProposal2(ctx, { ...anchorOf(fx), height, round, proposer, validRound, header: batch.header });
  return { ...signed, entries: batch.entries, terms: batch.terms, justification: batch.justification, polka };
}

/** A decided batch threshold-signed by the first q members for (height, round, batch). */
export function thresholdDecided(fx: Fixture, round: number, batch: BatchContent, height = 1): DecidedBatch {
  const body = reportBodyV2Of(anchorOf(fx), height, round, batch.header);
  const digest = reportDigestV2(body);
  const partials = fx.members.slice(0, fx.q).map((m) => ({ index: m, signature: blsSign(fx.keysOf(m).shareSecret, digest) }));
  const out = combineVerified(fx.cluster.commitments, digest, partials, fx.q, TANDEM_BLS_DST);
  if (!out.ok) throw new Error('honest partials must combine');
  return { report: { ...body, signature: out.signature }, entries: batch.entries };
}

export const vote2Msg = (vote: SignedVote2): MessageV2 => ({ kind: 'vote2', vote });
export const proposal2Msg = (proposal: FullProposal2): MessageV2 => ({ kind: 'proposal2', proposal });

/** The input "message m arrived from member `from`". */
export const fromMember = (from: number, message: MessageV2): HeightInput => ({ type: 'message', from, message });

/** Votes this node signed (the `signed` effects), optionally of one step. */
export function signedVotes2(effects: readonly HeightEffect[], step?: VoteStep): SignedVote2[] {
  const out: SignedVote2[] = [];
  for (const e of effects) if (e.type === 'signed' && e.message.kind === 'vote2' && (step === undefined || e.message.vote.step === step)) out.push(e.message.vote);
  return out;
}

/** The header digest (hex) a vote names, or null for nil. */
export const votedFor = (v: SignedVote2): string | null => (v.headerDigest === null ? null : toHex(v.headerDigest));
