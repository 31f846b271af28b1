// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/**
 * The report tree of protocol v2 (docs/wire-format.md, "Merkle tree"), exactly as the protocol
 * package builds it (reportTreeRoot): keccak-256; leaf = H(0x00 ‖ entry), the entry being
 * settlement id 32 ‖ decision u8 ‖ validUntil u64 (41 bytes); node = H(0x01 ‖ left ‖ right).
 * Each level pairs positions 2i and 2i + 1; a last node without a sibling moves up unchanged;
 * one leaf is its own root. A proof gives the siblings a climb needs, bottom-up and, within a
 * level, left to right; a proof with a sibling too few or too many does not verify.
 */
library ReportTree {
    uint256 internal constant ENTRY_BYTES = 41;
    /// Counts are u16, so a climb has at most ceil(log2(65535)) = 16 levels.
    uint256 internal constant COUNT_MAX = 0xffff;

    /// H(0x00 ‖ entry); the caller has checked that `entry` is ENTRY_BYTES long.
    function leaf(bytes calldata entry) internal pure returns (bytes32 h) {
        assembly ("memory-safe") {
            // Scratch space past the free memory pointer: read once, never kept.
            let p := mload(0x40)
            mstore8(p, 0x00)
            calldatacopy(add(p, 1), entry.offset, ENTRY_BYTES)
            h := keccak256(p, 42)
        }
    }

    function node(bytes32 left, bytes32 right) internal pure returns (bytes32 h) {
        assembly ("memory-safe") {
            let p := mload(0x40)
            mstore8(p, 0x01)
            mstore(add(p, 1), left)
            mstore(add(p, 33), right)
            h := keccak256(p, 65)
        }
    }

    /// True iff the leaf at `index` of a tree of `count` leaves climbs with exactly `siblings` to `root`.
    function verifyProof(bytes32 root, uint256 count, uint256 index, bytes32 leafHash, bytes32[] calldata siblings)
        internal
        pure
        returns (bool)
    {
        if (count == 0 || count > COUNT_MAX || index >= count) return false;
        bytes32 h = leafHash;
        uint256 used = 0;
        // width halves (rounding up) each level: at most 16 turns.
        for (uint256 width = count; width > 1; width = (width + 1) >> 1) {
            if (index & 1 == 1) {
                if (used == siblings.length) return false;
                h = node(siblings[used++], h);
            } else if (index + 1 < width) {
                if (used == siblings.length) return false;
                h = node(h, siblings[used++]);
            } // else: the last node of its level, no sibling: it moves up unchanged.
            index >>= 1;
        }
        return used == siblings.length && h == root;
    }

    /**
     * True iff the leaves at `positions` (strictly ascending below `count`, checked by the caller)
     * of a tree of `count` leaves climb with exactly `siblings` to `root`. Inputs are not changed.
     */
    function verifyMultiproof(
        bytes32 root,
        uint256 count,
        bytes32[] memory leaves,
        uint256[] memory positions,
        bytes32[] calldata siblings
    ) internal pure returns (bool) {
        uint256 n = leaves.length;
        if (count == 0 || count > COUNT_MAX || n == 0 || n != positions.length) return false;
        // The known nodes of the current level, rewritten in place as the climb goes up.
        bytes32[] memory hashes = new bytes32[](n);
        uint256[] memory pos = new uint256[](n);
        for (uint256 k = 0; k < n; k++) {
            hashes[k] = leaves[k];
            pos[k] = positions[k];
        }
        uint256 used = 0;
        for (uint256 width = count; width > 1; width = (width + 1) >> 1) {
            uint256 up = 0;
            for (uint256 k = 0; k < n; k++) {
                uint256 p = pos[k];
                bytes32 parent;
                if (p & 1 == 1) {
                    // Its left neighbour, had it been known, was paired with it one step before.
                    if (used == siblings.length) return false;
                    parent = node(siblings[used++], hashes[k]);
                } else if (p + 1 == width) {
                    parent = hashes[k];
                } else if (k + 1 < n && pos[k + 1] == p + 1) {
                    parent = node(hashes[k], hashes[k + 1]);
                    k++;
                } else {
                    if (used == siblings.length) return false;
                    parent = node(hashes[k], siblings[used++]);
                }
                hashes[up] = parent;
                pos[up] = p >> 1;
                up++;
            }
            n = up;
        }
        // Strictly ascending positions have strictly ascending parents: one node is left, the root.
        return used == siblings.length && hashes[0] == root;
    }
}
