#pragma once
// One-time passwords for second factors: HOTP (RFC 4226) and TOTP (RFC 6238) with HMAC-SHA-1, as authenticator
// apps implement them (Google Authenticator, 1Password, otplib): 6 digits, a 30-second step, the secret shown as
// base32 (RFC 4648 §6) in an otpauth:// URI.
//
// A code is accepted for the current step and one step either side (clock skew), and only for a step later than
// the last one the account used (`last_step`), so each code is usable once.
#include "crypto/error.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace latchkey::crypto {

/// TOTP parameters every authenticator app understands (and the only ones Clerk issues).
inline constexpr int totp_digits = 6;
inline constexpr std::int64_t totp_period_seconds = 30;
/// Bytes of a new TOTP secret (160 bits, RFC 4226 §4's recommendation; 32 base32 characters).
inline constexpr std::size_t totp_secret_bytes = 20;

/// RFC 4648 base32 (A-Z2-7) without padding.
std::string base32_encode(std::string_view bytes);

/// Decodes base32 as users and exporters write it: either case, spaces and '-' ignored, '=' padding optional.
/// Rejects other characters, a length that cannot come from whole bytes (1, 3 or 6 trailing characters) and
/// non-zero trailing bits. @returns errc::invalid_encoding on malformed input.
result<std::string> base32_decode(std::string_view text);

/// HOTP (RFC 4226 §5.3): HMAC-SHA-1(key, counter as 8 big-endian bytes), dynamically truncated, modulo
/// 10^digits, left-padded with zeros. `digits` in [6, 8].
/// @throws boost::system::system_error (errc::openssl) if OpenSSL cannot allocate.
std::string hotp(std::string_view key, std::uint64_t counter, int digits = totp_digits);

/// The TOTP step of a time: floor(unix_seconds / period). Negative times are step 0.
std::int64_t totp_step(std::int64_t unix_seconds, std::int64_t period = totp_period_seconds) noexcept;

/// The TOTP code for `unix_seconds` (RFC 6238 §4).
std::string totp(std::string_view key, std::int64_t unix_seconds, int digits = totp_digits,
                 std::int64_t period = totp_period_seconds);

/// Checks `code` against the steps around `unix_seconds` (the step before, the step itself, the step after) and
/// returns the step it matched, or nothing. Steps at or before `last_step` are never accepted (single use: store
/// the returned step as the new `last_step`). All candidate steps are computed and compared in constant time, so
/// the time taken does not tell which one matched. A code that is not exactly `digits` ASCII digits matches
/// nothing.
std::optional<std::int64_t> totp_verify(std::string_view key, std::string_view code, std::int64_t unix_seconds,
                                        std::int64_t last_step, int digits = totp_digits,
                                        std::int64_t period = totp_period_seconds);

/// The provisioning URI authenticator apps scan (Key Uri Format):
/// otpauth://totp/<issuer>:<account>?secret=<base32>&issuer=<issuer>&algorithm=SHA1&digits=6&period=30,
/// with issuer and account percent-encoded.
std::string totp_uri(std::string_view issuer, std::string_view account, std::string_view key);

}  // namespace latchkey::crypto
