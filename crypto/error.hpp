#pragma once

#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include <type_traits>

namespace latchkey::crypto {

/// Failure causes reported by the crypto module. The text of the underlying OpenSSL, libargon2 or
/// libxcrypt error goes to the log sink (see `crypto/ossl.hpp`), never into these codes.
enum class errc {
    openssl = 1,            ///< an OpenSSL call failed (allocation, provider); details were logged
    invalid_key,            ///< key material is malformed, encrypted, too small or inconsistent
    invalid_token,          ///< a compact JWS is malformed (structure, size or base64url)
    bad_signature,          ///< a signature does not verify
    unsupported_algorithm,  ///< the key type or algorithm is not one we handle (RSA / RS256 only)
    invalid_encoding,       ///< base64 / base64url / hex / password digest text is malformed
    hash_failed,            ///< a password hashing primitive failed (argon2, crypt, PBKDF2, scrypt)
    unsupported_hasher,     ///< the password hasher name is unknown, or the digest's kind is not
                            ///< supported
};

/// The category of `errc`; its name is "latchkey.crypto".
boost::system::error_category const& error_category() noexcept;

/// Makes an error_code in the crypto category; found by ADL, so `errc` converts implicitly.
inline boost::system::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), error_category()}; }

/// The module's result type: a value or an error_code (usually from `errc`).
template <class T>
using result = boost::system::result<T>;

}  // namespace latchkey::crypto

template <>
struct boost::system::is_error_code_enum<latchkey::crypto::errc> : std::true_type {};
