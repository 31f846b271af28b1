// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/**
 * Tandem settlement terms (docs/wire-format.md §2) as the escrow sees them: the contract takes the
 * canonical encoding, hashes all of it to the settlement id exactly as the protocol package does,
 * and reads the asset leg and the times out of it. The payment leg is skipped over, never
 * interpreted: its strings are opaque here but covered by the id.
 *
 * Every rule the off-chain decoder enforces is enforced here too (version, string bounds, positive
 * amounts, times whose sum is a safe integer, no trailing bytes), so the contract accepts exactly
 * the byte strings that are valid terms (UTF-8 validity aside: it never interprets text, and the
 * party authorized these exact bytes).
 */
library TandemTerms {
    uint8 internal constant VERSION = 1;
    uint256 internal constant STRING_BYTES_MAX = 256;
    /// Times are JavaScript safe integers: deadline + reportWindow + margin must stay below 2^53.
    uint256 internal constant TIME_MAX = 2 ** 53 - 1;
    uint256 private constant PAYMENT_STRINGS = 5; // bankId, ledger, payer, payee, currency

    /// The asset leg and the derived times. Strings are the raw bytes from the terms.
    struct AssetLeg {
        uint64 chainId;
        address escrow;
        bytes token;
        bytes seller;
        bytes buyer;
        uint256 amount;
        uint64 validUntilMs;
        uint64 reclaimAtMs;
    }

    /// What was wrong, and at which byte offset of the terms.
    error MalformedTerms(uint256 offset, uint8 code);

    uint8 private constant SHORT = 1;
    uint8 private constant VERSION_UNKNOWN = 2;
    uint8 private constant STRING_TOO_LONG = 3;
    uint8 private constant AMOUNT_ZERO = 4;
    uint8 private constant TIMES_OVERFLOW = 5;
    uint8 private constant TRAILING = 6;

    /// sha256("tandem/v1/terms" ‖ terms), as protocol's settlementId.
    function settlementId(bytes calldata terms) internal pure returns (bytes32) {
        return sha256(abi.encodePacked("tandem/v1/terms", terms));
    }

    function parseAssetLeg(bytes calldata terms) internal pure returns (AssetLeg memory a) {
        need(terms, 0, 1);
        if (uint8(terms[0]) != VERSION) revert MalformedTerms(0, VERSION_UNKNOWN);
        uint256 o = skipString(terms, 1); // nonce
        need(terms, o, 28);
        a.chainId = uint64(bytes8(terms[o:o + 8]));
        a.escrow = address(bytes20(terms[o + 8:o + 28]));
        o += 28;
        (a.token, o) = readString(terms, o);
        (a.seller, o) = readString(terms, o);
        (a.buyer, o) = readString(terms, o);
        (a.amount, o) = readPositiveU256(terms, o);
        for (uint256 i = 0; i < PAYMENT_STRINGS; i++) o = skipString(terms, o);
        (, o) = readPositiveU256(terms, o); // payment amount: checked, not used
        (a.validUntilMs, a.reclaimAtMs) = readTimes(terms, o);
        if (o + 24 != terms.length) revert MalformedTerms(o + 24, TRAILING);
    }

    /// deadline, reportWindow, margin → (validUntil = deadline + reportWindow, reclaimAt = validUntil + margin).
    function readTimes(bytes calldata terms, uint256 o) private pure returns (uint64 validUntilMs, uint64 reclaimAtMs) {
        need(terms, o, 24);
        uint256 deadlineMs = uint64(bytes8(terms[o:o + 8]));
        uint256 reportWindowMs = uint64(bytes8(terms[o + 8:o + 16]));
        uint256 marginMs = uint64(bytes8(terms[o + 16:o + 24]));
        // Each is a u64, so the sum of three cannot overflow uint256.
        if (deadlineMs + reportWindowMs + marginMs > TIME_MAX) revert MalformedTerms(o, TIMES_OVERFLOW);
        validUntilMs = uint64(deadlineMs + reportWindowMs);
        reclaimAtMs = uint64(deadlineMs + reportWindowMs + marginMs);
    }

    function readString(bytes calldata b, uint256 o) private pure returns (bytes calldata s, uint256 next) {
        need(b, o, 2);
        uint256 len = uint16(bytes2(b[o:o + 2]));
        if (len > STRING_BYTES_MAX) revert MalformedTerms(o, STRING_TOO_LONG);
        need(b, o + 2, len);
        s = b[o + 2:o + 2 + len];
        next = o + 2 + len;
    }

    function skipString(bytes calldata b, uint256 o) private pure returns (uint256 next) {
        (, next) = readString(b, o);
    }

    function readPositiveU256(bytes calldata b, uint256 o) private pure returns (uint256 v, uint256 next) {
        need(b, o, 32);
        v = uint256(bytes32(b[o:o + 32]));
        if (v == 0) revert MalformedTerms(o, AMOUNT_ZERO);
        next = o + 32;
    }

    function need(bytes calldata b, uint256 o, uint256 n) private pure {
        if (o + n > b.length) revert MalformedTerms(o, SHORT);
    }
}
