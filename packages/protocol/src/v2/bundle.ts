/**
 * Bundles: per node per tick, a signed header over a tree of observation entries (SHA-256, leaf
 * 0x02, node 0x03; the same tree code as the report tree). Layouts in docs/wire-format.md
 * ("Protocol v2").
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { DecodeError, EncodeError, Reader, Writer, equalBytes, utf8 } from '../bytes.js';
import { ED25519_SIGNATURE_BYTES, LEG_STATES, type LockRecord, readFlag, readLegState, writeLock } from '../messages.js';
import { decodeWith, encodeWith } from './codec.js';
import { type TreeHashing, treeLeaf, treeMultiproof, treeRoot, verifyTreeMultiproof } from './tree.js';
import type { Bundle, BundleEntry, BundleEntryKind, BundleHeader, BundleLegView, SignedBundleHeader, TreeMultiproof } from './types.js';

export const BUNDLE_TREE: TreeHashing = { hash: sha256, leafPrefix: 0x02, nodePrefix: 0x03 };
/** id 32 ‖ kind 1 ‖ 2 × (state 1 ‖ finality height 8 ‖ flag 1 ‖ lock digest 32). */
export const BUNDLE_ENTRY_BYTES_MAX = 117;
/** Codec bound on entries in one bundle (bundleEntriesMax may not exceed it): 8192 · 117 B < 1 MiB. */
export const BUNDLE_ENTRIES_LIMIT = 8192;
/** The root of a bundle with no entries (a heartbeat): no tree hash is all zeros. */
export const EMPTY_BUNDLE_ROOT = new Uint8Array(32);
export const BUNDLE_VERSION = 0x02;
/** version 1 ‖ network 32 ‖ config 32 ‖ signer 2 ‖ time 8 ‖ count 2 ‖ root 32. */
export const BUNDLE_HEADER_BODY_BYTES = 109;
const LOCK_DOMAIN = utf8('tandem/v2/lock');
/** The u8 code of a kind is its index + 1. */
const KINDS: readonly BundleEntryKind[] = ['view', 'deadline', 'guard'];

/** SHA-256("tandem/v2/lock" ‖ lock record): what a bundle entry shows of a leg's lock. */
export function lockDigest(lock: LockRecord): Uint8Array {
  const w = new Writer().fixed(LOCK_DOMAIN, LOCK_DOMAIN.length);
  writeLock(w, lock);
  return sha256(w.finish());
}

function writeBundleLeg(w: Writer, v: BundleLegView): void {
  w.u8(LEG_STATES.indexOf(v.state)).u64(v.finalityHeight);
  if (v.lockDigest === null) w.u8(0);
  else w.u8(1).fixed(v.lockDigest, 32);
}

function readBundleLeg(r: Reader, field: string): BundleLegView {
  const state = readLegState(r, field);
  const finalityHeight = r.u64(`${field}.finalityHeight`);
  const lockDigestBytes = readFlag(r, `${field}.hasLock`) ? r.fixed(32, `${field}.lockDigest`) : null;
  return { state, finalityHeight, lockDigest: lockDigestBytes };
}

export function writeBundleEntry(w: Writer, e: BundleEntry): void {
  const kind = KINDS.indexOf(e.kind);
  if (kind < 0) throw new EncodeError(`unknown bundle entry kind ${String(e.kind)}`);
  w.fixed(e.settlementId, 32).u8(kind + 1);
  writeBundleLeg(w, e.asset);
  writeBundleLeg(w, e.payment);
}

export function readBundleEntry(r: Reader, field: string): BundleEntry {
  const settlementId = r.fixed(32, `${field}.settlementId`);
  const at = r.position;
  const code = r.u8(`${field}.kind`);
  const kind = KINDS[code - 1];
  if (kind === undefined) throw new DecodeError('tag', `${field}.kind`, at, `unknown entry kind ${code}`);
  return { settlementId, kind, asset: readBundleLeg(r, `${field}.asset`), payment: readBundleLeg(r, `${field}.payment`) };
}

export function encodeBundleEntry(e: BundleEntry): Uint8Array {
  return encodeWith(writeBundleEntry, e);
}

export function decodeBundleEntry(b: Uint8Array): BundleEntry {
  return decodeWith(readBundleEntry, b, 'bundleEntry');
}

export function bundleLeaf(e: BundleEntry): Uint8Array {
  return treeLeaf(BUNDLE_TREE, encodeBundleEntry(e));
}

/** The bundle tree root; EMPTY_BUNDLE_ROOT for no entries. */
export function bundleTreeRoot(entries: readonly BundleEntry[]): Uint8Array {
  return entries.length === 0 ? EMPTY_BUNDLE_ROOT.slice() : treeRoot(BUNDLE_TREE, entries.map(bundleLeaf));
}

export function bundleTreeMultiproof(entries: readonly BundleEntry[], indices: readonly number[]): TreeMultiproof {
  return treeMultiproof(BUNDLE_TREE, entries.map(bundleLeaf), indices);
}

/** `entries` are the entries at proof.indices, in that order (at least one). */
export function verifyBundleMultiproof(root: Uint8Array, entries: readonly BundleEntry[], proof: TreeMultiproof): boolean {
  return verifyTreeMultiproof(BUNDLE_TREE, root, entries.map(bundleLeaf), proof);
}

/** What a member signs under `tandem/v2/bundle`. 109 bytes. */
export function encodeBundleHeaderBody(h: BundleHeader): Uint8Array {
  if (h.count > BUNDLE_ENTRIES_LIMIT) throw new EncodeError(`bundle count ${h.count} above ${BUNDLE_ENTRIES_LIMIT}`);
  return new Writer().u8(BUNDLE_VERSION).fixed(h.networkId, 32).fixed(h.configDigest, 32).u16(h.signer).u64(h.timeMs).u16(h.count).fixed(h.root, 32).finish();
}

export function readBundleHeaderBody(r: Reader, field: string): BundleHeader {
  const at = r.position;
  const version = r.u8(`${field}.version`);
  if (version !== BUNDLE_VERSION) throw new DecodeError('tag', `${field}.version`, at, `unknown version ${version}`);
  const networkId = r.fixed(32, `${field}.networkId`);
  const configDigest = r.fixed(32, `${field}.configDigest`);
  const signer = r.u16(`${field}.signer`);
  const timeMs = r.u64(`${field}.timeMs`);
  const cAt = r.position;
  const count = r.u16(`${field}.count`);
  if (count > BUNDLE_ENTRIES_LIMIT) throw new DecodeError('length', `${field}.count`, cAt, `${count} > ${BUNDLE_ENTRIES_LIMIT}`);
  return { networkId, configDigest, signer, timeMs, count, root: r.fixed(32, `${field}.root`) };
}

export function decodeBundleHeaderBody(b: Uint8Array): BundleHeader {
  return decodeWith(readBundleHeaderBody, b, 'bundle');
}

/** Signed header: body (109 bytes) ‖ Ed25519 signature (64 bytes). */
export function writeSignedBundleHeader(w: Writer, h: SignedBundleHeader): void {
  w.fixed(encodeBundleHeaderBody(h), BUNDLE_HEADER_BODY_BYTES).fixed(h.signature, ED25519_SIGNATURE_BYTES);
}

export function readSignedBundleHeader(r: Reader, field: string): SignedBundleHeader {
  const h = readBundleHeaderBody(r, field);
  return { ...h, signature: r.fixed(ED25519_SIGNATURE_BYTES, `${field}.signature`) };
}

/** A bundle whose header names exactly its entries (count and root), else the problem. */
export function bundleProblem(b: Bundle): string | null {
  if (b.entries.length !== b.header.count) return `bundle of member ${b.header.signer}: header count ${b.header.count} but ${b.entries.length} entries`;
  if (!equalBytes(bundleTreeRoot(b.entries), b.header.root)) return `bundle of member ${b.header.signer}: root is not the root of its entries`;
  return null;
}
