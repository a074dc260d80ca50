#pragma once

#include <string>
#include <string_view>

namespace latchkey::crypto {

/// SHA-256 of `data`: 32 raw bytes. Thread-safe.
/// @throws boost::system::system_error (errc::openssl) if OpenSSL fails, which only happens when it
///         cannot allocate memory.
std::string sha256(std::string_view data);

/// SHA-1 of `data`: 20 raw bytes (legacy formats only; never for new security decisions).
/// @throws boost::system::system_error (errc::openssl) as `sha256`.
std::string sha1(std::string_view data);

/// HMAC-SHA-256 of `data` under `key`: 32 raw bytes. Compare MACs with `equal_ct`.
/// @throws boost::system::system_error (errc::openssl) as `sha256`.
std::string hmac_sha256(std::string_view key, std::string_view data);

}  // namespace latchkey::crypto
