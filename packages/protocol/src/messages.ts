import { DecodeError, EncodeError, Reader, Writer } from './bytes.js';
import { type Decision, type Report, decisionCode, decisionFromCode, encodeReport, readReport } from './report.js';
import { type Terms, type LegName, encodeTerms, readTerms, validUntilMs, reclaimAtMs } from './terms.js';

/** Ed25519 signing domains. Each signed byte string is prefixed with its domain and a 0 byte. */
export const SIGN_DOMAIN = {
  observation: 'tandem/v1/obs',
  proposal: 'tandem/v1/proposal',
  vote: 'tandem/v1/vote',
  authorization: 'tandem/v1/auth',
} as const;
export type SignDomain = (typeof SIGN_DOMAIN)[keyof typeof SIGN_DOMAIN];

export const ED25519_SIGNATURE_BYTES = 64;
export const ED25519_KEY_BYTES = 32;
export const G2_POINT_BYTES = 96;
/** Bound on list lengths in messages (evidence, polka): no committee is larger. */
export const LIST_ITEMS_MAX = 1000;

// ---------------------------------------------------------------------------------------------
// Leg views

/**
 * What a node read from one leg. `committed`/`aborted` mean a COMMIT/ABORT report was applied
 * there (released/posted, refunded/voided); `reclaimed` that a party took its value back.
 */
export type LegState = 'none' | 'locked' | 'rejected' | 'committed' | 'aborted' | 'reclaimed';
/** Wire order of leg states: the u8 code is the index. */
export const LEG_STATES: readonly LegState[] = ['none', 'locked', 'rejected', 'committed', 'aborted', 'reclaimed'];

/** The parameters a leg recorded when it locked: what a COMMIT must find to be valid. */
export interface LockRecord {
  readonly settlementId: Uint8Array;
  readonly amount: bigint;
  readonly from: string; // seller / payer
  readonly to: string; // buyer / payee
  readonly unit: string; // token / currency
  readonly venue: string; // "<chainId>:<escrow hex>" / "<bankId>/<ledger>"
  readonly validUntilMs: number;
  readonly reclaimAtMs: number;
  readonly groupPublicKey: Uint8Array; // 96 bytes, stored at lock time
}

export interface LegView {
  readonly state: LegState;
  /** The chain height / ledger sequence the view is final at. */
  readonly finalityHeight: bigint;
  readonly lock: LockRecord | null;
}

function hexLower(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += x.toString(16).padStart(2, '0');
  return s;
}

/** The lock a leg must have recorded for `terms` to count toward COMMIT. */
export function expectedLock(terms: Terms, leg: LegName, settlementIdBytes: Uint8Array, groupPublicKey: Uint8Array): LockRecord {
  const times = { validUntilMs: validUntilMs(terms), reclaimAtMs: reclaimAtMs(terms) };
  if (leg === 'asset') {
    const a = terms.asset;
    return { settlementId: settlementIdBytes, amount: a.amount, from: a.seller, to: a.buyer, unit: a.token, venue: `${a.chainId}:0x${hexLower(a.escrow)}`, ...times, groupPublicKey };
  }
  const p = terms.payment;
  return { settlementId: settlementIdBytes, amount: p.amount, from: p.payer, to: p.payee, unit: p.currency, venue: `${p.bankId}/${p.ledger}`, ...times, groupPublicKey };
}

export function lockEquals(a: LockRecord, b: LockRecord): boolean {
  return (
    bytesEq(a.settlementId, b.settlementId) && a.amount === b.amount && a.from === b.from && a.to === b.to &&
    a.unit === b.unit && a.venue === b.venue && a.validUntilMs === b.validUntilMs && a.reclaimAtMs === b.reclaimAtMs &&
    bytesEq(a.groupPublicKey, b.groupPublicKey)
  );
}

function bytesEq(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Writes a lock record (docs/wire-format.md, LockRecord); v2 hashes it into lockDigest. */
export function writeLock(w: Writer, l: LockRecord): void {
  w.fixed(l.settlementId, 32).u256(l.amount).string(l.from).string(l.to).string(l.unit).string(l.venue);
  w.u64(l.validUntilMs).u64(l.reclaimAtMs).fixed(l.groupPublicKey, G2_POINT_BYTES);
}

function readLock(r: Reader, f: string): LockRecord {
  return {
    settlementId: r.fixed(32, `${f}.settlementId`),
    amount: r.u256(`${f}.amount`),
    from: r.string(`${f}.from`),
    to: r.string(`${f}.to`),
    unit: r.string(`${f}.unit`),
    venue: r.string(`${f}.venue`),
    validUntilMs: r.u64(`${f}.validUntilMs`),
    reclaimAtMs: r.u64(`${f}.reclaimAtMs`),
    groupPublicKey: r.fixed(G2_POINT_BYTES, `${f}.groupPublicKey`),
  };
}

function writeLegView(w: Writer, v: LegView): void {
  w.u8(LEG_STATES.indexOf(v.state)).u64n(v.finalityHeight);
  if (v.lock === null) w.u8(0);
  else {
    w.u8(1);
    writeLock(w, v.lock);
  }
}

/** Reads a leg state code (its index in LEG_STATES). */
export function readLegState(r: Reader, f: string): LegState {
  const at = r.position;
  const code = r.u8(`${f}.state`);
  const state = LEG_STATES[code];
  if (state === undefined) throw new DecodeError('tag', `${f}.state`, at, `unknown leg state ${code}`);
  return state;
}

function readLegView(r: Reader, f: string): LegView {
  const state = readLegState(r, f);
  const finalityHeight = r.u64n(`${f}.finalityHeight`);
  const lock = readFlag(r, `${f}.hasLock`) ? readLock(r, `${f}.lock`) : null;
  return { state, finalityHeight, lock };
}

/** Reads a flag byte: 0 or 1, anything else is a `tag` error. */
export function readFlag(r: Reader, f: string): boolean {
  const at = r.position;
  const b = r.u8(f);
  if (b > 1) throw new DecodeError('tag', f, at, `flag must be 0 or 1, got ${b}`);
  return b === 1;
}

// ---------------------------------------------------------------------------------------------
// Common header: every consensus message binds network, configuration and settlement.

export interface Header {
  readonly networkId: Uint8Array;
  readonly configDigest: Uint8Array;
  readonly settlementId: Uint8Array;
}

function writeHeader(w: Writer, h: Header): void {
  w.fixed(h.networkId, 32).fixed(h.configDigest, 32).fixed(h.settlementId, 32);
}

function readHeader(r: Reader, f: string): Header {
  return { networkId: r.fixed(32, `${f}.networkId`), configDigest: r.fixed(32, `${f}.configDigest`), settlementId: r.fixed(32, `${f}.settlementId`) };
}

// ---------------------------------------------------------------------------------------------
// Observations

/** A node's signed reading of both legs. `deadline` marks the one deadline observation. */
export interface Observation extends Header {
  readonly signer: number; // member index 1..n
  readonly deadline: boolean;
  readonly asset: LegView;
  readonly payment: LegView;
}
export interface SignedObservation extends Observation {
  readonly signature: Uint8Array; // Ed25519 over SIGN_DOMAIN.observation ‖ 0 ‖ body
}

export function encodeObservationBody(o: Observation): Uint8Array {
  const w = new Writer();
  writeHeader(w, o);
  w.u16(o.signer).u8(o.deadline ? 1 : 0);
  writeLegView(w, o.asset);
  writeLegView(w, o.payment);
  return w.finish();
}

function readObservationBody(r: Reader): Observation {
  const h = readHeader(r, 'observation');
  const signer = r.u16('observation.signer');
  const deadline = readFlag(r, 'observation.deadline');
  const asset = readLegView(r, 'observation.asset');
  const payment = readLegView(r, 'observation.payment');
  return { ...h, signer, deadline, asset, payment };
}

function writeSignedObservation(w: Writer, o: SignedObservation): void {
  const body = encodeObservationBody(o);
  w.bytes(body).fixed(o.signature, ED25519_SIGNATURE_BYTES);
}

function readSignedObservation(r: Reader): SignedObservation {
  const body = r.bytes('observation', 64 * 1024);
  const inner = new Reader(body);
  const o = readObservationBody(inner);
  inner.end('observation');
  return { ...o, signature: r.fixed(ED25519_SIGNATURE_BYTES, 'observation.signature') };
}

// ---------------------------------------------------------------------------------------------
// Votes

export type VoteStep = 'prevote' | 'precommit';
/** null is nil: "no value this round". nil is never ABORT. */
export type VoteValue = Decision | null;

/** A step on the wire: 1 prevote, 2 precommit. */
export function voteStepCode(s: VoteStep): number {
  return s === 'prevote' ? 1 : 2;
}

export function readVoteStep(r: Reader, f: string): VoteStep {
  const at = r.position;
  const s = r.u8(f);
  if (s !== 1 && s !== 2) throw new DecodeError('tag', f, at, `unknown step ${s}`);
  return s === 1 ? 'prevote' : 'precommit';
}

export interface Vote extends Header {
  readonly round: number;
  readonly step: VoteStep;
  readonly voter: number;
  readonly value: VoteValue;
  /** BLS partial signature over the report digest of (value, round): precommits for a value only. */
  readonly partial: Uint8Array | null;
}
export interface SignedVote extends Vote {
  readonly signature: Uint8Array;
}

export function encodeVoteBody(v: Vote): Uint8Array {
  if ((v.partial !== null) !== (v.step === 'precommit' && v.value !== null)) {
    throw new EncodeError('a vote carries a partial exactly when it is a precommit for a value');
  }
  const w = new Writer();
  writeHeader(w, v);
  w.u32(v.round).u8(voteStepCode(v.step)).u16(v.voter).u8(v.value === null ? 0 : decisionCode(v.value));
  if (v.partial === null) w.u8(0);
  else w.u8(1).fixed(v.partial, 48);
  return w.finish();
}

function readVoteBody(r: Reader): Vote {
  const h = readHeader(r, 'vote');
  const round = r.u32('vote.round');
  const step = readVoteStep(r, 'vote.step');
  const voter = r.u16('vote.voter');
  const vAt = r.position;
  const vc = r.u8('vote.value');
  const value = vc === 0 ? null : decisionFromCode(vc, 'vote.value', vAt);
  const pAt = r.position;
  const partial = readFlag(r, 'vote.hasPartial') ? r.fixed(48, 'vote.partial') : null;
  if ((partial !== null) !== (step === 'precommit' && value !== null)) {
    throw new DecodeError('tag', 'vote.hasPartial', pAt, 'partial present exactly on precommits for a value');
  }
  return { ...h, round, step, voter, value, partial };
}

function writeSignedVote(w: Writer, v: SignedVote): void {
  w.bytes(encodeVoteBody(v)).fixed(v.signature, ED25519_SIGNATURE_BYTES);
}

function readSignedVote(r: Reader): SignedVote {
  const body = r.bytes('vote', 4096);
  const inner = new Reader(body);
  const v = readVoteBody(inner);
  inner.end('vote');
  return { ...v, signature: r.fixed(ED25519_SIGNATURE_BYTES, 'vote.signature') };
}

// ---------------------------------------------------------------------------------------------
// Proposals

export interface Proposal extends Header {
  readonly round: number;
  readonly proposer: number;
  readonly value: Decision;
  /** -1 when the proposer holds no polka; else the round of the q prevotes in `polka`. */
  readonly validRound: number;
  /** The full terms: a node that missed the intent learns them here (checked against the id). */
  readonly terms: Terms;
  /** The justification: signed observations that make `value` valid. */
  readonly evidence: readonly SignedObservation[];
  /** Proof of lock: q signed prevotes for `value` in `validRound` (empty when validRound = -1). */
  readonly polka: readonly SignedVote[];
}
export interface SignedProposal extends Proposal {
  readonly signature: Uint8Array;
}

export function encodeProposalBody(p: Proposal): Uint8Array {
  if (!Number.isInteger(p.validRound) || p.validRound < -1 || p.validRound >= p.round) {
    throw new EncodeError('validRound must be -1 or below round');
  }
  if (p.evidence.length > LIST_ITEMS_MAX || p.polka.length > LIST_ITEMS_MAX) throw new EncodeError('list too long');
  const w = new Writer();
  writeHeader(w, p);
  w.u32(p.round).u16(p.proposer).u8(decisionCode(p.value)).u32(p.validRound + 1);
  w.bytes(encodeTerms(p.terms));
  w.u16(p.evidence.length);
  for (const o of p.evidence) writeSignedObservation(w, o);
  w.u16(p.polka.length);
  for (const v of p.polka) writeSignedVote(w, v);
  return w.finish();
}

function readProposalBody(r: Reader): Proposal {
  const h = readHeader(r, 'proposal');
  const round = r.u32('proposal.round');
  const proposer = r.u16('proposal.proposer');
  const vAt = r.position;
  const value = decisionFromCode(r.u8('proposal.value'), 'proposal.value', vAt);
  const vrAt = r.position;
  const validRound = r.u32('proposal.validRound') - 1;
  if (validRound >= round) throw new DecodeError('range', 'proposal.validRound', vrAt, 'must be below round');
  const termsBytes = r.bytes('proposal.terms', 4096);
  const tr = new Reader(termsBytes);
  const terms = readTerms(tr);
  tr.end('proposal.terms');
  const evidence: SignedObservation[] = [];
  const eAt = r.position;
  const ne = r.u16('proposal.evidence.count');
  if (ne > LIST_ITEMS_MAX) throw new DecodeError('length', 'proposal.evidence.count', eAt, `${ne} > ${LIST_ITEMS_MAX}`);
  for (let i = 0; i < ne; i++) evidence.push(readSignedObservation(r));
  const pAt = r.position;
  const np = r.u16('proposal.polka.count');
  if (np > LIST_ITEMS_MAX) throw new DecodeError('length', 'proposal.polka.count', pAt, `${np} > ${LIST_ITEMS_MAX}`);
  const polka: SignedVote[] = [];
  for (let i = 0; i < np; i++) polka.push(readSignedVote(r));
  return { ...h, round, proposer, value, validRound, terms, evidence, polka };
}

// ---------------------------------------------------------------------------------------------
// Party authorization (travels with a prepare, never inside the terms)

export interface Authorization {
  readonly party: string;
  /** Ed25519 over SIGN_DOMAIN.authorization ‖ 0 ‖ authorizationMessage(network id, settlement id). */
  readonly signature: Uint8Array;
}

/**
 * The bytes a party's authorization signs under SIGN_DOMAIN.authorization: the network id, then
 * the settlement id (64 bytes). Binding the network id means an intent signed for one cluster
 * never moves a leg anchored to another; the configuration digest is left out on purpose, since
 * it changes when the committee is reshared and an authorization must outlive that.
 */
export function authorizationMessage(networkId: Uint8Array, settlementIdBytes: Uint8Array): Uint8Array {
  return new Writer().fixed(networkId, 32).fixed(settlementIdBytes, 32).finish();
}

// ---------------------------------------------------------------------------------------------
// Wire messages between nodes

export type Message =
  | { readonly kind: 'terms'; readonly terms: Terms }
  | { readonly kind: 'observation'; readonly observation: SignedObservation }
  | { readonly kind: 'proposal'; readonly proposal: SignedProposal }
  | { readonly kind: 'vote'; readonly vote: SignedVote }
  | { readonly kind: 'report'; readonly report: Report; readonly terms: Terms };

const TAG = { terms: 1, observation: 2, proposal: 3, vote: 4, report: 5 } as const;
/** Largest message a decoder accepts, in bytes. */
export const MESSAGE_BYTES_MAX = 1024 * 1024;

export function encodeMessage(m: Message): Uint8Array {
  const w = new Writer().u8(1 /* wire version */).u8(TAG[m.kind]);
  switch (m.kind) {
    case 'terms':
      w.bytes(encodeTerms(m.terms));
      break;
    case 'observation':
      writeSignedObservation(w, m.observation);
      break;
    case 'proposal':
      w.bytes(encodeProposalBody(m.proposal)).fixed(m.proposal.signature, ED25519_SIGNATURE_BYTES);
      break;
    case 'vote':
      writeSignedVote(w, m.vote);
      break;
    case 'report':
      w.fixed(encodeReport(m.report), 174).bytes(encodeTerms(m.terms));
      break;
  }
  const out = w.finish();
  // A message the decoder would refuse must not leave the encoder (a proposal with long lists).
  if (out.length > MESSAGE_BYTES_MAX) throw new EncodeError(`message of ${out.length} bytes exceeds ${MESSAGE_BYTES_MAX}`);
  return out;
}

/** Reads terms nested as bytes≤4096 (docs/wire-format.md, §6); v2 messages carry terms the same way. */
export function readNestedTerms(r: Reader, f: string): Terms {
  const b = r.bytes(f, 4096);
  const tr = new Reader(b);
  const t = readTerms(tr);
  tr.end(f);
  return t;
}

/** Decodes one wire message; throws DecodeError and nothing else on malformed input. */
export function decodeMessage(b: Uint8Array): Message {
  if (b.length > MESSAGE_BYTES_MAX) throw new DecodeError('length', 'message', 0, `${b.length} > ${MESSAGE_BYTES_MAX}`);
  const r = new Reader(b);
  const version = r.u8('message.version');
  if (version !== 1) throw new DecodeError('tag', 'message.version', 0, `unknown wire version ${version}`);
  const tag = r.u8('message.tag');
  let m: Message;
  switch (tag) {
    case TAG.terms:
      m = { kind: 'terms', terms: readNestedTerms(r, 'terms') };
      break;
    case TAG.observation:
      m = { kind: 'observation', observation: readSignedObservation(r) };
      break;
    case TAG.proposal: {
      const body = r.bytes('proposal', MESSAGE_BYTES_MAX);
      const inner = new Reader(body);
      const p = readProposalBody(inner);
      inner.end('proposal');
      m = { kind: 'proposal', proposal: { ...p, signature: r.fixed(ED25519_SIGNATURE_BYTES, 'proposal.signature') } };
      break;
    }
    case TAG.vote:
      m = { kind: 'vote', vote: readSignedVote(r) };
      break;
    case TAG.report: {
      const report = readReport(r);
      m = { kind: 'report', report, terms: readNestedTerms(r, 'report.terms') };
      break;
    }
    default:
      throw new DecodeError('tag', 'message.tag', 1, `unknown message tag ${tag}`);
  }
  r.end('message');
  return m;
}
