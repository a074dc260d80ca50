#pragma once
// WebAuthn (passkeys) binary formats and signatures: authenticator data, attestation objects (fmt "none", and
// "packed" self-attestation), COSE public keys (ES256 on P-256, RS256) as OpenSSL keys, and assertion
// signatures. CBOR is decoded with libcbor; every length is bounds-checked against the input, and anything
// malformed, truncated, trailing or of an unsupported kind is refused. Pure functions: no I/O.
// Reference: W3C Web Authentication Level 2, sections 6.1 (authenticator data), 6.5 (attestation), 8.2/8.7
// (packed, none); RFC 8152 section 13 (COSE keys).
#include "crypto/error.hpp"
#include "crypto/ossl.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace latchkey::crypto::webauthn {

inline constexpr std::int32_t alg_es256 = -7;    ///< ECDSA P-256 with SHA-256
inline constexpr std::int32_t alg_rs256 = -257;  ///< RSASSA-PKCS1-v1_5 with SHA-256

/// Authenticator data flags (WebAuthn 6.1).
inline constexpr std::uint8_t flag_user_present = 0x01;
inline constexpr std::uint8_t flag_user_verified = 0x04;
inline constexpr std::uint8_t flag_attested = 0x40;
inline constexpr std::uint8_t flag_extensions = 0x80;

/// Parsed authenticator data. `credential_id` and `cose_key` are set only when the AT flag is.
struct authenticator_data {
    std::string rp_id_hash;  ///< 32 bytes: SHA-256 of the RP ID
    std::uint8_t flags = 0;
    std::uint32_t sign_count = 0;
    std::string aaguid;         ///< 16 bytes
    std::string credential_id;  ///< raw bytes (1..1023)
    std::string cose_key;       ///< the credential public key, exactly its CBOR bytes

    bool user_present() const noexcept { return (flags & flag_user_present) != 0; }
    bool user_verified() const noexcept { return (flags & flag_user_verified) != 0; }
};

/// Parses authenticator data (rpIdHash ‖ flags ‖ signCount ‖ [attested credential data] ‖ [extensions]).
/// errc::invalid_encoding for anything truncated, trailing or malformed.
result<authenticator_data> parse_authenticator_data(std::string_view bytes);

/// A credential public key from its COSE_Key: EC2 P-256 with alg -7, or RSA (≥ 2048 bits) with alg -257.
struct cose_key {
    std::int32_t alg = 0;
    evp_pkey_ptr key;
};

/// Decodes a COSE_Key (CBOR map). errc::invalid_encoding (not CBOR / not a map / trailing bytes),
/// errc::unsupported_algorithm (another kty, alg or curve), errc::invalid_key (a point off the curve, a short key).
result<cose_key> parse_cose_key(std::string_view cbor);

/// A registration's attestationObject: its format and authenticator data (which must hold a credential).
struct attestation {
    std::string fmt;
    std::string auth_data_raw;
    authenticator_data auth_data;
};

/// Parses the attestationObject CBOR map {fmt, attStmt, authData} and checks its statement against
/// `client_data_hash` (SHA-256 of clientDataJSON): "none" (an empty statement), or "packed" self-attestation
/// (no x5c: `sig` by the credential key itself over authData ‖ client_data_hash, `alg` equal to the key's).
/// Other formats are errc::unsupported_algorithm; a packed signature that does not verify errc::bad_signature.
result<attestation> parse_attestation(std::string_view attestation_object, std::string_view client_data_hash);

/// Verifies an assertion signature: `signature` (ES256: DER ECDSA-Sig-Value; RS256: PKCS#1 v1.5) by `key` over
/// authenticatorData ‖ SHA-256(clientDataJSON). errc::bad_signature when it does not verify.
result<void> verify_signature(cose_key const& key, std::string_view authenticator_data,
                              std::string_view client_data_hash, std::string_view signature);

}  // namespace latchkey::crypto::webauthn
