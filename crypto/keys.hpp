#pragma once

#include "crypto/error.hpp"
#include "crypto/ossl.hpp"

#include <cstddef>
#include <deque>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace latchkey::crypto {

/// Smallest and largest RSA modulus sizes accepted for signing and verification keys.
inline constexpr int min_rsa_bits = 2048;
inline constexpr int max_rsa_bits = 8192;

/// An RSA private key used to sign session tokens (RS256), with its JWK parameters and kid.
///
/// Move-only. `clone()` makes a second handle on the same EVP_PKEY (EVP_PKEY_up_ref, no copy of the
/// key material). The key is immutable once loaded, so one instance may be used to sign from any
/// number of threads at once (each operation creates its own EVP_MD_CTX). `set_kid` is the only
/// mutator and must not race with readers.
class signing_key {
public:
    /// Generates a fresh RSA key with e = 65537. `bits` must be in [min_rsa_bits, max_rsa_bits].
    /// @returns errc::invalid_key for a bad size, errc::openssl if generation fails (logged).
    static result<signing_key> generate_rsa(int bits = 2048);

    /// Loads an unencrypted RSA private key from PEM: PKCS#8 ("BEGIN PRIVATE KEY") or PKCS#1
    /// ("BEGIN RSA PRIVATE KEY"). Encrypted PEM is rejected without prompting for a passphrase.
    /// The key's consistency (n = p*q, d*e = 1) is checked.
    /// @returns errc::invalid_key (malformed, encrypted, smaller than 2048 bits or inconsistent),
    ///          errc::unsupported_algorithm (not RSA).
    static result<signing_key> from_pem(std::string_view private_pem);

    /// Another handle on the same key (shares the EVP_PKEY), with the same kid.
    result<signing_key> clone() const;

    /// The private key as unencrypted PKCS#8 PEM ("-----BEGIN PRIVATE KEY-----").
    /// Secret: write it only to a 0600 file. The intermediate OpenSSL buffer is cleansed.
    /// @throws boost::system::system_error (errc::openssl) if OpenSSL cannot allocate.
    std::string private_pem() const;

    /// The public key as SubjectPublicKeyInfo PEM ("-----BEGIN PUBLIC KEY-----").
    /// @throws boost::system::system_error (errc::openssl) if OpenSSL cannot allocate.
    std::string public_pem() const;

    /// The JWK "kid". Defaults to "ins_" + 27 base62 characters derived from the SHA-256 of the
    /// public key (SPKI DER), so it is stable for a given key; `set_kid` overrides it.
    std::string const& kid() const noexcept { return kid_; }

    /// Replaces the kid. Any text is allowed; `jwks_json` escapes it.
    void set_kid(std::string k) { kid_ = std::move(k); }

    /// The JWK "n" (modulus, big-endian, unpadded base64url); computed once at load.
    std::string n_b64url() const { return n_; }

    /// The JWK "e" (public exponent, e.g. "AQAB"); computed once at load.
    std::string e_b64url() const { return e_; }

    /// Modulus size in bits.
    int bits() const noexcept { return bits_; }

    /// The underlying key; never null for a constructed object. Owned by this object: valid while
    /// it lives. Safe to use concurrently for signing and verification with per-call contexts.
    EVP_PKEY* get() const noexcept { return pkey_.get(); }

private:
    signing_key() = default;
    static result<signing_key> adopt(evp_pkey_ptr pkey);

    evp_pkey_ptr pkey_;
    std::string kid_;
    std::string n_;
    std::string e_;
    int bits_ = 0;
};

/// An RSA public key for verifying RS256 signatures (tests, and tokens from other issuers).
/// Move-only; immutable, so usable from any number of threads at once.
class public_key {
public:
    /// Loads a SubjectPublicKeyInfo PEM ("BEGIN PUBLIC KEY").
    /// @returns errc::invalid_key (malformed or smaller than 2048 bits),
    /// errc::unsupported_algorithm.
    static result<public_key> from_pem(std::string_view spki_pem);

    /// Builds the key from JWK "n" and "e" (unpadded base64url, big-endian).
    /// @returns errc::invalid_encoding (bad base64url), errc::invalid_key (bad size or exponent).
    static result<public_key> from_jwk(std::string_view n_b64url, std::string_view e_b64url);

    /// The public half of `k` (shares its EVP_PKEY).
    static result<public_key> from_signing_key(signing_key const& k);

    /// The underlying key; never null for a constructed object. Valid while this object lives.
    EVP_PKEY* get() const noexcept { return pkey_.get(); }

private:
    public_key() = default;
    static result<public_key> adopt(evp_pkey_ptr pkey);

    evp_pkey_ptr pkey_;
};

/// The active signing key plus retired keys that are still published in the JWKS (rotation).
///
/// Build it once at startup, then share it read-only: the const members are safe to call from any
/// number of threads, `add` must not race with anything. Pointers and references returned by the
/// const members stay valid until the keyring is destroyed or moved (`add` never relocates keys).
class keyring {
public:
    /// Adds `k`. With `active`, it becomes the signing key (the previous active key stays
    /// published). A key whose kid is already present replaces that entry in place.
    void add(signing_key k, bool active);

    /// Whether a key was added with `active = true`.
    bool has_active() const noexcept { return active_ < keys_.size(); }

    /// The key that signs new tokens. Precondition: `has_active()` (asserted).
    signing_key const& active() const;

    /// The key with this kid, or nullptr.
    signing_key const* find(std::string_view kid) const noexcept;

    /// Every key to publish in the JWKS: the active key first, then the others in insertion order.
    std::vector<signing_key const*> published() const;

    /// Number of keys.
    std::size_t size() const noexcept { return keys_.size(); }

private:
    std::deque<signing_key> keys_;
    std::size_t active_ = static_cast<std::size_t>(-1);
};

/// The JWKS document for `ring`:
/// {"keys":[{"use":"sig","kty":"RSA","kid":"...","alg":"RS256","n":"...","e":"AQAB"},...]}
/// in `published()` order. The kid is JSON-escaped; n and e are base64url and need no escaping.
std::string jwks_json(keyring const& ring);

}  // namespace latchkey::crypto
