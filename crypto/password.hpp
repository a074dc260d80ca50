#pragma once

#include "crypto/error.hpp"

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace latchkey::crypto {

/// Argon2id cost parameters. The defaults are OWASP's minimum for argon2id (19 MiB, t=2, p=1).
/// Fuzz builds (the `fuzz` preset defines libFuzzer's conventional FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION)
/// hash with the smallest legal cost so the request-reader targets reach millions of executions instead of
/// spending 18 ms per accepted password; such a binary must never serve anyone.
struct argon2_params {
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
    std::uint32_t t_cost = 1;
    std::uint32_t m_cost_kib = 8;
#else
    std::uint32_t t_cost = 2;
    std::uint32_t m_cost_kib = 19456;
#endif
    std::uint32_t parallelism = 1;
};

/// Caps how many password computations (hash_password, verify_password) run at once, process-wide;
/// 0 = unlimited (the default). The server sizes its hash pool one thread larger than this cap: the extra
/// thread lets a finished sign-in wait for its durable commit while the next password is already being
/// hashed, without ever hashing on more cores than were given to hashing.
void set_hash_concurrency(unsigned n);
/// The most computations seen running at once since the last reset (for tests).
unsigned hash_concurrency_peak(bool reset = false);

/// Hashes `password` with argon2id and a fresh 16-byte salt into a PHC string:
/// "$argon2id$v=19$m=<m>,t=<t>,p=<p>$<salt b64>$<hash b64>" (unpadded standard base64, 32-byte
/// hash). Blocking and CPU/memory heavy: call it off the I/O threads. Each thread keeps one
/// reusable working buffer (grow-only, up to 64 MiB) so repeated hashes do not page in fresh
/// memory; argon2 wipes it after every use.
/// @returns errc::hash_failed if argon2 rejects the parameters or fails (logged).
result<std::string> hash_password(std::string_view password, argon2_params const& p = {});

/// Verifies `password` against an encoded digest of any supported hasher; the final hashes are
/// compared in constant time. Blocking: call it off the I/O threads.
///
/// `hasher` is a Clerk BAPI `password_hasher` name, or "" to detect it from the digest (see
/// `detect_hasher`). Supported names and digest formats:
/// - "argon2id", "argon2i": PHC "$argon2id$v=19$m=..,t=..,p=..$<salt>$<hash>" ("v=" optional:
/// 0x10).
/// - "bcrypt": "$2a$" / "$2b$" / "$2y$" + 2-digit cost + "$" + 53 characters (libxcrypt).
/// - "bcrypt_sha256_django": "bcrypt_sha256$" + a bcrypt digest of hex(sha256(password)).
/// - "pbkdf2_sha256": "pbkdf2_sha256$<iterations>$<base64 salt>$<base64 hash>".
/// - "pbkdf2_sha256_django": "pbkdf2_sha256$<iterations>$<salt text>$<base64 hash>" (Django).
/// - "pbkdf2_sha1": "pbkdf2_sha1$<iterations>$<salt text>$<hex hash>".
/// - "scrypt_firebase": "<b64 hash>$<b64 salt>$<b64 signer key>$<b64 salt separator>$<rounds>$<mem
/// cost>":
///   key = scrypt(password, salt || separator, N = 2^mem_cost, r = rounds, p = 1, 32 bytes),
///   hash = AES-256-CTR(key, iv = 0, signer key).
/// - "sha256" (insecure): 64 hex characters of the unsalted SHA-256.
/// - "md5" (insecure): 32 hex characters of the unsalted MD5.
/// - "phpass", "md5_phpass": phpass portable hashes "$P$" / "$H$" + log2 rounds + 8 salt + 22 checksum
///   (2^7..2^24 MD5 rounds).
/// - "pbkdf2_sha512": "pbkdf2_sha512$<iterations>$<salt text>$<hex hash>";
///   "pbkdf2_sha512_hex": "pbkdf2_sha512[_hex]$<iterations>$<hex salt>$<hex hash>".
/// - "scrypt_werkzeug": Werkzeug's "scrypt:<N>:<r>:<p>$<salt text>$<hex hash>" (a leading '$' and a base64
///   hash, as Clerk's docs show it, are also taken; N <= 2^20, r <= 32, p <= 16).
/// - "sha512_symfony": "sha512_symfony$<iterations>$<salt>$<base64 hash>", Symfony's legacy
///   MessageDigestPasswordEncoder (iterations <= 1,000,000).
/// - "ldap_ssha": "{SSHA}" + base64(SHA-1(password || salt) || salt).
/// Work factors are bounded (argon2 m <= 1 GiB, t <= 64, p <= 64; bcrypt cost <= 16; PBKDF2
/// iterations <= 10,000,000; scrypt memory <= 1 GiB, rounds <= 32) so a hostile digest cannot stall
/// the hash pool; digests beyond them are malformed.
/// @returns true or false; errc::unsupported_hasher (unknown name, or "" and no format recognised),
///          errc::invalid_encoding (the digest is malformed for that hasher), errc::hash_failed.
/// A digest may also be stored as "<hasher>$$<digest>" (imports whose format is ambiguous); with `hasher`
/// empty that prefix selects the hasher.
result<bool> verify_password(std::string_view password, std::string_view digest, std::string_view hasher = "");

/// The hasher names accepted by `verify_password`, in the order listed there.
std::span<std::string_view const> supported_hashers() noexcept;

/// Whether `hasher` is one of `supported_hashers()`.
bool is_supported_hasher(std::string_view hasher) noexcept;

/// The hasher a digest's format identifies, or "" if none. "pbkdf2_sha256$..." is reported as
/// "pbkdf2_sha256_django" (what Django exports); Clerk's base64-salt variant needs its name passed.
std::string_view detect_hasher(std::string_view digest) noexcept;

/// Whether `digest` is well-formed for `hasher` (within the work-factor bounds), without hashing.
/// For validating imported users (BAPI `password_digest` + `password_hasher`).
bool digest_matches_hasher(std::string_view digest, std::string_view hasher);

/// True unless `digest` is an argon2id v=19 PHC string with exactly the parameters `p`, a 16-byte
/// salt and a 32-byte hash, i.e. what `hash_password(…, p)` produces today. After a successful
/// sign-in, a digest that needs a rehash should be replaced with `hash_password(password)`.
bool needs_rehash(std::string_view digest, argon2_params const& p = {});

}  // namespace latchkey::crypto
