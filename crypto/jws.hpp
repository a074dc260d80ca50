#pragma once

#include "crypto/error.hpp"
#include "crypto/keys.hpp"

#include <openssl/evp.h>

#include <cstddef>
#include <string>
#include <string_view>

namespace latchkey::crypto {

/// Longest compact JWS that `parse_jws` accepts.
inline constexpr std::size_t max_jws_bytes = std::size_t{16} * 1024;

/// Signs with RS256 (RSASSA-PKCS1-v1_5 + SHA-256) and returns the compact JWS
/// b64url(header_json) "." b64url(payload_json) "." b64url(signature).
/// The JSON texts are signed byte for byte as given: the caller serialises them (and puts
/// "alg":"RS256" and the kid in the header). Deterministic for a given key and input.
/// Thread-safe: many threads may sign with the same key at once.
/// @returns errc::openssl if OpenSSL fails (logged).
result<std::string> sign_rs256(signing_key const& k, std::string_view header_json, std::string_view payload_json);

/// The decoded pieces of a compact JWS.
struct jws_parts {
    std::string header_json;    ///< decoded protected header (JSON text, not validated here)
    std::string payload_json;   ///< decoded payload (JSON text, not validated here)
    std::string signing_input;  ///< the encoded "header.payload" exactly as received
    std::string signature;      ///< decoded signature bytes
};

/// Splits and decodes a compact JWS. Strict: at most `max_jws_bytes`, exactly three non-empty
/// parts, each unpadded base64url with canonical trailing bits.
/// It checks structure only: the caller must check the header ("alg" == "RS256", kid) and then
/// call `verify_rs256` before trusting anything in the payload.
/// @returns errc::invalid_token for any malformation.
result<jws_parts> parse_jws(std::string_view compact);

/// Verifies an RS256 signature over `signing_input` with the RSA key `pub` (a public or private
/// key; only its public half is used). Thread-safe for a shared `pub`.
/// @returns errc::bad_signature on mismatch (including a signature of the wrong length),
///          errc::invalid_key for a null key, errc::unsupported_algorithm for a non-RSA key,
///          errc::openssl if OpenSSL fails (logged).
result<void> verify_rs256(EVP_PKEY* pub, std::string_view signing_input, std::string_view signature);

/// `verify_rs256(pub, parts.signing_input, parts.signature)`.
result<void> verify_rs256(EVP_PKEY* pub, jws_parts const& parts);

}  // namespace latchkey::crypto
