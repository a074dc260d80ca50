#pragma once
// Ethereum account signatures for web3 wallets (issue 14): Keccak-256 (the original Keccak padding, which
// OpenSSL 3.0 does not offer: a small implementation checked against the published vectors and, through the
// shared permutation, against OpenSSL's SHA3-256), EIP-191 `personal_sign` message hashes, public-key recovery
// with Debian's libsecp256k1 (recovery module) and EIP-55 checksummed addresses. Pure functions: no I/O.
#include "crypto/error.hpp"

#include <string>
#include <string_view>

namespace latchkey::crypto::eth {

/// Keccak-256 of `data` (32 raw bytes).
std::string keccak256(std::string_view data);

/// SHA3-256 through the same permutation (FIPS 202 padding): only to cross-check it against OpenSSL in tests.
std::string sha3_256(std::string_view data);

/// EIP-191 version 0x45 (`personal_sign`): keccak256("\x19Ethereum Signed Message:\n" + len(message) + message).
std::string personal_message_hash(std::string_view message);

/// The 20-byte address whose key made `signature` (65 bytes r ‖ s ‖ v, v 27/28 or 0/1) over the 32-byte `hash`.
/// errc::bad_signature when it does not recover (a malformed or out-of-range r/s, a bad v).
result<std::string> recover_address(std::string_view hash, std::string_view signature);

/// The EIP-55 mixed-case "0x..." form of a 20-byte address.
std::string checksum_address(std::string_view address20);

/// Parses "0x" + 40 hex digits: all lowercase, all uppercase, or mixed case that is a valid EIP-55 checksum.
/// errc::invalid_encoding otherwise. Returns the 20 raw bytes.
result<std::string> parse_address(std::string_view text);

}  // namespace latchkey::crypto::eth
