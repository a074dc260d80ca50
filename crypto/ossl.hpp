#pragma once

#include "crypto/error.hpp"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <memory>
#include <string>
#include <string_view>

namespace latchkey::crypto {

/// Stateless deleter calling an OpenSSL free function, so `sizeof(ptr) == sizeof(T*)`.
template <auto Free>
struct ossl_deleter {
    template <class T>
    void operator()(T* p) const noexcept {
        Free(p);
    }
};

using evp_pkey_ptr = std::unique_ptr<EVP_PKEY, ossl_deleter<&::EVP_PKEY_free>>;
using evp_pkey_ctx_ptr = std::unique_ptr<EVP_PKEY_CTX, ossl_deleter<&::EVP_PKEY_CTX_free>>;
using evp_md_ctx_ptr = std::unique_ptr<EVP_MD_CTX, ossl_deleter<&::EVP_MD_CTX_free>>;
using evp_cipher_ctx_ptr = std::unique_ptr<EVP_CIPHER_CTX, ossl_deleter<&::EVP_CIPHER_CTX_free>>;
using bio_ptr = std::unique_ptr<BIO, ossl_deleter<&::BIO_free_all>>;
using bignum_ptr = std::unique_ptr<BIGNUM, ossl_deleter<&::BN_free>>;
/// For BIGNUMs holding secret values: cleared before being freed.
using secret_bignum_ptr = std::unique_ptr<BIGNUM, ossl_deleter<&::BN_clear_free>>;
using ossl_param_bld_ptr = std::unique_ptr<OSSL_PARAM_BLD, ossl_deleter<&::OSSL_PARAM_BLD_free>>;
using ossl_param_ptr = std::unique_ptr<OSSL_PARAM, ossl_deleter<&::OSSL_PARAM_free>>;

/// Empties this thread's OpenSSL error queue and returns it as one line of text, prefixed by `what`
/// ("what: error:...; error:..."). The text is for logs only; never send it to a client.
std::string drain_errors(std::string_view what);

/// Receives the crypto module's diagnostic lines (OpenSSL error queues, argon2/crypt failures).
/// Must be thread-safe: it is called from whichever thread hit the failure.
using log_sink = void (*)(std::string_view line) noexcept;

/// Installs the sink for diagnostic lines; nullptr restores the default, which writes to stderr.
/// Thread-safe; meant to be called once at startup, before any other crypto call.
void set_log_sink(log_sink sink) noexcept;

/// Sends one diagnostic line to the installed sink.
void log_line(std::string_view line) noexcept;

/// Drains this thread's OpenSSL error queue into the log sink, prefixed by `what`.
void log_openssl_failure(std::string_view what) noexcept;

/// A public key of `type` ("RSA", "EC") from the parameters in `bld`: errc::invalid_key when OpenSSL rejects them
/// (bad input: the error queue is cleared, nothing logged), errc::openssl when it fails.
result<evp_pkey_ptr> public_key_from_params(char const* type, OSSL_PARAM_BLD* bld);

/// An RSA public key from its big-endian modulus and public exponent (the caller bounds their sizes):
/// errc::invalid_key when the exponent is even or 1 or OpenSSL rejects them, errc::openssl when it fails.
result<evp_pkey_ptr> rsa_public_key(std::string_view n, std::string_view e);

/// Compares two byte strings in time that depends only on their lengths (CRYPTO_memcmp).
/// Use it for MACs, token digests and password hashes; the lengths themselves are not secret.
inline bool equal_ct(std::string_view a, std::string_view b) noexcept {
    return a.size() == b.size() && ::CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace latchkey::crypto
