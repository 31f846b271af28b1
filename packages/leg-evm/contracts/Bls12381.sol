// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/**
 * BLS12-381 min-sig verification (signatures in G1, public keys in G2) with the EIP-2537
 * precompiles, and RFC 9380 hash_to_curve onto G1 (suite BLS12381G1_XMD:SHA-256_SSWU_RO_).
 *
 * Points use the EIP-2537 uncompressed encoding: a base-field element is 64 bytes, big-endian,
 * whose top 16 bytes are zero; a G1 point is x ‖ y (128 bytes); a G2 point is x.c0 ‖ x.c1 ‖
 * y.c0 ‖ y.c1 (256 bytes); the point at infinity is all zeros.
 *
 * Every precompile call must succeed: a precompile that fails inside a staticcall (bad input,
 * out of gas) returns false rather than reverting, and treating that as "signature invalid"
 * could turn a gas trick into a wrong answer. Here it always reverts.
 */
library Bls12381 {
    uint256 internal constant FP_BYTES = 64;
    uint256 internal constant G1_BYTES = 128;
    uint256 internal constant G2_BYTES = 256;
    /// RFC 9380 expand_message_xmd output length for hash_to_field(count = 2, m = 1, L = 64).
    uint256 private constant XMD_LEN_IN_BYTES = 128;

    address private constant MODEXP = address(0x05);
    address private constant G1ADD = address(0x0b);
    address private constant PAIRING = address(0x0f);
    address private constant MAP_FP_TO_G1 = address(0x10);

    /// The base-field modulus p in the 64-byte field encoding (two words).
    bytes32 private constant P_HI = 0x000000000000000000000000000000001a0111ea397fe69a4b1ba7b6434bacd7;
    bytes32 private constant P_LO = 0x64774b84f38512bf6730d2a0f6b0f6241eabfffeb153ffffb9feffffffffaaab;
    /// (p - 1) / 2: a y coordinate above it is the "lexicographically largest" root (the sign flag).
    uint256 private constant HALF_P_HI = 0x0d0088f51cbff34d258dd3db21a5d66b;
    uint256 private constant HALF_P_LO = 0xb23ba5c279c2895fb39869507b587b120f55ffff58a9ffffdcff7fffffffd555;

    /// -g2, the negated G2 generator: verification checks e(sig, -g2) · e(H(m), pk) == 1.
    bytes32 private constant NEG_G2_0 = 0x00000000000000000000000000000000024aa2b2f08f0a91260805272dc51051;
    bytes32 private constant NEG_G2_1 = 0xc6e47ad4fa403b02b4510b647ae3d1770bac0326a805bbefd48056c8c121bdb8;
    bytes32 private constant NEG_G2_2 = 0x0000000000000000000000000000000013e02b6052719f607dacd3a088274f65;
    bytes32 private constant NEG_G2_3 = 0x596bd0d09920b61ab5da61bbdc7f5049334cf11213945d57e5ac7d055d042b7e;
    bytes32 private constant NEG_G2_4 = 0x000000000000000000000000000000000d1b3cc2c7027888be51d9ef691d77bc;
    bytes32 private constant NEG_G2_5 = 0xb679afda66c73f17f9ee3837a55024f78c71363275a75d75d86bab79f74782aa;
    bytes32 private constant NEG_G2_6 = 0x0000000000000000000000000000000013fa4d4a0ad8b1ce186ed5061789213d;
    bytes32 private constant NEG_G2_7 = 0x993923066dddaf1040bc3ff59f825c78df74f2d75467e25e0f55f8a00fa030ed;

    error PrecompileFailed(address precompile);
    /// RFC 9380 §5.3.1: a DST is 1 to 255 bytes (longer ones would need the oversize-DST rule).
    error BadDst(uint256 length);
    error BadPointLength(uint256 length);

    /// RFC 9380 §5.3.1 expand_message_xmd with SHA-256 and len_in_bytes = 128: b_1 ‖ b_2 ‖ b_3 ‖ b_4.
    function expandMessageXmd(bytes memory message, bytes memory dst)
        internal
        pure
        returns (bytes32 b1, bytes32 b2, bytes32 b3, bytes32 b4)
    {
        if (dst.length == 0 || dst.length > 255) revert BadDst(dst.length);
        bytes memory dstPrime = abi.encodePacked(dst, uint8(dst.length));
        // msg_prime = Z_pad (64 zero bytes, SHA-256's block size) ‖ msg ‖ I2OSP(128, 2) ‖ I2OSP(0, 1) ‖ DST_prime
        bytes32 b0 = sha256(abi.encodePacked(bytes32(0), bytes32(0), message, uint16(XMD_LEN_IN_BYTES), uint8(0), dstPrime));
        b1 = sha256(abi.encodePacked(b0, uint8(1), dstPrime));
        b2 = sha256(abi.encodePacked(b0 ^ b1, uint8(2), dstPrime));
        b3 = sha256(abi.encodePacked(b0 ^ b2, uint8(3), dstPrime));
        b4 = sha256(abi.encodePacked(b0 ^ b3, uint8(4), dstPrime));
    }

    /// RFC 9380 §5.2 hash_to_field for Fp, count = 2: each element is 64 uniform bytes reduced mod p.
    function hashToField(bytes memory message, bytes memory dst) internal view returns (bytes memory u0, bytes memory u1) {
        (bytes32 b1, bytes32 b2, bytes32 b3, bytes32 b4) = expandMessageXmd(message, dst);
        u0 = reduceModP(b1, b2);
        u1 = reduceModP(b3, b4);
    }

    /// RFC 9380 hash_to_curve: map each field element (the precompile applies SSWU, the 11-isogeny
    /// and cofactor clearing) and add. Clearing is linear, so clear(Q0) + clear(Q1) = clear(Q0 + Q1).
    function hashToG1(bytes memory message, bytes memory dst) internal view returns (bytes memory point) {
        (bytes memory u0, bytes memory u1) = hashToField(message, dst);
        point = call(G1ADD, abi.encodePacked(call(MAP_FP_TO_G1, u0, G1_BYTES), call(MAP_FP_TO_G1, u1, G1_BYTES)), G1_BYTES);
    }

    /**
     * True iff `signature` (G1) is a valid min-sig signature of `message` under `publicKey` (G2).
     * The pairing precompile checks that both points are on their curves and in the prime-order
     * subgroups, and reverts the call (so this function) otherwise. The identity signature is
     * refused outright, as the off-chain verifier does.
     */
    function verify(bytes memory publicKey, bytes memory message, bytes memory signature, bytes memory dst)
        internal
        view
        returns (bool)
    {
        if (publicKey.length != G2_BYTES) revert BadPointLength(publicKey.length);
        if (signature.length != G1_BYTES) revert BadPointLength(signature.length);
        if (isZero(signature)) return false;
        bytes memory hashed = hashToG1(message, dst);
        bytes memory input = abi.encodePacked(signature, negG2Generator(), hashed, publicKey);
        bytes memory out = call(PAIRING, input, 32);
        return uint256(bytes32(out)) == 1;
    }

    /// Checks that `point` is a G2 point in the prime-order subgroup and not the identity (the pairing
    /// precompile validates its inputs; its result is irrelevant here).
    function requireG2SubgroupPoint(bytes memory point) internal view {
        if (point.length != G2_BYTES) revert BadPointLength(point.length);
        if (isZero(point)) revert PrecompileFailed(PAIRING);
        // A G1 input of all zeros is the identity: e(O, Q) is defined for every valid Q.
        call(PAIRING, abi.encodePacked(new bytes(G1_BYTES), point), 32);
    }

    /// The 48-byte compressed (ZCash/IETF) encoding of a non-identity G1 point in EIP-2537 form:
    /// x with the compression flag, plus the sign flag when y > (p - 1) / 2.
    function compressG1(bytes memory point) internal pure returns (bytes memory) {
        if (point.length != G1_BYTES) revert BadPointLength(point.length);
        uint256 xHi;
        uint256 xLo;
        uint256 yHi;
        uint256 yLo;
        assembly {
            xHi := mload(add(point, 32))
            xLo := mload(add(point, 64))
            yHi := mload(add(point, 96))
            yLo := mload(add(point, 128))
        }
        bool largest = yHi > HALF_P_HI || (yHi == HALF_P_HI && yLo > HALF_P_LO);
        // x < p < 2^381, so the top three bits of its 48-byte form are free for the flags.
        uint256 flags = largest ? 0xa0 : 0x80;
        return abi.encodePacked(uint128(xHi) | uint128(flags << 120), xLo);
    }

    function negG2Generator() internal pure returns (bytes memory) {
        return abi.encodePacked(NEG_G2_0, NEG_G2_1, NEG_G2_2, NEG_G2_3, NEG_G2_4, NEG_G2_5, NEG_G2_6, NEG_G2_7);
    }

    /// OS2IP(hi ‖ lo) mod p through the MODEXP precompile (exponent 1), in the 64-byte field encoding.
    function reduceModP(bytes32 hi, bytes32 lo) private view returns (bytes memory) {
        return call(MODEXP, abi.encodePacked(uint256(64), uint256(1), uint256(64), hi, lo, uint8(1), P_HI, P_LO), FP_BYTES);
    }

    /// A staticcall to a precompile that must succeed and return exactly `outLength` bytes.
    function call(address precompile, bytes memory input, uint256 outLength) private view returns (bytes memory out) {
        out = new bytes(outLength);
        bool ok;
        assembly {
            ok := staticcall(gas(), precompile, add(input, 32), mload(input), add(out, 32), outLength)
            if iszero(eq(returndatasize(), outLength)) { ok := 0 }
        }
        if (!ok) revert PrecompileFailed(precompile);
    }

    /// True iff every byte is zero. Callers pass point encodings, whose lengths are multiples of 32.
    function isZero(bytes memory b) private pure returns (bool) {
        uint256 acc;
        assembly {
            let end := add(add(b, 32), mload(b))
            for { let p := add(b, 32) } lt(p, end) { p := add(p, 32) } { acc := or(acc, mload(p)) }
        }
        return acc == 0;
    }
}
