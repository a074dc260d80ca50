#pragma once

#include "crypto/error.hpp"

#include <cstddef>
#include <string>
#include <string_view>

namespace latchkey::crypto {

/// Base64url (RFC 4648 §5) without padding, as used in JWS and JWK.
std::string base64url_encode(std::string_view bytes);

/// Appends the unpadded base64url encoding of `bytes` to `out` (no intermediate string).
void base64url_encode_append(std::string& out, std::string_view bytes);

/// Length of the unpadded base64url (or unpadded base64) encoding of `n` bytes.
constexpr std::size_t base64_unpadded_size(std::size_t n) noexcept { return n / 3 * 4 + (n % 3 == 0 ? 0 : n % 3 + 1); }

/// Decodes base64url with or without '=' padding. Rejects characters outside the url alphabet
/// (including '+', '/', whitespace), misplaced or partial padding, a length of 4k+1, and non-zero
/// trailing bits, so every byte string has exactly one accepted unpadded encoding.
/// @returns errc::invalid_encoding on malformed input.
result<std::string> base64url_decode(std::string_view text);

/// Standard base64 (RFC 4648 §4) with '=' padding.
std::string base64_encode(std::string_view bytes);

/// Standard base64 without padding (the PHC string format used by argon2).
std::string base64_encode_unpadded(std::string_view bytes);

/// Decodes standard base64, padding optional; the same strictness as `base64url_decode`.
/// @returns errc::invalid_encoding on malformed input.
result<std::string> base64_decode(std::string_view text);

/// Lower-case hexadecimal.
std::string hex_encode(std::string_view bytes);

/// Decodes hexadecimal (either case); rejects odd lengths and non-hex characters.
/// @returns errc::invalid_encoding on malformed input.
result<std::string> hex_decode(std::string_view text);

/// The base62 alphabet in ASCII order ("0-9A-Za-z"), so that fixed-width encodings sort like
/// numbers.
inline constexpr std::string_view base62_alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Encodes `bytes` as one big-endian unsigned number in base62, left-padded with '0' to `width`
/// characters. The result is longer than `width` only if the number needs more digits (20 bytes
/// always fit in 27). Equal-width results compare (as strings) like the numbers they encode.
std::string base62_encode(std::string_view bytes, std::size_t width);

}  // namespace latchkey::crypto
