// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {Bls12381} from "./Bls12381.sol";
import {IERC20} from "./IERC20.sol";
import {TandemTerms} from "./TandemTerms.sol";

/**
 * What Tandem's two escrows share (DvpEscrow takes v1 reports, one per settlement; DvpEscrowV2
 * takes v2 reports, a Merkle root per batch): the anchor, the per-settlement record, `lock`,
 * `reclaim`, names, and the one rule for applying a decision (packages/legs/README.md,
 * docs/honest-limit.md).
 *
 * - The anchor (network id, configuration digest, group key) is fixed at deployment and never
 *   changes: every lock verifies against the key the escrow had when it locked, never one named
 *   by a report. A new committee configuration deploys a new escrow (terms name the escrow).
 * - `lock` takes the canonical terms bytes, recomputes the settlement id exactly as the protocol
 *   does, and needs the seller's authorization: the seller as caller, or its EIP-712 signature of
 *   LockAuthorization(settlementId). Terms that name another chain or escrow, an unknown buyer or
 *   token, or a seller short of balance or allowance are *rejected*: recorded, final for the id.
 * - A decision applies at most once per id: COMMIT releases to the buyer only while
 *   block.timestamp · 1000 < validUntil; ABORT refunds the seller at any time while locked,
 *   closes an id that never locked, and is recorded (state unchanged) on a rejected id.
 * - `reclaim` refunds the seller once block.timestamp · 1000 ≥ reclaimAt, if no report applied.
 *
 * Parties and tokens in the terms are strings: a 0x-prefixed address in lower-case hex (the
 * canonical form), or a name the owner registered (`registerName`, once per name, never
 * changed). The owner's only power is registering names.
 *
 * The leg clock is block.timestamp · 1000 (whole seconds): see the package README.
 */
abstract contract DvpEscrowBase {
    /// Same codes as the protocol's LegState (docs/wire-format.md §5.2).
    enum State {
        None,
        Locked,
        Rejected,
        Committed,
        Aborted,
        Reclaimed
    }

    enum RejectReason {
        WrongChain,
        WrongEscrow,
        UnknownBuyer,
        UnknownToken,
        InsufficientBalance,
        InsufficientAllowance
    }

    /// One settlement id's record. The first slot holds what every call reads.
    struct Settlement {
        State state;
        uint64 validUntilMs;
        uint64 reclaimAtMs;
        /// Block of the last state change (the leg's finality height for this id).
        uint64 changedAtBlock;
        address seller;
        /// Block of the lock (0 if never locked): where the Locked event with the terms is.
        uint64 lockedAtBlock;
        address buyer;
        address token;
        uint256 amount;
        /// The mark of the one decision applied, or 0: keccak256(report body ‖ compressed
        /// signature) for a v1 report, keccak256(root ‖ leaf) for a v2 entry.
        bytes32 reportHash;
    }

    /// Tandem's BLS DST (the crypto package's TANDEM_BLS_DST).
    bytes public constant BLS_DST = "TANDEM-V01-CS01-with-BLS12381G1_XMD:SHA-256_SSWU_RO_NUL_";
    bytes32 public constant LOCK_AUTHORIZATION_TYPEHASH = keccak256("LockAuthorization(bytes32 settlementId)");

    uint8 internal constant COMMIT = 1;
    uint8 internal constant ABORT = 2;
    bytes32 private constant EIP712_DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    bytes32 private constant EIP712_NAME_HASH = keccak256("Tandem DvP Escrow");
    bytes32 private constant EIP712_VERSION_HASH = keccak256("1");
    /// Signatures with s above n/2 are the malleable twins of valid ones (EIP-2).
    uint256 private constant SECP256K1_HALF_N = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0;
    uint256 private constant NAME_BYTES_MAX = 256;

    address public immutable owner;
    bytes32 public immutable networkId;
    bytes32 public immutable configDigest;
    // The group key in EIP-2537 form, eight words: immutables live in the code (cheap to read).
    bytes32 private immutable pk0;
    bytes32 private immutable pk1;
    bytes32 private immutable pk2;
    bytes32 private immutable pk3;
    bytes32 private immutable pk4;
    bytes32 private immutable pk5;
    bytes32 private immutable pk6;
    bytes32 private immutable pk7;

    mapping(bytes32 settlementId => Settlement) internal settlements;
    mapping(bytes32 nameHash => address) private names;
    bool private transient entered;

    event Locked(
        bytes32 indexed settlementId,
        address indexed seller,
        address indexed buyer,
        address token,
        uint256 amount,
        bytes terms
    );
    event Rejected(bytes32 indexed settlementId, RejectReason reason, bytes terms);
    event Released(bytes32 indexed settlementId, address indexed buyer, uint256 amount, bytes32 reportHash);
    event Refunded(bytes32 indexed settlementId, address indexed seller, uint256 amount, bytes32 reportHash);
    event ClosedByAbort(bytes32 indexed settlementId, bytes32 reportHash);
    event AbortRecorded(bytes32 indexed settlementId, bytes32 reportHash);
    event Reclaimed(bytes32 indexed settlementId, address indexed seller, uint256 amount);
    event NameRegistered(string name, address indexed account);

    error SettlementExists(bytes32 settlementId, State state);
    error UnknownSeller();
    error Unauthorized();
    error MalformedReport();
    error WrongNetwork();
    error WrongConfiguration();
    error ReportAlreadyApplied(bytes32 settlementId);
    error ValueReclaimed(bytes32 settlementId);
    error NothingLocked(bytes32 settlementId);
    error ValidUntilMismatch(uint64 reportValidUntilMs, uint64 lockValidUntilMs);
    error CommitExpired(uint256 nowMs, uint64 validUntilMs);
    error BadSignature();
    error NotLocked(bytes32 settlementId, State state);
    error TooEarly(uint256 nowMs, uint64 reclaimAtMs);
    error TransferFailed(address token);
    error NotOwner();
    error BadName();
    error NameTaken();
    error Reentrancy();

    /// One guard for every entry point that moves tokens (lock, settle, settleBatch, reclaim).
    modifier nonReentrant() {
        if (entered) revert Reentrancy();
        entered = true;
        _;
        entered = false;
    }

    /// @param groupPublicKey_ the committee's group key, G2 in EIP-2537 form (256 bytes); checked
    ///        to be a non-identity point of the prime-order subgroup.
    constructor(bytes32 networkId_, bytes32 configDigest_, bytes memory groupPublicKey_) {
        Bls12381.requireG2SubgroupPoint(groupPublicKey_);
        owner = msg.sender;
        networkId = networkId_;
        configDigest = configDigest_;
        pk0 = word(groupPublicKey_, 0);
        pk1 = word(groupPublicKey_, 1);
        pk2 = word(groupPublicKey_, 2);
        pk3 = word(groupPublicKey_, 3);
        pk4 = word(groupPublicKey_, 4);
        pk5 = word(groupPublicKey_, 5);
        pk6 = word(groupPublicKey_, 6);
        pk7 = word(groupPublicKey_, 7);
    }

    // ------------------------------------------------------------------------------------------
    // Lock

    /**
     * Locks the seller's tokens for the settlement these terms define, or records a rejection.
     * @param terms the canonical encoding of the settlement terms (protocol encodeTerms)
     * @param sellerSignature empty when the seller calls; else its 65-byte EIP-712 signature
     *        (r ‖ s ‖ v) of LockAuthorization(settlementId)
     */
    function lock(bytes calldata terms, bytes calldata sellerSignature)
        external
        nonReentrant
        returns (bytes32 settlementId, State state)
    {
        TandemTerms.AssetLeg memory a = TandemTerms.parseAssetLeg(terms);
        settlementId = TandemTerms.settlementId(terms);
        State existing = settlements[settlementId].state;
        if (existing != State.None) revert SettlementExists(settlementId, existing);
        // Authorization first: without it the escrow does not act at all, not even to reject.
        address seller = resolve(a.seller);
        if (seller == address(0)) revert UnknownSeller();
        if (!isAuthorized(seller, settlementId, sellerSignature)) revert Unauthorized();
        state = open(settlementId, a, seller, terms);
    }

    /// Records the authorized lock, or its rejection.
    function open(bytes32 settlementId, TandemTerms.AssetLeg memory a, address seller, bytes calldata terms)
        private
        returns (State)
    {
        Settlement storage s = settlements[settlementId];
        (bool acceptable, RejectReason reason, address buyer, address token) = review(a, seller);
        s.changedAtBlock = uint64(block.number);
        if (!acceptable) {
            s.state = State.Rejected;
            emit Rejected(settlementId, reason, terms);
            return State.Rejected;
        }
        s.state = State.Locked;
        s.validUntilMs = a.validUntilMs;
        s.reclaimAtMs = a.reclaimAtMs;
        s.seller = seller;
        s.lockedAtBlock = uint64(block.number);
        s.buyer = buyer;
        s.token = token;
        s.amount = a.amount;
        pullTokens(token, seller, a.amount);
        emit Locked(settlementId, seller, buyer, token, a.amount, terms);
        return State.Locked;
    }

    /// Whether an authorized lock can go ahead; if not, the durable reason.
    function review(TandemTerms.AssetLeg memory a, address seller)
        private
        view
        returns (bool acceptable, RejectReason reason, address buyer, address token)
    {
        if (a.chainId != block.chainid) return (false, RejectReason.WrongChain, address(0), address(0));
        if (a.escrow != address(this)) return (false, RejectReason.WrongEscrow, address(0), address(0));
        buyer = resolve(a.buyer);
        if (buyer == address(0)) return (false, RejectReason.UnknownBuyer, address(0), address(0));
        token = resolve(a.token);
        if (token == address(0) || token.code.length == 0) return (false, RejectReason.UnknownToken, buyer, address(0));
        // Read, not attempted: a failed transfer could be forced with a low gas limit, and a
        // rejection is final, so only these reads (which revert on any failure) decide it.
        if (IERC20(token).balanceOf(seller) < a.amount) return (false, RejectReason.InsufficientBalance, buyer, token);
        if (IERC20(token).allowance(seller, address(this)) < a.amount) {
            return (false, RejectReason.InsufficientAllowance, buyer, token);
        }
        return (true, RejectReason.WrongChain, buyer, token);
    }

    /// The seller called, or signed LockAuthorization(settlementId) under this escrow's EIP-712 domain.
    function isAuthorized(address seller, bytes32 settlementId, bytes calldata signature) private view returns (bool) {
        if (signature.length == 0) return msg.sender == seller;
        if (signature.length != 65) return false;
        bytes32 r = bytes32(signature[0:32]);
        bytes32 s = bytes32(signature[32:64]);
        uint8 v = uint8(signature[64]);
        if (uint256(s) > SECP256K1_HALF_N || (v != 27 && v != 28)) return false;
        address signer = ecrecover(lockAuthorizationDigest(settlementId), v, r, s);
        return signer != address(0) && signer == seller;
    }

    // ------------------------------------------------------------------------------------------
    // Decisions (the rule both report versions apply)

    /// The anchor fields of a report body: this escrow's network and configuration, else a revert.
    function requireAnchor(bytes32 reportNetworkId, bytes32 reportConfigDigest) internal view {
        if (reportNetworkId != networkId) revert WrongNetwork();
        if (reportConfigDigest != configDigest) revert WrongConfiguration();
    }

    /// The group signature of the 32-byte report digest, else BadSignature.
    function requireGroupSignature(bytes32 digest, bytes calldata signature) internal view {
        if (!Bls12381.verify(groupPublicKey(), abi.encodePacked(digest), signature, BLS_DST)) revert BadSignature();
    }

    /**
     * Whether `decision` may apply to the id now; reverts with the reason if not, else returns the
     * id's state. One decision per id; never after a reclaim; on a lock, only with the lock's
     * validUntil, and a COMMIT only before it on the leg clock; on no lock, only an ABORT.
     */
    function requireApplicable(bytes32 settlementId, Settlement storage s, uint8 decision, uint64 reportValidUntilMs)
        internal
        view
        returns (State state)
    {
        if (s.reportHash != 0) revert ReportAlreadyApplied(settlementId);
        state = s.state;
        if (state == State.Reclaimed) revert ValueReclaimed(settlementId);
        if (state == State.Locked) {
            if (reportValidUntilMs != s.validUntilMs) revert ValidUntilMismatch(reportValidUntilMs, s.validUntilMs);
            uint256 nowMs = block.timestamp * 1000;
            if (decision == COMMIT && nowMs >= s.validUntilMs) revert CommitExpired(nowMs, s.validUntilMs);
        } else if (decision != ABORT) {
            revert NothingLocked(settlementId);
        }
    }

    /// Applies a decision `requireApplicable` allowed, marked `reportHash`: state first, then tokens.
    function applyVerified(bytes32 settlementId, Settlement storage s, State state, uint8 decision, bytes32 reportHash)
        internal
        returns (State)
    {
        s.reportHash = reportHash;
        if (state == State.Rejected) {
            // Nothing was ever locked: the ABORT is recorded and the id's view does not change.
            emit AbortRecorded(settlementId, reportHash);
            return State.Rejected;
        }
        s.changedAtBlock = uint64(block.number);
        if (state == State.None) {
            s.state = State.Aborted;
            emit ClosedByAbort(settlementId, reportHash);
            return State.Aborted;
        }
        // state == Locked (every other state was refused by requireApplicable).
        if (decision == COMMIT) {
            s.state = State.Committed;
            pushTokens(s.token, s.buyer, s.amount);
            emit Released(settlementId, s.buyer, s.amount, reportHash);
            return State.Committed;
        }
        s.state = State.Aborted;
        pushTokens(s.token, s.seller, s.amount);
        emit Refunded(settlementId, s.seller, s.amount, reportHash);
        return State.Aborted;
    }

    // ------------------------------------------------------------------------------------------
    // Reclaim

    /// Refunds the seller after the reclaim time if no report was applied. Anyone may call it:
    /// the tokens can only go back to the seller.
    function reclaim(bytes32 settlementId) external nonReentrant {
        Settlement storage s = settlements[settlementId];
        if (s.state != State.Locked) revert NotLocked(settlementId, s.state);
        uint256 nowMs = block.timestamp * 1000;
        if (nowMs < s.reclaimAtMs) revert TooEarly(nowMs, s.reclaimAtMs);
        s.state = State.Reclaimed;
        s.changedAtBlock = uint64(block.number);
        pushTokens(s.token, s.seller, s.amount);
        emit Reclaimed(settlementId, s.seller, s.amount);
    }

    // ------------------------------------------------------------------------------------------
    // Names

    /// Binds a name to an account, once. Names cannot start with "0x" (that prefix means an address).
    function registerName(string calldata name, address account) external {
        if (msg.sender != owner) revert NotOwner();
        bytes calldata b = bytes(name);
        if (b.length == 0 || b.length > NAME_BYTES_MAX || account == address(0)) revert BadName();
        if (b.length >= 2 && b[0] == "0" && b[1] == "x") revert BadName();
        bytes32 key = keccak256(b);
        if (names[key] != address(0)) revert NameTaken();
        names[key] = account;
        emit NameRegistered(name, account);
    }

    /// The account a terms string names: a lower-case 0x address, or a registered name; 0 if neither.
    function resolve(bytes memory party) public view returns (address) {
        (bool isAddress, address parsed) = parseHexAddress(party);
        if (isAddress) return parsed;
        return names[keccak256(party)];
    }

    // ------------------------------------------------------------------------------------------
    // Views

    function settlement(bytes32 settlementId) external view returns (Settlement memory) {
        return settlements[settlementId];
    }

    /// The group key in EIP-2537 form (256 bytes).
    function groupPublicKey() public view returns (bytes memory) {
        return abi.encodePacked(pk0, pk1, pk2, pk3, pk4, pk5, pk6, pk7);
    }

    /// The EIP-712 digest a seller signs to authorize a lock of `settlementId` on this escrow.
    function lockAuthorizationDigest(bytes32 settlementId) public view returns (bytes32) {
        bytes32 domain = keccak256(
            abi.encode(EIP712_DOMAIN_TYPEHASH, EIP712_NAME_HASH, EIP712_VERSION_HASH, block.chainid, address(this))
        );
        bytes32 structHash = keccak256(abi.encode(LOCK_AUTHORIZATION_TYPEHASH, settlementId));
        return keccak256(abi.encodePacked("\x19\x01", domain, structHash));
    }

    // ------------------------------------------------------------------------------------------
    // Internals

    /// transferFrom the seller into the escrow, and check the escrow received exactly `amount`
    /// (a fee-on-transfer token would otherwise leave locks the escrow cannot cover).
    function pullTokens(address token, address from, uint256 amount) private {
        uint256 before = IERC20(token).balanceOf(address(this));
        callToken(token, abi.encodeCall(IERC20.transferFrom, (from, address(this), amount)));
        if (IERC20(token).balanceOf(address(this)) != before + amount) revert TransferFailed(token);
    }

    function pushTokens(address token, address to, uint256 amount) private {
        callToken(token, abi.encodeCall(IERC20.transfer, (to, amount)));
    }

    /// A token call that must succeed and return true or nothing (some tokens return nothing).
    function callToken(address token, bytes memory data) private {
        (bool ok, bytes memory ret) = token.call(data);
        if (!ok || (ret.length != 0 && (ret.length != 32 || abi.decode(ret, (uint256)) != 1))) revert TransferFailed(token);
    }

    function parseHexAddress(bytes memory s) private pure returns (bool, address) {
        if (s.length != 42 || s[0] != "0" || s[1] != "x") return (false, address(0));
        uint160 v = 0;
        for (uint256 i = 2; i < 42; i++) {
            uint8 c = uint8(s[i]);
            uint8 d;
            if (c >= 0x30 && c <= 0x39) d = c - 0x30;
            else if (c >= 0x61 && c <= 0x66) d = c - 0x57;
            else return (false, address(0)); // upper case is not the canonical form
            v = (v << 4) | d;
        }
        return (true, address(v));
    }

    function word(bytes memory b, uint256 i) private pure returns (bytes32 w) {
        assembly {
            w := mload(add(add(b, 32), mul(i, 32)))
        }
    }
}
