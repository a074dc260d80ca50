#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace latchkey::crypto {

/// Fills `out` from OpenSSL's CSPRNG (RAND_bytes). Thread-safe.
/// A CSPRNG failure is fatal: it is logged and the process aborts (std::abort), because every
/// caller would otherwise mint guessable secrets.
void random_bytes(std::span<unsigned char> out);

/// `bytes` random bytes as unpadded base64url (4/3 as many characters, rounded up).
std::string random_token(std::size_t bytes);

/// `n` uniformly distributed decimal digits (rejection sampling, no modulo bias), e.g. 6-digit
/// one-time codes. Leading zeros are kept.
std::string random_digits(std::size_t n);

/// Number of base62 characters after the '_' of every id from `new_id`.
inline constexpr std::size_t id_body_length = 27;

/// A Clerk-style id: `prefix` + "_" + 27 base62 characters ("user_2Vd0...").
/// The 27 characters encode a 20-byte big-endian number: 6 bytes of milliseconds since the Unix
/// epoch followed by 14 random bytes. Ids created in a later millisecond compare greater (plain
/// string comparison, for the same prefix); ids from the same millisecond are in random order.
std::string new_id(std::string_view prefix);

/// As `new_id(prefix)`, at the given time in milliseconds since the Unix epoch (only the low 48
/// bits are used: good until the year 10889). For tests and for importing records with known
/// timestamps.
std::string new_id(std::string_view prefix, std::uint64_t unix_ms);

}  // namespace latchkey::crypto
