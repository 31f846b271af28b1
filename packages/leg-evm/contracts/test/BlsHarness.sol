// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {Bls12381} from "../Bls12381.sol";

/// Test-only: exposes the BLS library with the DST as a parameter, so RFC 9380's own vectors
/// (under their QUUX DSTs) can be checked against the exact code the escrow runs.
contract BlsHarness {
    function expandMessageXmd(bytes calldata message, bytes calldata dst) external pure returns (bytes memory) {
        (bytes32 b1, bytes32 b2, bytes32 b3, bytes32 b4) = Bls12381.expandMessageXmd(message, dst);
        return abi.encodePacked(b1, b2, b3, b4);
    }

    function hashToField(bytes calldata message, bytes calldata dst) external view returns (bytes memory, bytes memory) {
        return Bls12381.hashToField(message, dst);
    }

    function hashToG1(bytes calldata message, bytes calldata dst) external view returns (bytes memory) {
        return Bls12381.hashToG1(message, dst);
    }

    function verify(bytes calldata publicKey, bytes calldata message, bytes calldata signature, bytes calldata dst)
        external
        view
        returns (bool)
    {
        return Bls12381.verify(publicKey, message, signature, dst);
    }

    function compressG1(bytes calldata point) external pure returns (bytes memory) {
        return Bls12381.compressG1(point);
    }

    function negG2Generator() external pure returns (bytes memory) {
        return Bls12381.negG2Generator();
    }
}
