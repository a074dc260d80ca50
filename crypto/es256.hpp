#pragma once
// ES256 (ECDSA P-256 + SHA-256, RFC 7518 §3.4) for ID tokens of OpenID providers that sign with EC keys: keys from
// a JWK's x/y, verification of the JOSE signature (the raw 64-byte r||s, not DER), and signing for the tests' and
// any future issuer's use.
#include "crypto/error.hpp"
#include "crypto/ossl.hpp"

#include <string>
#include <string_view>

namespace latchkey::crypto {

/// A P-256 public key from a JWK's `x` and `y` (unpadded base64url, 32 bytes each). The point must be on the curve.
/// @returns errc::invalid_key for anything else, errc::openssl if OpenSSL fails (logged).
result<evp_pkey_ptr> p256_from_jwk(std::string_view x_b64url, std::string_view y_b64url);

/// A P-256 public key from its raw affine coordinates (big-endian, 32 bytes each; COSE keys carry them so). The
/// point must be on the curve. @returns errc::invalid_key for anything else, errc::openssl if OpenSSL fails (logged).
result<evp_pkey_ptr> p256_from_point(std::string_view x, std::string_view y);

/// Verifies a JOSE ES256 signature (r||s, 64 bytes) over `signing_input` with the P-256 key `pub`.
/// @returns errc::bad_signature on mismatch or a malformed signature, errc::unsupported_algorithm for a key that is
///          not EC P-256, errc::invalid_key for a null key.
result<void> verify_es256(EVP_PKEY* pub, std::string_view signing_input, std::string_view signature);

/// A fresh P-256 key pair.
result<evp_pkey_ptr> generate_p256();

/// The public key's JWK coordinates (unpadded base64url).
struct p256_point {
    std::string x, y;
};
result<p256_point> p256_jwk(EVP_PKEY* key);

/// The compact JWS b64url(header_json).b64url(payload_json).b64url(r||s), signed with the P-256 private key `key`.
result<std::string> sign_es256(EVP_PKEY* key, std::string_view header_json, std::string_view payload_json);

}  // namespace latchkey::crypto
