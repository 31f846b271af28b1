/** Intents for the benchmark: 1 OUSG against 1 USD, alice to bob, posted to every node at once. */
import { randomBytes } from 'node:crypto';
import { type ClusterCredentials, type ClusterState, clusterCredentials, partySigner, postJson } from '@tandem/devnet';
import { type Terms, encodeTerms, fromHex, settlementId, toHex } from '@tandem/protocol';
import { DEADLINE_MS, MARGIN_MS, NODES, REPORT_WINDOW_MS, errorText } from './constants.js';

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
  /** Posts to every node at once. Never rejects. */
  submit(intent: Intent): Promise<Submission>;
}

export function makeSubmitter(dir: string, st: ClusterState): Submitter {
  const signer = partySigner(dir);
  if (!signer.parties.includes('alice') || !signer.parties.includes('bob')) throw new Error(`${dir}: the cluster has no keys for alice and bob`);
  const runTag = toHex(randomBytes(4));
  const credentials = clusterCredentials(dir);
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
    async submit(intent) {
      const answers = await Promise.allSettled(st.nodes.map((n) => postJson(`${n.control}/intents`, intent.body, credentials.control)));
      const problems: string[] = [];
      const acceptedBy: string[] = [];
      answers.forEach((a, i) => {
        if (a.status === 'rejected') problems.push(`${st.nodes[i]!.id}: ${errorText(a.reason)}`);
        else acceptedBy.push(st.nodes[i]!.id);
      });
      return { accepted: acceptedBy.length, acceptedBy, problems };
    },
  };
}
