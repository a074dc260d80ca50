#pragma once
// Sealing secrets at rest (TOTP secrets, ...): AES-256-GCM under the instance's seal key, a 32-byte key kept in
// the data dir beside the signing keys (mode 0600, never logged).
//
// A sealed value is  'S' (format 1) | 12-byte random nonce | ciphertext | 16-byte tag , all raw bytes. The
// associated data binds it to where it is stored (e.g. "totp:" + user id), so a sealed value copied into another
// record does not open.
#include "crypto/error.hpp"

#include <array>
#include <cstddef>
#include <string>
#include <string_view>

namespace latchkey::crypto {

/// The AES-256-GCM key that seals secrets at rest. Cleansed when destroyed; copyable (a 32-byte value).
class seal_key {
public:
    static constexpr std::size_t size = 32;

    /// A fresh random key (RAND_bytes).
    static seal_key generate();

    /// The key from its 32 raw bytes (the key file's content).
    /// @returns errc::invalid_key when `raw` is not exactly 32 bytes.
    static result<seal_key> from_bytes(std::string_view raw);

    seal_key(seal_key const&) = default;
    seal_key& operator=(seal_key const&) = default;
    ~seal_key();

    /// The raw key, to write to its 0600 file. Secret.
    std::string_view bytes() const noexcept { return {reinterpret_cast<char const*>(key_.data()), key_.size()}; }

private:
    seal_key() = default;
    std::array<unsigned char, size> key_{};
};

/// Seals `plaintext` with a fresh random nonce; `aad` is authenticated, not stored.
/// @throws boost::system::system_error (errc::openssl) if OpenSSL fails (allocation).
std::string seal(seal_key const& key, std::string_view plaintext, std::string_view aad);

/// Opens a sealed value. @returns errc::bad_signature when the value was not sealed by this key with this `aad`
/// or was altered, errc::invalid_encoding when it is not a sealed value at all.
result<std::string> unseal(seal_key const& key, std::string_view sealed, std::string_view aad);

}  // namespace latchkey::crypto
