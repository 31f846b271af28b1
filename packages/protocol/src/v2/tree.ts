/**
 * The one Merkle tree of protocol v2, over a choice of hash and prefixes: the report tree
 * (keccak-256, leaf 0x00, node 0x01; legs and the escrow verify it) and the bundle tree (SHA-256,
 * leaf 0x02, node 0x03; only nodes hash it). Rules (docs/wire-format.md, "Merkle tree"):
 *  - leaf = H(leafPrefix ‖ data), node = H(nodePrefix ‖ left ‖ right);
 *  - each level pairs positions 2i and 2i + 1; a last node without a sibling moves up unchanged,
 *    never duplicated (a duplicated node would let two different lists share a root);
 *  - one leaf is its own root;
 *  - a proof is a multiproof of one index: the siblings it needs bottom-up and, within a level,
 *    left to right. (index, count) fix how many there are; any other number rejects.
 */
import { assert, concatBytes, equalBytes } from '../bytes.js';
import type { TreeMultiproof, TreeProof } from './types.js';

/** How one tree hashes: the hash (32-byte output) and its two domain prefixes. */
export interface TreeHashing {
  readonly hash: (data: Uint8Array) => Uint8Array;
  readonly leafPrefix: number;
  readonly nodePrefix: number;
}

export const TREE_HASH_BYTES = 32;
/** Largest number of leaves: counts travel as u16. */
export const TREE_LEAVES_MAX = 0xffff;
/** Levels above the leaves in a tree of TREE_LEAVES_MAX leaves: ceil(log2(65535)) = 16. */
export const TREE_LEVELS_MAX = 16;

/** A node known at some level: its position in the level and its hash. */
interface Known {
  readonly pos: number;
  readonly hash: Uint8Array;
}

/** Gives the sibling at (level, pos) the climb lacks, or null when there is none to give. */
type SiblingSource = (level: number, pos: number) => Uint8Array | null;

export function treeLeaf(t: TreeHashing, data: Uint8Array): Uint8Array {
  return t.hash(concatBytes(Uint8Array.of(t.leafPrefix), data));
}

function treeNode(t: TreeHashing, left: Uint8Array, right: Uint8Array): Uint8Array {
  return t.hash(concatBytes(Uint8Array.of(t.nodePrefix), left, right));
}

/**
 * Climbs from `known` bottom-level nodes (strictly ascending positions in a level of `count`) to
 * the root, asking `sibling` for every sibling it does not know, bottom-up and left to right.
 * Returns null as soon as `sibling` has none. `onLevel` sees the known nodes of every level,
 * which are the whole level when every leaf is known.
 */
function climb(t: TreeHashing, count: number, known: readonly Known[], sibling: SiblingSource, onLevel?: (nodes: readonly Known[]) => void): Uint8Array | null {
  let nodes = known;
  let width = count;
  for (let level = 0; width > 1; level++) {
    assert(level < TREE_LEVELS_MAX, 'a tree of at most TREE_LEAVES_MAX leaves has at most TREE_LEVELS_MAX levels');
    onLevel?.(nodes);
    const up: Known[] = [];
    for (let k = 0; k < nodes.length; k++) {
      const { pos, hash } = nodes[k]!;
      let parent: Uint8Array | null;
      if (pos % 2 === 1) {
        // Its left neighbour, had it been known, was paired with it one step before.
        const left = sibling(level, pos - 1);
        parent = left && treeNode(t, left, hash);
      } else if (pos + 1 === width) {
        parent = hash; // the last node without a sibling moves up unchanged
      } else if (nodes[k + 1]?.pos === pos + 1) {
        parent = treeNode(t, hash, nodes[++k]!.hash);
      } else {
        const right = sibling(level, pos + 1);
        parent = right && treeNode(t, hash, right);
      }
      if (parent === null) return null;
      up.push({ pos: pos >> 1, hash: parent });
    }
    nodes = up;
    width = Math.ceil(width / 2);
  }
  onLevel?.(nodes);
  assert(nodes.length === 1 && nodes[0]!.pos === 0, 'the climb ends at the root');
  return nodes[0]!.hash;
}

function allKnown(leaves: readonly Uint8Array[]): Known[] {
  assert(leaves.length >= 1 && leaves.length <= TREE_LEAVES_MAX, `a tree has 1..${TREE_LEAVES_MAX} leaves, got ${leaves.length}`);
  return leaves.map((hash, pos) => ({ pos, hash }));
}

const noSibling: SiblingSource = () => {
  throw new Error('assertion failed: a full level needs no sibling');
};

/** The root over leaf hashes (treeLeaf of each item, in list order). Throws on an empty list. */
export function treeRoot(t: TreeHashing, leaves: readonly Uint8Array[]): Uint8Array {
  return climb(t, leaves.length, allKnown(leaves), noSibling)!;
}

/** True when `indices` are integers strictly ascending in 0..count-1, at least one. */
export function indicesOk(indices: readonly number[], count: number): boolean {
  if (indices.length === 0 || indices.length > count) return false;
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k]!;
    if (!Number.isInteger(i) || i < 0 || i >= count || (k > 0 && i <= indices[k - 1]!)) return false;
  }
  return true;
}

/** The multiproof for the leaves at `indices` (strictly ascending) of the tree over `leaves`. */
export function treeMultiproof(t: TreeHashing, leaves: readonly Uint8Array[], indices: readonly number[]): TreeMultiproof {
  const levels: (readonly Known[])[] = [];
  climb(t, leaves.length, allKnown(leaves), noSibling, (nodes) => levels.push(nodes));
  assert(indicesOk(indices, leaves.length), `multiproof indices must ascend strictly below ${leaves.length}`);
  const siblings: Uint8Array[] = [];
  const pick: SiblingSource = (level, pos) => {
    const s = levels[level]![pos]!.hash;
    siblings.push(s);
    return s;
  };
  climb(t, leaves.length, indices.map((i) => ({ pos: i, hash: leaves[i]! })), pick);
  return { indices: [...indices], count: leaves.length, siblings };
}

/** The proof for the one leaf at `index`. */
export function treeProof(t: TreeHashing, leaves: readonly Uint8Array[], index: number): TreeProof {
  const m = treeMultiproof(t, leaves, [index]);
  return { index, count: m.count, siblings: m.siblings };
}

/**
 * True exactly when `leaves` (hashes of the items at proof.indices, in that order) and the proof's
 * siblings climb to `root`, using every sibling once. Untrusted input: never throws on its shape.
 */
export function verifyTreeMultiproof(t: TreeHashing, root: Uint8Array, leaves: readonly Uint8Array[], proof: TreeMultiproof): boolean {
  const { count, indices, siblings } = proof;
  if (!Number.isInteger(count) || count < 1 || count > TREE_LEAVES_MAX) return false;
  if (!indicesOk(indices, count) || leaves.length !== indices.length) return false;
  if (siblings.length > TREE_LEVELS_MAX * indices.length) return false;
  let used = 0;
  const take: SiblingSource = () => {
    const s = siblings[used];
    if (s === undefined || s.length !== TREE_HASH_BYTES) return null;
    used++;
    return s;
  };
  const got = climb(t, count, indices.map((i, k) => ({ pos: i, hash: leaves[k]! })), take);
  return got !== null && used === siblings.length && equalBytes(got, root);
}

export function verifyTreeProof(t: TreeHashing, root: Uint8Array, leaf: Uint8Array, proof: TreeProof): boolean {
  return verifyTreeMultiproof(t, root, [leaf], { indices: [proof.index], count: proof.count, siblings: proof.siblings });
}
