/**
 * Intents for the benchmark: 1 OUSG against 1 USD, alice to bob, posted to every node at once —
 * one POST /intents per intent and node (`single`), or all the intents of a poll in one
 * POST /intents/batch per node (`batch`, at most INTENTS_PER_CALL_MAX per call).
 */
import { randomBytes } from 'node:crypto';
import { type ClusterCredentials, type ClusterState, clusterCredentials, partySigner, postJson } from '@tandem/devnet';
import { INTENTS_PER_CALL_MAX } from '@tandem/node';
import { type Terms, encodeTerms, fromHex, settlementId, toHex } from '@tandem/protocol';
import { DEADLINE_MS, MARGIN_MS, REPORT_WINDOW_MS, errorText, isRecord } from './constants.js';

export interface Intent {
  readonly idHex: string;
  readonly body: unknown;
}

export interface Submission {
  /** Nodes that took the intent, and their ids (a node that refused it never holds it, so never closes it). */
  readonly accepted: number;
  readonly acceptedBy: readonly string[];
  /** Why the others did not: "n2: Error …: HTTP 400 …" or "n3: TimeoutError …". */
  readonly problems: readonly string[];
}

export interface Submitter {
  /** The cluster's tokens (DIR/secrets): the control token for intents, the admin token for the leg host's event log. */
  readonly credentials: ClusterCredentials;
  make(seq: number): Intent;
  /** Posts to every node at once, one call per intent or one per batch (the intake option). Never rejects. */
  submitAll(intents: readonly Intent[], intake: Intake): Promise<Submission>[];
}

/** How intents reach a node: one call each, or batched per poll. */
export type Intake = 'single' | 'batch';

export function makeSubmitter(dir: string, st: ClusterState): Submitter {
  const signer = partySigner(dir);
  if (!signer.parties.includes('alice') || !signer.parties.includes('bob')) throw new Error(`${dir}: the cluster has no keys for alice and bob`);
  const runTag = toHex(randomBytes(4));
  const credentials = clusterCredentials(dir);
  const ids = st.nodes.map((n) => n.id);
  return {
    credentials,
    make(seq) {
      const terms: Terms = {
        nonce: `bench-${runTag}-${seq}`,
        asset: { chainId: BigInt(st.venues.chainId), escrow: fromHex(st.venues.escrow, 20), token: 'OUSG', seller: 'alice', buyer: 'bob', amount: 1n },
        payment: { bankId: st.venues.bankId, ledger: st.venues.ledger, payer: 'bob', payee: 'alice', currency: 'USD', amount: 1n },
        deadlineMs: Date.now() + DEADLINE_MS,
        reportWindowMs: REPORT_WINDOW_MS,
        marginMs: MARGIN_MS,
      };
      const id = settlementId(terms);
      return { idHex: toHex(id), body: { terms: toHex(encodeTerms(terms)), authorizations: { asset: signer.authorize('alice', id), payment: signer.authorize('bob', id) } } };
    },
    submitAll(intents, intake) {
      if (intake === 'single') return intents.map(async (intent) => submission(ids, await Promise.allSettled(st.nodes.map((n) => postJson(`${n.control}/intents`, intent.body, credentials.control)))));
      const out: Promise<Submission>[] = [];
      for (let i = 0; i < intents.length; i += INTENTS_PER_CALL_MAX) {
        const chunk = intents.slice(i, i + INTENTS_PER_CALL_MAX);
        const calls = Promise.allSettled(st.nodes.map((n) => postJson(`${n.control}/intents/batch`, { intents: chunk.map((x) => x.body) }, credentials.control)));
        chunk.forEach((_, k) => out.push(calls.then((answers) => submission(ids, answers.map((a) => (a.status === 'rejected' ? a : itemOf(a.value, k)))))));
      }
      return out;
    },
  };
}

/** Intent k's answer in a node's batch answer, as a single call's outcome (202 taken, else an error). */
function itemOf(answer: unknown, k: number): PromiseSettledResult<unknown> {
  const results = isRecord(answer) ? answer['results'] : undefined;
  const r: unknown = Array.isArray(results) ? results[k] : undefined;
  if (isRecord(r) && r['status'] === 202) return { status: 'fulfilled', value: r };
  return { status: 'rejected', reason: new Error(`refused: ${isRecord(r) ? String(r['error']) : 'no answer for it in the batch'}`) };
}

/** One intent's answers from every node, in node order. */
function submission(nodes: readonly string[], answers: readonly PromiseSettledResult<unknown>[]): Submission {
  const problems: string[] = [];
  const acceptedBy: string[] = [];
  answers.forEach((a, i) => {
    const id = nodes[i]!;
    if (a.status === 'rejected') problems.push(`${id}: ${errorText(a.reason)}`);
    else acceptedBy.push(id);
  });
  return { accepted: acceptedBy.length, acceptedBy, problems };
}
