// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {DvpEscrowBase} from "./DvpEscrowBase.sol";
import {ReportTree} from "./ReportTree.sol";
import {TandemTerms} from "./TandemTerms.sol";

/**
 * Tandem's asset leg for protocol v2 (batches): the committee signs one report per height, whose
 * body carries the Merkle root of the height's entries (settlement id, decision, validUntil). The
 * escrow verifies a root's signature once and caches it, then applies each entry shown to be a
 * leaf of a cached root, by the same rule as v1 (DvpEscrowBase: one decision per id; COMMIT only
 * before validUntil and with the lock's validUntil; ABORT any time while locked, closing an id
 * that never locked; no report after a reclaim).
 *
 * - Anchored to one v2 configuration: it accepts report v2 bodies of its own network id and
 *   configuration digest only (never a v1 report), so every lock here is made under that one
 *   configuration digest and `roots` needs no digest in its key.
 * - `submitRoot` verifies and caches a root; `settle` applies one entry by proof and reverts on
 *   any refusal; `settleBatch` applies many by one multiproof and skips a refused entry with an
 *   event, its state unchanged.
 * - The applied mark of an entry (Settlement.reportHash) is keccak256(root ‖ leaf).
 */
contract DvpEscrowV2 is DvpEscrowBase {
    uint8 private constant REPORT_VERSION = 2;
    bytes16 private constant REPORT_DOMAIN = "TANDEM/REPORT/V2";
    uint256 private constant REPORT_BODY_BYTES = 143;
    uint256 private constant INDEX_BYTES = 2;

    /**
     * Gas one entry of settleBatch may use: its checks, state writes and one ERC-20 transfer take
     * about 65k on TandemToken (a new applied mark and a buyer's new balance slot included). 200k
     * leaves room for tokens with transfer hooks (allow-lists, checkpoints) and bounds what a token
     * that burns gas costs a relayer per entry.
     */
    uint256 public constant ENTRY_GAS_CAP = 200_000;
    /// Gas the self-call adds around an entry's work: the call, and encoding and decoding its arguments.
    uint256 private constant ENTRY_CALL_OVERHEAD_GAS = 10_000;
    /// What settleBatch forwards to each entry.
    uint256 private constant ENTRY_GAS = ENTRY_GAS_CAP + ENTRY_CALL_OVERHEAD_GAS;
    /// Gas settleBatch keeps for itself after an entry's call: the skip event, the loop, the return.
    uint256 public constant ENTRY_GAS_RESERVE = 20_000;

    /// Verified roots: root → the count of entries its signed body names (0: unknown).
    mapping(bytes32 root => uint16 count) public roots;

    event RootStored(bytes32 indexed root, uint64 height, uint16 count);
    event EntrySkipped(bytes32 indexed settlementId, bytes32 indexed root, uint256 index, bytes reason);

    error UnknownRoot(bytes32 root);
    error RootCountMismatch(uint16 storedCount, uint16 bodyCount);
    error BadProof();
    error MalformedEntry();
    error MalformedBatch();
    error RelayerGasTooLow(uint256 index, uint256 gasLeft, uint256 gasNeeded);
    error OnlySelf();

    constructor(bytes32 networkId_, bytes32 configDigest_, bytes memory groupPublicKey_)
        DvpEscrowBase(networkId_, configDigest_, groupPublicKey_)
    {}

    // ------------------------------------------------------------------------------------------
    // Roots

    /**
     * Verifies a report v2 and caches its root. Idempotent: a root already cached returns at once.
     * @param body the 143-byte report v2 body (docs/wire-format.md, "Protocol v2"), exactly as signed
     * @param signature the G1 signature of sha256(body) in EIP-2537 form (128 bytes)
     */
    function submitRoot(bytes calldata body, bytes calldata signature) external returns (bytes32 root, uint16 count) {
        return authenticate(body, signature);
    }

    /// The body's root and count: cached with that count, or its signature valid (then cached), else a revert.
    function authenticate(bytes calldata body, bytes calldata signature) private returns (bytes32 root, uint16 count) {
        uint64 height;
        (root, count, height) = readBody(body);
        uint16 stored = roots[root];
        if (stored != 0) {
            if (stored != count) revert RootCountMismatch(stored, count);
            return (root, count);
        }
        if (signature.length == 0) revert UnknownRoot(root);
        requireGroupSignature(sha256(body), signature);
        roots[root] = count;
        emit RootStored(root, height, count);
    }

    /**
     * Checks the body's layout and anchor: exactly the bodies the protocol decoder accepts (times
     * and heights safe integers, height ≥ 1, 1 ≤ liveFrom ≤ height, count ≥ 1), of this escrow's
     * network and configuration. Returns (root, count, height).
     */
    function readBody(bytes calldata body) private view returns (bytes32 root, uint16 count, uint64 height) {
        if (body.length != REPORT_BODY_BYTES) revert MalformedReport();
        if (uint8(body[0]) != REPORT_VERSION || bytes16(body[1:17]) != REPORT_DOMAIN) revert MalformedReport();
        requireAnchor(bytes32(body[17:49]), bytes32(body[49:81]));
        height = uint64(bytes8(body[81:89]));
        uint64 timeMs = uint64(bytes8(body[93:101]));
        uint64 liveFrom = uint64(bytes8(body[101:109]));
        count = uint16(bytes2(body[109:111]));
        if (height == 0 || height > TandemTerms.TIME_MAX || timeMs > TandemTerms.TIME_MAX) revert MalformedReport();
        if (liveFrom == 0 || liveFrom > height || count == 0) revert MalformedReport();
        root = bytes32(body[111:143]);
    }

    // ------------------------------------------------------------------------------------------
    // Settle one entry

    /**
     * Applies one entry of a cached root, shown by its proof; reverts on any refusal, as v1's settle.
     * @param entry the 41-byte entry (settlement id ‖ decision ‖ validUntil)
     * @param proof the siblings from the leaf up (protocol reportTreeProof)
     */
    function settle(bytes32 root, uint256 index, bytes calldata entry, bytes32[] calldata proof)
        external
        nonReentrant
        returns (State)
    {
        uint16 count = roots[root];
        if (count == 0) revert UnknownRoot(root);
        if (entry.length != ReportTree.ENTRY_BYTES) revert MalformedEntry();
        bytes32 leafHash = ReportTree.leaf(entry);
        if (!ReportTree.verifyProof(root, count, index, leafHash, proof)) revert BadProof();
        return applyEntryOf(root, leafHash, entry);
    }

    /// Applies a proven entry by the one rule (DvpEscrowBase), marked keccak256(root ‖ leaf).
    function applyEntryOf(bytes32 root, bytes32 leafHash, bytes calldata entry) private returns (State) {
        bytes32 settlementId = bytes32(entry[0:32]);
        uint8 decision = uint8(entry[32]);
        uint64 validUntilMs = uint64(bytes8(entry[33:41]));
        if ((decision != COMMIT && decision != ABORT) || validUntilMs > TandemTerms.TIME_MAX) revert MalformedEntry();
        Settlement storage s = settlements[settlementId];
        State state = requireApplicable(settlementId, s, decision, validUntilMs);
        return applyVerified(settlementId, s, state, decision, keccak256(abi.encodePacked(root, leafHash)));
    }

    // ------------------------------------------------------------------------------------------
    // Settle a batch

    /**
     * Authenticates a report v2, then applies the entries it proves, each in its own call capped at
     * ENTRY_GAS_CAP: an entry refused (applied, expired, reclaimed, mismatched, failed transfer) is
     * skipped with EntrySkipped, its state and tokens unchanged; the others apply.
     *
     * Relayer gas (EIP-150): a call forwards at most 63/64 of the gas left, so a relayer could give
     * just too little for an entry to finish and have it skipped (and a COMMIT skipped until it
     * expires breaks atomicity). Before each entry the call must hold enough to give that entry its
     * whole allowance and keep the reserve, else the whole call reverts (RelayerGasTooLow): an entry
     * is only ever refused with its full allowance. (Checked before each entry rather than only
     * after a failure: a token that catches an inner out-of-gas and reverts on its own would hand
     * back more than 1/64 and slip past a check made afterwards.)
     *
     * @param signature the body's signature (EIP-2537, 128 bytes), or empty when its root is cached
     * @param entries the entries, 41 bytes each, packed, in the order of `indices`
     * @param indices their leaf indices, u16 big-endian each, packed, strictly ascending
     * @param proof the multiproof (protocol reportTreeMultiproof)
     * @return applied how many entries applied (the rest were skipped)
     */
    function settleBatch(
        bytes calldata body,
        bytes calldata signature,
        bytes calldata entries,
        bytes calldata indices,
        bytes32[] calldata proof
    ) external nonReentrant returns (uint256 applied) {
        (bytes32 root, uint16 count) = authenticate(body, signature);
        (bytes32[] memory leaves, uint256[] memory positions) = readEntries(entries, indices, count);
        if (!ReportTree.verifyMultiproof(root, count, leaves, positions, proof)) revert BadProof();
        return applyEach(root, entries, leaves, positions);
    }

    /// Each proven entry in its own capped call (see settleBatch).
    function applyEach(bytes32 root, bytes calldata entries, bytes32[] memory leaves, uint256[] memory positions)
        private
        returns (uint256 applied)
    {
        for (uint256 k = 0; k < leaves.length; k++) {
            bytes calldata entry = entries[k * ReportTree.ENTRY_BYTES:(k + 1) * ReportTree.ENTRY_BYTES];
            uint256 needed = ENTRY_GAS + ENTRY_GAS / 63 + ENTRY_GAS_RESERVE;
            if (gasleft() < needed) revert RelayerGasTooLow(positions[k], gasleft(), needed);
            try this.applyEntry{gas: ENTRY_GAS}(root, leaves[k], entry) {
                applied++;
            } catch (bytes memory reason) {
                emit EntrySkipped(bytes32(entry[0:32]), root, positions[k], reason);
            }
        }
    }

    /// Leaf hashes and positions of packed entries and indices (u16 each), checked to ascend below count.
    function readEntries(bytes calldata entries, bytes calldata indices, uint16 count)
        private
        pure
        returns (bytes32[] memory leaves, uint256[] memory positions)
    {
        uint256 n = indices.length / INDEX_BYTES;
        if (n == 0 || n > count || indices.length != n * INDEX_BYTES || entries.length != n * ReportTree.ENTRY_BYTES) {
            revert MalformedBatch();
        }
        leaves = new bytes32[](n);
        positions = new uint256[](n);
        for (uint256 k = 0; k < n; k++) {
            uint256 p = uint16(bytes2(indices[k * INDEX_BYTES:(k + 1) * INDEX_BYTES]));
            if (p >= count || (k > 0 && p <= positions[k - 1])) revert MalformedBatch();
            positions[k] = p;
            leaves[k] = ReportTree.leaf(entries[k * ReportTree.ENTRY_BYTES:(k + 1) * ReportTree.ENTRY_BYTES]);
        }
    }

    /**
     * One entry of settleBatch, in its own call so that a refusal or a failed transfer reverts its
     * state writes too. Only this contract may call it, from settleBatch (inside its reentrancy
     * guard), with an entry the multiproof has just proven to be a leaf of `root`.
     */
    function applyEntry(bytes32 root, bytes32 leafHash, bytes calldata entry) external returns (State) {
        if (msg.sender != address(this)) revert OnlySelf();
        return applyEntryOf(root, leafHash, entry);
    }
}
