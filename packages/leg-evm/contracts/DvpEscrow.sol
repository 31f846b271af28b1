// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {Bls12381} from "./Bls12381.sol";
import {DvpEscrowBase} from "./DvpEscrowBase.sol";
import {TandemTerms} from "./TandemTerms.sol";

/**
 * Tandem's asset leg for protocol v1 (its rules: packages/legs/README.md, docs/honest-limit.md):
 * a DvP escrow for ERC-20 tokens that settles on a threshold-signed COMMIT/ABORT report, one per
 * settlement, verified on-chain against the committee's BLS12-381 group key. Anchor, locks,
 * reclaim, names and the decision rule are DvpEscrowBase's.
 *
 * - `settle` applies at most one report per id: COMMIT releases to the buyer only while
 *   block.timestamp · 1000 < validUntil; ABORT refunds the seller at any time while locked,
 *   closes an id that never locked, and is recorded (state unchanged) on a rejected id.
 */
contract DvpEscrow is DvpEscrowBase {
    uint8 private constant REPORT_VERSION = 1;
    bytes16 private constant REPORT_DOMAIN = "TANDEM/REPORT/V1";
    uint256 private constant REPORT_BODY_BYTES = 126;

    constructor(bytes32 networkId_, bytes32 configDigest_, bytes memory groupPublicKey_)
        DvpEscrowBase(networkId_, configDigest_, groupPublicKey_)
    {}

    /**
     * Applies a threshold-signed report.
     * @param body the 126-byte report body (docs/wire-format.md §3.1), exactly as signed
     * @param signature the G1 signature in EIP-2537 form (128 bytes); its compressed 48-byte form
     *        is what the report carries, and is what the applied-report hash covers
     */
    function settle(bytes calldata body, bytes calldata signature) external nonReentrant returns (State) {
        (bytes32 settlementId, uint8 decision, uint64 reportValidUntilMs) = readReport(body);
        Settlement storage s = settlements[settlementId];
        State state = requireApplicable(settlementId, s, decision, reportValidUntilMs);
        // The report digest is sha256(body); the BLS message is those 32 bytes.
        requireGroupSignature(sha256(body), signature);
        bytes32 reportHash = keccak256(abi.encodePacked(body, Bls12381.compressG1(signature)));
        return applyVerified(settlementId, s, state, decision, reportHash);
    }

    /// Checks the body's layout and anchor; returns (settlement id, decision, validUntil).
    function readReport(bytes calldata body) private view returns (bytes32, uint8, uint64) {
        if (body.length != REPORT_BODY_BYTES) revert MalformedReport();
        if (uint8(body[0]) != REPORT_VERSION || bytes16(body[1:17]) != REPORT_DOMAIN) revert MalformedReport();
        requireAnchor(bytes32(body[17:49]), bytes32(body[49:81]));
        uint8 decision = uint8(body[113]);
        if (decision != COMMIT && decision != ABORT) revert MalformedReport();
        uint64 validUntilMs = uint64(bytes8(body[118:126]));
        if (validUntilMs > TandemTerms.TIME_MAX) revert MalformedReport();
        return (bytes32(body[81:113]), decision, validUntilMs);
    }
}
